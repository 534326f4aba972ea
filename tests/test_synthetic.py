"""`coinflip` and `normal`: the samples follow the stated distribution, the strings are exact, builds repeat."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest
from scipy import stats

from spectrum_suite.episodes import Episode, generate_episodes
from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import synthetic


def build(name: str, cap: int | None = None, seed: int | None = None) -> list[Episode]:
    """Episodes of a task through its adapter, as the builder makes them (optionally capped or reseeded)."""
    task = get_task(name)
    changes = {k: v for k, v in (("max_instances", cap), ("seed", seed)) if v is not None}
    task = dataclasses.replace(task, params=dataclasses.replace(task.params, **changes))
    return list(generate_episodes(task.build(task, fetch_files(name, task.files, None)), task.params))


def outputs(episode: Episode) -> list[str]:
    return [m["content"] for m in episode.messages() if m["role"] == "output"]


@pytest.fixture(scope="module")
def coins() -> list[Episode]:
    return build("coinflip")


@pytest.fixture(scope="module")
def normals() -> list[Episode]:
    return build("normal")


# ---------------------------------------------------------------------------------------------------
# coinflip


def test_coin_descriptions_exact() -> None:
    assert synthetic.coin_descriptions(0.612) == [
        "['Heads', 'Tails']",
        "{'Heads': 0.612, 'Tails': 0.388}",
        "Bernoulli({'Heads': 0.612, 'Tails': 0.388})",
        "{'Heads': '61.2%', 'Tails': '38.8%'}",  # the reference printed 61.199999999999996%
        "Bernoulli({'Heads': '61.2%', 'Tails': '38.8%'})",
        "Options: ['Heads', 'Tails']\nHeads is more likely than Tails.",
        "Coin flip with Heads and Tails. It is potentially biased.",
    ]
    assert synthetic.coin_descriptions(0.5)[5].endswith("\nHeads and Tails are equally likely.")
    low = synthetic.coin_descriptions(0.12345)
    assert low[1] == "{'Heads': 0.123, 'Tails': 0.877}"
    assert low[3] == "{'Heads': '12.3%', 'Tails': '87.7%'}"
    assert low[5].endswith("\nTails is more likely than Heads.")


def test_coins_follow_their_p(coins: list[Episode]) -> None:
    """Heads counts of all 1000 coins against Binomial(n, p): a chi-square over coins, and each coin's p."""
    assert len(coins) == 1000
    chi2, worst = 0.0, 1.0
    for ep in coins:
        p = ep.instance.meta["p"]
        flips = outputs(ep)
        assert set(flips) <= {"Heads", "Tails"}
        heads, n = flips.count("Heads"), len(flips)
        chi2 += (heads - n * p) ** 2 / (n * p * (1 - p))
        worst = min(worst, stats.binomtest(heads, n, p).pvalue)
    assert stats.chi2.sf(chi2, df=len(coins)) > 1e-3
    assert worst > 1e-3 / len(coins)  # Bonferroni over coins


def test_one_coin_long_run() -> None:
    inst = synthetic.coin_instances(get_task("coinflip"))[7]
    flips = [y for _, y in inst.draw(np.random.default_rng(0), 20_000)]
    assert stats.binomtest(flips.count("Heads"), len(flips), inst.meta["p"]).pvalue > 1e-3


def test_coin_parameters_uniform_and_distinct(coins: list[Episode]) -> None:
    ps = [ep.instance.meta["p"] for ep in coins]
    assert len(set(ps)) == 1000
    assert all(isinstance(p, float) for p in ps)
    assert stats.kstest(ps, "uniform").pvalue > 1e-3


def test_coin_episode_lengths_and_descriptions(coins: list[Episode]) -> None:
    lengths = np.array([len(ep.samples) for ep in coins])
    assert abs(lengths.mean() - 128) < 4 * 64 / math.sqrt(len(coins))  # ~128 has sd 64
    assert lengths.min() >= 1
    described = [ep for ep in coins if ep.include_description]
    assert stats.binomtest(len(described), len(coins), 0.6).pvalue > 1e-3
    for ep in described:
        assert ep.messages()[0]["content"] in synthetic.coin_descriptions(ep.instance.meta["p"])
    seen = {synthetic.coin_descriptions(ep.instance.meta["p"]).index(ep.description) for ep in coins}
    assert seen == set(range(7))
    assert all(tuple(ep.instance.choices) == ("Heads", "Tails") for ep in coins)


