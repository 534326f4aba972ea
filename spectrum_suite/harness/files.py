"""The task folder: one YAML task per Spectrum Suite task, three group YAMLs, the docs as JSON lines, a thin
``utils.py`` and a manifest.

The folder is written beside its target and renamed into place, so an interrupted export leaves nothing half
written. An existing folder is replaced only when it is an earlier export whose every file is still the one the
export wrote (the manifest's checksums); anything else in it (notes, harness outputs) stops the export instead.
The YAMLs name their data files by absolute path, as the harness's ``json`` loader reads paths from the working
directory: export again after moving the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from metrics.harness import ALIGN_METRICS, COVER_METRICS, ORDINAL_METRICS, STEER_METRICS

from .items import PREFIX, TaskDocs

MANIFEST = "spectrum_suite_harness.json"
DATA = "data"
VERSION = 1.0
#: The harness group per row family, and the figures each averages over its tasks (unweighted, as our reports).
GROUPS = {
    "episodes": (PREFIX + "steerability", STEER_METRICS),
    "alignment": (PREFIX + "alignment", ALIGN_METRICS),
    "coverage": (PREFIX + "coverage", COVER_METRICS),
}


class HarnessFolderError(ValueError):
    """The export would replace something it did not write; the message names it."""


class Function(str):
    """A YAML ``!function utils.<name>`` reference, resolved by the harness against the folder's utils.py."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    Function, lambda dumper, value: dumper.represent_scalar("!function", f"utils.{value}")
)


def _dump(data: Mapping[str, Any]) -> str:
    return yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


def _metric_list(figures: Mapping[str, bool]) -> list[dict[str, Any]]:
    return [{"metric": name, "aggregation": Function(name), "higher_is_better": better}
            for name, better in figures.items()]  # fmt: skip


def task_yaml(task: TaskDocs, data_file: Path, protocol: Mapping[str, Any]) -> dict[str, Any]:
    """The harness config of one task (see `docs/harness.md` for each field's reason)."""
    config: dict[str, Any] = {
        "task": task.name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data_file)}},
        "test_split": "test",
        "num_fewshot": 0,
    }
    if task.row_family == "coverage":
        kwargs = {"until": task.docs[0]["stop_strings"], "do_sample": True, "temperature": 1.0, "top_p": 1.0,
                  "max_gen_toks": task.info["max_new_tokens"]}  # fmt: skip
        if protocol.get("top_k") is not None:
            kwargs["top_k"] = protocol["top_k"]
        config.update({
            "output_type": "generate_until", "doc_to_text": "prompt", "doc_to_target": "",
            "repeats": protocol["num_generations"], "generation_kwargs": kwargs,
            "filter_list": [{"name": s, "filter": [{"function": "custom", "filter_fn": Function(f"samples_of_{s}")}]}
                            for s in task.info["settings"]],
            "process_results": Function("cover_results"), "metric_list": _metric_list(COVER_METRICS),
        })  # fmt: skip
    else:
        results, figures = ("steer_results", STEER_METRICS)
        if task.row_family == "alignment":
            ordinal = any(doc["ordinal"] for doc in task.docs)
            results = "align_results"
            figures = {
                name: up for name, up in ALIGN_METRICS.items() if ordinal or name not in ORDINAL_METRICS
            }
        config.update({
            "output_type": "multiple_choice", "doc_to_text": "context", "doc_to_choice": "choices",
            "doc_to_target": 0, "target_delimiter": "", "process_results": Function(results),
            "metric_list": _metric_list(figures),
        })  # fmt: skip
    config["metadata"] = {"version": VERSION, "spectrum_suite": {**protocol, **task.info}}
    return config


def group_yaml(name: str, tasks: Sequence[str], figures: Mapping[str, bool]) -> dict[str, Any]:
    """A group averaging each figure over its tasks, unweighted (each setting of coverage on its own)."""
    return {
        "group": name,
        "task": list(tasks),
        "aggregate_metric_list": [
            {"metric": m, "aggregation": "mean", "weight_by_size": False} for m in figures
        ],
        "metadata": {"version": VERSION},
    }


