"""What the three metric modules share: per-row inputs checked as given, and optional inputs as feature sets.

`evaluate` casts every input through the module's features as it is added (1.5 into an integer feature becomes 1,
``"yes"`` into a boolean feature True, True into a float feature 1.0), so a check inside ``_compute`` would only
see the cast values. `CheckedMetric` runs the module's own checks on every batch as given, before `evaluate`
encodes it, and names a bad row by its position among all rows added since the last ``compute``.

Optional per-row inputs are alternative feature sets, ``MetricInfo(features=[...])``. evaluate 0.4 takes the input
names from the first set only, so `CheckedMetric` picks the set whose names are exactly the inputs given (a column
given as None to ``add_batch`` or ``compute`` counts as not given); every batch of one computation must give the
same inputs.

The modules import this file from the installed package (``from metrics import row_inputs``), since
`evaluate.load` copies only a module's own folder.
"""

from __future__ import annotations

import abc
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import datasets
import evaluate
import numpy as np

ROW_TYPES = (list, tuple, np.ndarray)
"""What one row of a list-valued input may be: a string, a set or a scalar is refused, never converted."""


class RowError(ValueError):
    """Bad input in one row, with the row's index (within the rows checked), the field and what is wrong."""

    def __init__(self, row: int, field: str, problem: str) -> None:
        super().__init__(f"row {row}: field {field!r}: {problem}")
        self.row, self.field, self.problem = row, field, problem

    def shifted(self, offset: int) -> RowError:
        """The same error for a batch whose first row comes after ``offset`` earlier rows."""
        return RowError(self.row + offset, self.field, self.problem)


def is_number_type(kind: type, integer: bool = False) -> bool:
    """Python and numpy integers (and, unless ``integer``, floats); never booleans, strings or None."""
    if issubclass(kind, (bool, np.bool_)):
        return False
    return issubclass(kind, (int, np.integer) if integer else (int, float, np.integer, np.floating))


def check_columns(columns: Mapping[str, Any]) -> int:
    """The number of rows: every column given (not None) is a list of the same length as the first one."""
    count = None
    first = ""
    for name, column in columns.items():
        if column is None:
            continue
        if not isinstance(column, ROW_TYPES):
            raise ValueError(f"field {name!r}: expected a list with one value per row, got {column!r}")
        if count is None:
            count, first = len(column), name
        elif len(column) != count:
            raise ValueError(f"{name} has {len(column)} rows but {first} has {count}; expected one per row")
    return count or 0


def integers(column: Sequence, field: str, minimum: int) -> np.ndarray:
    """One integer >= ``minimum`` per row, as int64; a float (1.5, or even 2.0), a boolean or None fails."""
    for kind in set(map(type, column)):
        if not is_number_type(kind, integer=True):
            row = next(i for i, value in enumerate(column) if type(value) is kind)
            raise RowError(row, field, f"got {column[row]!r}; expected an integer >= {minimum}")
    array = np.asarray(column, dtype=np.int64)
    low = np.flatnonzero(array < minimum)
    if low.size:
        row = int(low[0])
        raise RowError(row, field, f"got {array[row].item()!r}; expected an integer >= {minimum}")
    return array


@dataclass(frozen=True)
class Ragged:
    """Rows of numbers of different lengths laid end to end: ``values[starts[i]:starts[i] + lengths[i]]`` is row i.

    Reductions per row (``np.add.reduceat``) are one numpy pass over all rows instead of a Python loop per row.
    """

    values: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    row_of: np.ndarray
    field: str
    item: str

    def total(self, values: np.ndarray) -> np.ndarray:
        """Per-row sums of a flat array aligned with ``values`` (rows must not be empty)."""
        return np.add.reduceat(values, self.starts)

    def require(self, ok: np.ndarray, expected: str) -> None:
        """Fail at the first value where ``ok`` is False, naming its row and its position in the row."""
        bad = np.flatnonzero(~ok)
        if bad.size:
            index = int(bad[0])
            row = int(self.row_of[index])
            value = self.values[index].item()
            raise RowError(
                row,
                self.field,
                f"{self.item} {index - int(self.starts[row])} is {value!r}; expected {expected}",
            )


