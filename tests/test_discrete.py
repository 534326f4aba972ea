"""`cards` and the nine pre-drawn distributions: goodness of fit per family, no collapse (docs/deviations.md#seeding-independent-streams-per-instance), exact strings."""

from __future__ import annotations

import ast
import dataclasses
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy import special, stats

from spectrum_suite.episodes import Episode, Instance, generate_episodes
from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import discrete
from spectrum_suite.task import TaskSpec

NINE = ("poisson", "geometric", "binomial", "negative_binomial", "categorical", "multinomial", "hypergeometric",
        "geometric_beta", "zipfian")  # fmt: skip
CAP = 25  # instances per family in the goodness-of-fit tests


def task_with(name: str, cap: int | None = None, seed: int | None = None) -> TaskSpec:
    task = get_task(name)
    changes = {k: v for k, v in (("max_instances", cap), ("seed", seed)) if v is not None}
    return dataclasses.replace(task, params=dataclasses.replace(task.params, **changes))


def instances(task: TaskSpec) -> list[Instance]:
    """The instances a task builds (generated in code: no files)."""
    return task.build(task, fetch_files(task.name, task.files, None))


def build(name: str, cap: int | None = None, seed: int | None = None) -> list[Episode]:
    """Episodes of a task through its build, as the builder makes them."""
    task = task_with(name, cap, seed)
    return list(generate_episodes(instances(task), task.params))


def outputs(episode: Episode) -> list[str]:
    return [m["content"] for m in episode.messages() if m["role"] == "output"]


def binned_chisquare(values: np.ndarray, edges: np.ndarray, cdf: Callable) -> float:
    """p-value of a chi-square test of integer draws against a distribution given by its ``cdf``.

    Bins are (-inf, e_0], (e_0, e_1], ..., (e_last, inf): the tails are folded into the end bins. Bins
    expecting fewer than 5 draws are merged into their neighbour.
    """
    edges = np.unique(edges)
    expected = len(values) * np.diff(np.concatenate([[0.0], cdf(edges), [1.0]]))
    observed = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(expected)).astype(float)
    merged_e, merged_o = [0.0], [0.0]
    for e, o in zip(expected, observed, strict=True):
        if merged_e[-1] >= 5:
            merged_e.append(0.0)
            merged_o.append(0.0)
        merged_e[-1] += e
        merged_o[-1] += o
    if len(merged_e) > 1 and merged_e[-1] < 5:
        tail_e, tail_o = merged_e.pop(), merged_o.pop()
        merged_e[-1] += tail_e
        merged_o[-1] += tail_o
    if len(merged_e) < 2:
        return 1.0  # one bin: nothing to test (e.g. a geometric with p near 1 whose draws are all 1)
    return float(stats.chisquare(merged_o, merged_e).pvalue)


def quantile_edges(dist: Any, bins: int = 20) -> np.ndarray:
    """Bin edges at a scipy distribution's quantiles."""
    return dist.ppf(np.linspace(0, 1, bins + 1)[1:-1])


def zipf_cdf(alpha: float) -> Callable:
    """P(X <= k) of numpy's Zipf(alpha), through the Hurwitz zeta tail.

    numpy redraws values beyond 2**63 (they do not fit an int64), so its draws follow Zipf truncated there;
    for alpha near 1 that truncation holds most of the mass. (scipy's generic zipf cdf sums the pmf term
    by term, which such a tail makes impossible.)
    """

    def tail(k: Any) -> Any:
        return special.zeta(alpha, np.asarray(k, dtype=float) + 1.0) / special.zeta(alpha)

    kept = 1.0 - tail(2.0**63)
    return lambda k: (1.0 - tail(k)) / kept


def category_chisquare(observed: np.ndarray, probs: list[float]) -> float:
    """p-value of category counts against probabilities; categories expecting < 5 are pooled into one bin."""
    expected = observed.sum() * np.asarray(probs)
    keep = expected >= 5
    observed = np.append(observed[keep], observed[~keep].sum())
    expected = np.append(expected[keep], expected[~keep].sum())
    if expected[-1] < 5:  # the pooled rare categories are too few to stand alone: fold them in
        observed[-2] += observed[-1]
        expected[-2] += expected[-1]
        observed, expected = observed[:-1], expected[:-1]
    return float(stats.chisquare(observed, expected * observed.sum() / expected.sum()).pvalue)


