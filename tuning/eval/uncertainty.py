"""Intervals with a tested coverage for the numbers of an evaluation, and the tests behind `compare`'s verdicts.

Every figure is a mean over units that were sampled: scored outputs grouped in episodes (steerability), rows grouped
in the clusters their task declares (alignment), samples of one prompt (coverage). Each kind of figure has the
interval method that holds its stated coverage on simulated data with a known truth (`tests/test_interval_
calibration.py`; the table with the measured coverage is in `docs/evaluation.md`):

- a mean over clusters (steerability loss, alignment JS divergence): a studentized cluster bootstrap (`cluster_mean`);
- a proportion (exact match, % valid) and the distinct-output figures (diversity, yield): a Wilson score interval
  with an effective sample size (`tuning.eval.proportions`, `tuning.eval.distinct`);
- a mean over tasks: the tasks are held fixed and each task's own noise is added up (`task_mean`), the same way
  for all three desiderata.

A difference between two runs gets an interval and a p-value from the same method (the p-value is the smallest
level at which the interval excludes 0), and `holm` corrects the p-values of one figure over its tasks. Every
resampling draws from its own seeded stream, named by what it is for (`stream`): the same results always give
the same intervals, and no two tasks or figures share resampling indices.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95
#: Bootstrap resamples: enough for p-values down to 1/4001, so that Holm's correction can still call a difference
#: over 200 tasks (its smallest threshold is 0.05 / 200).
RESAMPLES = 4000
SEED = 20251007
#: Fewer resampling units than this (one episode, one row) give no interval: every resample is the sample itself,
#: so a zero-width interval would claim a certainty the data cannot give.
MIN_UNITS = 2
#: Resamples drawn at once (memory: this many times the number of clusters, in floats).
_CHUNK = 500


def z_value(level: float = LEVEL) -> float:
    """The two-sided standard normal quantile of ``level`` (1.96 for 95%)."""
    return float(stats.norm.ppf(0.5 + level / 2))


def stream(*names: str) -> np.random.Generator:
    """A seeded generator of its own for one purpose, named by strings (a figure, a task): the seed is derived
    from the names, so two tasks or figures never share resampling indices, whatever order they are run in."""
    digest = hashlib.sha256("\0".join(names).encode("utf-8")).digest()
    return np.random.default_rng([SEED, int.from_bytes(digest[:8], "little")])


@dataclass(frozen=True)
class Estimate:
    """A figure with its interval (None when there is nothing to resample) and the name of the method."""

    value: float
    interval: tuple[float, float] | None
    method: str

    @property
    def variance(self) -> float | None:
        """The variance the interval implies, (half its width / z)^2: what `task_mean` adds up over tasks."""
        if self.interval is None:
            return None
        return ((self.interval[1] - self.interval[0]) / (2 * z_value())) ** 2

    def bounds(self) -> list[float] | None:
        """The interval as results.json stores it."""
        return None if self.interval is None else [float(self.interval[0]), float(self.interval[1])]


@dataclass(frozen=True)
class Difference:
    """Later run minus first run: the value, its interval, the p-value of "no difference" and over how many
    units (episodes, rows, samples) it was measured."""

    value: float
    interval: tuple[float, float] | None
    p_value: float | None
    method: str
    units: int


@dataclass(frozen=True)
class Clusters:
    """Per cluster (an episode, a group of rows): its id, the sum of its values and how many values it has."""

    ids: tuple[str, ...]
    sums: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, cluster_ids: Sequence[str], values: Sequence[float]) -> Clusters:
        """Group ``values`` by the cluster each belongs to (``cluster_ids[i]`` for ``values[i]``)."""
        if len(cluster_ids) != len(values):
            raise ValueError(f"{len(values)} values but {len(cluster_ids)} cluster ids: one id per value expected")
        order = list(dict.fromkeys(cluster_ids))
        index = {c: i for i, c in enumerate(order)}
        where = np.fromiter((index[c] for c in cluster_ids), dtype=np.int64, count=len(cluster_ids))
        sums = np.bincount(where, weights=np.asarray(values, dtype=float), minlength=len(order))
        counts = np.bincount(where, minlength=len(order)).astype(float)
        return cls(tuple(order), sums, counts)

    @property
    def mean(self) -> float:
        """The mean over all values (clusters weighted by their size)."""
        return float(self.sums.sum() / self.counts.sum())

    def __len__(self) -> int:
        return len(self.ids)


def ratio_se(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The cluster-robust standard error of sum(sums) / sum(counts) over the last axis (clusters), with the
    n / (n - 1) small-sample factor."""
    n = sums.shape[-1]
    total = counts.sum(-1)
    theta = sums.sum(-1) / total
    residual = sums - theta[..., None] * counts
    return np.sqrt((residual**2).sum(-1) * n / (n - 1)) / total


