"""metrics/coverage: per-task metrics and aggregates against hand computations, cleaning, failures, bad input."""

from __future__ import annotations

import doctest
import itertools
import math
import re
import uuid
from pathlib import Path

import evaluate
import numpy as np
import pytest

import metrics
from metrics.coverage import coverage as module

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def coverage() -> evaluate.EvaluationModule:
    return metrics.load("coverage")


@pytest.fixture
def fresh_coverage() -> evaluate.EvaluationModule:
    """A new instance per failing call: evaluate keeps a failed call's cache-file lock, which costs the next call 1 s."""
    return metrics.load("coverage", experiment_id=uuid.uuid4().hex)


@pytest.fixture(autouse=True)
def _offline_private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only its own download cache, and nothing is downloaded."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("SPECTRUM_SUITE_OFFLINE", "1")


def test_docstring_example_runs_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    test = doctest.DocTestParser().get_doctest(module._KWARGS_DESCRIPTION, {}, "coverage", module.__file__, 0)
    runner = doctest.DocTestRunner()
    runner.run(test)
    assert runner.tries >= 10
    assert runner.failures == 0


def test_loads_from_root_and_by_metrics_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    relative = evaluate.load("metrics/coverage")
    monkeypatch.chdir(tmp_path)
    for metric in (relative, evaluate.load(metrics.path("coverage")), metrics.load("coverage")):
        result = metric.compute(predictions=[["Mon", "Tue"]], tasks=["weekdays_abbreviated"])
        assert result["per_task"]["weekdays_abbreviated"]["coverage_pct"] == pytest.approx(2 / 21)


def test_per_task_metrics_by_hand(coverage) -> None:
    """10 generations, 7 valid: 'Ohio' x3, 'Utah' x2, 'Texas', 'Iowa'; invalid: 'ohio', 'Atlantis' x2."""
    texts = ["Ohio", "Ohio", "Ohio", "Utah", "Utah", "Texas", "Iowa", "ohio", "Atlantis", "Atlantis"]
    entry = coverage.compute(predictions=[texts], tasks=["us_states_full_names"])["per_task"][
        "us_states_full_names"
    ]
    assert entry["percent_valid"] == pytest.approx(0.7)
    assert entry["n_valid"] == 7
    assert entry["unique_valid_count"] == 4
    assert entry["unique_gens_pct"] == pytest.approx(4 / 7)
    assert entry["usable_unique_pct"] == pytest.approx(0.4)
    assert entry["raw_unique_count"] == 6 and entry["raw_unique_pct"] == pytest.approx(0.6)
    assert entry["possible_collisions"] == 21
    assert entry["actual_collisions"] == 3 + 1  # C(3, 2) + C(2, 2)
    p = 4 / 21
    assert entry["pairwise_collision"] == pytest.approx(p)
    assert entry["pairwise_uniqueness"] == pytest.approx(1 - p)
    assert entry["pairwise_collision_sem"] == pytest.approx(math.sqrt(p * (1 - p) / 21))
    assert entry["coverage_pct"] == pytest.approx(4 / 50)


def test_degenerate_and_rule_tasks(coverage) -> None:
    result = coverage.compute(
        predictions=[["13", "four", "x"], ["12", "15"]], tasks=["prime_numbers", "small_prime_numbers"]
    )
    one_valid = result["per_task"]["prime_numbers"]
    assert (one_valid["n_valid"], one_valid["possible_collisions"], one_valid["actual_collisions"]) == (
        1,
        0,
        0,
    )
    assert (
        one_valid["pairwise_collision"],
        one_valid["pairwise_uniqueness"],
        one_valid["pairwise_collision_sem"],
    ) == (0.0, 1.0, 0.0)
    assert one_valid["coverage_pct"] is None
    none_valid = result["per_task"]["small_prime_numbers"]
    assert none_valid["percent_valid"] == 0.0 and none_valid["unique_gens_pct"] == 0.0
    assert result["coverage_pct"] is None and result["coverage_pct_tasks"] == 0


