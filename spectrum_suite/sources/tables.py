"""Reading raw tables with errors that name the file, the row or line and the field, and grouping helpers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .base import SourceFormatError


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


def group_in_order(records: Iterable[Mapping[str, Any]], key: str) -> dict[Any, list[Mapping[str, Any]]]:
    """Records grouped by ``key``, groups in order of first appearance (individual tasks)."""
    groups: dict[Any, list[Mapping[str, Any]]] = {}
    for record in records:
        groups.setdefault(record[key], []).append(record)
    return groups


def default_descriptions(inputs: Sequence[str], outputs: Sequence[str]) -> list[str]:
    """The three default descriptions of generic and individual tables (`spec/tasks.md` §1.1)."""
    given, generated = ", ".join(inputs), ", ".join(outputs)
    return [
        f"The following are given: {given}. You must generate {generated}.",
        f"Given: {given}. Generate: {generated}.",
        f"Inputs: {given}. Outputs: {generated}.",
    ]