def studentized_replicates(
    sums: np.ndarray, counts: np.ndarray, generator: np.random.Generator, resamples: int = RESAMPLES
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The estimate, its standard error and ``resamples`` studentized replicates (theta* - theta) / se* of
    sum(sums) / sum(counts), clusters resampled with replacement.

    ``sums`` and ``counts`` are (batch, clusters): every row is a separate sample, resampled on its own (a
    simulation passes many rows at once). A replicate whose resample has no spread has t = 0 if it equals the
    estimate and an infinite t otherwise.
    """
    batch, n = sums.shape
    theta, se = sums.sum(-1) / counts.sum(-1), ratio_se(sums, counts)
    columns = np.stack([sums, counts, sums * sums, sums * counts, counts * counts], -1)  # batch, n, 5
    out = np.empty((batch, resamples))
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        picks = generator.integers(0, n, size=(batch, size, n))
        flat = (np.arange(batch * size)[:, None] * n + picks.reshape(batch * size, n)).ravel()
        weights = np.bincount(flat, minlength=batch * size * n).reshape(batch, size, n).astype(float)
        s, c, ss, sc, cc = np.moveaxis(np.einsum("bri,bik->brk", weights, columns), -1, 0)
        star = s / c
        spread = np.maximum(ss - 2 * star * sc + star * star * cc, 0.0)
        se_star = np.sqrt(spread * n / (n - 1)) / c
        gap = star - theta[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = gap / se_star
        flat_gap = np.isclose(gap, 0.0, atol=1e-12 * (1 + np.abs(theta[:, None])))
        t = np.where(se_star > 0, t, np.where(flat_gap, 0.0, np.sign(gap) * np.inf))
        out[:, start : start + size] = t
    return theta, se, out


def studentized_interval(
    theta: np.ndarray, se: np.ndarray, t: np.ndarray, bounds: tuple[float, float], level: float = LEVEL
) -> tuple[np.ndarray, np.ndarray]:
    """The bootstrap-t interval [theta - q_hi se, theta - q_lo se] from studentized replicates ``t`` (batch,
    resamples), clipped to ``bounds`` (the figure's range); an infinite quantile leaves that side at the bound."""
    tail = (1 - level) / 2
    q_low, q_high = np.quantile(t, [tail, 1 - tail], axis=-1, method="inverted_cdf")
    with np.errstate(invalid="ignore"):
        low = np.where(np.isfinite(q_high), theta - q_high * se, bounds[0])
        high = np.where(np.isfinite(q_low), theta - q_low * se, bounds[1])
    low = np.where(se > 0, low, theta)
    high = np.where(se > 0, high, theta)
    return np.clip(low, *bounds), np.clip(high, *bounds)


def studentized_p_value(theta: np.ndarray, se: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The two-sided p-value of "theta = 0" that inverts the bootstrap-t interval: twice the smaller share of
    replicates beyond theta / se, counting the observed one (so never below 1 / (resamples + 1))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t0 = np.where(se > 0, theta / se, np.where(theta == 0, 0.0, np.sign(theta) * np.inf))
    b = t.shape[-1]
    upper = (1 + (t >= t0[..., None]).sum(-1)) / (b + 1)
    lower = (1 + (t <= t0[..., None]).sum(-1)) / (b + 1)
    return np.minimum(1.0, 2 * np.minimum(upper, lower))


CLUSTER_MEAN = "studentized cluster bootstrap"


def cluster_mean(
    values: Sequence[float],
    clusters: Sequence[str],
    generator: np.random.Generator,
    bounds: tuple[float, float] = (-math.inf, math.inf),
    resamples: int = RESAMPLES,
) -> Estimate:
    """The mean of ``values`` with its studentized cluster-bootstrap interval, the values of one cluster
    (``clusters[i]`` for ``values[i]``: an episode, the rows of one question) resampled together.

    ``bounds`` is the figure's range (0 and ln 2 for a JS divergence). Fewer than `MIN_UNITS` clusters give no
    interval. Any per-row figure of an alignment task (JS divergence, total variation, ...) takes this with the
    task's ``row_clusters``.
    """
    grouped = Clusters.of(clusters, values)
    if len(grouped) < MIN_UNITS:
        return Estimate(grouped.mean, None, CLUSTER_MEAN)
    theta, se, t = studentized_replicates(grouped.sums[None], grouped.counts[None], generator, resamples)
    low, high = studentized_interval(theta, se, t, bounds)
    return Estimate(float(theta[0]), (float(low[0]), float(high[0])), CLUSTER_MEAN)


def paired_difference(
    first: Sequence[float],
    later: Sequence[float],
    clusters: Sequence[str],
    generator: np.random.Generator,
    bounds: tuple[float, float] = (-math.inf, math.inf),
    resamples: int = RESAMPLES,
) -> Difference:
    """mean(later) - mean(first) over paired items (``first[i]`` and ``later[i]`` scored the same item, in
    cluster ``clusters[i]``): a studentized cluster bootstrap of the per-item differences, with the p-value that
    inverts it. No interval and no p-value over fewer than `MIN_UNITS` clusters."""
    gaps = np.asarray(later, dtype=float) - np.asarray(first, dtype=float)
    grouped = Clusters.of(clusters, gaps)
    if len(grouped) < MIN_UNITS:
        return Difference(grouped.mean, None, None, "paired " + CLUSTER_MEAN, len(grouped))
    theta, se, t = studentized_replicates(grouped.sums[None], grouped.counts[None], generator, resamples)
    low, high = studentized_interval(theta, se, t, bounds)
    p = studentized_p_value(theta, se, t)
    return Difference(float(theta[0]), (float(low[0]), float(high[0])), float(p[0]), "paired " + CLUSTER_MEAN,
                      len(grouped))  # fmt: skip


TASK_MEAN = "mean over the fixed set of tasks; each task's own variance, added up (normal)"


def task_mean(estimates: Sequence[Estimate], bounds: tuple[float, float] = (-math.inf, math.inf)) -> Estimate:
    """The mean over tasks with the interval of a mean over this fixed set of tasks: the variance is the sum of the
    tasks' variances (from their own intervals) over T^2. No interval if any task has none."""
    if not estimates:
        raise ValueError("task_mean needs at least one task's estimate")
    value = float(np.mean([e.value for e in estimates]))
    variances = [e.variance for e in estimates]
    if any(v is None for v in variances):
        return Estimate(value, None, TASK_MEAN)
    half = z_value() * math.sqrt(sum(variances)) / len(estimates)  # type: ignore[arg-type]
    low, high = max(bounds[0], value - half), min(bounds[1], value + half)
    return Estimate(value, (low, high), TASK_MEAN)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of one family of p-values (None: untested, not counted in the family).

    Rejecting where the adjusted p-value is at most 0.05 keeps the chance of any false difference in the family
    at or below 5%, whatever the dependence between the tests."""
    tested = [(p, i) for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    m = len(tested)
    for rank, (p, i) in enumerate(sorted(tested)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class SignTest:
    """How many tasks moved each way (by their point difference) and the two-sided sign test of "as many
    better as worse" over the tasks that moved."""

    better: int
    worse: int
    p_value: float | None


def sign_test(improvements: Sequence[float]) -> SignTest:
    """The sign test over tasks of differences oriented so that a positive one is an improvement (exact zeros
    are left out)."""
    better = sum(1 for d in improvements if d > 0)
    worse = sum(1 for d in improvements if d < 0)
    if better + worse == 0:
        return SignTest(0, 0, None)
    return SignTest(better, worse, float(stats.binomtest(better, better + worse, 0.5).pvalue))


BETTER, SAME, WORSE, UNTESTED = "better", "no detectable difference", "worse", "untested"
VERDICTS = (BETTER, SAME, WORSE, UNTESTED)


def verdict(difference: Difference, adjusted_p: float | None, lower_is_better: bool) -> str:
    """better / no detectable difference / worse of a difference (later run minus first) from its adjusted
    p-value at the 5% level; untested when it rests on fewer than `MIN_UNITS` units (no interval)."""
    if adjusted_p is None or difference.units < MIN_UNITS:
        return UNTESTED
    if adjusted_p > 1 - LEVEL or difference.value == 0:
        return SAME
    improved = difference.value < 0 if lower_is_better else difference.value > 0
    return BETTER if improved else WORSE