def test_aggregate_is_population_statistics(coverage) -> None:
    result = coverage.compute(
        predictions=[["1", "2", "2", "x"], ["Monday", "Monday"], ["17", "19", "23"]],
        tasks=["rng_1_10", "weekdays_full", "prime_numbers"],
    )
    valid = np.array([0.75, 1.0, 1.0])
    assert result["percent_valid"] == pytest.approx(valid.mean())
    assert result["percent_valid_std"] == pytest.approx(np.std(valid))  # ddof = 0
    assert result["percent_valid_sem"] == pytest.approx(np.std(valid) / math.sqrt(3))
    yields = np.array([2, 1, 3])
    assert result["unique_valid_count"] == pytest.approx(2.0)
    assert result["unique_valid_count_std"] == pytest.approx(np.std(yields))
    diversity = np.array([2 / 3, 1 / 2, 1.0])
    assert result["unique_gens_pct"] == pytest.approx(diversity.mean())
    coverage_pct = np.array([2 / 10, 1 / 21])  # the prime task has no finite valid set
    assert result["coverage_pct"] == pytest.approx(coverage_pct.mean())
    assert result["coverage_pct_std"] == pytest.approx(np.std(coverage_pct))
    assert result["coverage_pct_tasks"] == 2
    assert result["n_tasks"] == 3
    assert result["n_failed_tasks"] == 0 and result["success_rate"] == 1.0


def test_cleaning_and_explicit_valid_sets(coverage) -> None:
    raw = ["  blue<end_of_turn>", "Blue\nmore", "<pad>red<|im_end|>", "green<EOS>"]
    result = coverage.compute(
        predictions=[raw, raw],
        tasks=["", "palette"],
        valid_sets=[["blue", "red", "Blue"], ["green", "teal"]],
        clean=True,
        stop_strings=["<EOS>", "<end_of_turn>", "<|im_end|>", "\n"],
    )
    first, second = result["per_task"]["row_0"], result["per_task"]["palette"]
    assert (
        first["n_valid"] == 3
        and first["unique_valid_count"] == 3
        and first["coverage_pct"] == pytest.approx(1.0)
    )
    assert second["n_valid"] == 1 and second["coverage_pct"] == pytest.approx(0.5)
    uncleaned = coverage.compute(predictions=[raw], tasks=[""], valid_sets=[["blue"]])
    assert uncleaned["per_task"]["row_0"]["n_valid"] == 0


def test_precomputed_validity(coverage) -> None:
    result = coverage.compute(
        predictions=[["a", "a", "b", "c"], ["x", "y"]],
        tasks=["judged", ""],
        validity=[[True, True, False, True], None],
        valid_set_sizes=[4, None],
        valid_sets=[None, ["x"]],
    )
    judged = result["per_task"]["judged"]
    assert judged["n_valid"] == 3 and judged["unique_valid_count"] == 2 and judged["actual_collisions"] == 1
    assert judged["coverage_pct"] == pytest.approx(0.5)
    assert result["per_task"]["row_1"]["percent_valid"] == pytest.approx(0.5)


@pytest.mark.shared
def test_word_list_tasks_from_the_data_dir(coverage, shared_data: Path) -> None:
    result = coverage.compute(
        predictions=[["Ford Mustang", "Honda Civic", "Ford Mustang", "Banana Car"], ["Thinking", "Thinkin"]],
        tasks=["car_make_model", "claude_gerunds"],
        data_dir=str(shared_data),
    )
    cars = result["per_task"]["car_make_model"]
    assert cars["percent_valid"] == pytest.approx(0.75) and cars["unique_valid_count"] == 2
    assert result["per_task"]["claude_gerunds"]["percent_valid"] == pytest.approx(0.5)