# ---------------------------------------------------------------------------------------------------
# normal


def test_normal_seeds() -> None:
    assert [synthetic.normal_seed(i) for i in range(6)] == [42, 43, 45, 48, 52, 57]


def test_normal_description_pool_exact() -> None:
    pool = synthetic.normal_descriptions(12.5, 0.25, 3)
    assert len(pool) == 126
    assert pool[:4] == [
        "Normal distribution with mean 12.50000 and std 0.25000.\nPrecision: 3",
        "Normal distribution with mean 12.50000 and std 0.25000.\n3 decimal places",
        "Normal distribution with mean 12.50000 and std 0.25000.\n",
        "The following are draws from a normal distribution with mean 12.50000 and standard deviation 0.25000."
        "\nPrecision: 3",
    ]
    assert "x~N(1.2500e+01, 2.5000e-01)\n3 decimal places" in pool
    assert "x~N(12.50, 0.25)\n" in pool
    for opener in ("Normal distribution", "Floating point numbers", "Decimal numbers", "Numbers"):
        assert pool.count(f"{opener}\nPrecision: 3") == 6
        assert pool.count(f"{opener}\n") == 6


def test_normal_values_printed_at_stated_precision(normals: list[Episode]) -> None:
    assert len(normals) == 1000
    for ep in normals:
        d = ep.instance.meta["round_digits"]
        assert isinstance(d, int) and d >= 1
        pattern = re.compile(rf"-?\d+\.\d{{{d}}}")
        for value in outputs(ep):
            assert pattern.fullmatch(value), (ep.instance.key, d, value)
        if ep.include_description:
            assert ep.messages()[0]["content"] in synthetic.normal_descriptions(
                ep.instance.meta["mean"], ep.instance.meta["std"], d
            )


def test_normal_values_follow_stated_normal(normals: list[Episode]) -> None:
    """KS of the printed values, standardised by each instance's stated mean and std, against N(0, 1).

    Only instances whose printed precision resolves the spread (std >= 1000 units of the last digit) take
    part, so the rounding to d decimals does not distort the test.
    """
    z: list[float] = []
    per_instance = []
    for ep in normals:
        meta = ep.instance.meta
        if meta["std"] <= 0 or meta["std"] * 10 ** meta["round_digits"] < 1000:
            continue
        values = (np.array([float(v) for v in outputs(ep)]) - meta["mean"]) / meta["std"]
        z.extend(values.tolist())
        per_instance.append(stats.kstest(values, "norm").pvalue)
    assert len(per_instance) > 300 and len(z) > 30_000
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert min(per_instance) > 1e-3 / len(per_instance)


def test_normal_parameters() -> None:
    """Priors: decimals = Poisson(3) + 1; |mean| and std spread over many orders of magnitude."""
    instances = synthetic.normal_instances(get_task("normal"))
    digits = np.array([inst.meta["round_digits"] for inst in instances])
    assert abs(digits.mean() - 4) < 4 * math.sqrt(3 / len(digits))
    assert digits.min() >= 1
    means = np.abs([inst.meta["mean"] for inst in instances])
    assert np.ptp(np.log10(means[means > 0])) > 10
    assert len({(inst.meta["mean"], inst.meta["std"]) for inst in instances}) == 1000
    assert all(isinstance(inst.meta["mean"], float) for inst in instances)


def test_normal_description_rate(normals: list[Episode]) -> None:
    described = sum(ep.include_description for ep in normals)
    assert stats.binomtest(described, len(normals), 0.4).pvalue > 1e-3


# ---------------------------------------------------------------------------------------------------
# determinism and errors


@pytest.mark.parametrize("name", ["coinflip", "normal"])
def test_same_seed_same_bytes(name: str) -> None:
    first = [ep.messages() for ep in build(name, cap=50)]
    assert first == [ep.messages() for ep in build(name, cap=50)]
    assert first != [ep.messages() for ep in build(name, cap=50, seed=7)]


def test_cap_keeps_instances(coins: list[Episode]) -> None:
    """Building only the first N instances gives those instances exactly as the full build does."""
    capped = build("coinflip", cap=20)
    assert [ep.messages() for ep in capped] == [ep.messages() for ep in coins[:20]]
