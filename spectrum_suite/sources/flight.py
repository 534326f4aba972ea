"""`flight`: synthetic flight preferences of 200 individuals (docs/tasks.md#flight, after arXiv 2503.17523
App. A.1).

Each individual has a hidden weight profile over (departure time, duration, price, number of stops) and rates
20 sets of three flights: the output is the flight with the highest weighted score. Individual i draws
everything from its own ``numpy.random.default_rng(43 + i)``, an independent per-instance stream. Times,
durations and prices are computed from the integer grid index in exact arithmetic, so the printed text never
depends on float rounding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..episodes import Instance
from ..sourcekit.values import instance_count
from ..task import PAPER_CITATION, Source, TaskSpec, episode_task

if TYPE_CHECKING:
    from ..task import FetchedFiles

SOURCE = Source(
    "flight", "Synthetic flight preferences (arXiv 2503.17523)", "SYN", "https://arxiv.org/abs/2503.17523",
    "Apache-2.0", PAPER_CITATION,
)  # fmt: skip

N_INDIVIDUALS = 200
N_EXAMPLES = 20
N_FLIGHTS = 3
BASE_SEED = 43
GRID = 100  # f0, f1, f2 take the values of linspace(0, 1, 100), i.e. k / 99
STOP_LEVELS = (0.0, 0.5, 1.0)
RATINGS = ("1", "2", "3")

DESCRIPTION = (
    "The following express flight preferences for the same individual among a set of flights. "
    "Predict which flight the indvidual prefers."
)
WEIGHTS_DESCRIPTION = (
    "The following express flight preferences for the same individual among a set of flights. "
    "This person assigns a weight of {w0} to flight departure time, {w1} to flight duration, {w3} to number "
    "of stops, and {w2} to price. Predict which flight the indvidual prefers."
)


def departure_text(k: int) -> str:
    """05:00 + 19 h * k/99, as ``%I:%M %p`` (seconds dropped, as strftime does)."""
    minutes = (5 * 60 + (19 * 60 * k) // (GRID - 1)) % (24 * 60)
    hour, minute = divmod(minutes, 60)
    return f"{(hour - 1) % 12 + 1:02d}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


def duration_text(k: int) -> str:
    """0:45 + 15 h 15 min * k/99, as ``{hours} hr {minutes} min`` without zero padding."""
    minutes = 45 + (915 * k) // (GRID - 1)
    return f"{minutes // 60} hr {minutes % 60} min"


def price_value(k: int) -> int:
    """10 * (50 + floor(1450 * k/99 / 10)): $500 ... $1950 in $10 steps."""
    return 10 * (50 + (145 * k) // (GRID - 1))


def flight_text(number: int, grid: np.ndarray, stops: float) -> str:
    """One flight block; ``grid`` holds the grid indices of departure time, duration and price."""
    dep, dur, price = (int(v) for v in grid)
    return (
        f"Flight {number}:\nDeparture Time: {departure_text(dep)}, Duration: {duration_text(dur)}, "
        f"Number of Stops: {int(2 * stops)}, Price: ${price_value(price):.2f}"
    )


def draw_profile(rng: np.random.Generator) -> np.ndarray:
    """Weights in {-1, -0.5, 0, 0.5} for (departure, duration, price, stops), redrawn while all zero."""
    while True:
        weights = rng.integers(-2, 2, size=4) / 2
        if np.any(weights != 0):
            return weights


def draw_example(rng: np.random.Generator, weights: np.ndarray) -> tuple[str, str]:
    """Three flights (a 3x3 grid draw, then the stops column) and the 1-based index of the best one."""
    grid = rng.integers(0, GRID, size=(N_FLIGHTS, 3))
    stops = rng.choice(STOP_LEVELS, size=N_FLIGHTS)
    features = np.column_stack([grid / (GRID - 1), stops])
    best = int(np.argmax(features @ weights))  # first index on ties
    text = "\n".join(flight_text(j + 1, grid[j], float(stops[j])) for j in range(N_FLIGHTS))
    return text, RATINGS[best]


def instances(
    task: TaskSpec, fetched: FetchedFiles | None = None, *, describe_weights: bool = False
) -> list[Instance]:
    """One instance per synthetic individual with its 20 rated flight sets.

    ``describe_weights=True`` adds the per-individual description that states the weights (off by
    default, as in the paper, and in the task entry).
    """
    out = []
    for i in range(instance_count(task, N_INDIVIDUALS)):
        seed = BASE_SEED + i
        rng = np.random.default_rng(seed)
        weights = draw_profile(rng)
        examples = [draw_example(rng, weights) for _ in range(N_EXAMPLES)]
        w = [float(x) for x in weights]
        descriptions = [DESCRIPTION]
        if describe_weights:
            descriptions = [WEIGHTS_DESCRIPTION.format(w0=w[0], w1=w[1], w2=w[2], w3=w[3])]
        out.append(
            Instance(
                key=f"flight/user/{i}",
                name=task.name,
                descriptions=descriptions,
                population=examples,
                meta={"seed": seed, "num_flights": N_FLIGHTS, "num_ic_examples": N_EXAMPLES, "weights": w},
                choices=RATINGS,
            )
        )
    return out


TASKS = (
    episode_task("flight", SOURCE, side="test", kind="individual", build=instances, choices=("1", "2", "3"),
                 seed=43, n_iter=20, max_instances=200),
)  # fmt: skip
