"""`SpectrumSuite`: the `datasets` builder with one config per task and the group configs.

Downloads and data-directory look-ups happen in `_split_generators`, as `datasets` expects: every task of
the config is located there first, so a group either fails up front with the full list of unavailable
tasks or, with ``skip_unavailable=True``, builds the rest and records what it skipped (with the reason) in a
build record beside the cached Arrow files, which `build_record` reads back, and in the dataset's description. Rows are generated per task in registry order, each task's rows shuffled with
``row_shuffle_seed`` (`docs/tasks.md#row-order`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets

from .checks import check_range
from .episodes import InstanceGroup, as_groups, generate_episodes, rng_for
from .fetch import fetch_files, local_path, resolve_data_dir, sha256_of
from .registry import (
    CONFIG_NAMES,
    GROUP_DESCRIPTIONS,
    GROUPS,
    TASKS,
    TaskSpec,
    UnknownNameError,
    config_row_family,
    config_tasks,
)
from .schema import FEATURES
from .task import DATA_ENV, PAPER_CITATION, PAPER_URL, EpisodeParams, FetchedFiles, SourceUnavailable

logger = logging.getLogger("spectrum_suite")

SPLIT_ORDER = ("train", "validation", "test")
#: The file beside a build's Arrow files that records what the build skipped, and why.
BUILD_RECORD = "spectrum_suite_build.json"


class TasksUnavailableError(RuntimeError):
    """Some tasks of a config cannot be built here; the message lists each with its reason."""


def code_hash() -> str:
    """A digest of the package's code, so a code change never reuses a stale cached build."""
    digest = hashlib.sha1()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.relative_to(Path(__file__).parent).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def data_hash(config: str, data_dir: str | Path | None) -> str:
    """A digest of the content of every file of the config's tasks that is in the data directory, so that an
    edited source file is never served from a build cached before the edit."""
    root = resolve_data_dir(data_dir)
    digest = hashlib.sha1()
    for task in config_tasks(config):
        for file in task.files.files:
            path = local_path(file, root)
            if path is not None:
                digest.update(f"{file.path}\0{sha256_of(path)}\0".encode())
    return digest.hexdigest()[:16]


@dataclass
class SpectrumSuiteConfig(datasets.BuilderConfig):
    """A task or group config, with the episode parameters a user may override.

    None means "the task's own value" (`docs/tasks.md`). ``permutations`` defaults to the task's value on the
    training side and to 1 on the held-out side (evaluation forces one ordering). ``verify_checksums=False``
    uses source files whose content differs from their pinned SHA-256 (your own versions); the build record and
    the dataset card say which.
    """

    skip_unavailable: bool = False
    description_prob: float | None = None
    max_instances: int | None = None
    permutations: int | None = None
    validation_fraction: float = 0.05
    row_shuffle_seed: int = 42
    verify_checksums: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        self.check()

    def check(self) -> None:
        """Refuse options out of range before any work (`datasets` sets a named config's options after init)."""
        for name in ("skip_unavailable", "verify_checksums"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.description_prob is not None:
            check_range("description_prob", self.description_prob, integer=False, low=0.0, high=1.0)
        if self.max_instances is not None:
            check_range("max_instances", self.max_instances, integer=True, low=1)
        if self.permutations is not None:
            check_range("permutations", self.permutations, integer=True, low=1)
        check_range(
            "validation_fraction", self.validation_fraction, integer=False, low=0.0, high=1.0, below=True
        )
        check_range("row_shuffle_seed", self.row_shuffle_seed, integer=True, low=0)


def _config(name: str) -> SpectrumSuiteConfig:
    if name in GROUPS:
        description = f"Group: {GROUP_DESCRIPTIONS[name]} ({len(GROUPS[name])} tasks)."
    else:
        task = TASKS[name]
        description = f"Task {name}: {task.row_family} from {task.source.title} ({task.side} side)."
    return SpectrumSuiteConfig(name=name, version=datasets.Version("0.1.0"), description=description)


class SpectrumSuite(datasets.GeneratorBasedBuilder):
    """Every Spectrum Suite task as a `datasets` config, plus groups (`numeric_dist`, `train`, `test`, ...)."""

    BUILDER_CONFIG_CLASS = SpectrumSuiteConfig
    BUILDER_CONFIGS = [_config(name) for name in CONFIG_NAMES]
    DEFAULT_CONFIG_NAME = "numeric_dist"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        name = kwargs.get("config_name")
        if name is not None and name not in CONFIG_NAMES:
            raise UnknownNameError("config", name, CONFIG_NAMES)
        if kwargs.get("data_dir") is None and resolve_data_dir(None) is not None:
            kwargs["data_dir"] = str(resolve_data_dir(None))
        if name is not None:
            kwargs.setdefault("hash", f"{code_hash()}-{data_hash(name, kwargs.get('data_dir'))}")
        super().__init__(*args, **kwargs)
        self.config.check()

    def _info(self) -> datasets.DatasetInfo:
        row_family = config_row_family(self.config.name)
        return datasets.DatasetInfo(
            description=self.config.description,
            features=FEATURES[row_family],
            homepage=PAPER_URL,
            citation=PAPER_CITATION,
            license="per source: see the dataset card",
        )

    # -- locating data ---------------------------------------------------------------------------

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        located, skipped = prepare_tasks(
            self.config.name, self.config.data_dir, dl_manager, skip_unavailable=self.config.skip_unavailable,
            verify_checksums=self.config.verify_checksums,
        )  # fmt: skip
        if skipped:
            self.info.description = (
                f"{self.config.description} Skipped (unavailable here): {', '.join(skipped)}."
            )
        record = {
            "config": self.config.name,
            "skipped": skipped,
            "verify_checksums": self.config.verify_checksums,
            "unverified": {task.name: fetched.unverified for task, fetched in located if fetched.unverified},
        }
        (Path(self._output_dir) / BUILD_RECORD).write_text(
            json.dumps(record, indent=2, sort_keys=True) + "\n"
        )
        prepared = [PreparedTask.build(task, fetched, self.config) for task, fetched in located]
        for item in prepared:
            item.fetched.log_summary()
        splits = [s for s in SPLIT_ORDER if any(s in p.splits for p in prepared)]
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"split": split, "prepared": prepared})
            for split in splits
        ]

    # -- rows ------------------------------------------------------------------------------------

    def _generate_examples(self, split: str, prepared: list[PreparedTask]) -> Iterator[tuple[str, dict]]:
        for item in prepared:
            if split not in item.splits:
                continue
            for index, row in enumerate(item.rows(split, self.config)):
                yield f"{item.task.name}/{index}", row


