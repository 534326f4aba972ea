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

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from tuning.eval.uncertainty import LEVEL, Clusters, Difference, Estimate, ratio_se, z_value

WILSON = "Wilson score interval"
CLUSTERED = "Wilson score interval with the episodes' design effect (t quantile)"
NEWCOMBE = "Newcombe's hybrid score interval (independent runs)"


def wilson(p: np.ndarray | float, n: np.ndarray | float, z: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of proportion ``p`` over ``n`` trials at normal quantile ``z`` (vectorised)."""
    p, n, z = np.asarray(p, dtype=float), np.asarray(n, dtype=float), np.asarray(z, dtype=float)
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * np.sqrt(np.maximum(p * (1 - p), 0.0) / n + z2 / (4 * n * n)) / denominator
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


@dataclass(frozen=True)
class WilsonForm:
    """A figure whose interval is ``scale`` times a Wilson score interval of proportion ``p`` over ``n``
    effective trials; ``df`` (when set) takes the quantile from Student's t with that many degrees of freedom."""

    p: float
    n: float
    method: str
    scale: float = 1.0
    df: int | None = None

    def quantile(self, level: float = LEVEL) -> float:
        tail = 0.5 + level / 2
        return float(stats.t.ppf(tail, self.df)) if self.df else z_value(level)

    def bounds(self, z: float) -> tuple[float, float]:
        low, high = wilson(self.p, self.n, z)
        return float(low) * self.scale, float(high) * self.scale

    @property
    def value(self) -> float:
        return self.p * self.scale

    def estimate(self) -> Estimate:
        return Estimate(self.value, self.bounds(self.quantile()), self.method)


def proportion(successes: int, trials: int) -> WilsonForm:
    """``successes`` of ``trials`` independent trials (a task's valid samples)."""
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"a proportion needs 0 <= successes <= trials and trials >= 1, got {successes}/{trials}")
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


def _newcombe(first: WilsonForm, later: WilsonForm, z: float) -> tuple[float, float]:
    """Newcombe's square-and-add interval of later - first at quantile ``z``."""
    low_a, high_a = first.bounds(z)
    low_b, high_b = later.bounds(z)
    a, b = first.value, later.value
    d = b - a
    return d - math.hypot(b - low_b, high_a - a), d + math.hypot(high_b - b, a - low_a)


def independent_difference(first: WilsonForm, later: WilsonForm, units: int) -> Difference:
    """later - first for two independent runs: Newcombe's interval, and the p-value that inverts it (the level
    at which the interval's nearer end reaches 0), over ``units`` samples (the smaller run)."""
    d = later.value - first.value
    interval = _newcombe(first, later, z_value())
    if d == 0:
        return Difference(d, interval, 1.0, NEWCOMBE, units)

    def excludes(z: float) -> bool:
        low, high = _newcombe(first, later, z)
        return low > 0 or high < 0

    low_z, high_z = 0.0, 40.0
    if excludes(high_z):
        return Difference(d, interval, float(2 * stats.norm.sf(high_z)), NEWCOMBE, units)
    for _ in range(60):  # the interval widens with z: find where its nearer end crosses 0
        mid = (low_z + high_z) / 2
        low_z, high_z = (mid, high_z) if excludes(mid) else (low_z, mid)
    return Difference(d, interval, float(2 * stats.norm.sf(high_z)), NEWCOMBE, units)
