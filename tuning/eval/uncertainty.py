"""Intervals with a tested coverage for the numbers of an evaluation, and the tests behind `compare`'s verdicts.

Every figure is a mean over units that were sampled: scored outputs grouped in episodes (steerability), rows grouped
in the clusters their task declares (alignment), samples of one prompt (coverage). Each kind of figure has the
interval method that holds its stated coverage on simulated data with a known truth (`tests/test_interval_
calibration.py`; the table with the measured coverage is in `docs/evaluation.md`):

- a mean over clusters (steerability loss, alignment JS divergence): a studentized cluster bootstrap, never
  narrower than Student's t (`cluster_mean`);
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

import functools
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


@functools.cache
def z_value(level: float = LEVEL) -> float:
    """The two-sided standard normal quantile of ``level`` (1.96 for 95%)."""
    return float(stats.norm.ppf(0.5 + level / 2))


@functools.cache
def t_value(df: float, level: float = LEVEL) -> float:
    """The two-sided Student's t quantile of ``level`` with ``df`` degrees of freedom."""
    return float(stats.t.ppf(0.5 + level / 2, df))


def stream(*names: str) -> np.random.Generator:
    """A seeded generator of its own for one purpose, named by strings (a figure, a task): the seed is derived
    from the names, so two tasks or figures never share resampling indices, whatever order they are run in."""
    digest = hashlib.sha256("\0".join(names).encode("utf-8")).digest()
    return np.random.default_rng([SEED, int.from_bytes(digest[:8], "little")])


