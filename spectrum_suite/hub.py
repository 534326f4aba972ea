"""Export to the Hub layout (Parquet per config and split, plus a dataset card) and push it.

The layout is what stock `datasets.load_dataset(DIR, CONFIG)` and `load_dataset("ORG/NAME", CONFIG)` read:
``data/<config>/<split>-NNNNN-of-NNNNN.parquet`` (large splits in shards, as `push_to_hub` writes them) and a
``README.md`` whose YAML ``configs:`` block maps each config to its files. An export only ever writes and
replaces what an export wrote: the manifest ``spectrum_suite_export.json`` lists its configs and the checksum
of the card it wrote, anything else in the folder (a ``.git``, notes) is left alone, and a card or config
folder that the manifest does not account for is never overwritten. Every config is built into a staging
folder first and swapped in by renames, so an interrupted export leaves the previous one in place.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from string import Template
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

import dataset_cards

from .builder import build_record, load_dataset
from .registry import GROUP_DESCRIPTIONS, GROUPS, SOURCES, TASKS, config_tasks

MANIFEST = "spectrum_suite_export.json"
CARD = "README.md"
STAGING_PREFIX = ".spectrum_suite_export.partial-"
DEFAULT_OUT = "spectrum_suite"
DEFAULT_CONFIGS = ("synthetic", "alignment", "coverage")
#: Splits larger than this (in Arrow bytes) are written in several Parquet shards, as `push_to_hub` does.
MAX_SHARD_BYTES = 500 * 2**20
CARD_TEMPLATE = Path(dataset_cards.__file__).resolve().parent / "spectrum_suite.md"
_CODE_SUFFIXES = {".py", ".toml", ".cfg"}


class ExportTargetError(ValueError):
    """The export would overwrite something it did not write; the message names it."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_target(out: Path) -> None:
    """Never write into a folder that holds code (the package itself, a project root)."""
    if out.exists() and not out.is_dir():
        raise ExportTargetError(f"{out} exists and is not a folder; choose another --out")
    if not out.exists():
        return
    for path in out.rglob("*"):
        if path.suffix in _CODE_SUFFIXES and not any(
            part.startswith(".") for part in path.relative_to(out).parts
        ):
            raise ExportTargetError(
                f"refusing to export into {out}: it holds code ({path.name}; it may be the spectrum_suite package "
                "itself, when run from the repository root); pass --out with another folder"
            )


def _read_manifest(out: Path) -> dict[str, Any]:
    """The manifest of the previous export into ``out`` (an empty one if there is none); a corrupt or foreign
    manifest is an error naming the file."""
    path = out / MANIFEST
    if not path.is_file():
        return {"configs": {}, "card_sha256": None}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ExportTargetError(
            f"{path} is not readable JSON ({err}); move it away to export into {out}"
        ) from err
    configs = manifest.get("configs") if isinstance(manifest, dict) else None
    if not isinstance(configs, dict) or not all(
        isinstance(v, dict) and "splits" in v for v in configs.values()
    ):
        raise ExportTargetError(
            f"{path} is not a Spectrum Suite export manifest; move it away to export into {out}"
        )
    manifest.setdefault("card_sha256", None)
    return manifest


