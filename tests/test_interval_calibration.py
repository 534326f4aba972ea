"""Every interval and every verdict of `tuning.eval`, calibrated on simulated data with a known truth.

No model: data are drawn from distributions whose true value is known, in the shapes the evaluations meet
(skewed and heavy-tailed losses grouped in episodes, alignment rows grouped in clusters of unequal size, Zipf-like,
small and very large output spaces), at the numbers of episodes, rows and samples our presets use (20 and more).
Each test asserts the share of intervals that contain the truth, or the share of simulated comparisons of two
identical arms in which any task is called different. The seeds are fixed, so every run sees the same draws.
The bootstrap-based ones resample 1000 times instead of the production 4000 to stay fast: more resamples only
make the end points less noisy. `docs/evaluation.md` tabulates what these tests measure.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tuning.eval.distinct import coverage_forms
from tuning.eval.proportions import WilsonForm, clustered_proportion, newcombe_p_value, proportion
from tuning.eval.uncertainty import (
    Clusters,
    Estimate,
    cluster_mean,
    holm,
    sign_test,
    stream,
    studentized_interval,
    studentized_p_value,
    studentized_replicates,
    task_mean,
)

BAND = (0.93, 0.97)
RESAMPLES = 1000
JS_TOP = math.log(2)


def in_band(share: float) -> bool:
    return BAND[0] <= share <= BAND[1]


def bootstrap(sums: np.ndarray, counts: np.ndarray, seed: int, block: int = 100):
    """Per row of (sims, clusters): the estimate, its se and the studentized replicates, in blocks."""
    generator = np.random.default_rng(seed)
    for start in range(0, len(sums), block):
        yield studentized_replicates(
            sums[start : start + block], counts[start : start + block], generator, RESAMPLES
        )


def bootstrap_coverage(
    sums: np.ndarray, counts: np.ndarray, truth: float, bounds: tuple[float, float]
) -> float:
    hits = 0
    for theta, se, t in bootstrap(sums, counts, seed=7):
        low, high = studentized_interval(theta, se, t, sums.shape[1], bounds)
        hits += int(np.sum((low <= truth) & (truth <= high)))
    return hits / len(sums)


# ---------------------------------------------------------------------------------------------------------------
# Steerability: loss pooled over the outputs of episodes (studentized cluster bootstrap)


def episode_losses(
    rng: np.random.Generator, design: str, sims: int, episodes: int
) -> tuple[np.ndarray, float]:
    """Per simulated task and episode, the summed loss of its outputs; and the true mean loss per output."""
    if design == "lognormal 0.5, 8 outputs":  # skewness of the episode means about 1.8
        k, mean = 8, rng.lognormal(0.0, 0.5, size=(sims, episodes))
        truth = math.exp(0.5**2 / 2)
    elif design == "lognormal 0.75, 4 outputs":  # skewness about 3.3
        k, mean = 4, rng.lognormal(0.0, 0.75, size=(sims, episodes))
        truth = math.exp(0.75**2 / 2)
    else:  # heavy tails: Student's t with 3 degrees of freedom (no fourth moment)
        k, mean = 4, 5.0 + rng.standard_t(3, size=(sims, episodes))
        return (mean[..., None] + rng.normal(0, 1, size=(sims, episodes, k))).sum(-1), 5.0
    # outputs within an episode: gamma noise around the episode's mean (skewed as losses are)
    return rng.gamma(2.0, mean[..., None] / 2.0, size=(sims, episodes, k)).sum(-1), truth


@pytest.mark.parametrize("episodes", [20, 40, 100])
@pytest.mark.parametrize(
    "design", ["lognormal 0.5, 8 outputs", "lognormal 0.75, 4 outputs", "t(3), 4 outputs"]
)
def test_steerability_loss_interval_covers_skewed_and_heavy_tailed_episodes(
    design: str, episodes: int
) -> None:
    rng = np.random.default_rng([1, episodes, len(design)])
    sums, truth = episode_losses(rng, design, 1000, episodes)
    k = 8 if design.startswith("lognormal 0.5") else 4
    bounds = (-math.inf, math.inf) if design.startswith("t(3)") else (0.0, math.inf)
    share = bootstrap_coverage(sums, np.full(sums.shape, float(k)), truth, bounds)
    assert in_band(share), f"{design}, {episodes} episodes: {share:.3f}"


def test_cluster_mean_is_the_simulated_method() -> None:
    """`cluster_mean` (what the evaluation calls) gives the interval these simulations measure."""
    rng = np.random.default_rng(3)
    values = rng.lognormal(0, 0.5, size=60)
    episodes = [str(i // 3) for i in range(60)]
    grouped = Clusters.of(episodes, values)
    ((theta, se, t),) = bootstrap(grouped.sums[None], grouped.counts[None], seed=5)
    low, high = studentized_interval(theta, se, t, 20, (0.0, math.inf))
    found = cluster_mean(
        values, episodes, np.random.default_rng(5), bounds=(0.0, math.inf), resamples=RESAMPLES
    )
    assert found.value == pytest.approx(values.mean())
    assert found.interval == pytest.approx((low[0], high[0]))


# ---------------------------------------------------------------------------------------------------------------
# Steerability: exact match pooled over episodes (Wilson with the design effect)


@pytest.mark.parametrize("episodes", [20, 40, 200])
@pytest.mark.parametrize(
    ("p", "outputs", "concentration"), [(0.1, 8, 5), (0.3, 3, 2), (0.5, 4, 1), (0.7, 8, 5)]
)
def test_exact_match_interval_covers_clustered_hits(
    p: float, outputs: int, concentration: float, episodes: int
):
    """Each episode has its own chance of an exact match (Beta around p: intra-episode correlation
    1 / (1 + concentration), from 0.17 to 0.5)."""
    rng = np.random.default_rng([2, episodes, outputs])
    sims = 2000
    chance = rng.beta(p * concentration, (1 - p) * concentration, size=(sims, episodes))
    hits = (rng.random((sims, episodes, outputs)) < chance[..., None]).sum(-1).astype(float)
    ids = [str(i) for i in range(episodes)]
    covered = 0
    for row in hits:
        found = clustered_proportion(Clusters(tuple(ids), row, np.full(episodes, float(outputs)))).estimate()
        covered += found.interval[0] <= p <= found.interval[1]
    assert in_band(covered / sims), f"p={p}, {outputs} outputs, {episodes} episodes: {covered / sims:.3f}"


# ---------------------------------------------------------------------------------------------------------------
# Alignment: JS divergence of rows grouped in clusters (studentized cluster bootstrap over the clusters)


def clustered_rows(
    rng: np.random.Generator, sims: int, clusters: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Rows in clusters of 1 to 8 (a question asked in several countries): the cluster sets the row's expected
    JS divergence (Beta(2, 12) of ln 2), the rows scatter around it (Beta with concentration 20). True mean:
    ln 2 * 2 / 14."""
    sizes = rng.integers(1, 9, size=(sims, clusters))
    level = rng.beta(2, 12, size=(sims, clusters))
    values, ids = [], []
    for s, m in zip(sizes, level, strict=True):
        owner = np.repeat(np.arange(clusters), s)
        values.append(JS_TOP * rng.beta(m[owner] * 20, (1 - m[owner]) * 20))
        ids.append(owner)
    return values, ids


