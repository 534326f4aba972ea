"""Properties of the three metric modules on generated inputs (hypothesis): bounds, identities, agreement with
scipy and hand computations, independence from how rows are split across ``add_batch`` calls, and generated
bad inputs that must always raise a ValueError naming the row, never return a number.

Every property runs a fixed, small number of derandomised examples, so the file is fast and deterministic. The
modules are loaded with ``keep_in_memory=True``: no cache files, so a failed call costs nothing.
"""

from __future__ import annotations

import doctest
import functools
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import evaluate
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy, sem

import metrics
from metrics.coverage.validators import VALID_SETS, VALIDATORS
from metrics.distributional_alignment.divergences import item_scores

FAST = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
"""Few, reproducible examples per property."""

LN2 = math.log(2)


@functools.cache
def module(name: str) -> evaluate.EvaluationModule:
    return metrics.load(name, keep_in_memory=True)


def smooth(p: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    return (p + eps) / np.sum(p + eps)


def in_pieces(
    metric: evaluate.EvaluationModule, columns: dict[str, list], cuts: Sequence[int], **settings: Any
):
    """Add the rows in slices between ``cuts`` (``add`` for a slice of one row), then compute."""
    count = len(next(iter(columns.values())))
    bounds = sorted({0, count, *(cut % (count + 1) for cut in cuts)})
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        if stop - start == 1:
            row = {name: column[start] for name, column in columns.items()}
            if "predictions" in row:
                row["prediction"] = row.pop("predictions")
            if "references" in row:
                row["reference"] = row.pop("references")
            metric.add(**row)
        else:
            metric.add_batch(**{name: column[start:stop] for name, column in columns.items()})
    return metric.compute(**settings)


def raises_naming(call: Callable[[], object], row: int, field: str) -> None:
    """``call`` raises a ValueError whose message names the row and the field, and returns nothing."""
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"row {row}: field {field!r}"), message