@dataclass(frozen=True)
class Estimate:
    """A figure with its interval (None when there is nothing to resample), the name of the method, and the
    variance of the figure with its degrees of freedom (None: normal), which `task_mean` adds up over tasks."""

    value: float
    interval: tuple[float, float] | None
    method: str
    variance: float | None = None
    df: float | None = None

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
            raise ValueError(
                f"{len(values)} values but {len(cluster_ids)} cluster ids: one id per value expected"
            )
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
        # how often each cluster is drawn in each resample: (batch, size, clusters)
        picks = generator.integers(0, n, size=(batch * size, n))
        picks += (np.arange(batch * size, dtype=np.int64) * n)[:, None]
        weights = np.bincount(picks.ravel(), minlength=batch * size * n).reshape(batch, size, n)
        s, c, ss, sc, cc = np.moveaxis(np.matmul(weights.astype(float), columns), -1, 0)
        star = s / c
        spread = np.maximum(ss - 2 * star * sc + star * star * cc, 0.0)
        se_star = np.sqrt(spread * n / (n - 1)) / c
        gap = star - theta[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = gap / se_star
        flat_gap = np.isclose(gap, 0.0, atol=1e-12 * (1 + np.abs(theta[:, None])))
        t = np.where(se_star > 0, t, np.where(flat_gap, 0.0, np.copysign(np.inf, gap)))
        out[:, start : start + size] = t
    return theta, se, out


def studentized_interval(
    theta: np.ndarray, se: np.ndarray, t: np.ndarray, clusters: int, bounds: tuple[float, float],
    level: float = LEVEL,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The bootstrap-t interval [theta - q_hi se, theta - q_lo se] from studentized replicates ``t`` (batch,
    resamples), each end at least as far out as Student's t with clusters - 1 degrees of freedom would put it,
    and clipped to ``bounds`` (the figure's range); an infinite quantile leaves that side at the bound.

    The guard matters with few clusters of skewed or heavy-tailed data: the replicates' own tails are estimated
    from those few clusters and come out short (with 20 episodes, 91-92% coverage instead of 93-95%)."""
    tail = (1 - level) / 2
    q_low, q_high = np.quantile(t, [tail, 1 - tail], axis=-1, method="inverted_cdf")
    student = stats.t.ppf(1 - tail, clusters - 1)
    q_low, q_high = np.minimum(q_low, -student), np.maximum(q_high, student)
    with np.errstate(invalid="ignore"):
        low = np.where(np.isfinite(q_high), theta - q_high * se, bounds[0])
        high = np.where(np.isfinite(q_low), theta - q_low * se, bounds[1])
    low = np.where(se > 0, low, theta)
    high = np.where(se > 0, high, theta)
    return np.clip(low, *bounds), np.clip(high, *bounds)


def studentized_p_value(theta: np.ndarray, se: np.ndarray, t: np.ndarray, clusters: int) -> np.ndarray:
    """The two-sided p-value of "theta = 0" that inverts `studentized_interval`: on the side theta lies, the larger
    of the replicates' share beyond theta / se (counting the observed one, so never below 1 / (resamples + 1))
    and Student's t tail, doubled."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t0 = np.where(se > 0, theta / se, np.where(theta == 0, 0.0, np.copysign(np.inf, theta)))
    b = t.shape[-1]
    upper = np.maximum((1 + (t >= t0[..., None]).sum(-1)) / (b + 1), stats.t.sf(t0, clusters - 1))
    lower = np.maximum((1 + (t <= t0[..., None]).sum(-1)) / (b + 1), stats.t.cdf(t0, clusters - 1))
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
    return Estimate(float(theta[0]), _finite(*studentized_interval(theta, se, t, len(grouped), bounds)), CLUSTER_MEAN,
                    float(se[0]) ** 2, len(grouped) - 1)  # fmt: skip


def _finite(low: np.ndarray, high: np.ndarray) -> tuple[float, float] | None:
    """The one interval of a batch of one; None when an end is unbounded (so few clusters that some resamples
    have no spread at all: the data cannot bound the figure on that side)."""
    ends = (float(low[0]), float(high[0]))
    return ends if all(math.isfinite(e) for e in ends) else None


def cluster_spread(
    values: Sequence[float], clusters: Sequence[str], interval: Sequence[float] | None
) -> Estimate:
    """The mean of ``values`` with its cluster-robust variance (no resampling: cheap), beside an interval computed
    before by `cluster_mean`: what `task_mean` needs of each task."""
    grouped = Clusters.of(clusters, values)
    if len(grouped) < MIN_UNITS:
        return Estimate(grouped.mean, None, CLUSTER_MEAN)
    se = float(ratio_se(grouped.sums, grouped.counts))
    return Estimate(grouped.mean, None if interval is None else (interval[0], interval[1]), CLUSTER_MEAN, se * se,
                    len(grouped) - 1)  # fmt: skip


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
    p = studentized_p_value(theta, se, t, len(grouped))
    return Difference(float(theta[0]), _finite(*studentized_interval(theta, se, t, len(grouped), bounds)), float(p[0]),
                      "paired " + CLUSTER_MEAN, len(grouped))  # fmt: skip


TASK_MEAN = "mean over the fixed set of tasks: the tasks' variances added up (t, Welch-Satterthwaite df)"


def task_mean(estimates: Sequence[Estimate], bounds: tuple[float, float] = (-math.inf, math.inf)) -> Estimate:
    """The mean over tasks with the interval of a mean over this fixed set of tasks: its variance is the sum of
    the tasks' variances over T^2, its quantile Student's t with the Welch-Satterthwaite degrees of freedom (normal
    when every task's is). No interval if any task has no variance (a task of one episode or row)."""
    if not estimates:
        raise ValueError("task_mean needs at least one task's estimate")
    value = float(np.mean([e.value for e in estimates]))
    if any(e.variance is None for e in estimates):
        return Estimate(value, None, TASK_MEAN)
    total = sum(e.variance for e in estimates)  # type: ignore[misc]
    spread = sum(e.variance**2 / e.df for e in estimates if e.df)  # type: ignore[operator]
    df = total**2 / spread if spread > 0 else None
    quantile = t_value(df) if df else z_value()
    half = quantile * math.sqrt(total) / len(estimates)
    low, high = max(bounds[0], value - half), min(bounds[1], value + half)
    return Estimate(value, (low, high), TASK_MEAN, total / len(estimates) ** 2, df)


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
