"""The parametric synthetic tasks: `coinflip` (Bernoulli coins) and `normal` (Gaussians at a fixed precision).

Documented in docs/tasks.md#coinflip and #normal. Each instance's parameters come from its own generator
(`rng_for`), and its episode values are fresh draws from the stream `generate_episodes` hands to the
instance's sampler, so a coin with P(Heads) = p comes up heads at rate p, and a normal episode that states a
mean, std and precision prints draws from exactly that normal at exactly that precision. No global RNG is
touched.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..episodes import Instance, Sample, rng_for
from ..sourcekit.values import instance_count
from ..task import PAPER_CITATION, PAPER_URL, Source, TaskSpec, episode_task

if TYPE_CHECKING:
    from ..task import FetchedFiles

N_COINS = 1000
N_NORMALS = 1000
#: The reference draws every coin's p from one generator seeded 42 (episode seeds start at 43).
COIN_PARAM_SEED = 42
#: The first normal instance's seed; instance i's is s_i = s_{i-1} + i (42, 43, 45, 48, ...).
NORMAL_BASE_SEED = 42

COIN_LABELS = ("Heads", "Tails")
NORMAL_PARAM_FORMATS = (".5f", ".4f", ".3f", ".2f", ".4e", ".2e")


# ---------------------------------------------------------------------------------------------------
# coinflip


def coin_descriptions(p: float) -> list[str]:
    """The seven descriptions of a coin with P(Heads) = p; percentages have one decimal, not the reference's
    float artefacts like ``61.199999999999996%`` (docs/deviations.md#data-fixes-in-single-sources)."""
    p_hat, q_hat = round(p, 3), round(1 - p, 3)
    probs = str({"Heads": p_hat, "Tails": q_hat})
    percents = str({"Heads": f"{100 * p_hat:.1f}%", "Tails": f"{100 * q_hat:.1f}%"})
    if p > 0.5:
        likelier = "Heads is more likely than Tails."
    elif p < 0.5:
        likelier = "Tails is more likely than Heads."
    else:
        likelier = "Heads and Tails are equally likely."
    return [
        str(list(COIN_LABELS)),
        probs,
        f"Bernoulli({probs})",
        percents,
        f"Bernoulli({percents})",
        f"Options: {list(COIN_LABELS)}\n{likelier}",
        "Coin flip with Heads and Tails. It is potentially biased.",
    ]


def coin_sampler(p: float) -> Callable[[np.random.Generator, int], list[Sample]]:
    """Fresh Bernoulli(p) flips: Heads with probability p."""

    def draw(rng: np.random.Generator, n: int) -> list[Sample]:
        heads = rng.random(n) < p
        return [(None, COIN_LABELS[0] if h else COIN_LABELS[1]) for h in heads]

    return draw


def coin_instances(task: TaskSpec, fetched: FetchedFiles | None = None) -> list[Instance]:
    out = []
    for i in range(instance_count(task, N_COINS)):
        key = f"coin/{i}"
        p = float(rng_for(COIN_PARAM_SEED, key, "params").random())
        out.append(
            Instance(
                key=key,
                name=task.name,
                descriptions=coin_descriptions(p),
                sampler=coin_sampler(p),
                meta={"p": p},
                choices=COIN_LABELS,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------------
# normal


def normal_seed(i: int) -> int:
    """s_i = 42 + 1 + 2 + ... + i: the reference's per-instance seed, kept as the parameter base seed."""
    return NORMAL_BASE_SEED + i * (i + 1) // 2


def draw_normal_params(rng: np.random.Generator) -> tuple[float, float, int]:
    """(mean, std, decimals) in the draw order of docs/tasks.md#normal."""
    u = rng.random()
    if 0.4 <= u < 0.6:
        mean = float(rng.poisson(10))
        std = float(rng.poisson(20))
        if rng.random() < 0.5:
            mean = -mean
        if rng.random() < 0.5 and std != 0:
            std = 1.0 / std
    else:
        mean = rng.uniform(0, 100)
        std = rng.uniform(1, 5)
        if 0.2 <= u < 0.4:
            mean *= math.exp(rng.normal(0, 4))
            std *= math.exp(rng.normal(0, 3))
    scale = math.exp(rng.uniform(-10, 10))
    decimals = int(rng.poisson(3)) + 1
    return float(mean * scale), float(std * scale), decimals


def normal_descriptions(mean: float, std: float, decimals: int) -> list[str]:
    """The 126 descriptions: 6 parameter formats x 7 openers x 3 precision suffixes."""
    suffixes = (f"Precision: {decimals}", f"{decimals} decimal places", "")
    out = []
    for fmt in NORMAL_PARAM_FORMATS:
        m, s = format(mean, fmt), format(std, fmt)
        openers = (
            f"Normal distribution with mean {m} and std {s}.",
            f"The following are draws from a normal distribution with mean {m} and standard deviation {s}.",
            f"x~N({m}, {s})",
            "Normal distribution",
            "Floating point numbers",
            "Decimal numbers",
            "Numbers",
        )
        out.extend(f"{opener}\n{suffix}" for opener in openers for suffix in suffixes)
    return out


def normal_sampler(
    mean: float, std: float, decimals: int
) -> Callable[[np.random.Generator, int], list[Sample]]:
    """Fresh Normal(mean, std) draws printed in fixed point with ``decimals`` digits (never scientific)."""

    def draw(rng: np.random.Generator, n: int) -> list[Sample]:
        return [(None, f"{x:.{decimals}f}") for x in rng.normal(mean, std, n)]

    return draw


def normal_instances(task: TaskSpec, fetched: FetchedFiles | None = None) -> list[Instance]:
    out = []
    for i in range(instance_count(task, N_NORMALS)):
        key = f"normal/{i}"
        mean, std, decimals = draw_normal_params(rng_for(normal_seed(i), key, "params"))
        out.append(
            Instance(
                key=key,
                name=task.name,
                descriptions=normal_descriptions(mean, std, decimals),
                sampler=normal_sampler(mean, std, decimals),
                meta={"mean": mean, "std": std, "round_digits": decimals},
            )
        )
    return out


COINFLIP = Source("coinflip", "Synthetic coin flips", "SYN", PAPER_URL, "Apache-2.0", PAPER_CITATION)
NORMAL = Source("normal", "Synthetic normal draws", "SYN", PAPER_URL, "Apache-2.0", PAPER_CITATION)

TASKS = (
    episode_task("coinflip", COINFLIP, side="train", kind="single_variable", build=coin_instances,
                 choices=COIN_LABELS, seed=43, n_iter="~128"),
    episode_task("normal", NORMAL, side="train", kind="single_variable", build=normal_instances,
                 n_iter="~128", description_prob=0.4),
)  # fmt: skip
