"""Checks of user options before any work: numeric ranges (output folders: `spectrum_suite.folders`).

Every numeric option has a range, checked before any work starts, with a message that names the option and
what it takes: a value out of range is refused, never clamped or cast (``max_instances=-1`` would otherwise
slice off the last instance, ``2.5`` would be truncated).
"""

from __future__ import annotations

import math
import numbers
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
