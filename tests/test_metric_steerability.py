"""metrics/steerability: aggregates, k families, curve, per-task breakdown and ECE against hand computations."""

from __future__ import annotations

import doctest
import math
import re
import uuid
from pathlib import Path

import evaluate
import numpy as np
import pytest
from scipy.stats import sem

import metrics
from metrics.steerability import steerability as module
from metrics.steerability.calibration import expected_calibration_error

REPO = Path(__file__).resolve().parents[1]
LN = math.log

# Five scored outputs of two tasks; shots = index of the output in its episode.
LOGPROBS = [
    [LN(0.5), LN(0.5)],
    [LN(0.9)],
    [LN(0.8), LN(0.25), LN(0.9)],
    [LN(0.6), LN(0.7)],
    [LN(0.95)],
]
CORRECT = [[0, 1], [1], [1, 0, 1], [1, 1], [1]]
SHOTS = [0, 1, 2, 0, 1]
TASKS = ["a", "a", "a", "b", "b"]
LOSS = np.array([-sum(row) for row in LOGPROBS])
FIRST = np.array([row[0] for row in CORRECT], dtype=float)
ACC = np.array([np.mean(row) for row in CORRECT])
ALL = np.array([min(row) for row in CORRECT], dtype=float)


@pytest.fixture(scope="module")
def steerability() -> evaluate.EvaluationModule:
    return metrics.load("steerability")


@pytest.fixture
def fresh_steerability() -> evaluate.EvaluationModule:
    """A new instance per failing call: evaluate keeps a failed call's cache-file lock, which costs the next call 1 s."""
    return metrics.load("steerability", experiment_id=uuid.uuid4().hex)


@pytest.fixture(scope="module")
def result(steerability) -> dict:
    return steerability.compute(token_logprobs=LOGPROBS, token_correct=CORRECT, shots=SHOTS, tasks=TASKS)


def test_docstring_example_runs_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    test = doctest.DocTestParser().get_doctest(
        module._KWARGS_DESCRIPTION, {}, "steerability", module.__file__, 0
    )
    runner = doctest.DocTestRunner()
    runner.run(test)
    assert runner.tries >= 10
    assert runner.failures == 0


def test_loads_from_repository_root_by_relative_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    metric = evaluate.load("metrics/steerability")
    assert metric.compute(token_logprobs=[[LN(0.5)]], token_correct=[[1]], shots=[1])[
        "loss_geq_1"
    ] == pytest.approx(LN(2))


def test_loads_by_metrics_path_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert metrics.path("steerability") == str(REPO / "metrics" / "steerability")
    for metric in (evaluate.load(metrics.path("steerability")), metrics.load("steerability")):
        assert metric.compute(token_logprobs=[[LN(0.5)]], token_correct=[[0]], shots=[0])["all_acc"] == 0.0
    with pytest.raises(
        ValueError, match="'metrics/steerability'; expected one of steerability, distributional_"
    ):
        metrics.path("metrics/steerability")


OPTIONAL = {"tasks": TASKS, "incorrect_logprobs": [[LN(0.3)], [], [LN(0.5), LN(0.1)], [LN(0.2)], [LN(0.04)]]}


@pytest.mark.parametrize(
    "optional", [(), ("tasks",), ("incorrect_logprobs",), ("tasks", "incorrect_logprobs")], ids=str
)
def test_add_batch_in_pieces_equals_one_compute(steerability, optional: tuple[str, ...]) -> None:
    """Every feature set: rows added in three pieces (add_batch, add, add_batch) give the one-call result."""
    columns = {"token_logprobs": LOGPROBS, "token_correct": CORRECT, "shots": SHOTS}
    columns.update({name: OPTIONAL[name] for name in optional})
    whole = steerability.compute(**columns, k=2)
    steerability.add_batch(**{name: column[:2] for name, column in columns.items()})
    steerability.add(**{name: column[2] for name, column in columns.items()})
    steerability.add_batch(**{name: column[3:] for name, column in columns.items()})
    assert steerability.compute(k=2) == whole
    assert (whole["per_task"] != {}) == ("tasks" in optional)
    assert (whole["calibration"] is not None) == ("incorrect_logprobs" in optional)


