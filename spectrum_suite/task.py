"""The ground floor of Spectrum Suite: what a task is, where its data comes from, how its episodes are drawn.

Every other module of the package builds on these definitions, and this one imports nothing of the package.
A source module (`spectrum_suite.sources.<source>`) declares its `Source` and its tasks with `episode_task`,
`alignment_task` or `coverage_task`, each entry naming the files the task reads (`TaskFiles`) and the function
that turns them into instances or rows (`Build`: the task and its `FetchedFiles` in); `spectrum_suite.registry`
collects those declarations and `spectrum_suite.fetch` finds the files.
"""

from __future__ import annotations

import logging
import numbers
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The three row families (`docs/tasks.md#row-families`); prompt families are `formats.PROMPT_FAMILIES`.
ROW_FAMILIES = ("episodes", "alignment", "coverage")
SIDES = ("train", "test", "capability")
KINDS = ("single_variable", "conditional", "joint", "individual", "group", "capability")
#: Where a source's data comes from (the paper's availability classes).
ORIGINS = {
    "SYN": "generated in code",
    "HF": "Hugging Face Hub",
    "GH": "GitHub",
    "URL": "another URL",
    "MAN": "manual download",
    "PERM": "by permission of the authors",
}
DATA_ENV = "SPECTRUM_SUITE_DATA"

logger = logging.getLogger("spectrum_suite")
#: A source's license text (its start) -> the Hub's license identifier; longest texts first.
LICENSE_IDS = (
    ("CC BY-NC-SA 4.0", "cc-by-nc-sa-4.0"),
    ("CC BY-NC 4.0", "cc-by-nc-4.0"),
    ("CC BY-SA 4.0", "cc-by-sa-4.0"),
    ("CC BY 4.0", "cc-by-4.0"),
    ("CC0", "cc0-1.0"),
    ("Apache-2.0", "apache-2.0"),
    ("MIT", "mit"),
)
PAPER_URL = "https://arxiv.org/abs/2510.06084"
PAPER_CITATION = (
    "@article{sorensen2025spectrum, title={Spectrum Tuning: Post-Training for Distributional Coverage and "
    "In-Context Steerability}, author={Sorensen, Taylor and Newman, Benjamin and Moore, Jared and Park, Chan "
    "and Fisher, Jillian and Mireshghallah, Niloofar and Jiang, Liwei and Choi, Yejin}, journal={arXiv "
    "preprint arXiv:2510.06084}, year={2025}}"
)


class SourceUnavailable(RuntimeError):
    """A task's raw data is neither in the data directory nor downloadable here."""

    def __init__(self, task: str, path: str, where: str, reason: str = "missing") -> None:
        self.task, self.path, self.where, self.reason = task, path, where, reason
        super().__init__(
            f"task {task!r} needs the file {path!r} ({reason}); get it from {where} and place it at "
            f"<data_dir>/{path} (data_dir= or ${DATA_ENV})"
        )


class SourceFormatError(ValueError):
    """A raw file does not have the shape its source promises: names the file, the row or line and the field."""

    def __init__(self, path: str | os.PathLike, where: str, field_name: str, problem: str) -> None:
        super().__init__(f"{path}: {where}: field {field_name!r}: {problem}")


@dataclass(frozen=True)
class Source:
    """Where a task's data comes from, and under which terms."""

    key: str
    title: str
    origin: str
    homepage: str
    license: str
    citation: str

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise ValueError(
                f"source {self.key!r}: origin must be one of {sorted(ORIGINS)}, got {self.origin!r}"
            )

    @property
    def license_id(self) -> str:
        """The Hub's identifier of the source's license (``other`` for terms without one)."""
        return next((hub_id for text, hub_id in LICENSE_IDS if self.license.startswith(text)), "other")