def test_unavailable_word_list_is_a_recorded_failure(coverage, tmp_path: Path) -> None:
    result = coverage.compute(
        predictions=[["Green"], ["3", "4"]], tasks=["color_normal_ex", "rng_1_10"], data_dir=str(tmp_path)
    )
    failed = result["per_task"]["color_normal_ex"]
    assert failed["failed"] is True and "validators_colors/src/colornames.csv" in failed["error"]
    assert result["n_failed_tasks"] == 1
    assert result["n_tasks"] == 1
    assert result["success_rate"] == 0.5
    assert result["percent_valid"] == 1.0  # over the evaluated task only


def test_no_task_evaluated_gives_the_reference_zeros(coverage, tmp_path: Path) -> None:
    result = coverage.compute(predictions=[["Green"]], tasks=["color_normal_ex"], data_dir=str(tmp_path))
    assert result["percent_valid"] == 0.0
    assert result["pairwise_uniqueness"] == 1.0
    assert result["coverage_pct"] is None
    assert result["success_rate"] == 0.0


BAD_INPUTS = [
    ({"predictions": [["1"], []], "tasks": ["rng_1_10", "rng_1_100"]}, "row 1", "'predictions'"),
    ({"predictions": [["1"], ["2", None]], "tasks": ["rng_1_10", "rng_1_100"]}, "row 1", "generation 1"),
    ({"predictions": [["1"]], "tasks": ["rng_1_1000"]}, "row 0", "unknown validator 'rng_1_1000'"),
    ({"predictions": [["1"]], "tasks": [""]}, "row 0", "'tasks'"),
    ({"predictions": [["1"], ["2"]], "tasks": ["rng_1_10", "rng_1_10"]}, "row 1", "given twice"),
    ({"predictions": [["1"]], "tasks": [""], "valid_sets": [[]]}, "row 0", "'valid_sets'"),
    ({"predictions": [["1"]], "tasks": [""], "valid_sets": [[1, 2]]}, "row 0", "'valid_sets'"),
    ({"predictions": [["1"], ["2"]], "tasks": ["a", "b"], "valid_sets": [["1"]]}, "valid_sets", "rows"),
    (
        {"predictions": [["1"]], "tasks": ["rng_1_10"], "clean": True, "stop_strings": [""]},
        "stop_strings[0]",
        "non-empty",
    ),
    ({"predictions": [["1", "2"]], "tasks": ["t"], "validity": [[True]]}, "row 0", "'validity'"),
    ({"predictions": [["1"]], "tasks": ["t"], "validity": [["yes"]]}, "row 0", "'validity'"),
    (
        {"predictions": [["1"]], "tasks": ["t"], "validity": [[True]], "valid_set_sizes": [0]},
        "row 0",
        "sizes'",
    ),
    (
        {"predictions": [["1"]], "tasks": ["t"], "validity": [[True]], "valid_sets": [["1"]]},
        "row 0",
        "together with 'validity'",
    ),
    ({"predictions": [["1"], ["2"]], "tasks": ["a", "b"], "validity": [[True]]}, "validity", "rows"),
    ({"predictions": [["1"]], "tasks": ["rng_1_10"], "valid_set_sizes": [10]}, "row 0", "without validity"),
    (
        {"predictions": [["a", "b", "c"]], "tasks": ["t"], "validity": [[True] * 3], "valid_set_sizes": [2]},
        "row 0",
        "3 distinct valid generations",
    ),
    ({"predictions": "12", "tasks": ["rng_1_10"]}, "'predictions'", "one value per row"),
]


OPTIONAL = ("valid_sets", "validity", "valid_set_sizes")
ROWS = [
    {"predictions": ["1", "2", "2", "x"], "tasks": "rng_1_10"},
    {"predictions": ["Ohio", "Utah", "Ohio"], "tasks": "us_states_full_names"},
    {"predictions": ["a", "b", "a", "c"], "tasks": "", "valid_sets": ["a", "b"]},
    {
        "predictions": ["p", "q", "p"],
        "tasks": "judged",
        "validity": [True, False, True],
        "valid_set_sizes": 3,
    },
    {"predictions": ["Mon", "Tue"], "tasks": "weekdays_abbreviated"},
]


