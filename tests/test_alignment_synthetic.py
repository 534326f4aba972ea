"""The synthetic distributional-alignment tasks `urn` and `states`: exact strings and target distributions."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest
from scipy import stats

from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import urn_states

COLOURS = {"red", "blue", "green", "yellow", "purple", "orange", "brown", "black", "white"}
ITEM = re.compile(r"(\d+) (\w+) (balls?)")


def rows(name: str) -> list[dict]:
    task = get_task(name)
    return list(task.build(task, fetch_files(name, task.files, None)))


@pytest.fixture(scope="module")
def urns() -> list[dict]:
    return rows("urn")


def test_urn_description_exact() -> None:
    assert urn_states.urn_description(["red", "blue", "green"], [3, 1, 2]) == (
        "There is an urn with the following balls shuffled together: 3 red balls, 1 blue ball and 2 green balls."
    )
    assert urn_states.urn_description(["white", "black"], [1, 10]) == (
        "There is an urn with the following balls shuffled together: 1 white ball and 10 black balls."
    )


def test_urn_rows(urns: list[dict]) -> None:
    assert len(urns) == 1000
    assert len({row["instance_id"] for row in urns}) == 1000
    sizes = Counter()
    for row in urns:
        assert row["task"] == "urn" and row["output_name"] == "Response (color)"
        assert row["input"] == "Draw a ball at random, and tell me the color (lowercase)."
        prefix = "There is an urn with the following balls shuffled together: "
        text = row["description"]
        assert text.startswith(prefix) and text.endswith(".") and ", and " not in text  # no Oxford comma
        body = text[len(prefix) : -1]
        head, last = body.rsplit(" and ", 1)
        items = [ITEM.fullmatch(item).groups() for item in head.split(", ") + [last]]
        colours = [colour for _, colour, _ in items]
        counts = [int(n) for n, _, _ in items]
        assert all(word == ("ball" if int(n) == 1 else "balls") for n, _, word in items)
        assert colours == row["candidates"] and len(set(colours)) == len(colours) and set(colours) <= COLOURS
        assert all(1 <= c <= 10 for c in counts)
        assert math.isclose(sum(row["target_probs"]), 1.0, abs_tol=1e-12)
        assert row["target_probs"] == pytest.approx([c / sum(counts) for c in counts], abs=1e-15)
        sizes[len(colours)] += 1
    assert sorted(sizes) == [2, 3, 4, 5]
    assert stats.chisquare([sizes[c] for c in (2, 3, 4, 5)]).pvalue > 1e-3  # C uniform on 2..5


def test_urn_counts_follow_the_spec(urns: list[dict]) -> None:
    """count ~ U{1..cap} with cap ~ U{1..10}: P(count = k) = (1/10) * sum_{cap >= k} 1/cap."""
    observed = Counter()
    for row in urns:
        observed.update(int(n) for n, _, _ in ITEM.findall(row["description"]))
    expected = [sum(1 / cap for cap in range(k, 11)) / 10 for k in range(1, 11)]
    n = sum(observed.values())
    assert stats.chisquare([observed[k] for k in range(1, 11)], [n * e for e in expected]).pvalue > 1e-3


def test_urns_repeat(urns: list[dict]) -> None:
    assert rows("urn") == urns


def test_states() -> None:
    (row,) = rows("states")
    assert row["description"] is None
    assert row["input"] == "Name a U.S. state uniformly at random."
    assert row["output_name"] == "Response (state)"
    names = row["candidates"]
    assert len(names) == 50 == len(set(names)) and names == sorted(names)
    assert names[:3] == ["Alabama", "Alaska", "Arizona"] and names[-1] == "Wyoming"
    assert {"New Hampshire", "North Dakota", "Rhode Island", "West Virginia"} <= set(names)
    assert row["target_probs"] == [0.02] * 50