#: A full git commit hash: the only revision that pins a file's content.
COMMIT_HASH = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class HubFile:
    """Where a file lies in a Hugging Face Hub dataset repository, downloaded with `huggingface_hub` (so the
    user's token reaches gated repositories).

    ``filename`` is the path inside the repository; with ``shards`` it is the folder of a split of the Hub's
    Parquet export (``<config>/<split>``), whose every ``NNNN.parquet`` file is read. ``revision`` is a commit
    hash wherever one is known, else the branch read (the declaring `RemoteFile` then says why in
    ``unpinned``). ``gated``: the repository asks users to accept its terms before it serves the file.
    """

    repo: str
    filename: str
    revision: str
    gated: bool = False
    shards: bool = False

    @property
    def pinned(self) -> bool:
        return COMMIT_HASH.fullmatch(self.revision) is not None


@dataclass(frozen=True)
class RemoteFile:
    """One raw file of a source.

    ``path`` is relative to the data directory (``<source folder>/<path in the source's release>``); ``url``
    is where it is downloaded from (None for manual and permission-only files), ``hub`` where it lies on the
    Hub when it comes from there (then ``url`` is only its address for people); ``sha256`` pins its content
    where the bytes are known; ``where`` tells a person how to obtain it by hand. A remote file is fetched at a
    commit wherever one is known; ``unpinned`` says why a remote file has none.
    """

    path: str
    url: str | None = None
    sha256: str | None = None
    where: str | None = None
    hub: HubFile | None = None
    unpinned: str | None = None

    @property
    def manual(self) -> bool:
        return self.url is None and self.hub is None

    @property
    def pinned(self) -> bool:
        """Fetched at a fixed commit (a Hub revision or a URL path segment that is a commit hash)."""
        if self.hub is not None:
            return self.hub.pinned
        return self.url is not None and any(COMMIT_HASH.fullmatch(part) for part in self.url.split("/"))

    @property
    def origin_hint(self) -> str:
        """Words for an error message: where to get the file."""
        return self.where or self.url or "the source's homepage"


#: How a task uses its file groups.
ALL, ANY, FIRST = "all", "any", "first"


@dataclass(frozen=True)
class TaskFiles:
    """The files a task reads, in groups that only work together (a survey wave's questions and answers).

    ``mode`` says which groups the task needs: ``all`` of them (the default: one group of every file),
    ``any`` (every group that can be had is used, at least one must be: the waves of a survey), or the
    ``first`` that can be had (the same rows published twice, say as JSON lines and as Parquet; a group
    found in the data directory wins over one that would be downloaded).
    """

    files: tuple[RemoteFile, ...] = ()
    groups: tuple[tuple[str, ...], ...] | None = None
    mode: str = ALL

    def __post_init__(self) -> None:
        if self.mode not in (ALL, ANY, FIRST):
            raise ValueError(f"mode must be one of {ALL}, {ANY}, {FIRST}; got {self.mode!r}")
        known = {f.path for f in self.files}
        for group in self.groups or ():
            unknown = [p for p in group if p not in known]
            if not group or unknown:
                raise ValueError(f"file group {group!r} names files that are not declared: {unknown}")

    @property
    def file_groups(self) -> tuple[tuple[RemoteFile, ...], ...]:
        """The groups as files; without explicit groups, one group of every file."""
        by_path = {f.path: f for f in self.files}
        if self.groups is None:
            return (self.files,) if self.files else ()
        return tuple(tuple(by_path[p] for p in group) for group in self.groups)


def one_of(*groups: Sequence[RemoteFile]) -> TaskFiles:
    """The first group that can be had (in the data directory first, else downloaded) is read."""
    return _grouped(groups, FIRST)


def each_of(*groups: Sequence[RemoteFile]) -> TaskFiles:
    """Every group that can be had is read; at least one must be."""
    return _grouped(groups, ANY)


def _grouped(groups: Sequence[Sequence[RemoteFile]], mode: str) -> TaskFiles:
    files: dict[str, RemoteFile] = {}
    for group in groups:
        for f in group:
            files.setdefault(f.path, f)
    return TaskFiles(tuple(files.values()), tuple(tuple(f.path for f in g) for g in groups), mode)


NO_FILES = TaskFiles()