@pytest.mark.parametrize("clusters", [20, 50, 200])
def test_alignment_interval_covers_clustered_rows(clusters: int) -> None:
    rng = np.random.default_rng([4, clusters])
    sims = 1000 if clusters < 200 else 400
    values, ids = clustered_rows(rng, sims, clusters)
    truth = JS_TOP * 2 / 14
    sums = np.stack([np.bincount(i, weights=v, minlength=clusters) for v, i in zip(values, ids, strict=True)])
    counts = np.stack([np.bincount(i, minlength=clusters).astype(float) for i in ids])
    share = bootstrap_coverage(sums, counts, truth, (0.0, JS_TOP))
    assert in_band(share), f"{clusters} clusters: {share:.3f}"
    if clusters == 20:  # the design is clustered enough to matter: every row its own cluster undercovers
        rows = [bootstrap_coverage(v[None], np.ones((1, len(v))), truth, (0.0, JS_TOP)) for v in values[:300]]
        assert np.mean(rows) < 0.9, np.mean(rows)


# ---------------------------------------------------------------------------------------------------------------
# Coverage: % valid (Wilson), diversity and yield (jackknife in the Wilson form)


@pytest.mark.parametrize("samples", [16, 20, 100])
def test_percent_valid_interval_covers_95_percent_over_the_range_of_validity(samples: int) -> None:
    """Exact: the coverage at each true share of valid samples from the binomial distribution, averaged over
    shares from 1% to 99%; and no share (from 5% to 95%) covered below 90%."""
    intervals = np.array([proportion(x, samples).estimate().interval for x in range(samples + 1)])
    shares = np.linspace(0.01, 0.99, 197)
    coverage = np.array(
        [
            stats.binom.pmf(np.arange(samples + 1), samples, p)[
                (intervals[:, 0] <= p) & (p <= intervals[:, 1])
            ].sum()
            for p in shares
        ]  # fmt: skip
    )
    assert in_band(coverage.mean()), coverage.mean()
    assert coverage[(shares >= 0.05) & (shares <= 0.95)].min() >= 0.9