def test_every_batch_gives_the_same_inputs(fresh_steerability) -> None:
    fresh_steerability.add_batch(token_logprobs=LOGPROBS[:1], token_correct=CORRECT[:1], shots=SHOTS[:1])
    with pytest.raises(ValueError, match="earlier rows gave"):
        fresh_steerability.add_batch(
            token_logprobs=LOGPROBS[1:], token_correct=CORRECT[1:], shots=SHOTS[1:], tasks=TASKS[1:]
        )
    with pytest.raises(ValueError, match="none of the input sets"):
        metrics.load("steerability").add_batch(token_logprobs=LOGPROBS, shots=SHOTS)


def test_bad_row_of_a_later_batch_is_named_by_its_position_among_all_rows(fresh_steerability) -> None:
    fresh_steerability.add_batch(token_logprobs=LOGPROBS[:3], token_correct=CORRECT[:3], shots=SHOTS[:3])
    with pytest.raises(ValueError, match=r"^row 4: field 'shots': got 1\.5; expected an integer >= 0$"):
        fresh_steerability.add_batch(token_logprobs=LOGPROBS[3:], token_correct=CORRECT[3:], shots=[0, 1.5])
    assert fresh_steerability.compute()["n_outputs"] == 3  # the bad batch was not added


@pytest.mark.parametrize(
    ("suffix", "selected"),
    [("", [0, 1, 2, 3, 4]), ("_geq_1", [1, 2, 4]), ("_k", [1, 4]), ("_at_k", [2])],
)
def test_means_and_standard_errors(result: dict, suffix: str, selected: list[int]) -> None:
    for name, values in (("loss", LOSS), ("first_acc", FIRST), ("acc", ACC), ("all_acc", ALL)):
        assert result[f"{name}{suffix}"] == pytest.approx(values[selected].mean(), abs=1e-12), name
        expected_sem = sem(values[selected]) if len(selected) > 1 else 0.0
        assert result[f"{name}{suffix}_sem"] == pytest.approx(expected_sem, abs=1e-12), name


def test_headline_values_by_hand(result: dict) -> None:
    assert result["loss_geq_1"] == pytest.approx((-LN(0.9) - LN(0.8 * 0.25 * 0.9) - LN(0.95)) / 3)
    assert result["all_acc_geq_1"] == pytest.approx(2 / 3)
    assert result["acc"] == pytest.approx((0.5 + 1 + 2 / 3 + 1 + 1) / 5)
    assert result["k"] == 2
    assert (
        result["n_outputs"],
        result["n_outputs_geq_1"],
        result["n_outputs_k"],
        result["n_outputs_at_k"],
    ) == (5, 3, 2, 1)


def test_per_token_loss(result: dict) -> None:
    per_token = LOSS / np.array([len(row) for row in LOGPROBS])
    assert result["loss_per_token"] == pytest.approx(per_token.mean())
    assert result["loss_per_token_geq_1"] == pytest.approx(per_token[[1, 2, 4]].mean())
    assert result["loss_per_token_geq_1_sem"] == pytest.approx(sem(per_token[[1, 2, 4]]))


def test_curve_by_shot_count(result: dict) -> None:
    assert sorted(result["curve"]) == [0, 1, 2]
    zero = result["curve"][0]
    assert zero["n"] == 2
    assert zero["loss"] == pytest.approx(LOSS[[0, 3]].mean())
    assert zero["all_acc"] == pytest.approx(0.5)
    assert zero["first_acc"] == pytest.approx(0.5)
    assert result["curve"][2] == pytest.approx(
        {"loss": LOSS[2], "all_acc": 0.0, "first_acc": 1.0, "acc": 2 / 3, "n": 1}
    )


def test_per_task_breakdown(result: dict) -> None:
    b = result["per_task"]["b"]
    assert (b["n"], b["n_geq_1"]) == (2, 1)
    assert b["loss"] == pytest.approx(LOSS[[3, 4]].mean())
    assert b["loss_geq_1"] == pytest.approx(LOSS[4])
    assert b["all_acc_geq_1"] == 1.0 and b["acc"] == 1.0
    assert result["per_task"]["a"]["all_acc_geq_1"] == pytest.approx(0.5)
    assert result["calibration"] is None  # no off-gold log-probabilities given