def stated(description_pool: list[str], pattern: str) -> tuple[str, ...]:
    """The groups of the one description in the pool that matches ``pattern``."""
    found = [m.groups() for m in (re.fullmatch(pattern, d) for d in description_pool) if m]
    assert len(found) == 1, (pattern, description_pool)
    return found[0]


def fit(dist: Any) -> tuple[np.ndarray, Callable]:
    """Quantile bin edges and the cdf of a frozen scipy distribution."""
    return quantile_edges(dist), dist.cdf


def stated_distribution(name: str, inst: Instance) -> tuple[np.ndarray, Callable]:
    """The distribution each family's description states, from the stated parameters: (bin edges, cdf)."""
    pool, meta = list(inst.descriptions), inst.meta
    if name == "poisson":
        (lam,) = stated(pool, r"Poisson\((.+)\)")
        assert float(lam) == meta["lambda"]
        return fit(stats.poisson(float(lam)))
    if name == "geometric":
        (p,) = stated(pool, r"Geometric\((.+)\)")
        assert float(p) == meta["p"]
        return fit(stats.geom(float(p)))
    if name == "binomial":
        trials, p = stated(pool, r"Binomial\((\d+), (.+)\)")
        assert (int(trials), float(p)) == (meta["n_trials"], meta["p"])
        return fit(stats.binom(int(trials), float(p)))
    if name == "negative_binomial":
        r, p = stated(pool, r"NegativeBinomial\((\d\.\d\d), (\d\.\d\d)\)")
        assert (r, p) == (f"{meta['r']:.2f}", f"{meta['p']:.2f}")
        return fit(stats.nbinom(meta["r"], meta["p"]))
    if name == "hypergeometric":
        big_n, k, draws = stated(pool, r"Draws from a hypergeometric distribution with population size N=(\d+), "
                                       r"number of positive draws K=(\d+), number of draws n=(\d+)\.")  # fmt: skip
        return fit(stats.hypergeom(int(big_n), int(k), int(draws)))
    if name == "geometric_beta":
        (p,) = stated(pool, r"Draws from a geometric distribution with success probability p=(\d\.\d{3})\.")
        assert p == f"{meta['p']:.3f}"
        return fit(stats.geom(meta["p"]))
    if name == "zipfian":
        (alpha,) = stated(pool, r"Draws from a Zipfian distribution with alpha=(\d\.\d{3})\.")
        assert alpha == f"{meta['alpha']:.3f}"
        return np.unique(np.round(np.logspace(0, 15, 60))), zipf_cdf(meta["alpha"])
    raise AssertionError(name)


@pytest.mark.parametrize(
    "name",
    ["poisson", "geometric", "binomial", "negative_binomial", "hypergeometric", "geometric_beta", "zipfian"],
)
def test_integer_families_fit_their_stated_distribution(name: str) -> None:
    episodes = build(name, cap=CAP)
    assert len(episodes) == CAP
    pvalues = []
    for ep in episodes:
        values = outputs(ep)
        assert all(re.fullmatch(r"\d+", v) for v in values), name
        assert len(values) == min(5000, ep.instance.meta["n_values"])  # the whole realised sample
        pvalues.append(
            binned_chisquare(np.array([int(v) for v in values]), *stated_distribution(name, ep.instance))
        )
    assert min(pvalues) > 1e-3 / len(pvalues), (name, sorted(pvalues)[:3])


def test_poisson_mean_is_lambda() -> None:
    for ep in build("poisson", cap=CAP):
        values = np.array([int(v) for v in outputs(ep)])
        lam = ep.instance.meta["lambda"]
        assert abs(values.mean() - lam) < 5 * np.sqrt(lam / len(values)) + 1e-9


