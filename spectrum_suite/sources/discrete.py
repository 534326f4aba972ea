"""`cards` and the nine pre-drawn discrete distributions (docs/tasks.md#cards and #discrete-distributions).

Each of the nine tasks has 500 instances. Instance i draws its parameters, its number of values n (~1024) and
the n values from its own generator ``rng_for(task seed, key, "params")``, so no two instances share a stream
(the reference reseeded one global RNG and collapsed `poisson` and `geometric` to two distinct rows:
docs/deviations.md#seeding-independent-streams-per-instance). The realised draws are the instance's
population; its one episode is all of them in random order. Values and parameters are Python scalars before
they are printed, so no ``np.int64(...)`` reprs as the reference printed under numpy 2
(docs/deviations.md#data-fixes-in-single-sources).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..episodes import Instance, draw_length, rng_for
from ..sourcekit.values import instance_count
from ..task import PAPER_CITATION, PAPER_URL, Source, TaskSpec, episode_task

if TYPE_CHECKING:
    from ..task import FetchedFiles

SOURCE = Source(
    "discrete", "Synthetic discrete distributions", "SYN", PAPER_URL, "Apache-2.0", PAPER_CITATION
)

N_DISTRIBUTIONS = 500

CARD_SUITS = ("♣", "♦", "♥", "♠")
CARD_RANKS = tuple(str(r) for r in range(2, 11)) + ("J", "Q", "K", "A")
DECK = tuple(f"{rank}{suit}" for suit in CARD_SUITS for rank in CARD_RANKS)
CARDS_DESCRIPTION = (
    "Draw cards at random from a standard 52-card deck without replacement. The deck contains all standard "
    "playing cards (2-10, J, Q, K, A) in four suits (♣, ♦, ♥, ♠)."
)


def approx(m: int, rng: np.random.Generator) -> int:
    """One draw of "~m" = Geometric(2/m) + Poisson(m/2) (docs/tasks.md#episode-lengths)."""
    return draw_length(f"~{m}", rng)


@dataclass
class Drawn:
    """One pre-drawn distribution: its printed values, descriptions, metadata and label set."""

    values: list[str]
    descriptions: list[str]
    meta: dict[str, Any]
    choices: tuple[str, ...] | None = None


def _prob_vector(probs: np.ndarray) -> str:
    """``{0: 0.1234, 1: 0.8766}``: the probability vector as the descriptions print it."""
    return str({i: round(float(p), 4) for i, p in enumerate(probs)})


def draw_poisson(rng: np.random.Generator) -> Drawn:
    lam = float(rng.gamma(0.5, 2000.0))
    n = approx(1024, rng)
    values = [str(v) for v in rng.poisson(lam, n).tolist()]
    descriptions = [
        f"Draws from a Poisson distribution with parameter {lam}.",
        "Poisson distribution",
        f"Poisson({lam})",
    ]
    return Drawn(values, descriptions, {"lambda": lam, "n_values": n})


def draw_geometric(rng: np.random.Generator) -> Drawn:
    p = float(rng.beta(1.0, 1.0))
    n = approx(1024, rng)
    values = [str(v) for v in rng.geometric(p, n).tolist()]
    descriptions = [
        f"Draws from a geometric distribution with parameter {p}.",
        "Geometric distribution",
        f"Geometric({p})",
    ]
    return Drawn(values, descriptions, {"p": p, "n_values": n})


def draw_binomial(rng: np.random.Generator) -> Drawn:
    p = float(rng.beta(1.0, 1.0))
    trials = approx(1024, rng)
    n = approx(1024, rng)
    values = [str(v) for v in rng.binomial(trials, p, n).tolist()]
    descriptions = [
        f"Draws from a binomial distribution with parameters n={trials} and p={p}.",
        "Binomial distribution",
        f"Binomial({trials}, {p})",
    ]
    return Drawn(values, descriptions, {"p": p, "n_trials": trials, "n_values": n})


def draw_negative_binomial(rng: np.random.Generator) -> Drawn:
    r = float(rng.beta(1.0, 1.0))
    p = float(rng.uniform(0.0, 1.0))
    n = approx(1024, rng)
    values = [str(v) for v in rng.negative_binomial(r, p, n).tolist()]
    descriptions = [
        f"Draws from a negative binomial distribution with parameters r={r:.2f} and p={p:.2f}.",
        "Negative binomial distribution",
        f"NegativeBinomial({r:.2f}, {p:.2f})",
    ]
    return Drawn(values, descriptions, {"r": r, "p": p, "n_values": n})


def draw_categorical(rng: np.random.Generator) -> Drawn:
    k = max(2, approx(12, rng))
    probs = rng.dirichlet(np.ones(k))
    n = approx(1024, rng)
    values = [str(v) for v in rng.choice(k, size=n, p=probs).tolist()]
    pv = _prob_vector(probs)
    descriptions = [
        f"Draws from a categorical distribution with {k} categories and probability vector {pv}.",
        "Categorical distribution",
        f"SingleVariableIID({k}, {pv})",
    ]
    meta = {"n_categories": k, "probs": [float(x) for x in probs], "n_values": n}
    return Drawn(values, descriptions, meta, tuple(str(i) for i in range(k)))


def draw_multinomial(rng: np.random.Generator) -> Drawn:
    k = max(2, approx(12, rng))
    probs = rng.dirichlet(np.ones(k))
    n = approx(1024, rng)
    m = approx(32, rng)
    as_dict = bool(rng.random() < 0.5)
    vectors = rng.multinomial(m, probs, size=n).tolist()
    if as_dict:
        values = [str(dict(enumerate(counts))) for counts in vectors]
    else:
        values = [str([str(c) for c in counts]) for counts in vectors]
    pv = _prob_vector(probs)
    descriptions = [
        f"Draws from a multinomial distribution with {k} categories, {m} total draws, and probability vector {pv}.",
        "Multinomial distribution",
        f"Multinomial({k}, {m}, {pv})",
    ]
    meta = {
        "n_categories": k,
        "n_draws": m,
        "probs": [float(x) for x in probs],
        "format": "dict" if as_dict else "list",
        "n_values": n,
    }
    return Drawn(values, descriptions, meta)


def draw_hypergeometric(rng: np.random.Generator) -> Drawn:
    population = approx(128, rng)
    good = int(rng.integers(1, population + 1))
    draws = int(rng.integers(1, population + 1))
    n = approx(1024, rng)
    values = [str(v) for v in rng.hypergeometric(good, population - good, draws, n).tolist()]
    descriptions = [
        f"Draws from a hypergeometric distribution with population size N={population}, "
        f"number of positive draws K={good}, number of draws n={draws}.",
        "Hypergeometric distribution",
    ]
    return Drawn(values, descriptions, {"N": population, "K": good, "n_draws": draws, "n_values": n})


def draw_geometric_beta(rng: np.random.Generator) -> Drawn:
    p = float(rng.beta(1.0, 1.0))
    n = approx(1024, rng)
    values = [str(v) for v in rng.geometric(p, n).tolist()]
    descriptions = [
        f"Draws from a geometric distribution with success probability p={p:.3f}.",
        "Geometric distribution",
    ]
    return Drawn(values, descriptions, {"p": p, "n_draws": n, "n_values": n})


def draw_zipfian(rng: np.random.Generator) -> Drawn:
    """numpy's Zipf(alpha): it redraws values beyond 2**63, so for alpha near 1 the draws are Zipf truncated
    there (an unbounded Zipf puts most of its mass on numbers with more digits than any text can hold)."""
    alpha = float(rng.uniform(1.000001, 2.5))
    n = approx(1024, rng)
    values = [str(v) for v in rng.zipf(alpha, n).tolist()]
    descriptions = [f"Draws from a Zipfian distribution with alpha={alpha:.3f}.", "Zipfian distribution"]
    return Drawn(values, descriptions, {"alpha": alpha, "n_draws": n, "n_values": n})


def distribution_instances(task: TaskSpec, draw: Callable[[np.random.Generator], Drawn]) -> list[Instance]:
    """The 500 (or ``max_instances``) instances of one of the nine distributions, each drawn by ``draw``."""
    out = []
    for i in range(instance_count(task, N_DISTRIBUTIONS)):
        key = f"{task.name}/{i}"
        drawn = draw(rng_for(task.params.seed, key, "params"))
        out.append(
            Instance(
                key=key,
                name=task.name,
                descriptions=drawn.descriptions,
                population=[(None, v) for v in drawn.values],
                meta=drawn.meta,
                choices=drawn.choices,
            )
        )
    return out


def card_instances(task: TaskSpec, fetched: FetchedFiles | None = None) -> list[Instance]:
    """The one deck: each episode is a random order of all 52 cards (sampling without replacement)."""
    deck = Instance(
        key="deck",
        name=task.name,
        descriptions=[CARDS_DESCRIPTION],
        population=[(None, card) for card in DECK],
        meta={"n_cards": len(DECK)},
        choices=DECK,
    )
    return [deck]


def distribution(draw: Callable[[np.random.Generator], Drawn]):
    """A task whose instances are pre-drawn by ``draw`` (generated in code: nothing to fetch)."""

    def build(task: TaskSpec, fetched: FetchedFiles | None = None) -> list[Instance]:
        return distribution_instances(task, draw)

    return build


def _distribution_task(name: str, draw: Callable[[np.random.Generator], Drawn]) -> TaskSpec:
    return episode_task(name, SOURCE, side="train", kind="single_variable", build=distribution(draw), seed=43,
                        max_instances=500)  # fmt: skip


TASKS = (
    episode_task("cards", SOURCE, side="train", kind="single_variable", build=card_instances, n_per=100, n_iter=52),
    _distribution_task("multinomial", draw_multinomial),
    _distribution_task("geometric", draw_geometric),
    _distribution_task("poisson", draw_poisson),
    _distribution_task("binomial", draw_binomial),
    _distribution_task("negative_binomial", draw_negative_binomial),
    _distribution_task("categorical", draw_categorical),
    _distribution_task("geometric_beta", draw_geometric_beta),
    _distribution_task("hypergeometric", draw_hypergeometric),
    _distribution_task("zipfian", draw_zipfian),
)  # fmt: skip