def test_explicit_k_and_rows_beyond_it(steerability, fresh_steerability) -> None:
    result = steerability.compute(token_logprobs=LOGPROBS, token_correct=CORRECT, shots=SHOTS, k=3)
    assert result["k"] == 3
    assert result["loss_k"] == pytest.approx(LOSS[2])  # j = k - 1 = 2
    assert result["loss_at_k"] is None and result["n_outputs_at_k"] == 0
    with pytest.raises(ValueError, match="row 2: field 'shots': got 2, beyond k=1"):
        fresh_steerability.compute(token_logprobs=LOGPROBS, token_correct=CORRECT, shots=SHOTS, k=1)


def test_no_context_outputs_give_none_not_nan(steerability) -> None:
    result = steerability.compute(token_logprobs=[[LN(0.5)]], token_correct=[[1]], shots=[0])
    assert result["loss_geq_1"] is None and result["loss_geq_1_sem"] == 0.0
    assert result["loss_sem"] == 0.0
    flat = [v for v in result.values() if isinstance(v, float)]
    assert not any(math.isnan(v) for v in flat)


def test_ece_hand_computed_three_bins() -> None:
    correct = np.log([0.9, 0.6])
    incorrect = np.log([0.3, 0.005])  # 0.005 is below the 0.01 threshold
    ece = expected_calibration_error(correct, incorrect)
    assert (ece["n_bins"], ece["n_all"], ece["n_correct"]) == (3, 3, 2)
    assert ece["bin_means"] == pytest.approx([0.3, 0.6, 0.9])
    assert ece["bin_p_correct"] == [0.0, 1.0, 1.0]
    assert ece["ece"] == pytest.approx((0.3 + 0.4 + 0.1) / 3)


def test_ece_bins_include_both_ends() -> None:
    """Equal values sit on every boundary, so each of the 4 bins holds all 4 of them."""
    ece = expected_calibration_error(np.log([0.5, 0.5]), np.log([0.5, 0.5]))
    assert ece["n_bins"] == 4
    assert ece["bin_means"] == pytest.approx([0.5] * 4)
    assert ece["bin_p_correct"] == [0.5] * 4
    assert ece["ece"] == pytest.approx(0.0)


def test_ece_threshold_bins_and_empty_case() -> None:
    rng = np.random.default_rng(3)
    correct, incorrect = np.log(rng.uniform(0.02, 1, 500)), np.log(rng.uniform(0.001, 0.5, 800))
    ece = expected_calibration_error(correct, incorrect, threshold=0.1, max_bins=5)
    assert ece["n_bins"] == 5 and len(ece["bin_means"]) == 5
    assert ece["n_all"] == int((correct > LN(0.1)).sum() + (incorrect > LN(0.1)).sum())
    assert 0 <= ece["ece"] <= 1
    empty = expected_calibration_error(np.log([0.001]), np.log([0.002]))
    assert empty["ece"] is None and empty["n_bins"] == 0 and empty["bin_means"] == []


def _same_calibration(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value), key


def test_calibration_selections_in_the_module(steerability) -> None:
    incorrect = [[LN(0.3)], [], [LN(0.5), LN(0.1)], [LN(0.2)], [LN(0.04)]]
    result = steerability.compute(
        token_logprobs=LOGPROBS, token_correct=CORRECT, shots=SHOTS, incorrect_logprobs=incorrect
    )
    gold = np.concatenate([np.array(row) for row in LOGPROBS])
    expected = expected_calibration_error(gold, np.log([0.3, 0.5, 0.1, 0.2, 0.04]))
    _same_calibration(result["calibration"], expected)
    assert expected["n_all"] == 14 and expected["n_correct"] == 9
    geq_1 = expected_calibration_error(
        np.array(LOGPROBS[1] + LOGPROBS[2] + LOGPROBS[4]), np.log([0.5, 0.1, 0.04])
    )
    _same_calibration(result["calibration_geq_1"], geq_1)
    k_records = expected_calibration_error(np.array(LOGPROBS[1] + LOGPROBS[4]), np.log([0.04]))
    _same_calibration(result["calibration_k"], k_records)


