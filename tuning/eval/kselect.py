"""k selection for steerability: how many outputs each episode is scored on (`docs/evaluation.md`).

k maximises the number of scored k-context positions, k · #{episodes whose output k fits the window}.
The window, format and tokenizer are parameters; the paper used the spectrum format with the
gemma-3-1b-it tokenizer and a 2048-token window. Two flaws of the paper's code are fixed
(`docs/deviations.md`): ``keep`` is recomputed when k is bumped to 2, and an output that ends exactly at the
window edge counts as complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tuning.eval.options import K_WINDOW, MIN_EPISODES_FOR_K2
from tuning.sequences import IGNORE, EncodedEpisode, scored_spans


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


def max_complete_index(episode: EncodedEpisode, window: int = K_WINDOW) -> int | None:
    """The largest scored-output rank whose every token fits in ``window`` tokens; None if none is scored."""
    labels = episode.labels[:window]
    if all(label == IGNORE for label in labels):
        return None
    cut = EncodedEpisode(episode.input_ids[:window], labels, episode.output_index[:window], episode.episode)
    spans = scored_spans(cut)
    last = spans[-1].example_ind
    cut_mid_output = (
        len(episode.labels) > window
        and labels[-1] != IGNORE
        and episode.labels[window] != IGNORE
        and episode.output_index[window] == episode.output_index[window - 1]
    )
    return last - 1 if cut_mid_output else last


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
