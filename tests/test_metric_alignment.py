"""metrics/distributional_alignment: every output against hand-computed values and scipy, and bad input."""

from __future__ import annotations

import doctest
import math
import uuid
from pathlib import Path

import evaluate
import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy, sem

import metrics
from metrics.distributional_alignment import distributional_alignment as module
from metrics.distributional_alignment.divergences import item_scores

REPO = Path(__file__).resolve().parents[1]
METRICS = ("js_divergence", "kl_divergence", "reverse_kl", "cross_entropy", "mode_match")


@pytest.fixture(scope="module")
def alignment() -> evaluate.EvaluationModule:
    return metrics.load("distributional_alignment")


@pytest.fixture
def fresh_alignment() -> evaluate.EvaluationModule:
    """A new instance per failing call: evaluate keeps a failed call's cache-file lock, which costs the next call 1 s."""
    return metrics.load("distributional_alignment", experiment_id=uuid.uuid4().hex)


def _smooth(p: np.ndarray, eps: float) -> np.ndarray:
    return (p + eps) / np.sum(p + eps)


def test_docstring_example_runs_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    test = doctest.DocTestParser().get_doctest(
        module._KWARGS_DESCRIPTION, {}, "alignment", module.__file__, 0
    )
    runner = doctest.DocTestRunner()
    runner.run(test)
    assert runner.tries >= 10
    assert runner.failures == 0


def test_loads_from_root_and_by_metrics_path_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    relative = evaluate.load("metrics/distributional_alignment")
    monkeypatch.chdir(tmp_path)
    for metric in (relative, evaluate.load(metrics.path("distributional_alignment"))):
        result = metric.compute(predictions=[[0.0, -math.inf]], references=[[1.0, 0.0]])
        assert result["n_items"] == 1
        assert result["js_divergence"] == pytest.approx(0.0, abs=1e-12)


def test_add_batch_in_pieces_equals_one_compute(alignment) -> None:
    rng = np.random.default_rng(5)
    references = [rng.dirichlet(np.ones(size)).tolist() for size in (2, 3, 5, 2, 4)]
    predictions = [np.log(rng.dirichlet(np.ones(len(t))) * 0.9).tolist() for t in references]
    whole = alignment.compute(predictions=predictions, references=references, return_per_row=True)
    alignment.add_batch(predictions=predictions[:2], references=references[:2])
    alignment.add(prediction=predictions[2], reference=references[2])
    alignment.add_batch(predictions=predictions[3:], references=references[3:])
    assert alignment.compute(return_per_row=True) == whole
    assert whole["n_items"] == 5


def test_hand_computed_two_candidates(alignment) -> None:
    """P = (1, 0), Q = (0.5, 0.5), eps = 0: M = (0.75, 0.25)."""
    result = alignment.compute(
        predictions=[[math.log(0.5), math.log(0.5)]], references=[[1.0, 0.0]], eps=0.0, return_per_row=True
    )
    js = 0.5 * math.log(1 / 0.75) + 0.5 * (0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25))
    assert result["js_divergence"] == pytest.approx(js, abs=1e-12)
    assert result["kl_divergence"] == pytest.approx(math.log(2), abs=1e-12)
    assert result["reverse_kl"] == math.inf
    assert result["cross_entropy"] == pytest.approx(math.log(2), abs=1e-12)
    assert result["mode_match"] == 1.0  # Q ties: the first index wins, as P's mode
    assert result["coverage"] == pytest.approx(1.0)
    assert result["n_targets"] == 2.0
    assert result["js_divergence_std"] == 0.0 and result["js_divergence_sem"] == 0.0
    assert result["n_items"] == 1
    assert result["per_row"]["mode_match"] == [1]


def test_default_eps_matches_scipy_on_smoothed_distributions(alignment) -> None:
    p = np.array([0.7, 0.3, 0.0])
    q_mass = np.array([0.2, 0.1, 0.3])
    result = alignment.compute(predictions=[np.log(q_mass).tolist()], references=[p.tolist()])
    ps, qs = _smooth(p, 1e-6), _smooth(q_mass / q_mass.sum(), 1e-6)
    assert result["kl_divergence"] == pytest.approx(entropy(ps, qs), rel=1e-12)
    assert result["reverse_kl"] == pytest.approx(entropy(qs, ps), rel=1e-12)
    assert result["cross_entropy"] == pytest.approx(entropy(ps) + entropy(ps, qs), rel=1e-12)
    assert result["js_divergence"] == pytest.approx(jensenshannon(ps, qs) ** 2, rel=1e-12)
    assert result["mode_match"] == 0.0
    assert result["coverage"] == pytest.approx(0.6, rel=1e-12)


