"""Reading raw files (CSV, JSON, JSON lines, gzipped JSON lines, Parquet) with errors that name the file, the
row or line and the field, and checking a column's labels."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..task import SourceFormatError


def read_csv(path: Path, columns: Sequence[str], **kwargs: Any) -> pd.DataFrame:
    """A CSV that must have ``columns``; a missing one fails with the file and the column named."""
    try:
        frame = pd.read_csv(path, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise SourceFormatError(path, "parsing", "*", str(err)) from err
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SourceFormatError(path, "header", missing[0], f"column missing; have {list(frame.columns)}")
    return frame


def parse_record(path: Path, number: int, line: str, fields: Sequence[str] = ()) -> dict[str, Any]:
    """One JSON-lines record: an object with ``fields``; anything else fails with its line number."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise SourceFormatError(path, f"line {number}", "*", f"not valid JSON ({err.msg})") from err
    if not isinstance(record, dict):
        raise SourceFormatError(path, f"line {number}", "*", "expected a JSON object")
    for name in fields:
        if name not in record:
            raise SourceFormatError(path, f"line {number}", name, "field missing")
    return record


def iter_records(path: Path, lines: Iterable[str], fields: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """The records of JSON lines read from any text stream (plain or decompressed), blank lines skipped."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield parse_record(path, number, line, fields)


def read_jsonl(path: Path, fields: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """JSON lines, each an object with ``fields``; a bad line fails with its line number."""
    with open(path, encoding="utf-8") as handle:
        yield from iter_records(path, handle, fields)


def read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as err:
        raise SourceFormatError(path, f"line {err.lineno}", "*", f"not valid JSON ({err.msg})") from err


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


def check_labels(path: Path, frame: pd.DataFrame, column: str, allowed: Iterable[Any]) -> None:
    """Every value of ``column`` must be one of ``allowed``; the first that is not is reported with its file row.

    Rows are named by the frame's index, so a frame filtered after `read_csv` still names the file's line.
    """
    allowed_set = set(allowed)
    bad = ~frame[column].isin(allowed_set)
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        label, value = frame.index[position], frame[column].iloc[position]
        value = value.item() if hasattr(value, "item") else value
        where = f"row {label + 2}" if isinstance(label, (int, np.integer)) else f"row {label!r}"
        expected = sorted(map(str, allowed_set))
        raise SourceFormatError(
            path, where, column, f"unexpected label {value!r}; expected one of {expected}"
        )