def _check_ours(out: Path, manifest: dict[str, Any], configs: list[str]) -> None:
    """Refuse to replace a card or a config folder that the previous export did not write (or that was edited)."""
    card = out / CARD
    if card.exists() and (manifest["card_sha256"] is None or _sha256(card) != manifest["card_sha256"]):
        raise ExportTargetError(
            f"{card} was not written by an export into {out} (or was edited since): move it away, the export "
            "writes its own dataset card there"
        )
    for name in configs:
        folder = out / "data" / name
        if folder.exists() and name not in manifest["configs"]:
            raise ExportTargetError(f"{folder} was not written by an export into {out}; move it away first")


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
    configs = list(configs)
    for name in configs:
        config_tasks(name)  # unknown names fail before any work
    manifest = _read_manifest(out)
    _check_ours(out, manifest, configs)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    try:
        built = {
            name: _write_config(staging, name, data_dir, skip_unavailable, config_kwargs) for name in configs
        }
        manifest["configs"].update(built)
        for name in configs:  # the swap: renames only
            target = out / "data" / name
            target.parent.mkdir(exist_ok=True)
            if target.exists():
                target.rename(staging / f"previous-{name}")
            (staging / "data" / name).rename(target)
        _replace_file(out / CARD, dataset_card(manifest))
        manifest["card_sha256"] = _sha256(out / CARD)
        _replace_file(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _replace_file(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it in place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _write_config(
    root: Path, name: str, data_dir, skip_unavailable: bool, config_kwargs: dict
) -> dict[str, Any]:
    dataset = load_dataset(name, data_dir=data_dir, skip_unavailable=skip_unavailable, **config_kwargs)
    folder = root / "data" / name
    folder.mkdir(parents=True)
    splits = {}
    for split, table in dataset.items():
        shards = max(1, math.ceil(table.data.nbytes / MAX_SHARD_BYTES))
        for index in range(shards):
            part = table.shard(shards, index, contiguous=True) if shards > 1 else table
            part.to_parquet(str(folder / f"{split}-{index:05d}-of-{shards:05d}.parquet"))
        splits[split] = table.num_rows
    included = sorted({t for table in dataset.values() for t in table.unique("task")})
    skipped = sorted(t.name for t in config_tasks(name) if t.name not in included)
    record = build_record(dataset)
    return {"splits": splits, "tasks": included, "skipped": skipped, "options": config_kwargs,
            "verify_checksums": record["verify_checksums"], "unverified": record["unverified"]}  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# Dataset card


def card_data(manifest: dict[str, Any]) -> DatasetCardData:
    """The card's metadata: the configs block that maps each config to its files, and the licenses of the
    sources actually included."""
    included = {t for info in manifest["configs"].values() for t in info["tasks"]}
    licenses = sorted({TASKS[t].source.license_id for t in included}) or ["other"]
    configs = [
        {"config_name": name, "data_files": [{"split": split, "path": f"data/{name}/{split}-*.parquet"}
                                             for split in manifest["configs"][name]["splits"]]}
        for name in sorted(manifest["configs"])
    ]  # fmt: skip
    return DatasetCardData(
        pretty_name="Spectrum Suite",
        language=["en", "multilingual"],
        license=licenses,
        task_categories=["text-generation"],
        tags=["distributional-alignment", "in-context-learning", "pluralistic-alignment", "spectrum-tuning",
              "arxiv:2510.06084"],
        configs=configs,
    )  # fmt: skip


def _task_table(manifest: dict[str, Any]) -> str:
    included = {t for info in manifest["configs"].values() for t in info["tasks"]}
    rows = [
        "| task | rows | side | kind | source | origin | license | included here |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task in TASKS.values():
        src = task.source
        mark = "yes" if task.name in included else "no"
        rows.append(
            f"| {task.name} | {task.row_family} | {task.side} | {task.kind} | [{src.title}]({src.homepage}) | "
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
    return "\n".join(rows) + _unverified_note(manifest)


def _unverified_note(manifest: dict[str, Any]) -> str:
    """Which source files were read without a checksum match (their own versions, by the user's choice)."""
    lines = []
    for name, info in sorted(manifest["configs"].items()):
        for task, files in sorted(info.get("unverified", {}).items()):
            lines += [f"- `{name}` / `{task}`: `{path}`: {why}" for path, why in sorted(files.items())]
    if not lines:
        return ""
    return (
        "\n\nSource files whose content was not checked against a pinned SHA-256 (no pin, or the user chose to use other versions):\n\n"
        + "\n".join(lines)
    )


def _citations(manifest: dict[str, Any]) -> str:
    included = {t for info in manifest["configs"].values() for t in info["tasks"]}
    sources = sorted({TASKS[t].source.key for t in included})
    return "\n".join(
        f"- **{SOURCES[s].title}** ({SOURCES[s].license}): {SOURCES[s].citation}" for s in sources
    )


def dataset_card(manifest: dict[str, Any]) -> str:
    """The README.md of an export: the card's metadata as YAML, then the card from the template."""
    body = Template(CARD_TEMPLATE.read_text()).substitute(
        config_table=_config_table(manifest),
        task_table=_task_table(manifest),
        citations=_citations(manifest),
    )
    return str(DatasetCard(f"---\n{card_data(manifest).to_yaml()}\n---\n\n{body}"))


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
