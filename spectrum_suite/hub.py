"""Export to the Hub layout (Parquet per config and split, plus a dataset card) and push it.

The layout is what stock `datasets.load_dataset(DIR, CONFIG)` and `load_dataset("ORG/NAME", CONFIG)` read:
``data/<config>/<split>-00000-of-00001.parquet`` and a ``README.md`` whose YAML ``configs:`` block maps each
config to its files. An export is written to a temporary folder beside the target and renamed into
place, so an interrupted export leaves the previous one intact; configs exported earlier are kept.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from string import Template
from typing import Any

import dataset_cards

from .builder import load_dataset
from .registry import GROUP_DESCRIPTIONS, GROUPS, SOURCES, TASKS, config_tasks

MANIFEST = "spectrum_suite_export.json"
DEFAULT_OUT = "spectrum_suite"
DEFAULT_CONFIGS = ("synthetic", "alignment", "coverage")
CARD_TEMPLATE = Path(dataset_cards.__file__).resolve().parent / "spectrum_suite.md"
_CODE_SUFFIXES = {".py", ".toml", ".cfg"}


class ExportTargetError(ValueError):
    """The export folder would overwrite something that is not a previous export."""


def _check_target(out: Path) -> None:
    """Never write into a folder that holds code (the package itself, a project root) or unrelated files."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ExportTargetError(f"{out} exists and is not a folder; choose another --out")
    if (out / MANIFEST).is_file():
        return
    if any(p.suffix in _CODE_SUFFIXES for p in out.rglob("*") if p.is_file()):
        raise ExportTargetError(
            f"refusing to export into {out}: it holds code (it may be the spectrum_suite package itself, when run "
            "from the repository root); pass --out with another folder"
        )
    if any(out.iterdir()):
        raise ExportTargetError(f"refusing to export into {out}: it is not empty and not a previous export")


def _read_manifest(out: Path) -> dict[str, Any]:
    path = out / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else {"configs": {}}


def export(
    out: str | Path = DEFAULT_OUT,
    configs: list[str] | tuple[str, ...] = DEFAULT_CONFIGS,
    *,
    data_dir: str | Path | None = None,
    skip_unavailable: bool = True,
    **config_kwargs: Any,
) -> Path:
    """Build ``configs`` and write them, with a dataset card, to ``out``; returns the folder."""
    out = Path(out).resolve()
    _check_target(out)
    for name in configs:
        config_tasks(name)  # unknown names fail before any work
    manifest = _read_manifest(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        if out.exists():
            for name in manifest["configs"]:
                if name not in configs and (out / "data" / name).is_dir():
                    shutil.copytree(out / "data" / name, staging / "data" / name)
        for name in configs:
            manifest["configs"][name] = _write_config(
                staging, name, data_dir, skip_unavailable, config_kwargs
            )
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        (staging / "README.md").write_text(dataset_card(manifest))
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _write_config(
    root: Path, name: str, data_dir, skip_unavailable: bool, config_kwargs: dict
) -> dict[str, Any]:
    dataset = load_dataset(name, data_dir=data_dir, skip_unavailable=skip_unavailable, **config_kwargs)
    folder = root / "data" / name
    folder.mkdir(parents=True)
    splits = {}
    for split, table in dataset.items():
        table.to_parquet(str(folder / f"{split}-00000-of-00001.parquet"))
        splits[split] = table.num_rows
    included = sorted({t for table in dataset.values() for t in table.unique("task")})
    skipped = sorted(t.name for t in config_tasks(name) if t.name not in included)
    return {"splits": splits, "tasks": included, "skipped": skipped, "options": config_kwargs}


def _swap_into_place(staging: Path, out: Path) -> None:
    """Replace ``out`` by ``staging`` with renames only, so a crash never leaves a half-written export."""
    backup = None
    if out.exists():
        backup = out.with_name(f".{out.name}.previous-{os.getpid()}")
        out.rename(backup)
    staging.rename(out)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------
# Dataset card


def _yaml_configs(manifest: dict[str, Any]) -> str:
    lines = ["configs:"]
    for name in sorted(manifest["configs"]):
        lines.append(f"- config_name: {name}")
        lines.append("  data_files:")
        for split in manifest["configs"][name]["splits"]:
            lines.append(f"  - split: {split}")
            lines.append(f"    path: data/{name}/{split}-*.parquet")
    return "\n".join(lines)


def _task_table(manifest: dict[str, Any]) -> str:
    included = {t for info in manifest["configs"].values() for t in info["tasks"]}
    rows = [
        "| task | family | side | kind | source | origin | license | included here |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task in TASKS.values():
        src = task.source
        mark = "yes" if task.name in included else "no"
        rows.append(
            f"| {task.name} | {task.family} | {task.side} | {task.kind} | [{src.title}]({src.homepage}) | "
            f"{src.origin} | {src.license} | {mark} |"
        )
    return "\n".join(rows)


def _config_table(manifest: dict[str, Any]) -> str:
    rows = [
        "| config | what | rows per split | tasks included | skipped (unavailable at export) |",
        "|---|---|---|---|---|",
    ]
    for name, info in sorted(manifest["configs"].items()):
        what = GROUP_DESCRIPTIONS.get(name, f"task {name}") if name in GROUPS else f"task {name}"
        splits = ", ".join(f"{s}: {n}" for s, n in info["splits"].items())
        skipped = ", ".join(info["skipped"]) or "none"
        rows.append(f"| {name} | {what} | {splits} | {len(info['tasks'])} | {skipped} |")
    return "\n".join(rows)


def _citations(manifest: dict[str, Any]) -> str:
    included = {t for info in manifest["configs"].values() for t in info["tasks"]}
    sources = sorted({TASKS[t].source.key for t in included})
    return "\n".join(
        f"- **{SOURCES[s].title}** ({SOURCES[s].license}): {SOURCES[s].citation}" for s in sources
    )


def dataset_card(manifest: dict[str, Any]) -> str:
    """The README.md of an export: YAML header with the configs block, then the card from the template."""
    template = Template(CARD_TEMPLATE.read_text())
    return template.substitute(
        yaml_configs=_yaml_configs(manifest),
        config_table=_config_table(manifest),
        task_table=_task_table(manifest),
        citations=_citations(manifest),
    )


# ---------------------------------------------------------------------------------------------------
# Push


def upload(folder: Path, repo_id: str, private: bool, token: str | None) -> str:
    """The one network step: create the dataset repo if needed and upload the folder; returns its URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(
        folder_path=str(folder), repo_id=repo_id, repo_type="dataset", commit_message="Spectrum Suite export"
    )
    return f"https://huggingface.co/datasets/{repo_id}"


def push(
    repo_id: str,
    configs: list[str] | tuple[str, ...] = DEFAULT_CONFIGS,
    *,
    private: bool = False,
    token: str | None = None,
    data_dir: str | Path | None = None,
    skip_unavailable: bool = True,
    **config_kwargs: Any,
) -> str:
    """Export ``configs`` to a temporary folder and upload that Hub layout to ``repo_id``."""
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"repo_id must look like ORG/NAME, got {repo_id!r}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = export(
            Path(tmp) / "export",
            configs,
            data_dir=data_dir,
            skip_unavailable=skip_unavailable,
            **config_kwargs,
        )
        return upload(folder, repo_id, private, token)
