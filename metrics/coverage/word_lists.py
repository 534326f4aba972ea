"""Parsing the validators' external files into the lookup sets the rules of `docs/evaluation.md#validators` need.

Read with the `csv` module, so every value stays a string (a model named ``300`` or a colour named
``Null`` is not turned into a number or a missing value), and parsed once per set of files.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

VERB_HEADER_LINES = 19
"""Comment lines at the top of en-verbs.txt."""

GERUND_COLUMN = 5
"""Column of en-verbs.txt holding the present participle ("-ing" form)."""


@dataclass(frozen=True)
class Cars:
    """Lower-cased makes, and per make its lower-cased models, precomputed once
    (`docs/deviations.md#validator-tests-and-parsing`)."""

    makes: frozenset[str]
    models_by_make: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Elements:
    symbols: frozenset[str]
    names: frozenset[str]


def _rows(path: Path, required: Sequence[str]) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        missing = [name for name in required if name not in header]
        if missing:
            raise ValueError(f"{path}: header: column {missing[0]!r} missing; have {header}")
        reader.fieldnames = header
        return list(reader)


@functools.lru_cache(maxsize=8)
def cars(paths: tuple[Path, ...]) -> Cars:
    """All (make, model) pairs of the yearly tables; rows with an empty make or model are skipped,
    since an empty string is a substring of every text."""
    models: dict[str, set[str]] = {}
    for path in paths:
        for row in _rows(path, ("make", "model")):
            make, model = str(row["make"] or "").lower(), str(row["model"] or "").lower()
            if make and model:
                models.setdefault(make, set()).add(model)
    return Cars(frozenset(models), {make: tuple(sorted(found)) for make, found in models.items()})


@functools.lru_cache(maxsize=8)
def colors(paths: tuple[Path, ...]) -> frozenset[str]:
    """Lower-cased values of the ``name`` column."""
    names = {str(row["name"] or "").lower() for path in paths for row in _rows(path, ("name",))}
    names.discard("")
    return frozenset(names)


@functools.lru_cache(maxsize=8)
def gerunds(paths: tuple[Path, ...]) -> frozenset[str]:
    """Column 5 of en-verbs.txt read as header-less CSV after its 19 comment lines (values as written)."""
    forms: set[str] = set()
    for path in paths:
        with open(path, newline="", encoding="utf-8") as handle:
            lines = handle.read().splitlines()[VERB_HEADER_LINES:]
        for row in csv.reader(lines):
            if len(row) > GERUND_COLUMN and row[GERUND_COLUMN]:
                forms.add(row[GERUND_COLUMN])
    return frozenset(forms)


@functools.lru_cache(maxsize=8)
def elements(paths: tuple[Path, ...]) -> Elements:
    """Stripped ``symbol`` values and stripped, lower-cased ``name`` values (the file pads its cells)."""
    symbols: set[str] = set()
    names: set[str] = set()
    for path in paths:
        for row in _rows(path, ("symbol", "name")):
            symbols.add(str(row["symbol"] or "").strip())
            names.add(str(row["name"] or "").strip().lower())
    symbols.discard("")
    names.discard("")
    return Elements(frozenset(symbols), frozenset(names))
