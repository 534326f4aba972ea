"""The episode sampler: instances in, format-independent episode rows out.

An *instance* is one data-generating process (a person, a coin, a country); an *episode* is an optional
description followed by several i.i.d. samples of that one process (`docs/tasks.md`). Every random
draw comes from its own `numpy.random.Generator`, keyed by (task seed, global instance key, repeat or
chunk, permutation, purpose), never from numpy's global RNG: instances cannot couple or collapse the way
the paper's code, which reseeded one global stream, made them (`docs/deviations.md#seeding-independent-streams-per-instance`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .task import EpisodeParams, parse_n_iter

#: ``n_iter`` of None means "every sample", capped at this many (the reference's 5000).
ALL_SAMPLES = 5000
#: Partitions of a pooled table (``n_per = -1``) read at most this many rows (an explicit cap: `docs/tasks.md#caps`).
PARTITION_CAP = 100_000

Sample = tuple[str | None, str]
"""One sample: the rendered input text (None when the task has no given variables) and the output."""


def _key_int(key: object) -> int:
    """A stable 64-bit integer for any key, so string keys seed identically in every process."""
    if isinstance(key, (int, np.integer)) and key >= 0:
        return int(key)
    digest = hashlib.sha1(str(key).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """An independent generator for one purpose, keyed by the task seed and any number of keys."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), *(_key_int(k) for k in keys)]))


# ---------------------------------------------------------------------------------------------------
# Field -> text rules (`docs/formats.md#field-to-text-rules`)


def _json_safe(value: Any) -> Any:
    """Python scalars for JSON, with missing numbers as null instead of a bare NaN (`docs/deviations.md#episode-rows-and-text`)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None:
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return value


def _scalar_text(value: Any) -> str:
    """`str()` of a single field, keeping raw Unicode and Python reprs of lists and dicts (rule 5)."""
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def render_fields(row: Mapping[str, Any], names: Sequence[str]) -> str | None:
    """Render the named fields of one row: nothing, `str(value)`, or `json.dumps` in declared order."""
    if not names:
        return None
    if len(names) == 1:
        return _scalar_text(row[names[0]])
    payload = {name: _json_safe(row[name]) for name in names}
    return json.dumps(payload, allow_nan=False)


def rows_to_samples(
    rows: Sequence[Mapping[str, Any]], inputs: Sequence[str], outputs: Sequence[str]
) -> list[Sample]:
    """Render table rows into samples with the field rules of `docs/formats.md#field-to-text-rules`."""
    return [(render_fields(row, inputs), render_fields(row, outputs)) for row in rows]


# ---------------------------------------------------------------------------------------------------
# Episode lengths


def draw_length(n_iter: int | str | None, rng: np.random.Generator) -> int:
    """One episode length: the int, ~m = Geometric(2/m) + Poisson(m/2) (mean about m), or all samples."""
    if n_iter is None:
        return ALL_SAMPLES
    if isinstance(n_iter, int):
        return n_iter
    m = int(n_iter[1:])
    return int(rng.geometric(2.0 / m) + rng.poisson(m / 2.0))


# ---------------------------------------------------------------------------------------------------
# Instances


@dataclass
class Instance:
    """One data-generating process of a task.

    Exactly one way of drawing samples is given:
    - ``population`` (optionally with ``probs``): samples are drawn without replacement, weighted by
      ``probs`` when given (SV-IID, or the rows of a table for conditional / individual tasks);
    - ``sampler(rng, n)``: a parametric process that returns ``n`` fresh samples (Bernoulli, Normal).
    """

    key: str
    name: str
    descriptions: Sequence[str]
    population: Sequence[Sample] | None = None
    probs: Sequence[float] | None = None
    sampler: Callable[[np.random.Generator, int], list[Sample]] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    choices: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if (self.population is None) == (self.sampler is None):
            raise ValueError(f"instance {self.key!r}: give exactly one of population and sampler")
        if self.probs is not None:
            if self.population is None or len(self.probs) != len(self.population):
                raise ValueError(f"instance {self.key!r}: probs must match the population, one per sample")

    def draw(self, rng: np.random.Generator, n: int) -> list[Sample]:
        """Draw ``n`` samples (all of a finite population when it has fewer)."""
        if self.sampler is not None:
            return self.sampler(rng, n)
        size = len(self.population)
        take = min(n, size)
        if take == 0:
            return []
        if self.probs is None:
            idx = rng.permutation(size)[:take]
        else:
            p = np.asarray(self.probs, dtype=float)
            nonzero = int(np.count_nonzero(p))
            take = min(take, nonzero)
            idx = rng.choice(size, size=take, replace=False, p=p / p.sum())
        return [self.population[i] for i in idx]


def pooled_instance(task: str, descriptions: Sequence[str], population: Sequence[Sample]) -> Instance:
    """The single instance of a pooled table (a conditional or joint task), keyed by the task's name."""
    return Instance(key=task, name=task, descriptions=descriptions, population=population)


