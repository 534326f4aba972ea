"""Finding, downloading and checking raw source files: the one stack every task and word list goes through.

A file is looked for, in order, in the data directory (``data_dir=`` or ``$SPECTRUM_SUITE_DATA``, laid out as
``<source>/<path in the source's release>``, like ``../shared/data``), then downloaded: through the `datasets`
download manager when a builder runs (cached by `datasets`), else into this package's own cache
(``$SPECTRUM_SUITE_CACHE`` or the platform's user cache). A download whose SHA-256 differs from the pinned one
is an error, never a silent miss. Offline (``SPECTRUM_SUITE_OFFLINE``, ``HF_HUB_OFFLINE`` or
``HF_DATASETS_OFFLINE`` set) nothing is downloaded, and a missing file fails with a message that names the
task, the file and where to get it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .task import (
    ALL,
    ANY,
    DATA_ENV,
    FIRST,
    FetchedFiles,
    RemoteFile,
    SourceFormatError,
    SourceUnavailable,
    TaskFiles,
    TaskSpec,
)

logger = logging.getLogger("spectrum_suite")

CACHE_ENV = "SPECTRUM_SUITE_CACHE"
OFFLINE_ENVS = ("SPECTRUM_SUITE_OFFLINE", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
DOWNLOAD_TIMEOUT_S = 60
AVAILABILITY = ("ready", "needs download", "needs a manual file")


class DataDirError(ValueError):
    """The data directory that was named does not exist or is not a folder."""


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """The data directory: the argument, else ``$SPECTRUM_SUITE_DATA``, else none; a named one must exist."""
    value = data_dir if data_dir is not None else os.environ.get(DATA_ENV)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        where = "data_dir" if data_dir is not None else f"${DATA_ENV}"
        what = "is not a folder" if path.exists() else "does not exist"
        raise DataDirError(f"the data directory {path} ({where}) {what}")
    return path


def cache_root() -> Path:
    """This package's cache (downloads, converted models): ``$SPECTRUM_SUITE_CACHE`` or the user cache dir."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("spectrum_suite"))


def offline() -> bool:
    """Whether downloads are off."""
    return any(os.environ.get(name, "").lower() in ("1", "true", "yes", "on") for name in OFFLINE_ENVS)


def local_path(file: RemoteFile, data_dir: Path | None) -> Path | None:
    """The file's path in the data directory if it is there."""
    if data_dir is None:
        return None
    candidate = data_dir / file.path
    return candidate if candidate.is_file() else None


_DIGESTS: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """The file's SHA-256, computed once per (path, size, modification time) in this process."""
    stat = Path(path).stat()
    key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


class ChecksumMismatch(SourceFormatError):
    """A file's content differs from the SHA-256 pinned for it."""

    def __init__(self, path: Path, file: RemoteFile, actual: str) -> None:
        super().__init__(
            path, "whole file", "sha256",
            f"is {actual}, not the pinned {file.sha256} of {file.origin_hint}; the file is truncated, edited or "
            "another version: replace it, or pass verify_checksums=False (--no-verify-checksums) to use it as it "
            "is (recorded in the build record and the dataset card)",
        )  # fmt: skip


def verified(path: Path, file: RemoteFile, verify: bool = True) -> Path:
    """``path``, after checking its content against the file's pinned SHA-256 (when it has one and ``verify``)."""
    if verify and file.sha256 and sha256_of(path) != file.sha256:
        raise ChecksumMismatch(path, file, sha256_of(path))
    return path


def download(file: RemoteFile, dl_manager: Any = None) -> Path | None:
    """``file`` from a download (through ``dl_manager`` when given, else into `cache_root`, where a copy made
    earlier is used even offline); None if it can't be had. Another SHA-256 than the pinned one raises
    `ChecksumMismatch`.
    """
    if file.url is None:
        return None
    cached = cache_root() / "files" / file.path
    if dl_manager is None and cached.is_file():
        return verified(cached, file)
    if offline():
        return None
    try:
        path = Path(dl_manager.download(file.url)) if dl_manager is not None else _download_to(cached, file)
    except ChecksumMismatch:
        raise
    except Exception as err:  # noqa: BLE001 - download errors differ by library and version; all mean "not here"
        logger.warning("could not download %s: %s", file.url, err)
        return None
    return verified(path, file)


