"""Finding, downloading and checking raw source files: the one stack every task and word list goes through.

A file is looked for, in order, in the data directory (``data_dir=`` or ``$SPECTRUM_SUITE_DATA``, laid out as
``<source>/<path in the source's release>``, like ``../shared/data``), then downloaded. A Hub file comes through
`huggingface_hub` at its pinned revision, into the Hub cache, with the user's token (``hf auth login`` or
``HF_TOKEN``), so gated repositories work once their terms are accepted; ``HF_ENDPOINT`` names another Hub. A
split of the Hub's Parquet export is every one of its ``NNNN.parquet`` shards: all are listed and fetched, and a
gap in their numbering, or a listed shard that cannot be had, is an error naming that shard. Any other file comes
through the `datasets` download manager when a builder runs (cached by `datasets`), else into this package's own
cache (``$SPECTRUM_SUITE_CACHE`` or the platform's user cache); ``$SPECTRUM_SUITE_GITHUB_RAW`` names a mirror of
raw.githubusercontent.com. A file whose SHA-256 differs from the pinned one is an error, never a silent miss.
Offline (``SPECTRUM_SUITE_OFFLINE``, ``HF_HUB_OFFLINE`` or ``HF_DATASETS_OFFLINE`` set) nothing is downloaded
(copies already in the caches are used), and a missing file fails with a message that names the task, the file
and where to get it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from .task import (
    ALL,
    ANY,
    DATA_ENV,
    FIRST,
    SHARD,
    FetchedFiles,
    FileMissing,
    RemoteFile,
    SourceFormatError,
    SourceUnavailable,
    TaskFiles,
    TaskSpec,
    parquet_shards,
)

logger = logging.getLogger("spectrum_suite")

CACHE_ENV = "SPECTRUM_SUITE_CACHE"
OFFLINE_ENVS = ("SPECTRUM_SUITE_OFFLINE", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
GITHUB_RAW = "https://raw.githubusercontent.com"
GITHUB_RAW_ENV = "SPECTRUM_SUITE_GITHUB_RAW"
DOWNLOAD_TIMEOUT_S = 60
#: What `availability` says of a task, from best to worst: every file it needs is in the data directory (or
#: it is generated in code), its missing files download, download once the user accepted a gated Hub
#: repository's terms and logged in, must be fetched by hand, or are given by their authors on request.
AVAILABILITY = ("ready", "downloadable", "gated", "manual", "permission")


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


def hub_endpoint() -> str:
    """The Hub to download from: ``$HF_ENDPOINT`` as set now, else `huggingface_hub`'s default."""
    from huggingface_hub import constants

    return os.environ.get("HF_ENDPOINT", constants.ENDPOINT).rstrip("/")


def local_path(file: RemoteFile, data_dir: Path | None) -> Path | None:
    """The file's path in the data directory if it is there (for an export split: its folder, with shard 0000)."""
    if data_dir is None:
        return None
    candidate = data_dir / file.path
    if file.hub is not None and file.hub.shards:
        return candidate if (candidate / "0000.parquet").is_file() else None
    return candidate if candidate.is_file() else None


_DIGESTS: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """The file's SHA-256, computed once per (path, size, modification time) in this process; for an export
    split's folder, the SHA-256 of its shards' names and digests."""
    if Path(path).is_dir():
        listing = "".join(f"{p.name}\0{sha256_of(p)}\0" for p in parquet_shards(Path(path)))
        return hashlib.sha256(listing.encode()).hexdigest()
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
            f"is {actual}, not the pinned {file.sha256} of {file.path} ({file.origin_hint}); the file is truncated, "
            "edited or another version: replace it with the pinned file, or, to build a dataset from it as it is, "
            "pass verify_checksums=False (--no-verify-checksums; the build record and the dataset card say so)",
        )  # fmt: skip


