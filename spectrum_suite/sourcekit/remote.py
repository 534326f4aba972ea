"""Where the files of Hub and GitHub sources are downloaded from, as `RemoteFile` specs.

Adapters of Hub datasets read files of the dataset's repository (Parquet, JSON lines or CSV) at a commit,
laid out in the data directory as ``<source>/<path in the repository>`` and downloaded with `huggingface_hub`.
For a script-based repository that current `datasets` no longer runs and that has no Parquet files of its own,
the file is a split of the Hub's own Parquet export (revision ``refs/convert/parquet``, what the dataset viewer
serves), a folder of shards. GitHub files are raw files at a commit.
"""

from __future__ import annotations

from ..task import HubFile, RemoteFile

HUB = "https://huggingface.co/datasets"
PARQUET_EXPORT = "refs/convert/parquet"
#: Why a Hub file is read at ``main``: no commit hash of its repository could be learned from this project's
#: offline machines, and an invented pin is worse than none (docs/tasks.md#pins).
NO_COMMIT = "no commit of the repository could be learned offline; read at main"
#: Likewise for a split of the Parquet export, a branch the Hub rewrites when it converts the dataset again.
NO_EXPORT_COMMIT = "no commit of the Hub's Parquet export branch could be learned offline; read at the branch"


def hub_url(repo: str, path: str, revision: str) -> str:
    """The Hub "resolve" URL of one file of a dataset repository (``refs/convert/parquet`` is URL-quoted)."""
    return f"{HUB}/{repo}/resolve/{revision.replace('/', '%2F')}/{path}"


def github_raw_url(repo: str, commit: str, path: str) -> str:
    """The raw.githubusercontent.com URL of one file at a pinned commit."""
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


def hub_file(
    source: str, repo: str, path: str, revision: str, *, sha256: str | None = None, gated: bool = False,
    unpinned: str | None = None, where: str | None = None,
) -> RemoteFile:  # fmt: skip
    """A file of a Hub dataset repository at ``revision`` (a commit hash; else ``unpinned`` says why not), at
    ``<source>/<path>`` in the data directory."""
    return RemoteFile(
        path=f"{source}/{path}",
        url=hub_url(repo, path, revision),
        sha256=sha256,
        where=where or f"{HUB}/{repo} ({path})",
        hub=HubFile(repo, path, revision, gated=gated),
        unpinned=unpinned,
    )


def parquet_export(source: str, repo: str, config: str, split: str, *, unpinned: str) -> RemoteFile:
    """One split of the Hub's Parquet export of a script-based dataset: the folder ``<config>/<split>`` of
    ``NNNN.parquet`` shards, every one of which is read. ``unpinned`` says why no commit of the export pins it."""
    folder = f"{config}/{split}"
    return RemoteFile(
        path=f"{source}/{folder}",
        url=f"{HUB}/{repo}/tree/{PARQUET_EXPORT.replace('/', '%2F')}/{folder}",
        where=f"{HUB}/{repo} (Parquet export, revision {PARQUET_EXPORT}, every NNNN.parquet file of {folder}/)",
        hub=HubFile(repo, folder, PARQUET_EXPORT, shards=True),
        unpinned=unpinned,
    )


def github_file(source: str, repo: str, commit: str, path: str, sha256: str | None = None) -> RemoteFile:
    """A raw file of a public GitHub repository at ``commit``, at ``<source>/<path>`` in the data directory."""
    return RemoteFile(
        path=f"{source}/{path}",
        url=github_raw_url(repo, commit, path),
        sha256=sha256,
        where=f"https://github.com/{repo} ({path})",
    )