@pytest.mark.parametrize("input_type", ["logprob", "prob"])
def test_eps_zero_js_equals_scipy_jensenshannon_squared(alignment, input_type: str) -> None:
    rng = np.random.default_rng(7)
    targets = [rng.dirichlet(np.ones(size)) for size in rng.integers(1, 9, 300)]
    models = [rng.dirichlet(np.ones(t.size) * 0.5) for t in targets]
    targets[3][:] = 0.0
    targets[3][0] = 1.0  # zeros in the target are allowed
    predictions = [(np.log(m) if input_type == "logprob" else m).tolist() for m in models]
    result = alignment.compute(
        predictions=predictions,
        references=[t.tolist() for t in targets],
        input_type=input_type,
        eps=0.0,
        return_per_row=True,
    )
    expected = np.array([jensenshannon(t, m) ** 2 for t, m in zip(targets, models, strict=True)])
    np.testing.assert_allclose(result["per_row"]["js_divergence"], expected, rtol=0, atol=1e-9)
    assert result["js_divergence"] == pytest.approx(expected.mean(), abs=1e-9)
    assert result["js_divergence_sem"] == pytest.approx(sem(expected), rel=1e-9)
    assert result["js_divergence_std"] == pytest.approx(np.std(expected, ddof=1), rel=1e-9)
    assert all(0 <= value <= math.log(2) + 1e-12 for value in result["per_row"]["js_divergence"])
    modes = [int(np.argmax(t) == np.argmax(m)) for t, m in zip(targets, models, strict=True)]
    assert result["per_row"]["mode_match"] == modes
    assert result["per_row"]["n_targets"] == [t.size for t in targets]
    assert ("coverage" in result) == (input_type == "logprob")  # normalised probabilities say nothing


def test_infinite_values_give_infinite_spread_not_nan(alignment) -> None:
    result = alignment.compute(
        predictions=[[math.log(0.5)] * 2, [math.log(0.9), -math.inf]], references=[[1.0, 0.0]] * 2, eps=0.0
    )
    assert result["reverse_kl"] == math.inf
    assert result["reverse_kl_std"] == math.inf and result["reverse_kl_sem"] == math.inf


def test_coverage_from_unnormalised_probabilities(alignment) -> None:
    result = alignment.compute(
        predictions=[[0.2, 0.2], [0.5, 0.5]],
        references=[[0.5, 0.5], [0.5, 0.5]],
        input_type="prob",
        return_per_row=True,
    )
    assert result["per_row"]["coverage"] == pytest.approx([0.4, 1.0])
    assert result["coverage"] == pytest.approx(0.7)
    assert result["js_divergence"] == pytest.approx(0.0, abs=1e-15)


def test_tiny_logprobs_do_not_underflow_into_nan(alignment) -> None:
    result = alignment.compute(
        predictions=[[-2000.0, -2000.0 + math.log(3)]], references=[[0.25, 0.75]], eps=0.0
    )
    assert result["js_divergence"] == pytest.approx(0.0, abs=1e-12)
    assert result["coverage"] == 0.0
    assert not any(isinstance(v, float) and math.isnan(v) for v in result.values())


def test_eps_changes_values_as_the_formula_says() -> None:
    scores = item_scores([[0.0, -math.inf]], [[0.0, 1.0]], eps=0.1)
    p, q = _smooth(np.array([0.0, 1.0]), 0.1), _smooth(np.array([1.0, 0.0]), 0.1)
    assert scores["kl_divergence"][0] == pytest.approx(entropy(p, q), rel=1e-12)
    assert scores["js_divergence"][0] == pytest.approx(jensenshannon(p, q) ** 2, rel=1e-12)


