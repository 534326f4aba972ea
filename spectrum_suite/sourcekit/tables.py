"""Reading raw files (CSV, JSON, JSON lines, gzipped JSON lines, Parquet) with errors that name the file, the
row or line and the field, and checking a column's labels."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..task import SourceFormatError

#: How much of a file is looked at to tell text from binary content.
_SNIFF_BYTES = 1 << 16


def check_text_file(path: Path, *, opener: Any = None) -> None:
    """A text file must hold something, and no NUL bytes at its start (binary content); else a format error.

    ``opener`` opens the file in binary mode when it is compressed (``gzip.open``; its errors propagate); only
    the first 64 KiB are read.
    """
    if Path(path).stat().st_size == 0:
        raise SourceFormatError(path, "whole file", "*", "file is empty")
    with (opener or open)(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise SourceFormatError(path, "whole file", "*", "file is empty")
    if b"\x00" in head:
        raise SourceFormatError(path, "whole file", "*", "not readable text (binary content: NUL bytes)")


def _not_text(path: Path, err: UnicodeDecodeError) -> SourceFormatError:
    byte = bytes(err.object[err.start : err.start + 1]).hex()
    return SourceFormatError(
        path, "whole file", "*", f"not readable text (not UTF-8: {err.reason}, byte 0x{byte})"
    )


def read_csv(path: Path, columns: Sequence[str], **kwargs: Any) -> pd.DataFrame:
    """A CSV that must have ``columns`` and at least one data row; a missing one fails with the file and the
    column named, an empty, binary or non-UTF-8 file with the file named."""
    check_text_file(path)
    try:
        frame = pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError as err:
        raise SourceFormatError(path, "whole file", "*", "file is empty") from err
    except UnicodeDecodeError as err:
        raise _not_text(path, err) from err
    except pd.errors.ParserError as err:
        raise SourceFormatError(path, "parsing", "*", str(err)) from err
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SourceFormatError(path, "header", missing[0], f"column missing; have {list(frame.columns)}")
    if frame.empty:
        raise SourceFormatError(path, "whole file", "*", "no data rows (only a header)")
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
    """The records of JSON lines read from any text stream (plain or decompressed), blank lines skipped; a
    stream without a record, or that is not UTF-8 text, is a format error."""
    seen = 0
    try:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                seen += 1
                yield parse_record(path, number, line, fields)
    except UnicodeDecodeError as err:
        raise _not_text(path, err) from err
    if not seen:
        raise SourceFormatError(path, "whole file", "*", "no JSON records (only blank lines)")


def read_jsonl(path: Path, fields: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """JSON lines, each an object with ``fields``; a bad line fails with its line number, an empty, binary or
    record-less file with the file named."""
    check_text_file(path)
    with open(path, encoding="utf-8") as handle:
        yield from iter_records(path, handle, fields)


def read_json(path: Path) -> Any:
    """A JSON document; an empty, binary, non-UTF-8 or invalid file fails with the file (and line) named."""
    check_text_file(path)
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except UnicodeDecodeError as err:
        raise _not_text(path, err) from err
    except json.JSONDecodeError as err:
        raise SourceFormatError(path, f"line {err.lineno}", "*", f"not valid JSON ({err.msg})") from err


def read_parquet(path: Path, columns: Sequence[str], *, only: bool = False) -> pd.DataFrame:
    """A Parquet file that must have ``columns`` and at least one row; with ``only``, read just those (large
    files)."""
    if Path(path).stat().st_size == 0:
        raise SourceFormatError(path, "whole file", "*", "file is empty")
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
    if table.num_rows == 0:
        raise SourceFormatError(path, "whole file", "*", "no data rows")
    return table.to_pandas()


def read_jsonl_gz(path: Path, fields: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """Gzipped JSON lines, each an object with ``fields``; a bad line fails with its line number, an empty,
    non-gzip, binary or record-less file with the file named."""
    if Path(path).stat().st_size == 0:
        raise SourceFormatError(path, "whole file", "*", "file is empty")
    try:
        check_text_file(path, opener=gzip.open)
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            yield from iter_records(path, handle, fields)
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
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