def verified(path: Path, file: RemoteFile, verify: bool = True) -> Path:
    """``path``, after checking its content against the file's pinned SHA-256 (when it has one and ``verify``)."""
    if verify and file.sha256 and sha256_of(path) != file.sha256:
        raise ChecksumMismatch(path, file, sha256_of(path))
    return path


#: Hosts that could not be reached in this process, with why: each is asked once, so a build of many tasks
#: without a network fails in seconds rather than in one round of the client's retries per file.
_UNREACHABLE: dict[str, str] = {}


def download(file: RemoteFile, dl_manager: Any = None) -> Path:
    """``file`` downloaded, or from the download caches (offline too); `FileMissing` says why it can't be had
    (naming the shard of an export split), and another SHA-256 than the pinned one raises `ChecksumMismatch`.

    Hub files go through `huggingface_hub` (`_from_hub`); other URLs through ``dl_manager`` when given, else
    into `cache_root`. A host that could not be connected to is not asked again in this process.
    """
    if file.manual:
        raise FileMissing(file.path, "it has no download")
    host = _host(file)
    earlier = _UNREACHABLE.get(host)  # then only the caches are read, as offline
    local_only = offline() or earlier is not None
    try:
        path = (
            _from_hub(file, local_only) if file.hub is not None else _from_url(file, dl_manager, local_only)
        )
    except ChecksumMismatch:
        raise
    except Exception as err:  # noqa: BLE001 - download errors differ by library and version; all mean "not here"
        if earlier is not None and not offline():
            where = err.path if isinstance(err, FileMissing) else file.path
            raise FileMissing(
                where, f"{host} could not be reached earlier in this process ({earlier})"
            ) from err
        if isinstance(err, FileMissing):
            raise
        if _no_connection(err):
            _UNREACHABLE[host] = _why(file, err)
        raise FileMissing(file.path, _why(file, err)) from err
    return verified(path, file)


def _host(file: RemoteFile) -> str:
    """The host a download of ``file`` would ask: the Hub's, or that of its URL (or of the GitHub mirror)."""
    return urlsplit(hub_endpoint() if file.hub is not None else _mirrored(file.url or "")).netloc


def _no_connection(err: BaseException) -> bool:
    """Whether the error, or one it came from, is a failure to connect (name resolution, refused, timed out):
    the host is out of reach, as opposed to an answer such as 404 or 401."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, (ConnectionError, socket.gaierror, TimeoutError)) or type(seen).__name__ in (
            "ConnectError", "ConnectTimeout",
        ):  # fmt: skip
            return True
        if isinstance(seen, urllib.error.URLError) and not isinstance(seen, urllib.error.HTTPError):
            return isinstance(seen.reason, OSError)
        seen = seen.__cause__ or seen.__context__
    return False


def _why(file: RemoteFile, err: BaseException) -> str:
    """The first line of a download error, and for a gated Hub file what the user must do."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    reason = f"{type(err).__name__}: {' '.join(lines[:2])}".rstrip(": ")
    if file.hub is not None and file.hub.gated:
        reason += (
            f" (the repository is gated: accept its terms at https://huggingface.co/datasets/{file.hub.repo}, "
            "then log in with `hf auth login` or set HF_TOKEN)"
        )
    return reason