@dataclass
class Episode:
    """One row of the episodes family, before it is written to Arrow."""

    instance: Instance
    repeat: int
    perm: int
    samples: list[Sample]
    include_description: bool
    description: str | None
    max_n: int
    seed_key: str

    def messages(self) -> list[dict[str, Any]]:
        """`[description] + ([input], output) * n`, with example_ind = position after the shuffle."""
        out: list[dict[str, Any]] = []
        if self.include_description and self.description is not None:
            out.append({"role": "description", "content": str(self.description), "example_ind": -1})
        for j, (x, y) in enumerate(self.samples):
            if x is not None:
                out.append({"role": "input", "content": str(x), "example_ind": j})
            out.append({"role": "output", "content": str(y), "example_ind": j})
        return out


def _assemble(
    inst: Instance, samples: list[Sample], params: EpisodeParams, repeat: int, perm: int, max_n: int
) -> Episode:
    """Shuffle the samples and decide on the description (`docs/tasks.md#descriptions`), each from its own stream."""
    keys = (inst.key, repeat, perm)
    order = rng_for(params.seed, *keys, "permute").permutation(len(samples))
    include = bool(rng_for(params.seed, *keys, "include").random() < params.description_prob)
    description = None
    if inst.descriptions:
        choice = int(rng_for(params.seed, *keys, "describe").integers(len(inst.descriptions)))
        description = str(inst.descriptions[choice])
    return Episode(
        instance=inst,
        repeat=repeat,
        perm=perm,
        samples=[samples[i] for i in order],
        include_description=include and description is not None,
        description=description,
        max_n=max_n,
        seed_key=f"{params.seed}/{inst.key}/{repeat}/{perm}",
    )


def generate_episodes(instances: Sequence[Instance], params: EpisodeParams) -> Iterator[Episode]:
    """Episodes of every instance: ``n_per`` independent draws, or a partition into chunks (``n_per = -1``)."""
    n_iter = parse_n_iter(params.n_iter)
    limit = len(instances) if params.max_instances is None else min(len(instances), params.max_instances)
    emitted = 0
    for inst in instances[:limit]:
        if params.max_total is not None and emitted >= params.max_total:
            return
        if params.n_per >= 1:
            for repeat in range(params.n_per):
                n = draw_length(n_iter, rng_for(params.seed, inst.key, repeat, "length"))
                samples = inst.draw(rng_for(params.seed, inst.key, repeat, "values"), n)
                if not samples:
                    continue
                for perm in range(params.permutations):
                    yield _assemble(inst, samples, params, repeat, perm, n)
                    emitted += 1
        else:
            cap = len(inst.population) if inst.population is not None else PARTITION_CAP
            pool = inst.draw(rng_for(params.seed, inst.key, "values"), min(cap, PARTITION_CAP))
            start, chunk = 0, 0
            while start < len(pool):
                if params.max_total is not None and emitted >= params.max_total:
                    return
                size = draw_length(n_iter, rng_for(params.seed, inst.key, chunk, "length"))
                samples = pool[start : start + size]
                for perm in range(params.permutations):
                    yield _assemble(inst, samples, params, chunk, perm, len(samples))
                    emitted += 1
                start += size
                chunk += 1


@dataclass
class InstanceGroup:
    """A sub-task inside one task with its own parameters: its own seed, caps or episode lengths.

    Adapters return a list of `Instance` (all under the task's parameters) or a list of groups, for tasks
    that bundle sub-distributions (the four BARE modes, the three haiku subtasks, ...).
    """

    instances: Sequence[Instance]
    params: EpisodeParams


def as_groups(
    produced: Sequence[Instance] | Sequence[InstanceGroup], params: EpisodeParams
) -> list[InstanceGroup]:
    """Normalise what an adapter returned into groups."""
    items = list(produced)
    if all(isinstance(item, InstanceGroup) for item in items):
        return items
    if all(isinstance(item, Instance) for item in items):
        return [InstanceGroup(items, params)]
    raise TypeError("an adapter must return only Instance objects or only InstanceGroup objects")
