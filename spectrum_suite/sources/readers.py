"""Readers for the Parquet and gzipped JSON-lines files of Hub and GCS sources, with errors that name the file.

`tables.py` covers CSV, JSON and plain JSON lines; Hub datasets mostly ship Parquet (and HelpSteer2 a gzipped
JSON-lines file), which these readers open with the same contract: a missing column or field, or a
corrupt file, fails with the file, the row or line and the field named.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .base import SourceFormatError
from .tables import iter_records


def read_parquet(path: Path, columns: Sequence[str], *, only: bool = False) -> pd.DataFrame:
    """A Parquet file that must have ``columns``; with ``only``, read just those (large files)."""
    try:
        schema_names = pq.read_schema(path).names
    except (pa.ArrowInvalid, OSError) as err:
        raise SourceFormatError(path, "whole file", "*", f"not a readable Parquet file ({err})") from err
    missing = [c for c in columns if c not in schema_names]
    if missing:
        raise SourceFormatError(path, "schema", missing[0], f"column missing; have {schema_names}")
    try:
        table = pq.read_table(path, columns=list(columns) if only else None)
    except (pa.ArrowInvalid, OSError) as err:
        raise SourceFormatError(path, "whole file", "*", f"not a readable Parquet file ({err})") from err
    return table.to_pandas()


def read_jsonl_gz(path: Path, fields: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """Gzipped JSON lines, each an object with ``fields``; a bad line fails with its line number."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            yield from iter_records(path, handle, fields)
    except (gzip.BadGzipFile, EOFError) as err:
        raise SourceFormatError(path, "whole file", "*", f"not a readable gzip file ({err})") from err


def hub_url(repo: str, path: str, revision: str = "main") -> str:
    """The Hub "resolve" URL of one file of a dataset repository (``refs/convert/parquet`` is URL-quoted)."""
    return f"https://huggingface.co/datasets/{repo}/resolve/{revision.replace('/', '%2F')}/{path}"


def github_raw_url(repo: str, commit: str, path: str) -> str:
    """The raw.githubusercontent.com URL of one file at a pinned commit."""
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"