def parse_n_iter(n_iter: int | str | None) -> int | str | None:
    """An ``n_iter`` normalised: an int >= 1, ``"~m"`` for ``"~m"``/``"gp:m"`` (m >= 2), or None for all samples."""
    if n_iter is None or n_iter == "all":
        return None
    if isinstance(n_iter, numbers.Integral) and not isinstance(n_iter, bool):
        if n_iter < 1:
            raise ValueError(f"n_iter must be at least 1, got {n_iter}")
        return int(n_iter)
    if isinstance(n_iter, str):
        text = n_iter.strip()
        for prefix in ("~", "gp:"):
            rest = text[len(prefix) :]
            if text.startswith(prefix) and rest.isdigit() and int(rest) >= 2:
                return f"~{int(rest)}"
        if text.isdigit():
            return parse_n_iter(int(text))
    raise ValueError(f"n_iter must be an int, '~m' (m >= 2), 'gp:m' or 'all'; got {n_iter!r}")


@dataclass(frozen=True)
class EpisodeParams:
    """How a task's episodes are drawn: seeds, episodes per instance, samples per episode, caps.

    ``n_per`` is the number of independent episodes per instance, or -1 to partition the instance's samples
    into disjoint episodes; ``n_iter`` the samples per episode (an int, ``"~m"`` for a random length of
    mean about m, or all); ``max_instances`` / ``max_total`` cap instances and episodes; ``permutations``
    orderings of each sample set; ``description_prob`` the chance an episode shows its description.
    """

    seed: int = 42
    n_per: int = 1
    n_iter: int | str | None = None
    max_instances: int | None = None
    max_total: int | None = None
    permutations: int = 1
    description_prob: float = 0.6

    def __post_init__(self) -> None:
        parse_n_iter(self.n_iter)
        if self.n_per == 0 or self.n_per < -1:
            raise ValueError(f"n_per must be >= 1 or -1 (partition), got {self.n_per}")
        if self.permutations < 1:
            raise ValueError(f"permutations must be >= 1, got {self.permutations}")
        if not 0.0 <= self.description_prob <= 1.0:
            raise ValueError(f"description_prob must be in [0, 1], got {self.description_prob}")
        for name in ("max_instances", "max_total"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 or None, got {value}")


#: A shard of a split of the Hub's Parquet export.
SHARD = re.compile(r"(\d{4})\.parquet")


class FileMissing(RuntimeError):
    """A file (``path``) that is not here and could not be downloaded, or a shard missing from an export split,
    and why."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


def parquet_shards(folder: Path) -> list[Path]:
    """The ``NNNN.parquet`` shards of an export split in ``folder``, in order; `FileMissing` names the first
    shard missing from an unbroken run 0000, 0001, ..."""
    numbers = sorted(int(m.group(1)) for p in Path(folder).iterdir() if (m := SHARD.fullmatch(p.name)))
    missing = next((i for i, n in enumerate(numbers) if n != i), None if numbers else 0)
    if missing is not None:
        have = ", ".join(f"{n:04d}" for n in numbers) or "none"
        raise FileMissing(f"{folder}/{missing:04d}.parquet", f"missing (the folder has shards {have})")
    return [Path(folder) / f"{n:04d}.parquet" for n in numbers]


@dataclass
class FetchedFiles(Mapping[str, Path | None]):
    """Local paths of a task's files (None for a file of a group that could not be had), plus its build log."""

    task: str
    paths: dict[str, Path | None]
    dropped: Counter = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)
    unverified: dict[str, str] = field(default_factory=dict)  # path -> why its content was not checked

    def __getitem__(self, key: str) -> Path | None:
        return self.paths[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def require(self, key: str) -> Path:
        path = self.paths.get(key)
        if path is None:
            raise SourceUnavailable(self.task, key, "the source's homepage")
        return path

    def parts(self, key: str) -> list[Path]:
        """The file ``key`` as a list: every shard, in order, when it is an export split's folder (a gap names the
        missing shard), else the file itself."""
        path = self.require(key)
        if not path.is_dir():
            return [path]
        try:
            return parquet_shards(path)
        except FileMissing as err:
            raise SourceUnavailable(self.task, err.path, "the source's homepage", err.reason) from None

    def first(self, *keys: str) -> tuple[str, Path]:
        """The first of several alternative files that is here (e.g. a decompressed copy or the download)."""
        for key in keys:
            if self.paths.get(key) is not None:
                return key, self.paths[key]
        raise SourceUnavailable(self.task, " or ".join(keys), "the source's homepage (see the task card)")

    def present(self, keys: Sequence[str]) -> list[tuple[str, Path]]:
        """Every one of ``keys`` that is here (the complete groups of an `each_of` task), in order."""
        found = [(key, self.paths[key]) for key in keys if self.paths.get(key) is not None]
        if not found:
            raise SourceUnavailable(
                self.task, " and ".join(keys), "the source's homepage (see the task card)"
            )
        return found

    def drop(self, reason: str, count: int = 1) -> None:
        """Count rows a filter dropped, so the build log says why rows are gone (never silently)."""
        if count:
            self.dropped[reason] += count

    def log_summary(self) -> None:
        for path in self.missing:
            logger.warning("%s: optional file %s is absent; building from what is there", self.task, path)
        for reason, count in sorted(self.dropped.items()):
            logger.info("%s: dropped %d rows: %s", self.task, count, reason)


#: The build-function contract: a task and the local paths of its files in, instances or rows out.
Build = Callable[["TaskSpec", FetchedFiles], Any]


@dataclass(frozen=True)
class TaskSpec:
    """One task: its row family, split side, source, files, and the function that builds it from its files.

    ``build(task, files)`` returns instances (or instance groups) for an episode task and row dicts for an
    alignment or coverage task. Use the constructors `episode_task`, `alignment_task` and `coverage_task`.
    """

    name: str
    row_family: str
    side: str
    kind: str
    source: Source
    build: Build = field(compare=False, repr=False)
    files: TaskFiles = NO_FILES
    params: EpisodeParams | None = None
    choices: tuple[str, ...] = ()
    output_name: str | None = None

    def __post_init__(self) -> None:
        for value, allowed, what in ((self.row_family, ROW_FAMILIES, "row_family"), (self.side, SIDES, "side"),
                                     (self.kind, KINDS, "kind")):  # fmt: skip
            if value not in allowed:
                raise ValueError(f"task {self.name!r}: {what} must be one of {allowed}, got {value!r}")
        if (self.row_family == "episodes") != (self.params is not None):
            raise ValueError(f"task {self.name!r}: episode tasks and only they have episode parameters")
        if (self.row_family == "alignment") != (self.output_name is not None):
            raise ValueError(f"task {self.name!r}: alignment tasks and only they have an output_name")

    @property
    def split_names(self) -> tuple[str, ...]:
        """A training task has train and validation; a held-out or evaluation-only task has test."""
        return ("train", "validation") if self.side == "train" else ("test",)


def episode_task(
    name: str,
    source: Source,
    *,
    side: str,
    kind: str,
    build: Build,
    files: TaskFiles = NO_FILES,
    choices: Sequence[str] = (),
    **params: Any,
) -> TaskSpec:
    """An episode task; ``params`` are the `EpisodeParams` fields that differ from the defaults."""
    return TaskSpec(
        name, "episodes", side, kind, source, build, files, EpisodeParams(**params), tuple(choices)
    )


def alignment_task(
    name: str, source: Source, *, output_name: str, build: Build, files: TaskFiles = NO_FILES
) -> TaskSpec:
    """A distributional-alignment task (held out; its rows give candidates and target probabilities)."""
    return TaskSpec(name, "alignment", "test", "conditional", source, build, files, output_name=output_name)


def coverage_task(name: str, source: Source, *, build: Build) -> TaskSpec:
    """A diversity/validity generation task (held out; one row of fixed text)."""
    return TaskSpec(name, "coverage", "test", "single_variable", source, build)
