"""Per-item divergences between a target and a model distribution over ragged candidate lists (spec B.4).

Items have different numbers of candidates, so every row is laid end to end in one flat array and row
totals come from ``np.add.reduceat``: one pass of numpy over all items instead of a Python loop per item.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import rel_entr, xlogy

TARGET_TOLERANCE = 1e-6
"""How far a target distribution's total may be from 1."""

PROB_TOLERANCE = 1e-6
"""Slack above 1 for a probability (above 0 for a log-probability): rounding in a model's softmax."""

INPUT_TYPES = ("logprob", "prob")


@dataclass(frozen=True)
class Rows:
    """Ragged rows of floats laid end to end: ``values[starts[i]:starts[i] + lengths[i]]`` is row i."""

    values: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    row_of: np.ndarray

    def total(self, values: np.ndarray) -> np.ndarray:
        """Per-row sums of a flat array aligned with ``values``."""
        return np.add.reduceat(values, self.starts)


def flatten(rows: Sequence[Sequence[float]], field: str) -> Rows:
    """Lay out ``rows`` end to end; a row that is not a non-empty list of numbers fails with its index."""
    try:
        lengths = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
        values = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.float64, count=int(lengths.sum()))
    except (TypeError, ValueError):
        raise _first_malformed(rows, field) from None
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        raise ValueError(f"row {int(empty[0])}: field {field!r}: expected at least one candidate, got none")
    starts = np.zeros(len(rows), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return Rows(values, starts, lengths, np.repeat(np.arange(len(rows)), lengths))


def _first_malformed(rows: Sequence[Sequence[float]], field: str) -> ValueError:
    """The slow path after a fast conversion failed: find and name the offending row."""
    for index, row in enumerate(rows):
        try:
            if row is None or isinstance(row, (str, bytes)):
                raise TypeError
            np.fromiter(row, dtype=np.float64)
        except (TypeError, ValueError):
            return ValueError(f"row {index}: field {field!r}: expected a list of numbers, got {row!r}")
    return ValueError(f"field {field!r}: expected a list of lists of numbers")


def _fail_at(rows: Rows, flat_index: int, field: str, problem: str) -> ValueError:
    row = int(rows.row_of[flat_index])
    position = flat_index - int(rows.starts[row])
    value = rows.values[flat_index]
    return ValueError(f"row {row}: field {field!r}: candidate {position} is {float(value)!r}; {problem}")


def check_targets(targets: Rows) -> None:
    """Every target must be a finite, non-negative distribution that sums to 1 within 1e-6."""
    bad = np.flatnonzero(~np.isfinite(targets.values) | (targets.values < 0))
    if bad.size:
        raise _fail_at(targets, int(bad[0]), "references", "expected a finite probability >= 0")
    totals = targets.total(targets.values)
    off = np.flatnonzero(np.abs(totals - 1.0) > TARGET_TOLERANCE)
    if off.size:
        row = int(off[0])
        raise ValueError(
            f"row {row}: field 'references': the target probabilities sum to {totals[row]!r}; "
            f"expected 1 within {TARGET_TOLERANCE}"
        )


def model_distribution(scores: Rows, input_type: str) -> tuple[np.ndarray, np.ndarray]:
    """The renormalised model distribution Q (flat) and each row's mass on the candidates (coverage).

    Log-probabilities are renormalised in log space, so rows whose every candidate is very unlikely
    (masses that underflow to 0 in linear space) still give a proper Q.
    """
    values = scores.values
    if input_type == "logprob":
        bad = np.flatnonzero(np.isnan(values) | (values == np.inf) | (values > PROB_TOLERANCE))
        if bad.size:
            raise _fail_at(scores, int(bad[0]), "predictions", "expected a log-probability <= 0 (or -inf)")
        peak = np.maximum.reduceat(values, scores.starts)
        impossible = np.flatnonzero(peak == -np.inf)
        if impossible.size:
            raise ValueError(
                f"row {int(impossible[0])}: field 'predictions': every candidate has log-probability -inf; "
                "the model distribution over the candidates is undefined"
            )
        peak = np.minimum(peak, 0.0)
        weights = np.exp(np.minimum(values, 0.0) - peak[scores.row_of])
        mass = scores.total(weights)
        return weights / mass[scores.row_of], np.exp(peak) * mass
    if input_type == "prob":
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0) | (values > 1 + PROB_TOLERANCE))
        if bad.size:
            raise _fail_at(scores, int(bad[0]), "predictions", "expected a finite probability in [0, 1]")
        mass = scores.total(values)
        zero = np.flatnonzero(mass <= 0)
        if zero.size:
            raise ValueError(
                f"row {int(zero[0])}: field 'predictions': every candidate has probability 0; "
                "the model distribution over the candidates is undefined"
            )
        return values / mass[scores.row_of], mass
    raise ValueError(f"input_type must be one of {INPUT_TYPES}, got {input_type!r}")