BAD_INPUTS = [
    ({"predictions": [[-1.0, None]], "references": [[0.5, 0.5]]}, "row 0", "'predictions'"),
    ({"predictions": [[-1.0, -1.0]], "references": [None]}, "row 0", "'references'"),
    (
        {"predictions": [[0.0], [-1.0, -2.0]], "references": [[1.0], [0.5, 0.25, 0.25]]},
        "row 1",
        "'predictions'",
    ),
    ({"predictions": [[-1.0], []], "references": [[1.0], []]}, "row 1", "'predictions'"),
    ({"predictions": [[-1.0, -1.0]], "references": [[float("nan"), 1.0]]}, "row 0", "'references'"),
    ({"predictions": [[-1.0, -1.0]], "references": [[math.inf, 1.0]]}, "row 0", "'references'"),
    (
        {"predictions": [[-1.0, -1.0], [-1.0, -1.0]], "references": [[0.5, 0.5], [1.5, -0.5]]},
        "row 1",
        "'references'",
    ),
    ({"predictions": [[-1.0, -1.0]], "references": [[0.5, 0.4999]]}, "row 0", "sum to"),
    ({"predictions": [[-1.0, 0.5]], "references": [[0.5, 0.5]]}, "row 0", "'predictions'"),
    ({"predictions": [[-1.0, float("nan")]], "references": [[0.5, 0.5]]}, "row 0", "'predictions'"),
    ({"predictions": [[-1.0, math.inf]], "references": [[0.5, 0.5]]}, "row 0", "'predictions'"),
    ({"predictions": [[-math.inf, -math.inf]], "references": [[0.5, 0.5]]}, "row 0", "-inf"),
    (
        {"predictions": [[0.5, -0.1]], "references": [[0.5, 0.5]], "input_type": "prob"},
        "row 0",
        "'predictions'",
    ),
    (
        {"predictions": [[0.0, 0.0]], "references": [[0.5, 0.5]], "input_type": "prob"},
        "row 0",
        "probability 0",
    ),
    (
        {"predictions": [[0.5, math.inf]], "references": [[0.5, 0.5]], "input_type": "prob"},
        "row 0",
        "'predictions'",
    ),
    ({"predictions": [[-1.0]], "references": [[1.0]], "input_type": "logit"}, "input_type", "logprob"),
    ({"predictions": [[-1.0]], "references": [[1.0]], "eps": -1e-3}, "eps", ">= 0"),
    ({"predictions": [[-1.0]], "references": [[1.0]], "eps": True}, "eps", ">= 0"),
    (
        {"predictions": [[-1.0]], "references": [[1.0]], "return_per_row": 1},
        "return_per_row",
        "True or False",
    ),
]

NOT_A_DISTRIBUTION = [
    ({"predictions": [[0.5, 0.5], [0.6, 0.6]], "input_type": "prob"}, "row 1", "sum to 1.2 > 1"),
    ({"predictions": [[0.5, 0.5], [1.2, 0.0]], "input_type": "prob"}, "row 1", "candidate 0 is 1.2"),
    ({"predictions": [[0.5, 0.5], [-0.2, 0.7]], "input_type": "prob"}, "row 1", "candidate 0 is -0.2"),
    ({"predictions": [[-1.0, -1.0], [math.log(0.7), math.log(0.5)]]}, "row 1", "sum to 1.2"),
    ({"predictions": [[True, 0.0], [0.5, 0.5]], "input_type": "prob"}, "row 0", "candidate 0 is True"),
    ({"predictions": [[-1.0, -1.0], [-1.0, "-2"]]}, "row 1", "candidate 1 is '-2'"),
]
"""Model scores no model can give over mutually exclusive candidates, and values evaluate would cast."""


@pytest.mark.parametrize(("change", "where", "what"), NOT_A_DISTRIBUTION)
def test_scores_that_are_not_probabilities_are_refused(
    fresh_alignment, change: dict, where: str, what: str
) -> None:
    with pytest.raises(ValueError) as info:
        fresh_alignment.compute(references=[[0.5, 0.5], [0.5, 0.5]], **change)
    message = str(info.value)
    assert message.startswith(f"{where}: field 'predictions'") and what in message
    if "sum to" in what:
        assert "prefixes" in message and "include_terminator" in message


@pytest.mark.parametrize(("kwargs", "where", "what"), BAD_INPUTS)
def test_bad_input_names_the_row_and_field(fresh_alignment, kwargs: dict, where: str, what: str) -> None:
    with pytest.raises(ValueError) as info:
        fresh_alignment.compute(**kwargs)
    assert where in str(info.value) and what in str(info.value)


def test_row_counts_must_match() -> None:
    with pytest.raises(ValueError, match="references has 1 rows but predictions has 2"):
        item_scores([[0.0], [0.0]], [[1.0]])
    with pytest.raises(ValueError, match="row 1: field 'references': expected a list of numbers"):
        item_scores([[0.0], [0.0]], [[1.0], None])


# --- total variation and 1-Wasserstein, against direct formulas and scipy ------------------------------------------