def prepare_tasks(
    config: str,
    data_dir: str | Path | None,
    dl_manager: datasets.DownloadManager | None,
    skip_unavailable: bool = False,
    verify_checksums: bool = True,
) -> tuple[list[tuple[TaskSpec, FetchedFiles]], dict[str, str]]:
    """Locate every task's files; fail listing all unavailable tasks unless ``skip_unavailable``."""
    root = resolve_data_dir(data_dir)
    prepared: list[tuple[TaskSpec, FetchedFiles]] = []
    skipped: dict[str, str] = {}
    for task in config_tasks(config):
        try:
            prepared.append((task, fetch_files(task.name, task.files, root, dl_manager, verify_checksums)))
        except SourceUnavailable as err:
            skipped[task.name] = str(err)
    if skipped and not skip_unavailable:
        listing = "\n".join(f"  - {reason}" for reason in skipped.values())
        raise TasksUnavailableError(
            f"config {config!r}: {len(skipped)} of {len(config_tasks(config))} tasks are not available here:\n"
            f"{listing}\nPass skip_unavailable=True (--skip-unavailable) to build the rest, or set data_dir= / ${DATA_ENV}."
        )
    if skipped:
        logger.warning(
            "config %s: skipped %d unavailable tasks: %s", config, len(skipped), ", ".join(skipped)
        )
    if not prepared:
        raise TasksUnavailableError(f"config {config!r}: none of its tasks is available here")
    return prepared, skipped


def validation_keys(task: str, keys: list[str], fraction: float) -> set[str]:
    """The instances held out for validation: the lowest-hashing ``ceil(fraction * L)``, none if L < 2."""
    if len(keys) < 2 or fraction <= 0:
        return set()
    count = min(len(keys) - 1, math.ceil(fraction * len(keys)))
    ranked = sorted(keys, key=lambda k: hashlib.sha1(f"{task}\0{k}".encode()).hexdigest())
    return set(ranked[:count])


def _task_params(task: TaskSpec, params: EpisodeParams, config: SpectrumSuiteConfig) -> EpisodeParams:
    changes: dict[str, Any] = {}
    if config.description_prob is not None:
        changes["description_prob"] = config.description_prob
    if config.permutations is not None:
        changes["permutations"] = config.permutations
    elif task.side != "train":
        changes["permutations"] = 1
    return dataclasses.replace(params, **changes, max_instances=None)