def _from_hub(file: RemoteFile, local_only: bool) -> Path:
    """A Hub file (or every shard of an export split, returning their folder) at its revision, with the token
    `huggingface_hub` finds (``HF_TOKEN`` or the one `hf auth login` stored); ``local_only``: from its cache."""
    from huggingface_hub import HfApi, hf_hub_download

    hub = file.hub
    assert hub is not None

    def get(filename: str) -> Path:
        return Path(hf_hub_download(hub.repo, filename, repo_type="dataset", revision=hub.revision,
                                    endpoint=hub_endpoint(), local_files_only=local_only))  # fmt: skip

    if not hub.shards:
        return get(hub.filename)
    if local_only:  # no listing: the shards an earlier download left in the Hub cache
        return get(f"{hub.filename}/0000.parquet").parent
    listed = HfApi(endpoint=hub_endpoint()).list_repo_tree(
        hub.repo, hub.filename, revision=hub.revision, repo_type="dataset"
    )
    names = sorted(PurePosixPath(e.path).name for e in listed if SHARD.fullmatch(PurePosixPath(e.path).name))
    numbers = [int(name[:4]) for name in names]
    gap = next((i for i, n in enumerate(numbers) if n != i), None if numbers else 0)
    if gap is not None:
        raise FileMissing(
            f"{file.path}/{gap:04d}.parquet",
            f"the Hub lists shards {', '.join(names) or 'none'} of {hub.repo} at {hub.revision}, not this one",
        )
    folders = set()
    for name in names:
        try:
            folders.add(get(f"{hub.filename}/{name}").parent)
        except Exception as err:  # noqa: BLE001 - as in `download`, naming the shard
            raise FileMissing(f"{file.path}/{name}", _why(file, err)) from err
    if len(folders) != 1:
        raise FileMissing(
            file.path, f"the export of {hub.repo} changed at {hub.revision} while it downloaded"
        )
    return folders.pop()


def _from_url(file: RemoteFile, dl_manager: Any, local_only: bool) -> Path:
    """A file by URL (through a mirror of raw.githubusercontent.com when ``$SPECTRUM_SUITE_GITHUB_RAW`` names one):
    through ``dl_manager``, else into `cache_root`, where a copy made earlier is used even when ``local_only``."""
    assert file.url is not None
    url = _mirrored(file.url)
    cached = cache_root() / "files" / file.path
    if dl_manager is None and cached.is_file():
        return cached
    if local_only:
        raise FileMissing(file.path, "downloads are off (offline mode)")
    return Path(dl_manager.download(url)) if dl_manager is not None else _download_to(cached, file, url)


def _mirrored(url: str) -> str:
    """``url``, through the mirror of raw.githubusercontent.com that ``$SPECTRUM_SUITE_GITHUB_RAW`` names."""
    mirror = os.environ.get(GITHUB_RAW_ENV)
    if mirror and url.startswith(f"{GITHUB_RAW}/"):
        return mirror.rstrip("/") + url[len(GITHUB_RAW) :]
    return url


def _download_to(target: Path, file: RemoteFile, url: str) -> Path:
    """Download ``url`` to ``target`` (temporary file, then rename); a payload with another SHA-256 than the
    pinned one is never written."""
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        payload = response.read()
    actual = hashlib.sha256(payload).hexdigest()
    if file.sha256 and actual != file.sha256:
        raise ChecksumMismatch(Path(url), file, actual)
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
    if local is not None:
        return verified(local, file, verify)
    try:
        return download(file, dl_manager)
    except FileMissing as err:
        raise _unavailable(task, file, err) from None


def _unavailable(task: str, file: RemoteFile, failure: FileMissing | None = None) -> SourceUnavailable:
    if file.manual:
        reason = "not in the data directory"
    elif failure is not None:
        reason = f"not in the data directory, and not downloaded: {failure.reason}"
        if offline():
            reason += "; downloads are off (offline mode)"
        return SourceUnavailable(task, failure.path, file.origin_hint, reason)
    else:
        reason = "not in the data directory, and not downloadable here"
    return SourceUnavailable(task, file.path, file.origin_hint, reason)