def _random_items(seed: int, count: int) -> tuple[list[list[float]], list[list[float]], list[bool]]:
    """Ragged items of 1 to 9 candidates: model log-probabilities (mass below 1), targets with some zeros."""
    rng = np.random.default_rng(seed)
    predictions, references, ordinal = [], [], []
    for _ in range(count):
        k = int(rng.integers(1, 10))
        mass = rng.uniform(0.05, 1.0)
        predictions.append(list(np.log(rng.dirichlet(np.full(k, 0.7)) * mass)))
        target = rng.dirichlet(np.full(k, 0.5))
        target[rng.random(k) < 0.2] = 0.0
        references.append(list(target / target.sum()) if target.sum() > 0 else [1.0] + [0.0] * (k - 1))
        ordinal.append(bool(rng.random() < 0.6))
    return predictions, references, ordinal


def _model(logprobs: list[float]) -> np.ndarray:
    weights = np.exp(np.asarray(logprobs))
    return weights / weights.sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_total_variation_and_wasserstein_match_independent_implementations(seed: int) -> None:
    from scipy.stats import wasserstein_distance

    predictions, references, ordinal = _random_items(seed, 200)
    per_item = item_scores(predictions, references, ordinal=ordinal)
    for row, (logprobs, target, flag) in enumerate(zip(predictions, references, ordinal, strict=True)):
        p, q = np.asarray(target), _model(logprobs)
        assert per_item["total_variation"][row] == pytest.approx(
            0.5 * sum(abs(a - b) for a, b in zip(p, q, strict=True)), abs=1e-12
        )
        if not flag:
            assert math.isnan(per_item["wasserstein"][row])
            continue
        positions = np.arange(len(p)) / max(len(p) - 1, 1)
        expected = wasserstein_distance(positions, positions, u_weights=p, v_weights=q) if len(p) > 1 else 0.0
        assert per_item["wasserstein"][row] == pytest.approx(expected, abs=1e-12)


def test_wasserstein_is_over_the_ordinal_items_only(alignment) -> None:
    predictions, references, ordinal = _random_items(7, 60)
    result = alignment.compute(
        predictions=predictions, references=references, ordinal=ordinal, return_per_row=True
    )
    per_row = result["per_row"]["wasserstein"]
    measured = [value for value in per_row if value is not None]
    assert len(measured) == result["n_ordinal_items"] == sum(ordinal) > 1
    assert [value is None for value in per_row] == [not flag for flag in ordinal]
    assert result["wasserstein"] == pytest.approx(np.mean(measured))
    assert result["wasserstein_sem"] == pytest.approx(sem(measured))
    assert result["total_variation"] == pytest.approx(np.mean(result["per_row"]["total_variation"]))
    unflagged = alignment.compute(predictions=predictions, references=references)
    assert "wasserstein" not in unflagged and "n_ordinal_items" not in unflagged
    assert unflagged["total_variation"] == pytest.approx(result["total_variation"])
    none = alignment.compute(predictions=predictions, references=references, ordinal=[False] * len(ordinal))
    assert "wasserstein" not in none and none["n_ordinal_items"] == 0


def test_hand_computed_scale_distances() -> None:
    """Five-point scale: all target mass on 1, the model's on 5 -> W1 = 1 and TV = 1; a one-step shift of
    everything -> W1 = 1/4 while TV = 1 (TV cannot see how far the mass moved)."""
    far = item_scores([[0.0 if i == 4 else -math.inf for i in range(5)]], [[1.0, 0, 0, 0, 0]], ordinal=[True])
    near = item_scores(
        [[-math.inf, 0.0, -math.inf, -math.inf, -math.inf]], [[1.0, 0, 0, 0, 0]], ordinal=[True]
    )
    assert far["wasserstein"][0] == pytest.approx(1.0) and far["total_variation"][0] == pytest.approx(1.0)
    assert near["wasserstein"][0] == pytest.approx(0.25) and near["total_variation"][0] == pytest.approx(1.0)


@pytest.mark.parametrize("flag", [1, "yes", None, 0.0])
def test_an_ordinal_flag_that_is_not_a_boolean_names_the_row(fresh_alignment, flag) -> None:
    with pytest.raises(ValueError, match=rf"row 1: field 'ordinal': got {flag!r}; expected True"):
        fresh_alignment.compute(
            predictions=[[math.log(0.5)] * 2] * 2, references=[[0.5, 0.5]] * 2, ordinal=[True, flag]
        )