def test_no_interval_has_zero_width_at_0_or_100_percent() -> None:
    for samples in (16, 100):
        for valid in (0, samples):
            forms = coverage_forms(
                ["a"] * valid + ["x"] * (samples - valid), [True] * valid + [False] * (samples - valid)
            )
            pv = forms["percent_valid"].estimate().interval
            assert pv[1] - pv[0] > 0.03, (samples, valid, pv)
            for name in ("diversity", "yield"):
                low, high = forms[name].estimate().interval
                assert high > low, (samples, valid, name)
        distinct = coverage_forms([str(i) for i in range(samples)], [True] * samples)
        low, high = distinct["yield"].estimate().interval
        assert high == samples and 0 < samples - low < 4.5  # all distinct: no repeat seen, one may come
    for share in (0.0, 1.0):
        ids = tuple(str(i) for i in range(20))
        found = clustered_proportion(Clusters(ids, np.full(20, share * 5), np.full(20, 5.0))).estimate()
        assert found.interval[1] - found.interval[0] > 0.1


def output_spaces() -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """name -> (probability levels, how many outputs share each level, share valid)."""

    def zipf(size: int, exponent: float) -> tuple[np.ndarray, np.ndarray]:
        weights = np.arange(1, size + 1, dtype=float) ** -exponent
        return weights / weights.sum(), np.ones(size)

    return {
        "zipf 1.1 over 1000": (*zipf(1000, 1.1), 0.8),
        "zipf 1.5 over 20000": (*zipf(20000, 1.5), 0.9),
        "zipf 2 over 1000": (*zipf(1000, 2.0), 1.0),
        "3 heads and a tail of 10^4": (np.array([0.2, 0.2, 0.2, 0.4e-4]), np.array([1, 1, 1, 10**4]), 0.7),
        "uniform over 10 (saturates)": (np.array([0.1]), np.array([10]), 0.9),
        "uniform over 50": (np.array([0.02]), np.array([50]), 0.8),
        "uniform over 100, 10% valid": (np.array([0.01]), np.array([100]), 0.1),
        "uniform over 10^6 (no repeats)": (np.array([1e-6]), np.array([10**6]), 1.0),
    }


def expected_figures(
    levels: np.ndarray, sizes: np.ndarray, valid: float, samples: int
) -> tuple[float, float]:
    """The exact expectation of yield and diversity of ``samples`` draws."""

    def seen(p: np.ndarray, n: int) -> float:
        return float(np.sum(sizes * -np.expm1(n * np.log1p(-p))))

    weights = stats.binom.pmf(np.arange(samples + 1), samples, valid)
    diversity = sum(weights[n] * seen(levels, n) / n for n in range(1, samples + 1))
    return seen(valid * levels, samples), diversity


#: space -> the sample counts where the interval is conservative by more than the band: the output space saturates,
#: never repeats, or (at 16 samples) shows too few repeats, and the jackknife's Efron-Stein bias dominates. Measured
#: (yield / diversity): N = 16: zipf 1.1 .964/.975, zipf 1.5 .954/.972, zipf 2 .976/.976, uniform 10 .986/.975,
#: uniform 50 .971/.981, uniform 100 at 10% .934/1.0, 10^6 1.0/1.0; N = 100: zipf 1.1 .965/.978, uniform 10
#: 1.0/1.0, uniform 50 .996/.996, uniform 100 at 10% .965/.984, 10^6 .992/.992.
CONSERVATIVE = {
    "zipf 1.1 over 1000": (16, 100),
    "zipf 1.5 over 20000": (16,),
    "zipf 2 over 1000": (16,),
    "uniform over 10 (saturates)": (16, 100),
    "uniform over 50": (16, 100),
    "uniform over 100, 10% valid": (16, 100),
    "uniform over 10^6 (no repeats)": (16, 100),
}


