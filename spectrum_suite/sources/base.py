"""What every source adapter shares: where its files come from and how failures are reported.

A source adapter is a module of `spectrum_suite.sources` with

- ``files(task) -> list[RemoteFile]``: the raw files the task reads;
- ``instances(task, files) -> list[Instance]`` for episode tasks, or
  ``rows(task, files) -> Iterable[dict]`` for alignment and coverage tasks.

`fetch_files` finds each file in the data directory (laid out as ``<source>/<path in the source's
repository>``, like ``../shared/data``), else downloads it through the `datasets` download manager
(cached, checked against its SHA-256 where the file is stable), else fails with a message that names the
task, the file and where to get it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger("spectrum_suite")

DATA_ENV = "SPECTRUM_SUITE_DATA"


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
class RemoteFile:
    """One raw file of a source.

    ``path`` is relative to the data directory; ``url`` is where it is downloaded from (None for manual
    and permission-only files); ``where`` tells a person how to obtain it by hand. ``alternatives`` names
    other files with the same content (an unpacked copy, another release): when one of them is in the data
    directory this one is not downloaded. A task whose files are all optional needs at least one of them.
    """

    path: str
    url: str | None = None
    sha256: str | None = None
    where: str | None = None
    optional: bool = False
    alternatives: tuple[str, ...] = ()

    @property
    def manual(self) -> bool:
        return self.url is None


@dataclass
class FetchedFiles(Mapping[str, Path | None]):
    """Local paths of a task's files (None for an optional file that is absent), plus its build log."""

    task: str
    paths: dict[str, Path | None]
    dropped: Counter = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> Path | None:
        return self.paths[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def require(self, key: str) -> Path:
        path = self.paths[key]
        if path is None:
            raise SourceUnavailable(self.task, key, "the source's homepage")
        return path

    def drop(self, reason: str, count: int = 1) -> None:
        """Count rows a filter dropped, so the build log says why rows are gone (never silently)."""
        if count:
            self.dropped[reason] += count

    def log_summary(self) -> None:
        for path in self.missing:
            logger.warning("%s: optional file %s is absent; building from what is there", self.task, path)
        for reason, count in sorted(self.dropped.items()):
            logger.info("%s: dropped %d rows: %s", self.task, count, reason)


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """The data directory: the argument, else ``$SPECTRUM_SUITE_DATA``, else none."""
    value = data_dir if data_dir is not None else os.environ.get(DATA_ENV)
    return Path(value).expanduser() if value else None


def local_path(file: RemoteFile, data_dir: Path | None) -> Path | None:
    """The file's path in the data directory if it is there."""
    if data_dir is None:
        return None
    candidate = data_dir / file.path
    return candidate if candidate.is_file() else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _offline() -> bool:
    import datasets

    return (
        bool(getattr(datasets.config, "HF_HUB_OFFLINE", False))
        or os.environ.get("HF_DATASETS_OFFLINE") == "1"
    )


def fetch_files(task: str, files: list[RemoteFile], data_dir: Path | None, dl_manager=None) -> FetchedFiles:
    """Find or download every file of a task; raise `SourceUnavailable` for the first required one missing."""
    fetched = FetchedFiles(task=task, paths={})
    local = {file.path: local_path(file, data_dir) for file in files}
    for file in files:
        path = local[file.path]
        covered = any(local.get(alt) is not None for alt in file.alternatives)
        if path is None and not covered and file.url is not None and dl_manager is not None:
            path = _download(task, file, dl_manager)
        if path is None:
            if file.optional:
                fetched.missing.append(file.path)
                fetched.paths[file.path] = None
                continue
            reason = "not in the data directory" if file.manual else "not downloadable here"
            raise SourceUnavailable(
                task, file.path, file.where or file.url or "the source's homepage", reason
            )
        fetched.paths[file.path] = path
    if files and all(f.optional for f in files) and not any(fetched.paths.values()):
        first = files[0]
        raise SourceUnavailable(
            task, " or ".join(f.path for f in files), first.where or first.url or "the source's homepage"
        )
    return fetched


def _download(task: str, file: RemoteFile, dl_manager) -> Path | None:
    """Download through the builder's download manager; a checksum mismatch is an error, not a miss."""
    if _offline():
        return None
    try:
        path = Path(dl_manager.download(file.url))
    except Exception as err:  # network errors differ by library version; all mean "not here"
        logger.warning("%s: could not download %s: %s", task, file.url, err)
        return None
    if file.sha256 and sha256_of(path) != file.sha256:
        raise SourceFormatError(
            path, "whole file", "sha256", f"does not match the pinned {file.sha256} of {file.url}"
        )
    return path