def test_categorical_fits_probabilities() -> None:
    for ep in build("categorical", cap=CAP):
        meta = ep.instance.meta
        k = meta["n_categories"]
        assert tuple(ep.instance.choices) == tuple(str(i) for i in range(k))
        (kk, pv) = stated(list(ep.instance.descriptions), r"SingleVariableIID\((\d+), (\{.*\})\)")
        stated_probs = ast.literal_eval(pv)
        assert int(kk) == k and list(stated_probs) == list(range(k))
        assert all(abs(stated_probs[i] - meta["probs"][i]) <= 5e-5 for i in range(k))
        counts = Counter(outputs(ep))
        assert set(counts) <= set(ep.instance.choices)
        observed = np.array([counts.get(str(i), 0) for i in range(k)], dtype=float)
        assert category_chisquare(observed, meta["probs"]) > 1e-3 / CAP


def test_multinomial_vectors_fit_and_print_plain_ints() -> None:
    formats = set()
    for ep in build("multinomial", cap=12):
        meta = ep.instance.meta
        k, m = meta["n_categories"], meta["n_draws"]
        kk, mm, pv = stated(list(ep.instance.descriptions), r"Multinomial\((\d+), (\d+), (\{.*\})\)")
        assert (int(kk), int(mm)) == (k, m)
        assert list(ast.literal_eval(pv)) == list(range(k))
        totals = np.zeros(k)
        for value in outputs(ep):
            assert "np." not in value  # Python scalars, never np.int64(3)
            if meta["format"] == "dict":
                assert re.fullmatch(r"\{0: \d+(, \d+: \d+)*\}", value), value
                counts = list(ast.literal_eval(value).values())
            else:
                assert re.fullmatch(r"\['\d+'(, '\d+')*\]", value), value
                counts = [int(c) for c in ast.literal_eval(value)]
            assert len(counts) == k and sum(counts) == m
            totals += counts
        formats.add(meta["format"])
        assert category_chisquare(totals, meta["probs"]) > 1e-3 / 12
    assert formats == {"dict", "list"}


@pytest.mark.parametrize("name", ["poisson", "geometric"])
def test_no_collapse_500_distinct_instances(name: str) -> None:
    """The reference produced 2 distinct poisson/geometric rows out of 500; every instance differs here."""
    episodes = build(name)
    assert len(episodes) == 500
    params = {ep.instance.meta["lambda" if name == "poisson" else "p"] for ep in episodes}
    assert len(params) == 500
    assert len({tuple(outputs(ep)) for ep in episodes}) == 500
    described = sum(ep.include_description for ep in episodes)
    assert stats.binomtest(described, 500, 0.6).pvalue > 1e-3  # the reference: 1.0
    lengths = np.array([ep.instance.meta["n_values"] for ep in episodes])
    assert len(set(lengths.tolist())) > 300 and abs(lengths.mean() - 1024) < 4 * 512 / np.sqrt(500)


def test_parameter_priors() -> None:
    """Each family's parameters follow the prior of docs/tasks.md#discrete-distributions."""

    def metas(name: str, cap: int = 300) -> list[dict]:
        return [inst.meta for inst in instances(task_with(name, cap))]

    assert (
        stats.kstest([m["lambda"] for m in metas("poisson")], stats.gamma(0.5, scale=2000).cdf).pvalue > 1e-3
    )
    for name in ("geometric", "binomial", "geometric_beta"):
        assert stats.kstest([m["p"] for m in metas(name)], "uniform").pvalue > 1e-3
    nb = metas("negative_binomial")
    assert stats.kstest([m["r"] for m in nb], "uniform").pvalue > 1e-3
    assert stats.kstest([m["p"] for m in nb], "uniform").pvalue > 1e-3
    alphas = [m["alpha"] for m in metas("zipfian")]
    assert all(1.000001 <= a < 2.5 for a in alphas)
    assert stats.kstest(alphas, stats.uniform(1.000001, 2.5 - 1.000001).cdf).pvalue > 1e-3
    for m in metas("hypergeometric"):
        assert 1 <= m["K"] <= m["N"] and 1 <= m["n_draws"] <= m["N"]
    ks = [m["n_categories"] for m in metas("categorical")]
    assert min(ks) >= 2 and abs(np.mean(ks) - 12) < 1.5
    trials = [m["n_trials"] for m in metas("binomial")]
    assert abs(np.mean(trials) - 1024) < 4 * 512 / np.sqrt(len(trials))


