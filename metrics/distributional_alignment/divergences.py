"""Per-item divergences and distances between a target and a model distribution over ragged candidate lists.

The formulas of `docs/evaluation.md#divergences`. Items have different numbers of candidates, so every row is
laid end to end in one flat array and row totals come from ``np.add.reduceat``: one pass of numpy over all items
instead of a Python loop per item.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import rel_entr, xlogy

from metrics.row_inputs import Ragged, RowError, check_columns, flatten

TARGET_TOLERANCE = 1e-6
"""How far a target distribution's total may be from 1."""

PROB_TOLERANCE = 1e-6
"""Slack above 1 for a probability or a candidate total (above 0 for a log-probability): rounding in a
model's softmax."""

INPUT_TYPES = ("logprob", "prob")

JS_MAX = float(np.log(2))
"""The largest JS divergence (natural log). Summing the terms of a divergence can round a few ulps below 0 or,
for JS, above ln 2; the sums are clipped to the range the definition guarantees."""

PREFIX_HINT = (
    "mutually exclusive candidates cannot; candidates that are prefixes of one another (`1` and `10`) "
    "must be scored with their terminator (include_terminator)"
)


def check_targets(targets: Ragged) -> None:
    """Every target must be a finite, non-negative distribution that sums to 1 within 1e-6."""
    targets.require(np.isfinite(targets.values) & (targets.values >= 0), "a finite probability >= 0")
    totals = targets.total(targets.values)
    off = np.flatnonzero(np.abs(totals - 1.0) > TARGET_TOLERANCE)
    if off.size:
        row = int(off[0])
        raise RowError(
            row,
            "references",
            f"the target probabilities sum to {float(totals[row])!r}; expected 1 within {TARGET_TOLERANCE}",
        )


def check_ordinal(ordinal: Sequence[bool]) -> np.ndarray:
    """One boolean per item (True, False or numpy's; never 0/1, a string or None), as a numpy array."""
    for row, flag in enumerate(ordinal):
        if not isinstance(flag, (bool, np.bool_)):
            raise RowError(
                row, "ordinal", f"got {flag!r}; expected True (the candidates are an ordered scale) or False"
            )
    return np.asarray(ordinal, dtype=bool)


def check_rows(
    predictions: Sequence[Sequence[float]],
    references: Sequence[Sequence[float]],
    ordinal: Sequence[bool] | None = None,
) -> tuple[Ragged, Ragged]:
    """The model scores and the targets of every item as given, checked as far as they can be without knowing
    whether the scores are log-probabilities or probabilities: lists of numbers (no booleans, strings or None),
    no NaN or +inf score, one target per candidate, targets that are a distribution, and (if given) one ordinal
    flag per item."""
    check_columns({"predictions": predictions, "references": references, "ordinal": ordinal})
    if ordinal is not None:
        check_ordinal(ordinal)
    scores = flatten(predictions, "predictions", "candidate")
    scores.require(~np.isnan(scores.values) & (scores.values != np.inf), "a number, not NaN or +inf")
    targets = flatten(references, "references", "candidate")
    mismatch = np.flatnonzero(scores.lengths != targets.lengths)
    if mismatch.size:
        row = int(mismatch[0])
        raise RowError(
            row,
            "predictions",
            f"has {scores.lengths[row]} candidates but 'references' has {targets.lengths[row]}; "
            "expected the same candidates in the same order",
        )
    check_targets(targets)
    return scores, targets


def _at_most_one(scores: Ragged, mass: np.ndarray) -> None:
    over = np.flatnonzero(mass > 1 + PROB_TOLERANCE)
    if over.size:
        row = int(over[0])
        raise RowError(
            row,
            "predictions",
            f"the candidates' probabilities sum to {float(mass[row])!r} > 1; {PREFIX_HINT}",
        )


def model_distribution(scores: Ragged, input_type: str) -> tuple[np.ndarray, np.ndarray]:
    """The renormalised model distribution Q (flat) and each row's mass on the candidates (coverage).

    The mass is at most 1 (within 1e-6): the candidates are mutually exclusive answers. Log-probabilities are
    renormalised in log space, so rows whose every candidate is very unlikely (masses that underflow to 0 in
    linear space) still give a proper Q.
    """
    values = scores.values
    if input_type == "logprob":
        scores.require(values <= PROB_TOLERANCE, "a log-probability <= 0 (or -inf)")
        peak = np.maximum.reduceat(values, scores.starts)
        impossible = np.flatnonzero(peak == -np.inf)
        if impossible.size:
            raise RowError(
                int(impossible[0]),
                "predictions",
                "every candidate has log-probability -inf; the model distribution over the candidates is "
                "undefined",
            )
        peak = np.minimum(peak, 0.0)
        weights = np.exp(np.minimum(values, 0.0) - peak[scores.row_of])
        mass = scores.total(weights)
        coverage = np.exp(peak) * mass
        _at_most_one(scores, coverage)
        return weights / mass[scores.row_of], coverage
    if input_type == "prob":
        scores.require((values >= 0) & (values <= 1 + PROB_TOLERANCE), "a finite probability in [0, 1]")
        mass = scores.total(values)
        zero = np.flatnonzero(mass <= 0)
        if zero.size:
            raise RowError(
                int(zero[0]),
                "predictions",
                "every candidate has probability 0; the model distribution over the candidates is undefined",
            )
        _at_most_one(scores, mass)
        return values / mass[scores.row_of], mass
    raise ValueError(f"input_type must be one of {INPUT_TYPES}, got {input_type!r}")