@pytest.mark.parametrize("samples", [16, 100])
@pytest.mark.parametrize("space", list(output_spaces()))
def test_diversity_and_yield_intervals_cover_their_expectation(space: str, samples: int) -> None:
    levels, sizes, valid = output_spaces()[space]
    expected_yield, expected_diversity = expected_figures(levels, sizes, valid, samples)
    rng = np.random.default_rng([5, samples, len(space)])
    level_mass = levels * sizes
    sims, hits = 1000, np.zeros(2)
    for _ in range(sims):
        level = rng.choice(len(levels), size=samples, p=level_mass / level_mass.sum())
        member = (rng.random(samples) * sizes[level]).astype(np.int64)
        forms = coverage_forms([f"{a}/{b}" for a, b in zip(level, member, strict=True)],
                               list(rng.random(samples) < valid))  # fmt: skip
        for i, (name, truth) in enumerate((("yield", expected_yield), ("diversity", expected_diversity))):
            low, high = forms[name].estimate().interval
            hits[i] += low <= truth <= high
    shares = hits / sims
    assert shares.min() >= BAND[0], (space, samples, shares)
    if samples not in CONSERVATIVE.get(space, ()):
        assert shares.max() <= BAND[1], (space, samples, shares)


# ---------------------------------------------------------------------------------------------------------------
# Over tasks: the mean over a fixed set of tasks, each task's own noise added up


@pytest.mark.parametrize("samples", [16, 100])
def test_percent_valid_over_tasks_covers_the_mean_share(samples: int) -> None:
    rng = np.random.default_rng([6, samples])
    shares = np.linspace(0.02, 0.98, 22)  # 22 tasks, as many as the coverage evaluation
    hits, sims = 0, 1000
    for valid in rng.binomial(samples, shares, size=(sims, 22)):
        found = task_mean([proportion(int(x), samples).estimate() for x in valid], (0.0, 1.0))
        hits += found.interval[0] <= shares.mean() <= found.interval[1]
    assert in_band(hits / sims), hits / sims


@pytest.mark.parametrize("tasks", [3, 16])
def test_steerability_over_tasks_covers_the_mean_of_the_tasks(tasks: int) -> None:
    """Each task its own skewed episodes (20 of them, as the smallest preset); the headline holds the tasks."""
    rng = np.random.default_rng([7, tasks])
    sims, episodes = 500, 20
    scale = np.linspace(0.5, 3.0, tasks)  # tasks differ in level
    sums, truth = episode_losses(rng, "lognormal 0.5, 8 outputs", sims * tasks, episodes)
    sums = sums.reshape(sims, tasks, episodes) * scale[None, :, None]
    counts = np.full((sims * tasks, episodes), 8.0)
    per_task = []
    for theta, se, t in bootstrap(sums.reshape(sims * tasks, episodes), counts, seed=9):
        low, high = studentized_interval(theta, se, t, episodes, (0.0, math.inf))
        per_task += [Estimate(float(v), (float(a), float(b)), "", float(e) ** 2, episodes - 1)
                     for v, a, b, e in zip(theta, low, high, se, strict=True)]  # fmt: skip
    hits = 0
    for s in range(sims):
        found = task_mean(per_task[s * tasks : (s + 1) * tasks], (0.0, math.inf))
        hits += found.interval[0] <= truth * scale.mean() <= found.interval[1]
    assert in_band(hits / sims), hits / sims


# ---------------------------------------------------------------------------------------------------------------
# compare: two identical arms must not differ in more than 5% of comparisons, per figure (Holm over tasks)


def family_rate(p_values: np.ndarray) -> float:
    """The share of simulated comparisons (rows) in which Holm calls any task (column) different."""
    return float(np.mean([min(p for p in holm(list(row)) if p is not None) <= 0.05 for row in p_values]))


def allowed(sims: int) -> float:
    """The nominal 5% plus two Monte Carlo standard errors."""
    return 0.05 + 2 * math.sqrt(0.05 * 0.95 / sims)


@pytest.mark.parametrize("record", ["loss", "exact match"])
def test_identical_steerability_arms_show_no_more_than_5_percent_false_differences(record: str) -> None:
    """16 tasks of 20 episodes; both arms score the same outputs with the same per-episode level and their own,
    identically distributed noise (paired)."""
    rng = np.random.default_rng([8, len(record)])
    sims, tasks, episodes, k = 400, 16, 20, 4
    shape = (sims * tasks, episodes, k)
    if record == "loss":
        level = rng.lognormal(0, 0.5, size=shape[:2])[..., None]
        gaps = (rng.gamma(2.0, level / 2, size=shape) - rng.gamma(2.0, level / 2, size=shape)).sum(-1)
    else:
        chance = rng.beta(1.5, 3.5, size=shape[:2])[..., None]
        gaps = ((rng.random(shape) < chance).astype(float) - (rng.random(shape) < chance)).sum(-1)
    p = np.concatenate([studentized_p_value(theta, se, t, episodes)
                        for theta, se, t in bootstrap(gaps, np.full(gaps.shape, float(k)), seed=11)])  # fmt: skip
    assert family_rate(p.reshape(sims, tasks)) <= allowed(sims)