BAD_INPUTS = [
    ({"token_logprobs": LOGPROBS[:1] + [[None]] + LOGPROBS[2:]}, "row 1", "'token_logprobs'"),
    ({"token_correct": [[0, 1], [1], [1, 0], [1, 1], [1]]}, "row 2", "'token_correct'"),
    (
        {"token_logprobs": LOGPROBS[:4] + [[]], "token_correct": CORRECT[:4] + [[]]},
        "row 4",
        "'token_logprobs'",
    ),
    ({"token_logprobs": LOGPROBS[:3] + [[float("nan"), -1.0]] + LOGPROBS[4:]}, "row 3", "'token_logprobs'"),
    ({"token_logprobs": LOGPROBS[:1] + [[-math.inf]] + LOGPROBS[2:]}, "row 1", "'token_logprobs'"),
    ({"token_logprobs": LOGPROBS[:1] + [[0.3]] + LOGPROBS[2:]}, "row 1", "'token_logprobs'"),
    ({"token_correct": CORRECT[:1] + [[2]] + CORRECT[2:]}, "row 1", "'token_correct'"),
    ({"shots": [0, 1, -2, 0, 1]}, "row 2", "'shots'"),
    ({"tasks": ["a", "b"]}, "tasks", "5"),
    ({"tasks": ["a", "a", "", "b", "b"]}, "row 2", "'tasks'"),
    ({"tasks": ["a", "a", 3, "b", "b"]}, "row 2", "'tasks'"),
    ({"incorrect_logprobs": [[], [], [], [float("nan")], []]}, "row 3", "'incorrect_logprobs'"),
    ({"incorrect_logprobs": [[]]}, "incorrect_logprobs", "5"),
    ({"k": 0}, "k", ">= 1"),
    ({"ece_threshold": 0.0}, "ece_threshold", "(0, 1]"),
    ({"ece_bins": 0}, "ece_bins", ">= 1"),
]


COERCIBLE = [
    (2, "shots", 1.5, "got 1.5"),
    (2, "shots", 2.0, "got 2.0"),
    (1, "shots", True, "got True"),
    (2, "shots", "2", "got '2'"),
    (2, "token_correct", [1, 0.5, 1], "token 1 is 0.5"),
    (3, "token_correct", [True, 1], "token 0 is True"),
    (1, "token_logprobs", [False], "token 0 is False"),
    (1, "token_logprobs", ["-0.5"], "token 0 is '-0.5'"),
    (1, "token_logprobs", "-0.5", "expected a list"),
]
"""Values that evaluate's features would cast (1.5 -> 1, True -> 1, "2" -> 2): refused before that, by row."""


@pytest.mark.parametrize(("row", "field", "value", "problem"), COERCIBLE)
def test_values_evaluate_would_cast_are_refused_as_given(
    steerability, row: int, field: str, value: object, problem: str
) -> None:
    columns = {"token_logprobs": list(LOGPROBS), "token_correct": list(CORRECT), "shots": list(SHOTS)}
    columns[field][row] = value
    with pytest.raises(ValueError, match="^" + re.escape(f"row {row}: field {field!r}: {problem}")):
        steerability.compute(**columns)
    with pytest.raises(ValueError, match="^" + re.escape(f"row 0: field {field!r}: {problem}")):
        steerability.add(**{name: column[row] for name, column in columns.items()})


@pytest.mark.parametrize(("change", "where", "what"), BAD_INPUTS)
def test_bad_input_names_the_row_and_field(fresh_steerability, change: dict, where: str, what: str) -> None:
    kwargs = {"token_logprobs": LOGPROBS, "token_correct": CORRECT, "shots": SHOTS, **change}
    with pytest.raises(ValueError) as info:
        fresh_steerability.compute(**kwargs)
    assert where in str(info.value) and what in str(info.value)
