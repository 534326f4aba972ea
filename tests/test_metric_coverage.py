"""metrics/coverage: per-task metrics and aggregates against hand computations, cleaning, failures, bad input."""

from __future__ import annotations

import doctest
import math
import uuid
from pathlib import Path

import evaluate
import numpy as np
import pytest

from metrics.coverage import coverage as module

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def coverage() -> evaluate.EvaluationModule:
    return evaluate.load(str(REPO / "metrics" / "coverage"))


@pytest.fixture
def fresh_coverage() -> evaluate.EvaluationModule:
    """A new instance per failing call: evaluate keeps a failed call's cache-file lock, which costs the next call 1 s."""
    return evaluate.load(str(REPO / "metrics" / "coverage"), experiment_id=uuid.uuid4().hex)


@pytest.fixture(autouse=True)
def _offline_private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only its own download cache, and nothing is downloaded."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("SPECTRUM_SUITE_OFFLINE", "1")


def test_docstring_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    test = doctest.DocTestParser().get_doctest(module._KWARGS_DESCRIPTION, {}, "coverage", module.__file__, 0)
    runner = doctest.DocTestRunner()
    runner.run(test)
    assert runner.tries >= 5
    assert runner.failures == 0


def test_loads_from_root_and_by_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    relative = evaluate.load("metrics/coverage")
    monkeypatch.chdir(tmp_path)
    absolute = evaluate.load(str(REPO / "metrics" / "coverage"))
    for metric in (relative, absolute):
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
    assert result["aggregate/coverage_pct_mean"] is None and result["aggregate/coverage_pct_tasks"] == 0


def test_aggregate_is_population_statistics(coverage) -> None:
    result = coverage.compute(
        predictions=[["1", "2", "2", "x"], ["Monday", "Monday"], ["17", "19", "23"]],
        tasks=["rng_1_10", "weekdays_full", "prime_numbers"],
    )
    valid = np.array([0.75, 1.0, 1.0])
    assert result["aggregate/percent_valid_mean"] == pytest.approx(valid.mean())
    assert result["aggregate/percent_valid_std"] == pytest.approx(np.std(valid))  # ddof = 0
    assert result["aggregate/percent_valid_sem"] == pytest.approx(np.std(valid) / math.sqrt(3))
    yields = np.array([2, 1, 3])
    assert result["aggregate/unique_valid_count_mean"] == pytest.approx(2.0)
    assert result["aggregate/unique_valid_count_std"] == pytest.approx(np.std(yields))
    diversity = np.array([2 / 3, 1 / 2, 1.0])
    assert result["aggregate/unique_gens_pct_mean"] == pytest.approx(diversity.mean())
    coverage_pct = np.array([2 / 10, 1 / 21])  # the prime task has no finite valid set
    assert result["aggregate/coverage_pct_mean"] == pytest.approx(coverage_pct.mean())
    assert result["aggregate/coverage_pct_std"] == pytest.approx(np.std(coverage_pct))
    assert result["aggregate/coverage_pct_tasks"] == 2
    assert result["aggregate/total_tasks_evaluated"] == 3
    assert result["aggregate/failed_tasks_count"] == 0 and result["aggregate/success_rate"] == 1.0


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
        predictions=[["Green"], ["3", "4"]],
        tasks=["color_normal_ex", "rng_1_10"],
        data_dir=str(tmp_path / "none"),
    )
    failed = result["per_task"]["color_normal_ex"]
    assert failed["failed"] is True and "validators_colors/src/colornames.csv" in failed["error"]
    assert result["aggregate/failed_tasks_count"] == 1
    assert result["aggregate/total_tasks_evaluated"] == 1
    assert result["aggregate/success_rate"] == 0.5
    assert result["aggregate/percent_valid_mean"] == 1.0  # over the evaluated task only


def test_no_task_evaluated_gives_the_reference_zeros(coverage, tmp_path: Path) -> None:
    result = coverage.compute(
        predictions=[["Green"]], tasks=["color_normal_ex"], data_dir=str(tmp_path / "none")
    )
    assert result["aggregate/percent_valid_mean"] == 0.0
    assert result["aggregate/pairwise_uniqueness_mean"] == 1.0
    assert result["aggregate/coverage_pct_mean"] is None
    assert result["aggregate/success_rate"] == 0.0


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
        "both given",
    ),
    ({"predictions": [["1"], ["2"]], "tasks": ["a", "b"], "validity": [[True]]}, "validity", "rows"),
]


@pytest.mark.parametrize(("kwargs", "where", "what"), BAD_INPUTS)
def test_bad_input_names_the_row_and_field(fresh_coverage, kwargs: dict, where: str, what: str) -> None:
    with pytest.raises(ValueError) as info:
        fresh_coverage.compute(**kwargs)
    assert where in str(info.value) and what in str(info.value)


def test_row_counts_must_match(coverage) -> None:
    with pytest.raises(ValueError, match="tasks has 1 rows but predictions has 2"):
        coverage._compute(predictions=[["1"], ["2"]], tasks=["rng_1_10"])
