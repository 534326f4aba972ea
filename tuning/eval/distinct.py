"""Intervals for the distinct-output figures of one coverage task: diversity and yield.

Yield (distinct valid samples) and diversity (distinct among the valid ones) are counts of distinct strings, so a
bootstrap that redraws the samples with replacement repeats some and loses the rest: it is biased low, and how far
depends on the unseen part of the output space. Replicate batches (disjoint groups of N/B samples) give valid
intervals, but for the yield of N/B samples, not of N: yield grows with the number of samples, so the batch
figure is another quantity than the paper's. We therefore keep the figure of all N samples and take its variance
from the delete-one jackknife. By the Efron-Stein inequality the jackknife variance of any symmetric statistic of
independent samples is, in expectation, at least the true variance: these intervals err on the wide side. They
are put in the Wilson score form (`tuning.eval.proportions`) with the effective sample size that variance implies
(yield as a share of the N samples, diversity as a share of the valid ones), so that an edge case keeps a
non-zero width: all samples distinct (the data cannot tell a huge output space from one that would show its first
repeat in the next sample), or no sample seen only once (at least one such sample is assumed, so the chance of an
unseen valid output is not taken for zero). Their coverage on Zipf-like, small and very large output spaces is
measured in `tests/test_interval_calibration.py` and tabulated in `docs/evaluation.md`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from tuning.eval.proportions import WilsonForm, proportion, wilson
from tuning.eval.uncertainty import z_value

JACKKNIFE = "Wilson form with the delete-one jackknife variance"


def _effective_trials(p: float, variance: float, trials: int) -> float:
    """The n whose binomial variance p (1 - p) / n equals ``variance``; ``trials`` at 0% or 100%."""
    if 0 < p < 1 and variance > 0:
        return p * (1 - p) / variance
    return float(trials)


def coverage_forms(generations: Sequence[str], validity: Sequence[bool]) -> dict[str, WilsonForm]:
    """% valid, diversity and yield of one task's samples, each with its interval's form.

    With no valid sample, diversity is 0 by definition and its interval is the range its expectation can have
    given the Wilson bound on the share of valid samples: at most the chance that a run has any valid sample.
    """
    if len(generations) != len(validity):
        raise ValueError(
            f"{len(generations)} generations but {len(validity)} validity flags: one per generation"
        )
    n = len(generations)
    if n == 0:
        raise ValueError("a coverage task with no generations has no figures")
    counts = Counter(g for g, ok in zip(generations, validity, strict=True) if ok)
    valid = sum(counts.values())
    distinct = len(counts)
    singletons = max(1, sum(1 for c in counts.values() if c == 1)) if valid else 0
    out = {"percent_valid": proportion(valid, n)}
    # yield: leaving out one of the f1 samples seen once lowers it by 1, any other sample leaves it as it is
    yield_variance = (n - 1) / n * singletons * (1 - singletons / n) if valid else 0.0
    share = distinct / n
    out["yield"] = WilsonForm(
        share, _effective_trials(share, yield_variance / n**2, n), JACKKNIFE, scale=float(n)
    )
    if valid == 0:
        # E[diversity] <= P(any valid sample) <= 1 - (1 - v)^n, v at most the Wilson bound of 0 valid of n
        z = z_value()
        ceiling = 1 - (1 - float(wilson(0.0, n, z)[1])) ** n
        out["diversity"] = WilsonForm(
            0.0, z * z * (1 - ceiling) / ceiling, JACKKNIFE
        )  # Wilson's top: ceiling
        return out
    diversity = distinct / valid
    out["diversity"] = WilsonForm(
        diversity, _effective_trials(diversity, _diversity_jackknife(n, valid, distinct, singletons), valid),
        JACKKNIFE,
    )  # fmt: skip
    return out


def _diversity_jackknife(n: int, valid: int, distinct: int, singletons: int) -> float:
    """The delete-one jackknife variance of distinct / valid: leaving out a sample seen once gives
    (distinct - 1) / (valid - 1), another valid sample distinct / (valid - 1), an invalid one no change."""
    if valid <= 1:
        return 0.0
    others = max(valid - singletons, 0)
    values = [((distinct - 1) / (valid - 1), singletons), (distinct / (valid - 1), others),
              (distinct / valid, n - valid)]  # fmt: skip
    mean = sum(v * w for v, w in values) / n
    return (n - 1) / n * sum(w * (v - mean) ** 2 for v, w in values)