def _download_to(target: Path, file: RemoteFile) -> Path:
    """Download ``file`` to ``target`` (temporary file, then rename); a payload with another SHA-256 than the
    pinned one is never written."""
    with urllib.request.urlopen(file.url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        payload = response.read()
    actual = hashlib.sha256(payload).hexdigest()
    if file.sha256 and actual != file.sha256:
        raise ChecksumMismatch(Path(file.url), file, actual)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def fetch_file(
    task: str, file: RemoteFile, data_dir: str | os.PathLike | None = None, dl_manager: Any = None,
    verify: bool = True,
) -> Path:  # fmt: skip
    """One file, from the data directory (checked against its pin) or downloaded; `SourceUnavailable` naming the
    task if neither works."""
    local = local_path(file, resolve_data_dir(data_dir))
    path = verified(local, file, verify) if local is not None else download(file, dl_manager)
    if path is None:
        raise _unavailable(task, file)
    return path


def _unavailable(task: str, file: RemoteFile) -> SourceUnavailable:
    if file.manual:
        reason = "not in the data directory"
    elif offline():
        reason = "not in the data directory, and downloads are off (offline mode)"
    else:
        reason = "not in the data directory, and not downloadable here"
    return SourceUnavailable(task, file.path, file.origin_hint, reason)


def fetch_files(
    task: str, needs: TaskFiles, data_dir: Path | None, dl_manager: Any = None, verify: bool = True
) -> FetchedFiles:
    """Find or download the files of a task's groups, as its mode asks; `SourceUnavailable` if it can't build.

    Files found in the data directory are checked against their pinned SHA-256 (`ChecksumMismatch` if they
    differ) unless ``verify`` is off; every file that was read unchecked is listed in ``unverified``.
    """
    fetched = FetchedFiles(task=task, paths={f.path: None for f in needs.files})
    groups = needs.file_groups
    local = {f.path: local_path(f, data_dir) for f in needs.files}
    for file in needs.files:
        path = local[file.path]
        if path is None:
            continue
        if not file.sha256:
            fetched.unverified[file.path] = "no pinned sha256"
        elif not verify and sha256_of(path) != file.sha256:
            fetched.unverified[file.path] = f"sha256 {sha256_of(path)} differs from the pinned {file.sha256}"
        else:
            verified(path, file, verify)

    def complete(group: tuple[RemoteFile, ...]) -> dict[str, Path] | None:
        got: dict[str, Path] = {}
        for file in group:
            path = local[file.path] or fetched.paths.get(file.path) or download(file, dl_manager)
            if path is None:
                return None
            got[file.path] = local[file.path] = path
        return got

    if needs.mode == FIRST:
        here = [g for g in groups if all(local[f.path] for f in g)]
        for group in here + [g for g in groups if g not in here]:
            got = complete(group)
            if got is not None:
                fetched.paths.update(got)
                return fetched
        raise _unavailable(task, next(f for f in groups[0] if not local[f.path]))
    for group in groups:
        got = complete(group)
        if got is not None:
            fetched.paths.update(got)
            continue
        absent = next(f for f in group if local[f.path] is None)
        if needs.mode == ALL:
            raise _unavailable(task, absent)
        fetched.missing.append(absent.path)
    if groups and needs.mode == ANY and not any(fetched.paths.values()):
        absent = dict.fromkeys(f.path for g in groups for f in g if local[f.path] is None)
        raise SourceUnavailable(task, " or ".join(absent), groups[0][0].origin_hint)
    return fetched


def availability(task: TaskSpec, data_dir: str | os.PathLike | None = None) -> str:
    """ready (a group the task can build from is in the data directory), needs download, or manual."""
    groups = task.files.file_groups
    if not groups:
        return "ready"
    root = resolve_data_dir(data_dir)
    here = [all(local_path(f, root) is not None for f in g) for g in groups]
    if all(here) if task.files.mode == ALL else any(here):
        return "ready"
    gaps = [
        [f for f in g if local_path(f, root) is None] for g, ok in zip(groups, here, strict=True) if not ok
    ]
    downloadable = [all(not f.manual for f in gap) for gap in gaps]
    if all(downloadable) if task.files.mode == ALL else any(downloadable):
        return "needs download"
    return "needs a manual file"
