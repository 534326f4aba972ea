"""Checks of user options before any work: numeric ranges, and output folders that can be written.

Every numeric option has a range, checked before any work starts, with a message that names the option and
what it takes: a value out of range is refused, never clamped or cast (``max_instances=-1`` would otherwise
slice off the last instance, ``2.5`` would be truncated).
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import Any


def check_range(
    name: str, value: Any, *, integer: bool, low: float, high: float | None = None, below: bool = False
) -> None:
    """Raise a ValueError naming the option unless ``value`` is a finite number (an integer if asked) within
    [low, high] (or [low, high) with ``below``)."""
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and value >= low and (high is None or (value < high if below else value <= high))
    if not ok:
        upper = "" if high is None else f" and {'below' if below else 'at most'} {high}"
        raise ValueError(
            f"{name} must be {'an integer' if integer else 'a number'} of at least {low}{upper}; got {value!r}"
        )


def check_writable_folder(path: str | os.PathLike, option: str) -> Path:
    """``path`` as a folder this process can write (created if missing); a file or a read-only place is refused
    before any long work, naming the option."""
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{option} {folder} is a file; expected a folder (it is created if missing)")
    parent = folder if folder.exists() else next((p for p in folder.parents if p.exists()), Path("."))
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {folder}: {parent} is not writable")
    return folder
