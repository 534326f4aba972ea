"""Small helpers over parsed rows that many adapters share: Python values, missing values, checked text,
numbers and target distributions, option letters, grouping by a key, the default descriptions of generic
tables, and how many instances a generated task builds under its cap."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..task import SourceFormatError, TaskSpec


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


def null(value: Any) -> bool:
    """None, NaN or pandas' NA: a value the file does not have (an empty string is a value)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def text_or_null(value: Any) -> bool:
    """Whether a value is text or absent (see `null`)."""
    return isinstance(value, str) or null(value)


def text(path: Path | str, where: str, field_name: str, value: Any, *, empty: bool = False) -> str:
    """``value`` if it is a string (non-blank unless ``empty``); anything else (None, NaN, a number, a list) is a
    format error naming the file, the row and the field, never the text "nan" or "None"."""
    if not isinstance(value, str):
        raise SourceFormatError(path, where, field_name, f"expected text, got {value!r}")
    if not empty and not value.strip():
        raise SourceFormatError(path, where, field_name, "expected text, got an empty string")
    return value


def number(
    path: Path | str,
    where: str,
    field_name: str,
    value: Any,
    *,
    integer: bool = False,
    low: float | None = None,
    high: float | None = None,
    strings: bool = True,
) -> Any:
    """A finite real number (a Python or numpy number, or, if ``strings``, a string that parses as one; a JSON
    field is a number, never a string), integral if ``integer`` (returned as an int) and within [``low``,
    ``high``]; anything else (NaN, inf, text, a bool) is a format error naming the file, the row and the field."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str) if strings else numbers.Real):
        raise SourceFormatError(path, where, field_name, f"expected a number, got {value!r}")
    try:
        parsed = float(value.strip()) if isinstance(value, str) else value
    except ValueError:
        raise SourceFormatError(path, where, field_name, f"expected a number, got {value!r}") from None
    if not math.isfinite(parsed):
        raise SourceFormatError(path, where, field_name, f"expected a finite number, got {value!r}")
    if integer and not float(parsed).is_integer():
        raise SourceFormatError(path, where, field_name, f"expected an integer, got {value!r}")
    if (low is not None and parsed < low) or (high is not None and parsed > high):
        bounds = f"{'-inf' if low is None else low}..{'inf' if high is None else high}"
        raise SourceFormatError(path, where, field_name, f"expected a number in {bounds}, got {value!r}")
    return int(parsed) if integer else parsed


def distribution(path: Path | str, where: str, field_name: str, weights: Sequence[Any]) -> list[float]:
    """Counts or shares as a target distribution: each a finite number >= 0 and not all zero, normalised to sum
    to 1. A NaN, negative or non-numeric weight, or an all-zero vector, is a format error naming the file, the
    row and the field."""
    values = [number(path, where, field_name, w, low=0.0) for w in weights]
    total = sum(values)
    if not values or total <= 0:
        raise SourceFormatError(
            path, where, field_name, f"all counts are zero ({list(weights)!r}): not a distribution"
        )
    return [v / total for v in values]


def check_column(
    path: Path | str,
    frame: pd.DataFrame,
    column: str,
    check: Callable[[Any], bool],
    expected: str,
    where: Callable[[Any], str] | None = None,
) -> None:
    """Every value of ``column`` must pass ``check``; the first that does not is reported with its row.

    Rows are named by ``where(index label)``; the default, ``row {label + 2}``, is the file's line for a frame
    read by `read_csv` with its default index (the header is line 1).
    """
    bad = ~frame[column].map(check).astype(bool)
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        label, value = frame.index[position], plain(frame[column].iloc[position])
        place = where(label) if where is not None else f"row {int(label) + 2}"
        raise SourceFormatError(path, place, column, f"expected {expected}, got {value!r}")


def is_number(value: Any, **bounds: Any) -> bool:
    """Whether `number` accepts ``value`` with these bounds (its keywords: integer, low, high, strings)."""
    try:
        number("", "", "", value, **bounds)
    except SourceFormatError:
        return False
    return True


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
    """The three default descriptions of generic and individual tables, worded as the reference wrote them (how
    an episode picks one: docs/tasks.md#descriptions)."""
    given, generated = ", ".join(inputs), ", ".join(outputs)
    return [
        f"The following are given: {given}. You must generate {generated}.",
        f"Given: {given}. Generate: {generated}.",
        f"Inputs: {given}. Outputs: {generated}.",
    ]


def instance_count(task: TaskSpec, total: int) -> int:
    """How many instances to build: all of them, or the task's ``max_instances`` cap when lower.

    Every instance draws from its own streams, so building only the first N leaves them unchanged.
    """
    cap = task.params.max_instances if task.params is not None else None
    return total if cap is None else max(0, min(total, cap))
