"""`flight`: exact text of the flights, ratings that follow each individual's weights, repeatable builds."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from spectrum_suite.episodes import Episode, generate_episodes
from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import flight

FLIGHT = re.compile(
    r"Flight (\d):\nDeparture Time: (\d\d:\d\d [AP]M), Duration: (\d+) hr (\d+) min, "
    r"Number of Stops: ([012]), Price: \$(\d+)\.00"
)


def build(cap: int | None = None, seed: int | None = None, describe_weights: bool = False) -> list[Episode]:
    task = get_task("flight")
    changes = {k: v for k, v in (("max_instances", cap), ("seed", seed)) if v is not None}
    task = dataclasses.replace(task, params=dataclasses.replace(task.params, **changes))
    fetched = fetch_files(task.name, task.files, None)
    return list(
        generate_episodes(flight.instances(task, fetched, describe_weights=describe_weights), task.params)
    )


@pytest.fixture(scope="module")
def episodes() -> list[Episode]:
    return build()


DEPARTURE = {flight.departure_text(k): k for k in range(100)}
DURATION = {flight.duration_text(k): k for k in range(100)}
PRICE = {flight.price_value(k): k for k in range(100)}


def parse(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The three flights' grid indices (departure, duration, price) and stop levels, read back from the text.

    Every printed time, duration and price belongs to exactly one grid point, so the reading is exact.
    """
    blocks = text.split("\n")
    assert len(blocks) == 6, text
    grid, stops = [], []
    for k in range(3):
        match = FLIGHT.fullmatch("\n".join(blocks[2 * k : 2 * k + 2]))
        assert match, text
        number, dep, dur_h, dur_m, n_stops, price = match.groups()
        assert int(number) == k + 1
        grid.append([DEPARTURE[dep], DURATION[f"{dur_h} hr {dur_m} min"], PRICE[int(price)]])
        stops.append(int(n_stops) / 2)
    return np.array(grid), np.array(stops)


def test_text_helpers_exact() -> None:
    assert [flight.departure_text(k) for k in (0, 33, 50, 98, 99)] == [
        "05:00 AM", "11:20 AM", "02:35 PM", "11:48 PM", "12:00 AM"
    ]  # fmt: skip
    assert [flight.duration_text(k) for k in (0, 1, 50, 99)] == [
        "0 hr 45 min",
        "0 hr 54 min",
        "8 hr 27 min",
        "16 hr 0 min",
    ]
    assert [flight.price_value(k) for k in (0, 1, 50, 99)] == [500, 510, 1230, 1950]


def test_shape_and_description(episodes: list[Episode]) -> None:
    assert len(episodes) == 200
    for i, ep in enumerate(episodes):
        inst = ep.instance
        assert inst.key == f"flight/user/{i}"
        assert (
            inst.meta["seed"] == 43 + i
            and inst.meta["num_flights"] == 3
            and inst.meta["num_ic_examples"] == 20
        )
        messages = ep.messages()
        body = messages[1:] if ep.include_description else messages
        assert [m["role"] for m in body] == ["input", "output"] * 20
        assert all(m["content"] in ("1", "2", "3") for m in body[1::2])
        if ep.include_description:
            assert messages[0]["content"] == (
                "The following express flight preferences for the same individual among a set of flights. "
                "Predict which flight the indvidual prefers."
            )
    assert stats.binomtest(sum(ep.include_description for ep in episodes), 200, 0.6).pvalue > 1e-3


def test_text_helpers_are_one_to_one() -> None:
    assert len(DEPARTURE) == len(DURATION) == len(PRICE) == 100


def test_ratings_follow_the_weights(episodes: list[Episode]) -> None:
    """The rating is the flight with the highest weighted score, the first one on ties."""
    ties = 0
    for ep in episodes:
        w = np.array(ep.instance.meta["weights"])
        assert set(w.tolist()) <= {-1.0, -0.5, 0.0, 0.5} and np.any(w != 0)
        for text, rating in ep.samples:
            grid, stops = parse(text)
            scores = np.column_stack([grid / 99, stops]) @ w
            best = [j for j in range(3) if scores[j] == scores.max()]
            assert int(rating) == best[0] + 1, (ep.instance.key, text, w.tolist())
            ties += len(best) > 1
    assert ties > 0  # profiles that weigh only the stops make ties, and the first flight wins them


def test_features_uniform_on_their_grids(episodes: list[Episode]) -> None:
    parsed = [parse(text) for ep in episodes for text, _ in ep.samples]
    grid = np.concatenate([g for g, _ in parsed])
    stops = np.concatenate([s for _, s in parsed])
    assert grid.shape == (12_000, 3)
    for column in range(3):
        assert stats.chisquare(np.bincount(grid[:, column], minlength=100)).pvalue > 1e-3
    assert stats.chisquare([np.sum(stops == v) for v in (0.0, 0.5, 1.0)]).pvalue > 1e-3
    labels = Counter(y for ep in episodes for _, y in ep.samples)
    assert sorted(labels) == ["1", "2", "3"] and min(labels.values()) > 1000  # the reference: 1252/1330/1418
    assert len({tuple(ep.instance.meta["weights"]) for ep in episodes}) > 50


def test_weights_description_variant() -> None:
    ep = build(cap=3, describe_weights=True)[1]
    w = ep.instance.meta["weights"]
    assert list(ep.instance.descriptions) == [
        "The following express flight preferences for the same individual among a set of flights. This person "
        f"assigns a weight of {w[0]} to flight departure time, {w[1]} to flight duration, {w[3]} to number of "
        f"stops, and {w[2]} to price. Predict which flight the indvidual prefers."
    ]


def test_same_seed_same_bytes(episodes: list[Episode]) -> None:
    again = build(cap=30)
    assert [ep.messages() for ep in again] == [ep.messages() for ep in episodes[:30]]
    reseeded = build(cap=30, seed=7)
    assert [ep.samples for ep in reseeded] != [ep.samples for ep in again]  # other episode order
    assert sorted(map(tuple, reseeded[0].samples)) == sorted(map(tuple, again[0].samples))  # same individual