def smooth(rows: Ragged, probs: np.ndarray, eps: float) -> np.ndarray:
    """(p + eps) / sum(p + eps) per row: the smoothing of the definition, which keeps every log finite when
    eps > 0."""
    shifted = probs + eps
    return shifted / rows.total(shifted)[rows.row_of]


def first_argmax(rows: Ragged, values: np.ndarray) -> np.ndarray:
    """Per-row position of the largest value, the first one on ties (like ``np.argmax``)."""
    peak = np.maximum.reduceat(values, rows.starts)
    position = np.arange(values.size) - rows.starts[rows.row_of]
    at_peak = np.where(values == peak[rows.row_of], position, np.iinfo(np.int64).max)
    return np.minimum.reduceat(at_peak, rows.starts)


def total_variation(rows: Ragged, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per row, half the L1 distance between two distributions over the same candidates, in [0, 1]."""
    return np.clip(0.5 * rows.total(np.abs(p - q)), 0.0, 1.0)


def wasserstein(rows: Ragged, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per row, the 1-Wasserstein distance between two distributions over ordered candidates placed at
    i / (K - 1) in [0, 1] (OpinionQA's scaling): the sum of |CDF_p - CDF_q| over the first K - 1 positions,
    divided by K - 1; 0 for a single candidate."""
    running = np.cumsum(p - q)
    before = np.concatenate(([0.0], running))[rows.starts]  # the running sum where each row starts
    gap = np.abs(running - before[rows.row_of])
    last = np.zeros(p.size, dtype=bool)
    last[rows.starts + rows.lengths - 1] = True  # CDF_p - CDF_q is 0 there: both sum to 1
    steps = np.maximum(rows.lengths - 1, 1).astype(np.float64)
    return np.clip(rows.total(np.where(last, 0.0, gap)) / steps, 0.0, 1.0)


def item_scores(
    predictions: Sequence[Sequence[float]],
    references: Sequence[Sequence[float]],
    input_type: str = "logprob",
    eps: float = 1e-6,
    ordinal: Sequence[bool] | None = None,
) -> dict[str, np.ndarray]:
    """Per-item JS divergence, KL, reverse KL, cross-entropy, total variation, mode match, coverage, candidate
    count and, when ``ordinal`` flags are given, the 1-Wasserstein distance (NaN for items not ordinal).

    ``coverage`` is the model's total mass on the candidates before renormalising
    (`docs/evaluation.md#candidate-scoring`); it is present for log-probabilities, and for probabilities only
    when some row is not already normalised. Total variation and 1-Wasserstein compare the target and the
    renormalised model distribution themselves, without the smoothing (they take no logarithm), as the peers
    that report them do.
    """
    if input_type not in INPUT_TYPES:
        raise ValueError(f"input_type must be one of {INPUT_TYPES}, got {input_type!r}")
    if isinstance(eps, bool) or not (isinstance(eps, (int, float)) and np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    scores, targets = check_rows(predictions, references, ordinal)
    if not scores.lengths.size:
        raise ValueError("no rows: predictions and references are empty")
    model, coverage = model_distribution(scores, input_type)
    p = smooth(targets, targets.values, eps)
    q = smooth(targets, model, eps)
    mid = 0.5 * (p + q)
    result = {
        "js_divergence": np.clip(
            0.5 * targets.total(rel_entr(p, mid)) + 0.5 * targets.total(rel_entr(q, mid)), 0.0, JS_MAX
        ),
        "kl_divergence": np.maximum(targets.total(rel_entr(p, q)), 0.0),
        "reverse_kl": np.maximum(targets.total(rel_entr(q, p)), 0.0),
        "cross_entropy": -targets.total(xlogy(p, q)),
        "total_variation": total_variation(targets, targets.values, model),
        "mode_match": (first_argmax(targets, p) == first_argmax(targets, q)).astype(np.float64),
    }
    if ordinal is not None:
        flags = check_ordinal(ordinal)
        result["wasserstein"] = np.where(flags, wasserstein(targets, targets.values, model), np.nan)
    if input_type == "logprob" or np.any(np.abs(coverage - 1.0) > TARGET_TOLERANCE):
        result["coverage"] = coverage
    result["n_targets"] = targets.lengths.astype(np.float64)
    return result