@pytest.mark.parametrize("name", metrics.NAMES)
def test_metric_card_code_runs_from_another_directory(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card's "How to Use" block, then its examples as a doctest in the same namespace."""
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", (Path(metrics.path(name)) / "README.md").read_text(), re.S)
    usage, examples = (block for block in blocks if "evaluate.load(metrics.path" in block or ">>>" in block)
    namespace: dict[str, Any] = {}
    exec(compile(usage, f"{name}/README.md", "exec"), namespace)  # the card's own code
    test = doctest.DocTestParser().get_doctest(examples, namespace, name, f"{name}/README.md", 0)
    runner = doctest.DocTestRunner()
    runner.run(test)
    assert runner.tries >= 2 and runner.failures == 0


# --- distributional alignment ----------------------------------------------------------------------------


@st.composite
def distribution(draw: st.DrawFn, size: int) -> np.ndarray:
    """A probability vector of ``size`` entries, zeros allowed, at least one positive."""
    weights = draw(st.lists(st.one_of(st.just(0.0), st.floats(0.01, 1.0)), min_size=size, max_size=size))
    weights[draw(st.integers(0, size - 1))] = draw(st.floats(0.01, 1.0))
    array = np.asarray(weights)
    return array / array.sum()


@st.composite
def alignment_items(draw: st.DrawFn, max_items: int = 6) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Targets, and model probabilities over the same candidates with total mass in [0.05, 1]; sometimes the
    model is the target itself."""
    targets, models = [], []
    for _ in range(draw(st.integers(1, max_items))):
        target = draw(distribution(draw(st.integers(1, 6))))
        shape = target if draw(st.booleans()) else draw(distribution(target.size))
        targets.append(target)
        models.append(shape * draw(st.floats(0.05, 1.0)))
    return targets, models


def logprobs(model: np.ndarray) -> list[float]:
    with np.errstate(divide="ignore"):
        return np.log(model).tolist()


@FAST
@given(alignment_items(), st.sampled_from(["logprob", "prob"]))
def test_alignment_divergences_against_their_definitions(items, input_type: str) -> None:
    targets, models = items
    predictions = [logprobs(m) if input_type == "logprob" else m.tolist() for m in models]
    scores = item_scores(predictions, [t.tolist() for t in targets], input_type=input_type)
    for i, (target, model) in enumerate(zip(targets, models, strict=True)):
        p, q = smooth(target), smooth(model / model.sum())
        js, kl = scores["js_divergence"][i], scores["kl_divergence"][i]
        assert 0 <= js <= LN2
        assert kl >= 0 and scores["reverse_kl"][i] >= 0
        assert scores["cross_entropy"][i] == pytest.approx(entropy(p) + kl, abs=1e-9)
        assert scores["mode_match"][i] == float(np.argmax(p) == np.argmax(q))
        if np.allclose(p, q, rtol=0, atol=1e-12):
            assert js <= 1e-12 and kl <= 1e-12
        elif np.max(np.abs(p - q)) > 1e-4:
            assert js > 0 and kl > 0
        if input_type == "logprob":
            assert (
                scores["coverage"][i] == pytest.approx(model.sum(), rel=1e-12)
                and scores["coverage"][i] <= 1 + 1e-6
            )


@FAST
@given(alignment_items(), st.sampled_from(["logprob", "prob"]))
def test_alignment_js_is_symmetric_and_scipy_squared_without_smoothing(items, input_type: str) -> None:
    targets, models = items
    shapes = [m / m.sum() for m in models]
    forward = item_scores([m.tolist() for m in models], [t.tolist() for t in targets], input_type="prob")
    backward = item_scores([t.tolist() for t in targets], [s.tolist() for s in shapes], input_type="prob")
    np.testing.assert_allclose(forward["js_divergence"], backward["js_divergence"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(forward["kl_divergence"], backward["reverse_kl"], rtol=1e-9, atol=1e-12)
    predictions = [logprobs(m) if input_type == "logprob" else m.tolist() for m in models]
    unsmoothed = item_scores(predictions, [t.tolist() for t in targets], input_type=input_type, eps=0.0)
    with np.errstate(invalid="ignore"):  # scipy takes the root of a sum that can round below 0: NaN for 0
        expected = np.nan_to_num([jensenshannon(t, s) ** 2 for t, s in zip(targets, shapes, strict=True)])
    np.testing.assert_allclose(unsmoothed["js_divergence"], expected, rtol=0, atol=1e-9)


@FAST
@given(alignment_items(max_items=8), st.lists(st.integers(0, 8), max_size=3))
def test_alignment_result_does_not_depend_on_how_rows_are_added(items, cuts: list[int]) -> None:
    targets, models = items
    metric = module("distributional_alignment")
    columns = {"predictions": [logprobs(m) for m in models], "references": [t.tolist() for t in targets]}
    whole = metric.compute(**columns, return_per_row=True)
    assert in_pieces(metric, columns, cuts, return_per_row=True) == whole
    js = np.asarray(whole["per_row"]["js_divergence"])
    assert whole["js_divergence"] == pytest.approx(js.mean(), abs=1e-12)
    assert whole["js_divergence_sem"] == pytest.approx(sem(js) if js.size > 1 else 0.0, abs=1e-12)
    assert whole["n_items"] == len(targets)


@st.composite
def bad_alignment_input(draw: st.DrawFn) -> tuple[dict, int, str]:
    """A valid input with one row spoiled: NaN, a boolean, a negative or > 1 probability, probabilities or
    log-probabilities summing to more than 1, or targets that are not a distribution."""
    targets, models = draw(alignment_items())
    row = draw(st.integers(0, len(targets) - 1))
    kind = draw(
        st.sampled_from(
            ["nan", "bool", "negative", "above_one", "sum_above_one", "logprob_sum_above_one", "target"]
        )
    )
    input_type = "prob" if kind in ("negative", "above_one", "sum_above_one") else "logprob"
    predictions = [logprobs(m) if input_type == "logprob" else m.tolist() for m in models]
    references = [t.tolist() for t in targets]
    size = len(references[row])
    position = draw(st.integers(0, size - 1))
    field = "predictions"
    if kind == "nan":
        predictions[row][position] = math.nan
    elif kind == "bool":
        predictions[row][position] = draw(st.booleans())
    elif kind == "negative":
        predictions[row][position] = -draw(st.floats(1e-5, 1.0))
    elif kind == "above_one":
        predictions[row][position] = draw(st.floats(1 + 1e-5, 10.0))
    elif kind in ("sum_above_one", "logprob_sum_above_one"):
        share = draw(st.floats(1 + 1e-5, 2.0)) / size
        if share > 1:  # a single candidate: its probability alone is above 1
            share = draw(st.floats(1 + 1e-5, 2.0))
        predictions[row] = [math.log(share) if kind == "logprob_sum_above_one" else share] * size
    else:
        references[row][position] += draw(st.sampled_from([math.nan, -2.0, 0.5]))
        field = "references"
    return {"predictions": predictions, "references": references, "input_type": input_type}, row, field


@FAST
@given(bad_alignment_input())
def test_alignment_bad_numbers_always_raise(case) -> None:
    kwargs, row, field = case
    raises_naming(lambda: module("distributional_alignment").compute(**kwargs), row, field)


# --- steerability ----------------------------------------------------------------------------------------


@st.composite
def scored_outputs(draw: st.DrawFn, calibration: bool = False) -> dict[str, list]:
    """Rows of 1-5 tokens with log-probabilities in [-12, 0], 0/1 correctness, 0-4 shots and a task."""
    rows = draw(st.integers(1, 9))
    sizes = [draw(st.integers(1, 5)) for _ in range(rows)]
    columns = {
        "token_logprobs": [draw(st.lists(st.floats(-12.0, 0.0), min_size=n, max_size=n)) for n in sizes],
        "token_correct": [draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)) for n in sizes],
        "shots": [draw(st.integers(0, 4)) for _ in sizes],
        "tasks": [draw(st.sampled_from(["a", "b"])) for _ in sizes],
    }
    if calibration:
        columns["incorrect_logprobs"] = [draw(st.lists(st.floats(-8.0, 0.0), max_size=4)) for _ in sizes]
    return columns


def _mean_and_sem(values: np.ndarray) -> tuple[float | None, float]:
    if not values.size:
        return None, 0.0
    return float(values.mean()), float(sem(values)) if values.size > 1 else 0.0


@FAST
@given(scored_outputs(calibration=True))
def test_steerability_aggregates_equal_hand_computations(columns) -> None:
    result = module("steerability").compute(**columns)
    loss = np.array([-math.fsum(row) for row in columns["token_logprobs"]])
    acc = np.array([np.mean(row) for row in columns["token_correct"]])
    all_acc = np.array([min(row) for row in columns["token_correct"]], dtype=float)
    first = np.array([row[0] for row in columns["token_correct"]], dtype=float)
    shots = np.array(columns["shots"])
    for suffix, chosen in (("", shots >= 0), ("_geq_1", shots >= 1), ("_at_k", shots == shots.max())):
        for name, values in (("loss", loss), ("acc", acc), ("all_acc", all_acc), ("first_acc", first)):
            mean, error = _mean_and_sem(values[chosen])
            assert result[f"{name}{suffix}"] == (None if mean is None else pytest.approx(mean, abs=1e-9))
            assert result[f"{name}{suffix}_sem"] == pytest.approx(error, abs=1e-9)
    assert result["n_outputs_geq_1"] == int((shots >= 1).sum())
    for key in ("calibration", "calibration_geq_1", "calibration_k"):
        ece = result[key]["ece"]
        assert ece is None or 0 <= ece <= 1


@FAST
@given(scored_outputs())
def test_steerability_accuracies_are_ordered(columns) -> None:
    result = module("steerability").compute(**columns)
    groups = [result, *result["curve"].values(), *result["per_task"].values()]
    for suffix in ("", "_geq_1", "_k", "_at_k"):
        groups.append(
            {name: result.get(f"{name}{suffix}") for name in ("loss", "all_acc", "acc", "first_acc")}
        )
    for group in groups:
        if group.get("acc") is None:
            continue
        assert 0 <= group["all_acc"] <= group["acc"] + 1e-12 <= 1 + 1e-12
        assert group["all_acc"] <= group["first_acc"] + 1e-12 <= 1 + 1e-12
        assert group["loss"] >= 0


@FAST
@given(scored_outputs(calibration=True), st.lists(st.integers(0, 9), max_size=3))
def test_steerability_result_does_not_depend_on_how_rows_are_added(columns, cuts: list[int]) -> None:
    metric = module("steerability")
    whole = metric.compute(**columns)
    assert in_pieces(metric, columns, cuts) == whole


@st.composite
def bad_scored_outputs(draw: st.DrawFn) -> tuple[dict, int, str]:
    """Valid rows with one spoiled: a fraction or a boolean in an integer field, NaN, an infinite or positive
    log-probability, a boolean log-probability, or an output without tokens."""
    columns = draw(scored_outputs(calibration=True))
    row = draw(st.integers(0, len(columns["shots"]) - 1))
    kind = draw(st.sampled_from(["shots", "correct", "nan", "inf", "positive", "bool", "empty", "other"]))
    fraction = draw(st.floats(0.0, 4.0).filter(lambda value: not value.is_integer()))
    position = draw(st.integers(0, len(columns["token_logprobs"][row]) - 1))
    field = "token_logprobs"
    if kind == "shots":
        columns["shots"][row] = draw(st.sampled_from([fraction, float(columns["shots"][row]), True]))
        field = "shots"
    elif kind == "correct":
        columns["token_correct"][row][position] = draw(st.sampled_from([fraction, 1.0, True]))
        field = "token_correct"
    elif kind == "nan":
        columns["token_logprobs"][row][position] = math.nan
    elif kind == "inf":
        columns["token_logprobs"][row][position] = draw(st.sampled_from([math.inf, -math.inf]))
    elif kind == "positive":
        columns["token_logprobs"][row][position] = draw(st.floats(1e-5, 5.0))
    elif kind == "bool":
        columns["token_logprobs"][row][position] = draw(st.booleans())
    elif kind == "empty":
        columns["token_logprobs"][row], columns["token_correct"][row] = [], []
    else:
        columns["incorrect_logprobs"][row] = [draw(st.sampled_from([math.nan, math.inf, 0.5]))]
        field = "incorrect_logprobs"
    return columns, row, field


@FAST
@given(bad_scored_outputs())
def test_steerability_bad_numbers_always_raise(case) -> None:
    columns, row, field = case
    raises_naming(lambda: module("steerability").compute(**columns), row, field)


# --- coverage --------------------------------------------------------------------------------------------

COVERAGE_TASKS = ("rng_1_10", "rng_1_100", "us_states_abbreviations", "weekdays_full", "prime_numbers")
POOL = ("1", "2", "7", "10", "11", "13", "97", "0", "x", "UT", "ut", "Monday", "monday", "Ohio", "")


@st.composite
def generations(draw: st.DrawFn) -> dict[str, list]:
    """One row per task (validator tasks, and one task judged by given validity flags), 1-8 generations each."""
    tasks = draw(st.lists(st.sampled_from(COVERAGE_TASKS), min_size=1, max_size=4, unique=True))
    columns = {
        "predictions": [draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=8)) for _ in tasks],
        "tasks": list(tasks),
        "validity": [None] * len(tasks),
    }
    if draw(st.booleans()):
        texts = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=8))
        columns["predictions"].append(texts)
        columns["tasks"].append("judged")
        columns["validity"].append(draw(st.lists(st.booleans(), min_size=len(texts), max_size=len(texts))))
    return columns


@FAST
@given(generations())
def test_coverage_per_task_identities(columns) -> None:
    result = module("coverage").compute(**columns)
    for texts, task, flags in zip(columns["predictions"], columns["tasks"], columns["validity"], strict=True):
        entry = result["per_task"][task]
        valid = flags if flags is not None else [VALIDATORS[task](text) for text in texts]
        assert entry["n_valid"] == sum(valid)
        assert 0 <= entry["percent_valid"] == entry["n_valid"] / len(texts) <= 1
        assert entry["unique_valid_count"] <= entry["n_valid"] <= len(texts)
        assert entry["unique_valid_count"] == len({t for t, ok in zip(texts, valid, strict=True) if ok})
        diversity = entry["unique_valid_count"] / entry["n_valid"] if entry["n_valid"] else 0.0
        assert entry["unique_gens_pct"] == pytest.approx(diversity, abs=1e-12)
        assert entry["pairwise_uniqueness"] == pytest.approx(1 - entry["pairwise_collision"], abs=1e-12)
        if task in VALID_SETS:
            assert entry["coverage_pct"] == pytest.approx(entry["unique_valid_count"] / len(VALID_SETS[task]))
        else:
            assert entry["coverage_pct"] is None
    per_task = [result["per_task"][task]["percent_valid"] for task in columns["tasks"]]
    assert result["percent_valid"] == pytest.approx(np.mean(per_task), abs=1e-12)
    assert result["percent_valid_std"] == pytest.approx(np.std(per_task), abs=1e-12)
    assert result["n_tasks"] == len(per_task) and result["success_rate"] == 1.0


@FAST
@given(generations(), st.lists(st.integers(0, 5), max_size=3))
def test_coverage_result_does_not_depend_on_how_rows_are_added(columns, cuts: list[int]) -> None:
    metric = module("coverage")
    whole = metric.compute(**columns)
    assert in_pieces(metric, columns, cuts) == whole


@st.composite
def bad_generations(draw: st.DrawFn) -> tuple[dict, int, str]:
    """Valid rows with one spoiled: a valid-set size that is a fraction or a boolean, a validity flag that is
    0/1 or a string, a generation that is not a string, or no generations."""
    columns = draw(generations())
    columns["valid_set_sizes"] = [None] * len(columns["tasks"])
    row = draw(st.integers(0, len(columns["tasks"]) - 1))
    texts = columns["predictions"][row]
    kind = draw(st.sampled_from(["size", "flag", "generation", "empty"]))
    field = "predictions"
    if kind == "size":
        columns["validity"][row] = [True] * len(texts)
        fraction = draw(st.floats(1.0, 100.0).filter(lambda value: not value.is_integer()))
        columns["valid_set_sizes"][row] = draw(st.sampled_from([fraction, 100.0, True]))
        field = "valid_set_sizes"
    elif kind == "flag":
        columns["validity"][row] = [draw(st.sampled_from([0, 1, "yes", None]))] * len(texts)
        field = "validity"
    elif kind == "generation":
        texts[draw(st.integers(0, len(texts) - 1))] = draw(st.sampled_from([7, 1.5, None, True]))
    else:
        columns["predictions"][row] = []
    return columns, row, field


@FAST
@given(bad_generations())
def test_coverage_bad_inputs_always_raise(case) -> None:
    columns, row, field = case
    raises_naming(lambda: module("coverage").compute(**columns), row, field)