def test_description_strings() -> None:
    pools = {name: list(instances(task_with(name, 1))[0].descriptions) for name in NINE}
    lam = pools["poisson"][2][len("Poisson(") : -1]
    assert pools["poisson"] == [f"Draws from a Poisson distribution with parameter {lam}.", "Poisson distribution",
                                f"Poisson({lam})"]  # fmt: skip
    assert repr(float(lam)) == lam  # the full float repr
    assert pools["geometric"][1:2] == ["Geometric distribution"]
    assert re.fullmatch(
        r"Draws from a binomial distribution with parameters n=\d+ and p=0\.\d+\.", pools["binomial"][0]
    )
    assert re.fullmatch(
        r"Draws from a negative binomial distribution with parameters r=\d\.\d\d and p=\d\.\d\d\.",
        pools["negative_binomial"][0],
    )
    assert pools["negative_binomial"][1] == "Negative binomial distribution"
    assert re.fullmatch(
        r"Draws from a categorical distribution with \d+ categories and probability vector \{0: 0\.\d+(, \d+: [01]\.\d+)*\}\.",
        pools["categorical"][0],
    )
    assert re.fullmatch(
        r"Draws from a multinomial distribution with \d+ categories, \d+ total draws, and probability vector \{.*\}\.",
        pools["multinomial"][0],
    )
    assert pools["hypergeometric"][1] == "Hypergeometric distribution" and len(pools["hypergeometric"]) == 2
    assert pools["geometric_beta"][1] == "Geometric distribution" and len(pools["geometric_beta"]) == 2
    assert pools["zipfian"][1] == "Zipfian distribution" and len(pools["zipfian"]) == 2


@pytest.mark.parametrize("name", ["zipfian", "multinomial"])
def test_same_seed_same_bytes(name: str) -> None:
    first = [ep.messages() for ep in build(name, cap=8)]
    assert first == [ep.messages() for ep in build(name, cap=8)]
    assert first != [ep.messages() for ep in build(name, cap=8, seed=44)]


def test_meta_is_plain_python() -> None:
    import json

    for name in NINE:
        for inst in instances(task_with(name, 3)):
            assert json.loads(json.dumps(inst.meta)) == inst.meta


# ---------------------------------------------------------------------------------------------------
# cards


def test_deck() -> None:
    assert len(discrete.DECK) == 52 == len(set(discrete.DECK))
    assert discrete.DECK[:3] == ("2♣", "3♣", "4♣") and discrete.DECK[8] == "10♣" and discrete.DECK[-1] == "A♠"
    assert discrete.CARDS_DESCRIPTION == (
        "Draw cards at random from a standard 52-card deck without replacement. The deck contains all standard "
        "playing cards (2-10, J, Q, K, A) in four suits (♣, ♦, ♥, ♠)."
    )


def test_card_episodes_are_uniform_permutations() -> None:
    episodes = build("cards")
    assert len(episodes) == 100
    firsts = Counter()
    for ep in episodes:
        cards = outputs(ep)
        assert sorted(cards) == sorted(discrete.DECK)
        assert tuple(ep.instance.choices) == discrete.DECK
        firsts[cards[0][-1]] += 1
    assert len({tuple(outputs(ep)) for ep in episodes}) == 100
    assert stats.chisquare([firsts[s] for s in discrete.CARD_SUITS]).pvalue > 1e-3
    described = [ep for ep in episodes if ep.include_description]
    assert all(ep.messages()[0]["content"] == discrete.CARDS_DESCRIPTION for ep in described)
    assert stats.binomtest(len(described), 100, 0.6).pvalue > 1e-3