def utils_py(settings: Sequence[str]) -> str:
    """The folder's utils.py: the functions of `metrics.harness`, which needs spectrum-suite installed."""
    names = ["steer_results", "align_results", "cover_results", "samples_of",
             *STEER_METRICS, *ALIGN_METRICS, *COVER_METRICS]  # fmt: skip
    lines = [
        '"""Spectrum Suite figures for lm-evaluation-harness (written by `spectrum-suite harness`).',
        "",
        "The YAML files of this folder name these functions; they come from the spectrum-suite package",
        '(`pip install "spectrum-suite[harness]"`), whose metric modules compute every figure."""',
        "",
        "from metrics.harness import (",
        *(f"    {name}," for name in names),
        ")",
        "",
    ]
    lines += [f"samples_of_{s} = samples_of({s!r})" for s in settings]
    return "\n".join(lines) + "\n"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_target(out: Path) -> None:
    """Refuse a target that is a file, or a folder holding anything an earlier export did not write."""
    if out.exists() and not out.is_dir():
        raise HarnessFolderError(f"--out {out} is a file; expected a folder to write the harness tasks into")
    if not out.exists() or not any(out.iterdir()):
        return
    manifest = out / MANIFEST
    try:
        written = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise HarnessFolderError(
            f"--out {out} is not empty and holds no readable {MANIFEST} of an earlier harness export ({err}); "
            "choose a new folder"
        ) from err
    for path in sorted(p for p in out.rglob("*") if p.is_file() and p != manifest):
        relative = path.relative_to(out).as_posix()
        if path.parent.name == "__pycache__" and path.name.startswith("utils."):
            continue  # Python's byte code of our utils.py, written when the harness imported it
        if written.get(relative) != _sha256(path):
            raise HarnessFolderError(
                f"{path} was not written by the earlier export into {out} (or was edited since); move it away "
                "or choose a new folder"
            )


def write_folder(
    out: Path, tasks: Sequence[TaskDocs], protocol: Mapping[str, Any], record: dict[str, Any]
) -> Path:
    """Write every task, the groups, utils.py and the manifest into ``out`` (see the module doc)."""
    out = out.resolve()
    check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        (staging / DATA).mkdir()
        for task in tasks:
            lines = "".join(json.dumps(doc, ensure_ascii=False) + "\n" for doc in task.docs)
            (staging / DATA / f"{task.name}.jsonl").write_text(lines, encoding="utf-8")
            config = task_yaml(task, out / DATA / f"{task.name}.jsonl", protocol)
            (staging / f"{task.name}.yaml").write_text(_dump(config), encoding="utf-8")
        for row_family, (name, figures) in GROUPS.items():
            members = [t.name for t in tasks if t.row_family == row_family]
            if members:
                (staging / f"{name}.yaml").write_text(
                    _dump(group_yaml(name, members, figures)), encoding="utf-8"
                )
        settings_used = sorted({s for t in tasks if t.row_family == "coverage" for s in t.info["settings"]})
        (staging / "utils.py").write_text(utils_py(settings_used), encoding="utf-8")
        files = {
            p.relative_to(staging).as_posix(): _sha256(p) for p in sorted(staging.rglob("*")) if p.is_file()
        }
        (staging / MANIFEST).write_text(
            json.dumps({**record, "files": files}, indent=2) + "\n", encoding="utf-8"
        )
        staging.chmod(0o755)
        if out.exists():  # an earlier export of ours, checked file by file above: swapped out by renames
            previous = Path(tempfile.mkdtemp(prefix=f".{out.name}.previous-", dir=out.parent))
            os.replace(out, previous / out.name)
            try:
                os.replace(staging, out)
            except OSError:
                os.replace(previous / out.name, out)
                previous.rmdir()
                raise
            shutil.rmtree(previous)
        else:
            os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out