@pytest.mark.parametrize(
    "optional", [combo for size in range(4) for combo in itertools.combinations(OPTIONAL, size)], ids=str
)
def test_add_batch_in_pieces_equals_one_compute(coverage, optional: tuple[str, ...]) -> None:
    """Every feature set: rows added in three pieces (add_batch, add, add_batch) give the one-call result."""
    rows = [
        row for row in ROWS if all(name in optional for name in ("valid_sets", "validity") if name in row)
    ]
    columns = {name: [row.get(name) for row in rows] for name in ("predictions", "tasks", *optional)}
    whole = coverage.compute(**columns)
    coverage.add_batch(**{name: column[:2] for name, column in columns.items()})
    coverage.add(
        **{("prediction" if name == "predictions" else name): column[2] for name, column in columns.items()}
    )
    coverage.add_batch(**{name: column[3:] for name, column in columns.items()})
    assert coverage.compute() == whole
    assert whole["n_tasks"] == len(rows) == 3 + ("valid_sets" in optional) + ("validity" in optional)


def test_add_with_none_leaves_the_row_without_that_input(coverage) -> None:
    coverage.add(prediction=["x", "y"], tasks="", valid_sets=["x"])
    coverage.add(prediction=["3", "3"], tasks="rng_1_10", valid_sets=None)
    result = coverage.compute()
    assert (
        result["per_task"]["row_0"]["coverage_pct"] == 1.0 and result["per_task"]["rng_1_10"]["n_valid"] == 2
    )


COERCIBLE = [
    ({"validity": [[True, 1]]}, "row 0: field 'validity': 1 is not a boolean"),
    ({"validity": [[True, "yes"]]}, "row 0: field 'validity': 'yes' is not a boolean"),
    ({"validity": [[True, True]], "valid_set_sizes": [2.5]}, "row 0: field 'valid_set_sizes': got 2.5"),
    ({"validity": [[True, True]], "valid_set_sizes": [3.0]}, "row 0: field 'valid_set_sizes': got 3.0"),
    ({"validity": [[True, True]], "valid_set_sizes": [True]}, "row 0: field 'valid_set_sizes': got True"),
    ({"validity": [[True, True]], "valid_set_sizes": ["4"]}, "row 0: field 'valid_set_sizes': got '4'"),
    ({"predictions": [["1", 2]]}, "row 0: field 'predictions': generation 1 is 2"),
    ({"tasks": [7]}, "row 0: field 'tasks': got 7"),
    ({"valid_sets": [["1", 2]]}, "row 0: field 'valid_sets': 2 is not a string"),
    ({"valid_sets": [{"1", "2"}]}, "row 0: field 'valid_sets': expected a non-empty list"),
]
"""Values that evaluate's features would cast (2.5 -> 2, 1 or "yes" -> True, 2 -> "2"): refused before that."""


@pytest.mark.parametrize(("change", "message"), COERCIBLE)
def test_values_evaluate_would_cast_are_refused_as_given(coverage, change: dict, message: str) -> None:
    kwargs = {"predictions": [["1", "2"]], "tasks": ["judged"], **change}
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        coverage.compute(**kwargs)
    row = {("prediction" if name == "predictions" else name): column[0] for name, column in kwargs.items()}
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        coverage.add(**row)


@pytest.mark.parametrize(("kwargs", "where", "what"), BAD_INPUTS)
def test_bad_input_names_the_row_and_field(fresh_coverage, kwargs: dict, where: str, what: str) -> None:
    with pytest.raises(ValueError) as info:
        fresh_coverage.compute(**kwargs)
    assert where in str(info.value) and what in str(info.value)


def test_row_counts_must_match(fresh_coverage) -> None:
    with pytest.raises(ValueError, match="tasks has 1 rows but predictions has 2"):
        fresh_coverage.compute(predictions=[["1"], ["2"]], tasks=["rng_1_10"])