def flatten(
    rows: Sequence[Sequence], field: str, item: str, integer: bool = False, allow_empty: bool = False
) -> Ragged:
    """Rows of numbers end to end, after checking, without converting anything, that each value is a number.

    A row that is not a list, an empty row (unless ``allow_empty``) or a value that is not a number (a boolean,
    a string, None; with ``integer``, also any float) fails with its row and position.
    """
    for kind in set(map(type, rows)):
        if not issubclass(kind, ROW_TYPES):
            row = next(i for i, value in enumerate(rows) if isinstance(value, kind))
            raise RowError(row, field, f"expected a list of numbers, one per {item}, got {rows[row]!r}")
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    flat = list(itertools.chain.from_iterable(rows))
    starts = np.zeros(len(rows), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    row_of = np.repeat(np.arange(len(rows)), lengths)
    expected = "an integer" if integer else "a number"
    for kind in set(map(type, flat)):
        if not is_number_type(kind, integer):
            index = next(i for i, value in enumerate(flat) if type(value) is kind)
            row = int(row_of[index])
            raise RowError(
                row, field, f"{item} {index - int(starts[row])} is {flat[index]!r}; expected {expected}"
            )
    if not allow_empty:
        empty = np.flatnonzero(lengths == 0)
        if empty.size:
            raise RowError(int(empty[0]), field, f"expected at least one {item}, got none")
    values = np.array(flat, dtype=np.int64 if integer else np.float64)
    return Ragged(values, starts, lengths, row_of, field, item)


def feature_sets(required: Mapping[str, Any], optional: Mapping[str, Any]) -> list[datasets.Features]:
    """The required features with each combination of the optional ones, fewest optional inputs first."""
    return [
        datasets.Features({**required, **{name: optional[name] for name in chosen}})
        for size in range(len(optional) + 1)
        for chosen in itertools.combinations(optional, size)
    ]


class CheckedMetric(evaluate.Metric, metaclass=abc.ABCMeta):
    """An `evaluate.Metric` that checks each batch as given and takes optional per-row inputs.

    Subclasses implement `check_rows`; ``add``, ``add_batch`` and ``compute`` work as in any `evaluate` metric.
    """

    _inputs: datasets.Features | None = None
    """The feature set of the rows added since the last ``compute`` (None before the first batch)."""
    _rows_added = 0

    @abc.abstractmethod
    def check_rows(self, **columns: Sequence) -> None:
        """Raise ValueError for any bad value in one batch, as given; a `RowError` numbers rows within the batch."""

    def _feature_sets(self) -> list[datasets.Features]:
        return self.features if isinstance(self.features, list) else [self.features]

    def _all_inputs(self) -> list[str]:
        """Every input of any feature set."""
        return list(dict.fromkeys(name for features in self._feature_sets() for name in features))

    def _feature_names(self) -> list[str]:
        """The inputs of the rows added so far, else every input of any feature set."""
        return list(self._inputs) if self._inputs is not None else self._all_inputs()

    def _infer_feature_from_batch(self, batch: dict) -> datasets.Features:
        """The set `add_batch` chose by the inputs' names (evaluate's own choice would try the first set's names)."""
        return self._inputs

    def _select(self, names: set[str]) -> datasets.Features:
        if self._inputs is not None and names != set(self._inputs):
            raise ValueError(
                f"this batch gives the inputs {sorted(names)} but the earlier rows gave {sorted(self._inputs)}; "
                "every row of one computation must give the same inputs"
            )
        for features in self._feature_sets():
            if set(features) == names:
                return features
        options = "; ".join(str(sorted(features)) for features in self._feature_sets())
        raise ValueError(f"the inputs {sorted(names)} are none of the input sets of {self.name}: {options}")

    def add_batch(self, **columns: Any) -> None:
        """Check the rows as given, then let `evaluate` encode and store them."""
        given = {name: column for name, column in columns.items() if column is not None}
        features = self._select(set(given))
        try:
            self.check_rows(**given)
        except RowError as err:
            raise err.shifted(self._rows_added) from None
        self._inputs = features
        super().add_batch(**given)
        self._rows_added += len(next(iter(given.values())))

    def add(self, *, prediction: Any = None, reference: Any = None, **row: Any) -> None:
        """One row, checked as a batch of one (``prediction`` and ``reference`` fill ``predictions``/``references``).

        Every input named is part of the row: None for an optional input leaves this row without it, as a
        None inside a column of ``add_batch`` does.
        """
        named = {"predictions": prediction, "references": reference}
        row = {**{name: value for name, value in named.items() if value is not None}, **row}
        self.add_batch(**{name: [value] for name, value in row.items()})

    def compute(self, **kwargs: Any) -> dict | None:
        """Add the per-row inputs given (as one batch), then compute over every row added; the rest are settings."""
        columns = {name: kwargs.pop(name) for name in self._all_inputs() if name in kwargs}
        if any(column is not None for column in columns.values()):
            self.add_batch(**columns)
        try:
            return super().compute(**kwargs)
        finally:
            self._inputs, self._rows_added = None, 0
