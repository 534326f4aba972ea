"""The two synthetic distributional-alignment tasks, `urn` and `states` (docs/tasks.md#urn-and-states).

`urn`: 1000 urns of 2-5 coloured ball kinds; the target distribution of "draw a ball" is the ball counts
over the total. `states`: one item whose target is uniform over the 50 US state names. Both are built from
a local generator (never numpy's global RNG), so the same call gives the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..task import PAPER_CITATION, PAPER_URL, Source, TaskSpec, alignment_task

if TYPE_CHECKING:
    from ..task import FetchedFiles

N_URNS = 1000
URN_SEED = 42
URN_COLOURS = ("red", "blue", "green", "yellow", "purple", "orange", "brown", "black", "white")
URN_INPUT = "Draw a ball at random, and tell me the color (lowercase)."
URN_PREFIX = "There is an urn with the following balls shuffled together: "

STATES_INPUT = "Name a U.S. state uniformly at random."
US_STATES = (
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware", "Florida",
    "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine",
    "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska",
    "Nevada", "New Hampshire", "New Jersey", "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio",
    "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas",
    "Utah", "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming",
)  # fmt: skip


def urn_description(colours: list[str], counts: list[int]) -> str:
    """``There is an urn ...: 3 red balls, 1 blue ball and 2 green balls.`` (no Oxford comma)."""
    if len(colours) < 2:
        raise ValueError(f"an urn holds at least two colours, got {colours!r}")
    items = [
        f"{n} {colour} {'ball' if n == 1 else 'balls'}" for colour, n in zip(colours, counts, strict=True)
    ]
    return f"{URN_PREFIX}{', '.join(items[:-1])} and {items[-1]}."


def draw_urn(rng: np.random.Generator) -> tuple[list[str], list[int]]:
    """One urn, in the documented draw order (docs/tasks.md#urn-and-states): C in 2..5, caps in 1..10, C distinct
    colours, counts in 1..cap."""
    kinds = int(rng.integers(2, 6))
    caps = rng.integers(1, 11, size=kinds)
    colours = [str(c) for c in rng.choice(URN_COLOURS, size=kinds, replace=False)]
    counts = [int(rng.integers(1, int(cap) + 1)) for cap in caps]
    return colours, counts


def urn_rows(task: TaskSpec, fetched: FetchedFiles | None = None) -> Iterator[dict[str, Any]]:
    rng = np.random.default_rng(URN_SEED)
    for i in range(N_URNS):
        colours, counts = draw_urn(rng)
        total = sum(counts)
        yield {
            "task": task.name,
            "instance_id": f"urn/{i}",
            "description": urn_description(colours, counts),
            "input": URN_INPUT,
            "candidates": colours,
            "target_probs": [c / total for c in counts],
            "output_name": task.output_name,
            "ordinal": False,  # colours and states are unordered (docs/evaluation.md#divergences)
        }


def states_rows(task: TaskSpec, fetched: FetchedFiles | None = None) -> Iterator[dict[str, Any]]:
    names = sorted(US_STATES)
    yield {
        "task": task.name,
        "instance_id": "states/0",
        "description": None,
        "input": STATES_INPUT,
        "candidates": names,
        "target_probs": [1.0 / len(names)] * len(names),
        "output_name": task.output_name,
        "ordinal": False,  # colours and states are unordered (docs/evaluation.md#divergences)
    }


URN = Source("urn", "Synthetic urns", "SYN", PAPER_URL, "Apache-2.0", PAPER_CITATION)
STATES = Source("states", "US states, uniform", "SYN", PAPER_URL, "Apache-2.0", PAPER_CITATION)

TASKS = (
    alignment_task("urn", URN, output_name="Response (color)", build=urn_rows),
    alignment_task("states", STATES, output_name="Response (state)", build=states_rows),
)
