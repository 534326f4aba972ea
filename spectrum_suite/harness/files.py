"""The task folder: one YAML task per Spectrum Suite task, three group YAMLs, the docs as JSON lines, a thin
``utils.py`` and a manifest.

The folder follows `spectrum_suite.folders`: written beside its target and swapped into place whole, so an
interrupted export leaves nothing half written (and the next export tidies what it left); an existing folder is
replaced only when it is an earlier export whose every file is still the one the export wrote (its mark);
anything else in it (notes, harness outputs) stops the export instead.
The YAMLs name their data files by absolute path, as the harness's ``json`` loader reads paths from the working
directory: export again after moving the folder.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from metrics.harness import ALIGN_METRICS, COVER_METRICS, ORDINAL_METRICS, STEER_METRICS
from spectrum_suite import folders
from spectrum_suite.folders import FolderError, Mark

from .items import PREFIX, TaskDocs

MANIFEST = "spectrum_suite_harness.json"
#: The folder's mark (`spectrum_suite.folders`): what the export wrote, so that only its own folder is replaced.
HARNESS_MARK = Mark(".spectrum_harness.json", "spectrum-suite harness")
DATA = "data"
VERSION = 1.0
#: The harness group per row family, and the figures each averages over its tasks (unweighted, as our reports).
GROUPS = {
    "episodes": (PREFIX + "steerability", STEER_METRICS),
    "alignment": (PREFIX + "alignment", ALIGN_METRICS),
    "coverage": (PREFIX + "coverage", COVER_METRICS),
}


class HarnessFolderError(FolderError):
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


def check_target(out: Path) -> Path:
    """Refuse a target that is a file, or a folder holding anything an earlier export did not write (or that
    changed since); returns it with a link followed, after tidying what interrupted exports left beside it."""
    try:
        return folders.check_target(out, HARNESS_MARK, "--out")
    except FolderError as err:
        raise HarnessFolderError(str(err)) from None


def write_folder(
    out: Path, tasks: Sequence[TaskDocs], protocol: Mapping[str, Any], record: dict[str, Any]
) -> Path:
    """Write every task, the groups, utils.py and the manifest into ``out`` (see the module doc)."""
    out = check_target(out)

    def write(staging: Path) -> None:
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
            p.relative_to(staging).as_posix(): _sha256(p)
            for p in sorted(staging.rglob("*"))
            if p.is_file() and p.name != HARNESS_MARK.filename
        }
        (staging / MANIFEST).write_text(
            json.dumps({**record, "files": files}, indent=2) + "\n", encoding="utf-8"
        )
        staging.chmod(0o755)

    try:
        folders.write_whole(out, HARNESS_MARK, write, "--out")
    except FolderError as err:
        raise HarnessFolderError(str(err)) from None
    return out