def fetch_files(
    task: str, needs: TaskFiles, data_dir: Path | None, dl_manager: Any = None, verify: bool = True
) -> FetchedFiles:
    """Find or download the files of a task's groups, as its mode asks; `SourceUnavailable` if it can't build.

    Files found in the data directory are checked against their pinned SHA-256 (`ChecksumMismatch` if they
    differ) unless ``verify`` is off, and an export split found there must have an unbroken run of shards; every
    file that was read unchecked is listed in ``unverified``.
    """
    fetched = FetchedFiles(task=task, paths={f.path: None for f in needs.files})
    groups = needs.file_groups
    local = {f.path: local_path(f, data_dir) for f in needs.files}
    failures: dict[str, FileMissing] = {}
    for file in needs.files:
        path = local[file.path]
        if path is None:
            continue
        if path.is_dir():
            try:
                parquet_shards(path)
            except FileMissing as err:
                raise SourceUnavailable(task, err.path, file.origin_hint, err.reason) from None
        if not file.sha256:
            fetched.unverified[file.path] = "no pinned sha256"
        elif not verify and sha256_of(path) != file.sha256:
            fetched.unverified[file.path] = f"sha256 {sha256_of(path)} differs from the pinned {file.sha256}"
        else:
            verified(path, file, verify)

    def obtained(file: RemoteFile) -> Path | None:
        path = local[file.path] or fetched.paths.get(file.path)
        if path is None and file.path not in failures:
            try:
                path = download(file, dl_manager)
            except FileMissing as err:
                failures[file.path] = err
        return path

    def complete(group: tuple[RemoteFile, ...]) -> dict[str, Path] | None:
        got: dict[str, Path] = {}
        for file in group:
            path = obtained(file)
            if path is None:
                return None
            got[file.path] = local[file.path] = path
        return got

    def unavailable(group: tuple[RemoteFile, ...]) -> SourceUnavailable:
        absent = next(f for f in group if local[f.path] is None)
        return _unavailable(task, absent, failures.get(absent.path))

    if needs.mode == FIRST:
        here = [g for g in groups if all(local[f.path] for f in g)]
        for group in here + [g for g in groups if g not in here]:
            got = complete(group)
            if got is not None:
                fetched.paths.update(got)
                return fetched
        raise unavailable(groups[0])
    for group in groups:
        got = complete(group)
        if got is not None:
            fetched.paths.update(got)
            continue
        if needs.mode == ALL:
            raise unavailable(group)
        fetched.missing.append(next(f for f in group if local[f.path] is None).path)
    if groups and needs.mode == ANY and not any(fetched.paths.values()):
        absent = dict.fromkeys(f.path for g in groups for f in g if local[f.path] is None)
        raise SourceUnavailable(task, " or ".join(absent), groups[0][0].origin_hint)
    return fetched


def _access(task: TaskSpec, file: RemoteFile) -> str:
    """How a file that is not in the data directory can be had (one of `AVAILABILITY` after "ready")."""
    if file.hub is not None:
        return "gated" if file.hub.gated else "downloadable"
    if file.url is not None:
        return "downloadable"
    return "permission" if task.source.origin == "PERM" else "manual"


def availability(task: TaskSpec, data_dir: str | os.PathLike | None = None) -> str:
    """One of `AVAILABILITY`: ready (a group the task can build from is in the data directory, or the task is
    generated in code, and the files its scoring reads, a coverage validator's word list, are there or in the
    download cache), else how its missing files can be had: the hardest file of a group that is needed, the
    easiest group where any group will do."""
    root = resolve_data_dir(data_dir)
    build, scoring = _need(task, task.files, root), _need(task, task.scoring_files, root, cache=True)
    return AVAILABILITY[max(build, scoring)]


def _need(task: TaskSpec, needs: TaskFiles, root: Path | None, cache: bool = False) -> int:
    """The rank in `AVAILABILITY` of what getting ``needs`` takes (0: every needed file is here)."""
    groups = needs.file_groups
    if not groups:
        return 0

    def here(f: RemoteFile) -> bool:
        return local_path(f, root) is not None or (cache and (cache_root() / "files" / f.path).is_file())

    gaps = [[f for f in g if not here(f)] for g in groups]
    if all(not gap for gap in gaps) if needs.mode == ALL else any(not gap for gap in gaps):
        return 0
    ranks = [max(AVAILABILITY.index(_access(task, f)) for f in gap) for gap in gaps if gap]
    return max(ranks) if needs.mode == ALL else min(ranks)
