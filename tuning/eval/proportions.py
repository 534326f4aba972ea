"""Wilson score intervals with an effective sample size, and differences of two of them (Newcombe's method).

A proportion p measured on n independent trials has the Wilson score interval: it never has zero width, also at
0% and 100%, and its coverage stays near the nominal level down to small n. Figures that behave like a proportion
but whose trials are not independent take the same form with an *effective* sample size: exact match pooled over
the outputs of episodes (`clustered_proportion`: the outputs of one episode are correlated, so n is divided by the
design effect) and the distinct-output figures of coverage (`tuning.eval.distinct`). The difference of two such
figures from independent runs is Newcombe's hybrid score interval (square-and-add of the two Wilson intervals),
and its p-value is the smallest level at which that interval excludes 0, found by bisection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from tuning.eval.uncertainty import LEVEL, Clusters, Difference, Estimate, ratio_se, t_value, z_value

WILSON = "Wilson score interval"
CLUSTERED = "Wilson score interval with the episodes' design effect (t quantile)"
NEWCOMBE = "Newcombe's hybrid score interval (independent runs)"


def wilson(
    p: np.ndarray | float, n: np.ndarray | float, z: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of proportion ``p`` over ``n`` trials at normal quantile ``z`` (vectorised)."""
    p, n, z = np.asarray(p, dtype=float), np.asarray(n, dtype=float), np.asarray(z, dtype=float)
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * np.sqrt(np.maximum(p * (1 - p), 0.0) / n + z2 / (4 * n * n)) / denominator
    # at 0 and 1 the end is exact (the rounding of centre - half would leave it a hair off)
    return np.where(p <= 0, 0.0, np.clip(centre - half, 0.0, 1.0)), np.where(
        p >= 1, 1.0, np.clip(centre + half, 0.0, 1.0)
    )


@dataclass(frozen=True)
class WilsonForm:
    """A figure whose interval is ``scale`` times a Wilson score interval of proportion ``p`` over ``n``
    effective trials; ``df`` (when set) takes the quantile from Student's t with that many degrees of freedom.
    (`newcombe` also takes forms whose ``p`` and ``n`` are arrays, one entry per task.)"""

    p: float
    n: float
    method: str
    scale: float = 1.0
    df: int | None = None

    def quantile(self, level: float = LEVEL) -> float:
        return t_value(self.df, level) if self.df else z_value(level)

    def bounds(self, z: float) -> tuple[float, float]:
        low, high = wilson(self.p, self.n, z)
        return float(low) * self.scale, float(high) * self.scale

    @property
    def value(self) -> float:
        return self.p * self.scale

    def estimate(self) -> Estimate:
        """The figure with its interval, and the variance its normal-quantile interval implies (for `task_mean`)."""
        low, high = self.bounds(z_value())
        variance = ((high - low) / (2 * z_value())) ** 2
        return Estimate(self.value, self.bounds(self.quantile()), self.method, variance, self.df)


def proportion(successes: int, trials: int) -> WilsonForm:
    """``successes`` of ``trials`` independent trials (a task's valid samples)."""
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(
            f"a proportion needs 0 <= successes <= trials and trials >= 1, got {successes}/{trials}"
        )
    return WilsonForm(successes / trials, float(trials), WILSON)


def clustered_proportion(clusters: Clusters) -> WilsonForm:
    """The share of 1s among 0/1 values grouped in clusters (exact match over the outputs of episodes).

    The effective number of trials is the number of values over the design effect (the cluster-robust variance
    over the binomial one, at least 1). At 0% or 100% the design effect cannot be estimated and the worst case is
    taken: one trial per cluster. The quantile is Student's t with clusters - 1 degrees of freedom.
    """
    total = float(clusters.counts.sum())
    p = float(clusters.sums.sum() / total)
    n_clusters = len(clusters)
    if 0 < p < 1:
        robust = float(ratio_se(clusters.sums, clusters.counts) ** 2)
        effect = max(1.0, robust / (p * (1 - p) / total))
        trials = total / effect
    else:
        trials = float(n_clusters)
    return WilsonForm(p, trials, CLUSTERED, df=n_clusters - 1)


def newcombe(first: WilsonForm, later: WilsonForm, z: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's square-and-add interval of later - first at quantile ``z``, from the two Wilson intervals
    (vectorised: the forms' ``p`` and ``n`` may be arrays, one entry per task)."""
    low_a, high_a = (np.asarray(b) * first.scale for b in wilson(first.p, first.n, z))
    low_b, high_b = (np.asarray(b) * later.scale for b in wilson(later.p, later.n, z))
    a, b = np.asarray(first.p) * first.scale, np.asarray(later.p) * later.scale
    d = b - a
    return d - np.hypot(b - low_b, high_a - a), d + np.hypot(high_b - b, a - low_a)


def newcombe_p_value(first: WilsonForm, later: WilsonForm, steps: int = 50) -> np.ndarray:
    """The two-sided p-value that inverts Newcombe's interval: 2 (1 - Phi(z*)) where z* is the quantile at which
    the interval's nearer end reaches 0 (bisection; the interval widens with z). 1 when the difference is 0."""
    shape = np.broadcast(np.asarray(first.p), np.asarray(later.p)).shape
    low_z, high_z = np.zeros(shape), np.full(shape, 40.0)
    for _ in range(steps):
        mid = (low_z + high_z) / 2
        low, high = newcombe(first, later, mid)
        excludes = (low > 0) | (high < 0)
        low_z, high_z = np.where(excludes, mid, low_z), np.where(excludes, high_z, mid)
    same = np.asarray(later.p) * later.scale == np.asarray(first.p) * first.scale
    return np.where(same, 1.0, 2 * stats.norm.sf(high_z))


def independent_difference(first: WilsonForm, later: WilsonForm, units: int) -> Difference:
    """later - first for two independent runs: Newcombe's interval, and the p-value that inverts it, over
    ``units`` samples (the smaller run)."""
    low, high = newcombe(first, later, z_value())
    p = newcombe_p_value(first, later)
    return Difference(later.value - first.value, (float(low), float(high)), float(p), NEWCOMBE, units)
