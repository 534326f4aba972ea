"""Where the files of Hub and GitHub sources are downloaded from, as `RemoteFile` specs.

Adapters of Hub datasets read one file of the dataset's repository (Parquet, JSON lines or CSV), laid out in
the data directory as ``<source>/<path in the repository>`` and downloaded from the Hub's "resolve" URL. For
a script-based repository that current `datasets` no longer runs, the file is the Hub's own Parquet export
(revision ``refs/convert/parquet``), which is what the dataset viewer serves.
"""

from __future__ import annotations

from ..task import RemoteFile

HUB = "https://huggingface.co/datasets"
PARQUET_EXPORT = "refs/convert/parquet"


def hub_url(repo: str, path: str, revision: str = "main") -> str:
    """The Hub "resolve" URL of one file of a dataset repository (``refs/convert/parquet`` is URL-quoted)."""
    return f"https://huggingface.co/datasets/{repo}/resolve/{revision.replace('/', '%2F')}/{path}"


def github_raw_url(repo: str, commit: str, path: str) -> str:
    """The raw.githubusercontent.com URL of one file at a pinned commit."""
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


def hub_file(source: str, repo: str, path: str, revision: str = "main") -> RemoteFile:
    """A file of a Hub dataset repository, at ``<source>/<path>`` in the data directory."""
    return RemoteFile(
        path=f"{source}/{path}",
        url=hub_url(repo, path, revision),
        where=f"{HUB}/{repo} ({path})",
    )


def parquet_export(source: str, repo: str, config: str, split: str, shard: int = 0) -> RemoteFile:
    """One shard of the Hub's Parquet export of a script-based dataset (``<config>/<split>/NNNN.parquet``)."""
    path = f"{config}/{split}/{shard:04d}.parquet"
    url = hub_url(repo, path, PARQUET_EXPORT)
    where = f"{HUB}/{repo} (Parquet export, revision {PARQUET_EXPORT}, file {path})"
    return RemoteFile(path=f"{source}/{path}", url=url, where=where)


def github_file(source: str, repo: str, ref: str, path: str, sha256: str | None = None) -> RemoteFile:
    """A raw file of a public GitHub repository at ``ref``, at ``<source>/<path>`` in the data directory."""
    return RemoteFile(
        path=f"{source}/{path}",
        url=github_raw_url(repo, ref, path),
        sha256=sha256,
        where=f"https://github.com/{repo} ({path})",
    )
