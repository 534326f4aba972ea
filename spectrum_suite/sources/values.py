"""Small helpers over parsed rows that many adapters share: Python values, missing values, option letters,
grouping by a key, and the default descriptions of generic tables."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..task import SourceFormatError


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
