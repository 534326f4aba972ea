"""Which items an evaluation scores: k selection for steerability and the seeded per-task subsample.

Pure data and tokenizer logic, so that every consumer of the held-out tasks (`tuning.eval`, the
lm-evaluation-harness export) scores the same k and the same episodes and rows (`docs/evaluation.md`).

k maximises the number of scored k-context positions, k · #{episodes whose output k fits the window}. The
window, format and tokenizer are parameters; the paper used the spectrum format with the gemma-3-1b-it
tokenizer and a 2048-token window. Two flaws of the paper's code are fixed (`docs/deviations.md`): ``keep`` is
recomputed when k is bumped to 2, and an output that ends exactly at the window edge counts as complete. The
subsample keeps the first N of ``RandomState(seed).permutation(n)``, the paper's rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .formats.encoded import EncodedEpisode, complete_outputs, truncate
from .formats.format import Format

#: The k-selection window of the paper, in tokens.
K_WINDOW = 2048
#: Episodes with output 2 that must exist before a k <= 1 is raised to 2.
MIN_EPISODES_FOR_K2 = 10
#: The paper's cap on episodes (steerability) and rows (alignment) per task.
MAX_INSTANCES = 1000
#: The seed of the per-task subsample.
SUBSAMPLE_SEED = 42


class KSelectionError(ValueError):
    """Too few scored outputs to choose k."""


@dataclass
class KSelection:
    """The chosen k, the kept episode numbers, and each episode's complete outputs in the window."""

    k: int
    keep: list[int]
    max_example_ind: list[int | None]

    @property
    def dropped(self) -> int:
        return len(self.max_example_ind) - len(self.keep)


def subsample(n: int, cap: int | None, seed: int = SUBSAMPLE_SEED) -> list[int]:
    """Indices kept out of ``n``: all when under the cap, else the first ``cap`` of a seeded permutation."""
    if cap is None or n <= cap:
        return list(range(n))
    if cap < 1:
        raise ValueError(f"max_instances must be >= 1, got {cap}")
    return [int(i) for i in np.random.RandomState(seed).permutation(n)[:cap]]


def max_complete_index(episode: EncodedEpisode, window: int = K_WINDOW) -> int | None:
    """The largest scored-output rank whose every token fits in ``window`` tokens; None if none is scored."""
    return complete_outputs(truncate(episode, window))


def select_k(max_inds: Sequence[int | None], *, min_episodes_for_k2: int = MIN_EPISODES_FOR_K2) -> KSelection:
    """argmax_k k·#{max_ind >= k} (smallest k on ties); k <= 1 becomes 2 when enough episodes allow it."""
    present = [m for m in max_inds if m is not None]
    top = max(present, default=-1)
    if top < 1:
        raise KSelectionError(
            f"Not enough examples to select k: no episode has a complete scored output 1 "
            f"({len(present)} of {len(max_inds)} episodes have any scored token in the window)"
        )
    best_k, best_value = 1, -1
    for k in range(1, top + 1):
        value = k * sum(1 for m in present if m >= k)
        if value > best_value:
            best_k, best_value = k, value
    if best_k <= 1:
        with_two = sum(1 for m in present if m >= 2)
        if with_two < min_episodes_for_k2:
            raise KSelectionError(
                f"Not enough examples to select k: k = 1 was best and only {with_two} episodes have a "
                f"complete output 2 (need {min_episodes_for_k2} to use k = 2)"
            )
        best_k = 2
    keep = [i for i, m in enumerate(max_inds) if m is not None and m >= best_k]
    return KSelection(best_k, keep, list(max_inds))


def choose_k(
    episodes: Sequence[EncodedEpisode],
    *,
    window: int = K_WINDOW,
    min_episodes_for_k2: int = MIN_EPISODES_FOR_K2,
    fixed_k: int | None = None,
) -> KSelection:
    """k and the kept episodes; with ``fixed_k``, keep the episodes that have outputs 0 … fixed_k."""
    max_inds = [max_complete_index(e, window) for e in episodes]
    if fixed_k is None:
        return select_k(max_inds, min_episodes_for_k2=min_episodes_for_k2)
    if fixed_k < 0:
        raise ValueError(f"k must be >= 0, got {fixed_k}")
    keep = [i for i, m in enumerate(max_inds) if m is not None and m >= fixed_k]
    return KSelection(fixed_k, keep, max_inds)


def select_episodes(
    rows: Iterable[Mapping[str, Any]],
    k_format: Format,
    *,
    window: int = K_WINDOW,
    min_episodes_for_k2: int = MIN_EPISODES_FOR_K2,
    fixed_k: int | None = None,
    max_instances: int | None = MAX_INSTANCES,
) -> tuple[int, list[int], int]:
    """One task's k, the row indices to evaluate (in order) and how many episodes reached k.

    k is chosen on ``k_format``'s encoding of each row's messages (the spectrum format of one tokenizer for
    every model, so that runs compare), then the episodes that reach it are subsampled with the seeded
    permutation.
    """
    encoded = [k_format.encode(row["messages"], max_length=window, episode=i) for i, row in enumerate(rows)]
    selection = choose_k(encoded, window=window, min_episodes_for_k2=min_episodes_for_k2, fixed_k=fixed_k)
    chosen = [selection.keep[i] for i in subsample(len(selection.keep), max_instances)]
    return selection.k, chosen, len(selection.keep)
