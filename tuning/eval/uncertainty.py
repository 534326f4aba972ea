"""Bootstrap intervals for the numbers of an evaluation, and paired comparisons of two runs.

Every figure is a mean over units that were sampled: scored outputs grouped in episodes (steerability), rows
(alignment), generations (coverage, within a task) and tasks (coverage, across tasks). Its 95% interval is the
2.5th and 97.5th percentile of the figure over `BOOTSTRAP` resamples of those units with replacement
(episodes as whole clusters, since the outputs of one episode are not independent). Two runs on the same
episodes and rows (same k, same protocol) are compared pairwise: the same resampled episodes or rows enter both
sides of a difference. A difference whose interval excludes 0 is a win or a loss; one that spans 0 is a tie;
one over a single episode or row has no interval and is untested.
The resamples are seeded, so the same results always give the same intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP = 1000
SEED = 20251007
LEVEL = 0.95
#: Fewer resampling units than this (one episode, one row) give no interval: every resample is the sample itself,
#: so a zero-width interval would claim a certainty the data cannot give.
MIN_UNITS = 2


def rng(stream: int = 0) -> np.random.Generator:
    """The seeded resampling generator; another ``stream`` gives an independent one (e.g. for a second run
    whose samples are not paired with the first's)."""
    return np.random.default_rng([SEED, stream])


@dataclass(frozen=True)
class Clusters:
    """Per cluster (an episode, a row): its id, the sum of its values and how many values it has."""

    ids: tuple[str, ...]
    sums: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, cluster_ids: Sequence[str], values: Sequence[float]) -> Clusters:
        """Group ``values`` by the cluster each belongs to (``cluster_ids[i]`` for ``values[i]``)."""
        order = list(dict.fromkeys(cluster_ids))
        index = {c: i for i, c in enumerate(order)}
        where = np.fromiter((index[c] for c in cluster_ids), dtype=np.int64, count=len(cluster_ids))
        sums = np.bincount(where, weights=np.asarray(values, dtype=float), minlength=len(order))
        counts = np.bincount(where, minlength=len(order)).astype(float)
        return cls(tuple(order), sums, counts)

    @property
    def mean(self) -> float:
        return float(self.sums.sum() / self.counts.sum())

    def replicates(self, generator: np.random.Generator, b: int = BOOTSTRAP) -> np.ndarray:
        """The mean over all values of ``b`` resamples of the clusters."""
        picks = generator.integers(0, len(self.ids), size=(b, len(self.ids)))
        return self.sums[picks].sum(axis=1) / self.counts[picks].sum(axis=1)

    def interval(self, generator: np.random.Generator) -> list[float] | None:
        """The 95% interval of the mean, clusters resampled; None with fewer than `MIN_UNITS` clusters."""
        return interval(self.replicates(generator)) if len(self.ids) >= MIN_UNITS else None


def interval(replicates: np.ndarray) -> list[float]:
    """The central `LEVEL` percentile interval of bootstrap replicates."""
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return [float(low), float(high)]


def paired_difference(
    a: Clusters, b: Clusters, generator: np.random.Generator
) -> tuple[np.ndarray, int] | None:
    """Replicates of mean(b) - mean(a) over the clusters both have, resampled together, and how many clusters
    that is (fewer than `MIN_UNITS` leave the difference untested); None if none shared."""
    where_a = {c: i for i, c in enumerate(a.ids)}
    where_b = {c: i for i, c in enumerate(b.ids)}
    shared = [c for c in a.ids if c in where_b]
    if not shared:
        return None
    ia = np.array([where_a[c] for c in shared])
    ib = np.array([where_b[c] for c in shared])
    picks = generator.integers(0, len(shared), size=(BOOTSTRAP, len(shared)))
    mean_a = a.sums[ia][picks].sum(axis=1) / a.counts[ia][picks].sum(axis=1)
    mean_b = b.sums[ib][picks].sum(axis=1) / b.counts[ib][picks].sum(axis=1)
    return mean_b - mean_a, len(shared)


def _coverage_figures(codes: np.ndarray, valid: np.ndarray) -> tuple[float, float, float]:
    """% valid, diversity (distinct among the valid ones) and yield (distinct valid) of one sample."""
    kept = codes[valid]
    distinct = len(np.unique(kept))
    return len(kept) / len(codes), distinct / len(kept) if len(kept) else 0.0, float(distinct)


def coverage_replicates(
    generations: Sequence[str], validity: Sequence[bool], generator: np.random.Generator
) -> dict[str, np.ndarray]:
    """% valid, diversity and yield over resamples of the generations, each centred on its observed value.

    A resample with replacement repeats some generations and so holds fewer distinct ones than the sample:
    diversity and yield would come out biased low, their intervals below the observed value. Shifting the
    replicates by that bias (their mean minus the observed value) keeps the spread and removes the shift; the
    result is clipped to each figure's range.
    """
    codes = np.unique(np.asarray(generations, dtype=object).astype(str), return_inverse=True)[1]
    valid = np.asarray(validity, dtype=bool)
    observed = _coverage_figures(codes, valid)
    picks = generator.integers(0, len(codes), size=(BOOTSTRAP, len(codes)))
    figures = np.array([_coverage_figures(codes[pick], valid[pick]) for pick in picks])
    centred = figures - (figures.mean(axis=0) - np.array(observed))
    tops = (1.0, 1.0, float(len(codes)))
    names = ("percent_valid", "diversity", "yield")
    return {name: np.clip(centred[:, i], 0.0, tops[i]) for i, name in enumerate(names)}


def task_mean_replicates(per_task: Sequence[np.ndarray]) -> np.ndarray:
    """Replicates of a mean over tasks, each task resampled on its own (tasks fixed, units resampled)."""
    return np.mean(np.stack(per_task), axis=0)


def resampled_tasks(values: Sequence[float], generator: np.random.Generator) -> np.ndarray:
    """Replicates of a mean over tasks, the tasks themselves resampled (prompts as the unit)."""
    array = np.asarray(values, dtype=float)
    return array[generator.integers(0, len(array), size=(BOOTSTRAP, len(array)))].mean(axis=1)


def verdict(low: float, high: float, lower_is_better: bool, units: int = MIN_UNITS) -> str:
    """win / tie / loss of a difference (second run minus first) from its interval; untested when it rests on
    fewer than `MIN_UNITS` paired units (its interval has zero width whatever the models do)."""
    if units < MIN_UNITS:
        return "untested"
    if low <= 0 <= high:
        return "tie"
    improved = high < 0 if lower_is_better else low > 0
    return "win" if improved else "loss"