def test_identical_alignment_arms_show_no_more_than_5_percent_false_differences() -> None:
    """7 tasks (the headline's) of 40 clusters of rows; two arms with the same expected JS per row."""
    rng = np.random.default_rng(12)
    sims, tasks, clusters = 400, 7, 40
    first, ids = clustered_rows(rng, sims * tasks, clusters)
    later = [
        JS_TOP * rng.beta(20 * v / JS_TOP, 20 * (1 - v / JS_TOP)) for v in first
    ]  # same mean as each row
    gaps = np.stack(
        [np.bincount(i, weights=b - a, minlength=clusters) for a, b, i in zip(first, later, ids, strict=True)]
    )
    counts = np.stack([np.bincount(i, minlength=clusters).astype(float) for i in ids])
    # `later` scatters around `first`, whose own expectation differs: compare each to the mean of the two
    p = np.concatenate(
        [studentized_p_value(theta, se, t, clusters) for theta, se, t in bootstrap(gaps, counts, 13)]
    )
    assert family_rate(p.reshape(sims, tasks)) <= allowed(sims)


@pytest.mark.parametrize("samples", [16, 100])
def test_identical_coverage_arms_show_no_more_than_5_percent_false_differences(samples: int) -> None:
    """22 tasks, each with its own output space (Zipf-like, from 10 to 1000 outputs) and share of valid samples;
    two arms sample the same distribution independently. Per figure, Holm over the 22 tasks."""
    rng = np.random.default_rng([14, samples])
    sims, tasks = 300, 22
    sizes = np.geomspace(10, 1000, tasks).astype(int)
    valid = np.linspace(0.1, 1.0, tasks)
    pairs = {name: [] for name in ("percent_valid", "diversity", "yield")}
    for _ in range(sims):
        for t in range(tasks):
            weights = np.arange(1, sizes[t] + 1, dtype=float) ** -1.2
            arms = []
            for _arm in range(2):
                draws = rng.choice(sizes[t], size=samples, p=weights / weights.sum())
                arms.append(coverage_forms([str(d) for d in draws], list(rng.random(samples) < valid[t])))
            for name, found in pairs.items():
                found.append((arms[0][name], arms[1][name]))
    for name, found in pairs.items():
        first, later = (
            WilsonForm(np.array([f[arm].p for f in found]), np.array([f[arm].n for f in found]), "",
                       found[0][arm].scale)
            for arm in (0, 1)
        )  # fmt: skip
        p = newcombe_p_value(first, later)
        assert family_rate(p.reshape(sims, tasks)) <= allowed(sims), name


# ---------------------------------------------------------------------------------------------------------------
# The pieces: streams, Holm, the sign test


def test_every_task_and_figure_resamples_from_its_own_stream() -> None:
    draws = {names: stream(*names).integers(0, 10**9, size=4).tolist()
             for names in [("steerability", "loss_geq_1", "flight"), ("steerability", "all_acc_geq_1", "flight"),
                           ("steerability", "loss_geq_1", "chemistry_esol")]}  # fmt: skip
    assert len({tuple(d) for d in draws.values()}) == 3
    assert (
        stream("steerability", "loss_geq_1", "flight").integers(0, 10**9, size=4).tolist()
        == draws[("steerability", "loss_geq_1", "flight")]
    )


def test_holm_adjusts_step_down_and_leaves_untested_out() -> None:
    adjusted = holm([0.01, None, 0.04, 0.03])
    assert adjusted[1] is None
    assert adjusted[0] == pytest.approx(0.03) and adjusted[3] == pytest.approx(0.06)
    assert adjusted[2] == pytest.approx(0.06)  # max(0.04 * 1, the earlier 0.06): monotone


def test_sign_test_counts_directions_over_tasks() -> None:
    found = sign_test([0.2, 0.1, 0.3, 0.05, 0.0, -0.1, 0.4, 0.2, 0.3, 0.1])
    assert (found.better, found.worse) == (8, 1)
    assert found.p_value == pytest.approx(stats.binomtest(8, 9).pvalue)
    assert sign_test([0.0, 0.0]).p_value is None