def _capped(task: TaskSpec, groups: list[InstanceGroup], config: SpectrumSuiteConfig) -> list[InstanceGroup]:
    """Apply the instance caps (the task's and the config's) and check that instance keys are unique."""
    capped = []
    for group in groups:
        limit = group.params.max_instances
        if config.max_instances is not None:
            limit = config.max_instances if limit is None else min(limit, config.max_instances)
        capped.append(InstanceGroup(list(group.instances)[:limit], _task_params(task, group.params, config)))
    keys = [inst.key for group in capped for inst in group.instances]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"task {task.name}: instance key {duplicate!r} is used twice; keys must be unique")
    return capped


@dataclass
class PreparedTask:
    """A located task with its instances (episodes) or rows (alignment, coverage) and its split membership."""

    task: TaskSpec
    fetched: FetchedFiles
    groups: list[InstanceGroup]
    table: list[dict]
    held: set[str]
    splits: tuple[str, ...]

    @classmethod
    def build(cls, task: TaskSpec, fetched: FetchedFiles, config: SpectrumSuiteConfig) -> PreparedTask:
        if task.row_family != "episodes":
            table = list(task.build(task, fetched))
            if task.row_family == "alignment":  # a row that declares no cluster is independent of the others
                table = [{**row, "cluster": row.get("cluster") or row["instance_id"]} for row in table]
            if config.max_instances is not None:
                table = table[: config.max_instances]
            return cls(task, fetched, [], table, set(), ("test",))
        groups = _capped(task, as_groups(task.build(task, fetched), task.params), config)
        if task.side != "train":
            return cls(task, fetched, groups, [], set(), ("test",))
        keys = [inst.key for group in groups for inst in group.instances]
        held = validation_keys(task.name, keys, config.validation_fraction)
        splits = ("train", "validation") if held else ("train",)
        return cls(task, fetched, groups, [], held, splits)

    def rows(self, split: str, config: SpectrumSuiteConfig) -> list[dict]:
        """All rows of this task for one split, shuffled with the row seed."""
        if self.task.row_family == "episodes":
            if self.task.side == "train":
                want_held = split == "validation"
                groups = [InstanceGroup([i for i in g.instances if (i.key in self.held) == want_held], g.params)
                          for g in self.groups]  # fmt: skip
            else:
                groups = self.groups
            rows = [
                _episode_row(self.task, ep) for g in groups for ep in generate_episodes(g.instances, g.params)
            ]
        else:
            rows = self.table
        order = rng_for(config.row_shuffle_seed, self.task.name, split, "rows").permutation(len(rows))
        return [rows[i] for i in order]


def _episode_row(task: TaskSpec, episode) -> dict:
    inst = episode.instance
    return {
        "task": task.name,
        "source": task.source.key,
        "kind": task.kind,
        "name": inst.name,
        "instance_id": inst.key,
        "episode_id": f"{task.name}/{inst.key}/{episode.repeat}/{episode.perm}",
        "messages": episode.messages(),
        "choices": [str(c) for c in (inst.choices if inst.choices is not None else task.choices)],
        "include_description": episode.include_description,
        "n": len(episode.samples),
        "max_n": episode.max_n,
        "seed": episode.seed_key,
        "meta": json.dumps(inst.meta, sort_keys=True),
    }


def load_dataset(
    config: str,
    split: str | None = None,
    *,
    data_dir: str | Path | None = None,
    skip_unavailable: bool = False,
    cache_dir: str | None = None,
    **config_kwargs: Any,
) -> datasets.DatasetDict | datasets.Dataset:
    """Build (or reuse the cached build of) one config and return what `datasets.load_dataset` returns."""
    if config not in CONFIG_NAMES:
        raise UnknownNameError("config", config, CONFIG_NAMES)
    builder = SpectrumSuite(
        config_name=config,
        data_dir=None if data_dir is None else str(data_dir),
        cache_dir=cache_dir,
        skip_unavailable=skip_unavailable,
        **config_kwargs,
    )
    builder.download_and_prepare()
    if split is not None and split not in builder.info.splits:
        raise ValueError(f"config {config!r} has no split {split!r}; it has {', '.join(builder.info.splits)}")
    return builder.as_dataset(split=split)


def build_record(dataset: datasets.Dataset | datasets.DatasetDict) -> dict[str, Any]:
    """The record a build left beside its Arrow files: ``{"config": ..., "skipped": {task: reason}}``."""
    table = next(iter(dataset.values())) if isinstance(dataset, datasets.DatasetDict) else dataset
    if not table.cache_files:
        raise ValueError("this dataset was not built by the SpectrumSuite builder (it has no cache files)")
    path = Path(table.cache_files[0]["filename"]).parent / BUILD_RECORD
    if not path.is_file():
        raise ValueError(f"{path} is missing: this dataset was not built by the SpectrumSuite builder")
    return json.loads(path.read_text())
