"""Remote-file specs for Hub and GitHub sources, and small helpers shared by the adapters that read them.

Adapters of Hub datasets read one file of the dataset's repository (Parquet, JSON lines or CSV), laid out in
the data directory as ``<source>/<path in the repository>`` and downloaded from the Hub's "resolve" URL. For
a script-based repository that current `datasets` no longer runs, the file is the Hub's own Parquet export
(revision ``refs/convert/parquet``), which is what the dataset viewer serves.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .base import FetchedFiles, RemoteFile, SourceFormatError, SourceUnavailable
from .readers import github_raw_url, hub_url

HUB = "https://huggingface.co/datasets"
PARQUET_EXPORT = "refs/convert/parquet"


def hub_file(source: str, repo: str, path: str, revision: str = "main", optional: bool = False) -> RemoteFile:
    """A file of a Hub dataset repository, at ``<source>/<path>`` in the data directory."""
    return RemoteFile(
        path=f"{source}/{path}",
        url=hub_url(repo, path, revision),
        where=f"{HUB}/{repo} ({path})",
        optional=optional,
    )


def parquet_export(source: str, repo: str, config: str, split: str, shard: int = 0) -> RemoteFile:
    """One shard of the Hub's Parquet export of a script-based dataset (``<config>/<split>/NNNN.parquet``)."""
    path = f"{config}/{split}/{shard:04d}.parquet"
    url = hub_url(repo, path, PARQUET_EXPORT)
    where = f"{HUB}/{repo} (Parquet export, revision {PARQUET_EXPORT}, file {path})"
    return RemoteFile(path=f"{source}/{path}", url=url, where=where)


def github_file(
    source: str, repo: str, ref: str, path: str, sha256: str | None = None, optional: bool = False
) -> RemoteFile:
    """A raw file of a public GitHub repository at ``ref``, at ``<source>/<path>`` in the data directory."""
    return RemoteFile(
        path=f"{source}/{path}",
        url=github_raw_url(repo, ref, path),
        sha256=sha256,
        where=f"https://github.com/{repo} ({path})",
        optional=optional,
    )


def first_present(files: FetchedFiles, *keys: str) -> tuple[str, Path]:
    """The first of several alternative files that is present (e.g. a decompressed copy or the download)."""
    for key in keys:
        path = files.paths.get(key)
        if path is not None:
            return key, path
    raise SourceUnavailable(files.task, " or ".join(keys), "the source's homepage (see the task card)")


def present(files: FetchedFiles, keys: Sequence[str]) -> list[tuple[str, Path]]:
    """Every optional file that is present; at least one must be, the others are logged as missing."""
    found = [(key, files.paths[key]) for key in keys if files.paths.get(key) is not None]
    if not found:
        raise SourceUnavailable(files.task, " and ".join(keys), "the source's homepage (see the task card)")
    return found


def records(frame: pd.DataFrame) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows as (0-based row number, dict of Python values), numpy arrays turned into lists."""
    for number, row in enumerate(frame.to_dict("records")):
        yield number, {k: plain(v) for k, v in row.items()}


def plain(value: Any) -> Any:
    """Python values for numpy scalars and arrays, so that reprs in text read as Python's own."""
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def missing(value: Any) -> bool:
    """None, NaN, or an empty / whitespace-only string."""
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()


def letters(n: int, path: Path | str, where: str, field_name: str) -> str:
    """The first ``n`` option letters A, B, ...; more than 26 options is a format error."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if n > len(alphabet):
        raise SourceFormatError(path, where, field_name, f"{n} options; at most 26 can be lettered")
    return alphabet[:n]
