"""Expected calibration error of token probabilities, exactly as `docs/evaluation.md#calibration` defines it.

Confidence is the probability of a vocabulary entry at a scored position; it is "correct" when that
entry is the gold token. Only entries above a threshold take part, bins hold equal mass, and a value on a
bin boundary belongs to both bins (both ends inclusive), as in the reference's definition.
"""

from __future__ import annotations

import math

import numpy as np


def check_arguments(threshold: float, max_bins: int) -> None:
    """Fail early on calibration settings that would make the binning meaningless."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise ValueError(f"ece_threshold must be in (0, 1], got {threshold!r}")
    if isinstance(max_bins, bool) or not isinstance(max_bins, (int, np.integer)) or max_bins < 1:
        raise ValueError(f"ece_bins must be an integer >= 1, got {max_bins!r}")


def expected_calibration_error(
    correct_logprobs: np.ndarray,
    incorrect_logprobs: np.ndarray,
    threshold: float = 0.01,
    max_bins: int = 10,
) -> dict:
    """ECE, per-bin mean confidence and accuracy, and the counts of `docs/evaluation.md#calibration`.

    With nothing above the threshold there is no bin: ``ece`` is None (never NaN) and the lists are empty.
    """
    check_arguments(threshold, max_bins)
    cut = math.log(threshold)
    correct = correct_logprobs[correct_logprobs > cut]
    pooled = np.concatenate([correct, incorrect_logprobs[incorrect_logprobs > cut]])
    n_bins = int(min(max_bins, pooled.size))
    bin_means: list[float] = []
    bin_p_correct: list[float] = []
    if n_bins:
        edges = np.percentile(pooled, np.linspace(0, 100, n_bins + 1))
        for low, high in zip(edges[:-1], edges[1:], strict=True):
            members = pooled[(pooled >= low) & (pooled <= high)]
            if members.size == 0:
                continue
            n_correct = int(np.count_nonzero((correct >= low) & (correct <= high)))
            bin_means.append(float(np.mean(np.exp(members))))
            bin_p_correct.append(n_correct / members.size)
    gaps = np.abs(np.asarray(bin_means) - np.asarray(bin_p_correct))
    return {
        "ece": float(np.mean(gaps)) if gaps.size else None,
        "bin_means": bin_means,
        "bin_p_correct": bin_p_correct,
        "n_bins": n_bins,
        "n_all": int(pooled.size),
        "n_correct": int(correct.size),
    }