def smooth(rows: Rows, probs: np.ndarray, eps: float) -> np.ndarray:
    """(p + eps) / sum(p + eps) per row: the spec's smoothing, which keeps every log finite when eps > 0."""
    shifted = probs + eps
    return shifted / rows.total(shifted)[rows.row_of]


def first_argmax(rows: Rows, values: np.ndarray) -> np.ndarray:
    """Per-row position of the largest value, the first one on ties (like ``np.argmax``)."""
    peak = np.maximum.reduceat(values, rows.starts)
    position = np.arange(values.size) - rows.starts[rows.row_of]
    at_peak = np.where(values == peak[rows.row_of], position, np.iinfo(np.int64).max)
    return np.minimum.reduceat(at_peak, rows.starts)


def item_scores(
    predictions: Sequence[Sequence[float]],
    references: Sequence[Sequence[float]],
    input_type: str = "logprob",
    eps: float = 1e-6,
) -> dict[str, np.ndarray]:
    """Per-item JS divergence, KL, reverse KL, cross-entropy, mode match, coverage and candidate count.

    ``coverage`` is the model's total mass on the candidates before renormalising (spec B.3); it is
    present for log-probabilities, and for probabilities only when some row is not already normalised.
    """
    if input_type not in INPUT_TYPES:
        raise ValueError(f"input_type must be one of {INPUT_TYPES}, got {input_type!r}")
    if not (isinstance(eps, (int, float)) and np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    if len(predictions) != len(references):
        raise ValueError(f"predictions has {len(predictions)} rows but references has {len(references)}")
    if not len(predictions):
        raise ValueError("no rows: predictions and references are empty")
    scores = flatten(predictions, "predictions")
    targets = flatten(references, "references")
    mismatch = np.flatnonzero(scores.lengths != targets.lengths)
    if mismatch.size:
        row = int(mismatch[0])
        raise ValueError(
            f"row {row}: field 'predictions' has {scores.lengths[row]} candidates but 'references' has "
            f"{targets.lengths[row]}; expected the same candidates in the same order"
        )
    check_targets(targets)
    model, coverage = model_distribution(scores, input_type)
    p = smooth(targets, targets.values, eps)
    q = smooth(targets, model, eps)
    mid = 0.5 * (p + q)
    result = {
        "js_divergence": 0.5 * targets.total(rel_entr(p, mid)) + 0.5 * targets.total(rel_entr(q, mid)),
        "kl_divergence": targets.total(rel_entr(p, q)),
        "reverse_kl": targets.total(rel_entr(q, p)),
        "cross_entropy": -targets.total(xlogy(p, q)),
        "mode_match": (first_argmax(targets, p) == first_argmax(targets, q)).astype(np.float64),
    }
    if input_type == "logprob" or np.any(np.abs(coverage - 1.0) > TARGET_TOLERANCE):
        result["coverage"] = coverage
    result["n_targets"] = targets.lengths.astype(np.float64)
    return result
