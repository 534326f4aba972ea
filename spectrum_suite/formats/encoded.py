"""Encoded episodes: token ids with loss labels and per-token output index, and the one set of rules for cutting them.

An encoded episode carries, per token, its label (-100 when unscored) and the sample index of the output whose
scored span holds it (-1 elsewhere). Everything that cuts an episode works here: at a maximum length
(`truncate`: training's ``max_length``, the paper's 8192-token cap, the k-selection window), right after
scored output k (`cut_after`: an evaluation sequence), and where the first scored output ends
(`first_scored_end`). An output whose scored span a cut goes through is the episode's ``cut_output``: the
k-selection window does not count it as complete, and training can unlabel it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

IGNORE = -100


@dataclass
class EncodedEpisode:
    """One tokenised episode: ids, labels (-100 = unscored) and per-token sample index (-1 = none).

    ``truncated`` says a maximum length cut tokens off the end; ``cut_output`` is the sample index of the output
    whose scored span the cut went through (None when the cut fell outside every scored span), and
    ``partial_unlabelled`` says its tokens before the cut were unlabelled.
    """

    input_ids: list[int]
    labels: list[int]
    output_index: list[int]
    episode: int = -1  # the caller's episode number, carried into every record
    truncated: bool = False
    cut_output: int | None = None
    partial_unlabelled: bool = False

    def __post_init__(self) -> None:
        n = len(self.input_ids)
        if len(self.labels) != n or len(self.output_index) != n:
            raise ValueError(
                f"episode {self.episode}: input_ids, labels and output_index must have one entry per token "
                f"(got {n}, {len(self.labels)}, {len(self.output_index)})"
            )

    @property
    def n_labels(self) -> int:
        """How many tokens carry loss."""
        return sum(label != IGNORE for label in self.labels)


@dataclass
class ScoredSpan:
    """The token positions of one scored output: its rank among scored outputs and its sample index."""

    example_ind: int
    sample_index: int
    positions: list[int]


def scored_spans(episode: EncodedEpisode) -> list[ScoredSpan]:
    """The scored outputs of an episode in order; ``example_ind`` = rank (the number of earlier scored outputs)."""
    spans: list[ScoredSpan] = []
    by_sample: dict[int, ScoredSpan] = {}
    for pos, (label, sample) in enumerate(zip(episode.labels, episode.output_index, strict=True)):
        if label == IGNORE:
            continue
        if sample < 0:
            raise ValueError(f"episode {episode.episode}: token {pos} is scored but belongs to no output")
        span = by_sample.get(sample)
        if span is None:
            if spans and sample < spans[-1].sample_index:
                raise ValueError(f"episode {episode.episode}: scored outputs are out of order at token {pos}")
            span = ScoredSpan(len(spans), sample, [])
            spans.append(span)
            by_sample[sample] = span
        elif span is not spans[-1]:
            raise ValueError(f"episode {episode.episode}: output {sample} is scored in two separate places")
        span.positions.append(pos)
    return spans


def truncate(
    episode: EncodedEpisode, max_length: int, *, drop_partial_output: bool = False
) -> EncodedEpisode:
    """The first ``max_length`` tokens, noting the output whose scored span the cut goes through.

    With ``drop_partial_output`` that output's tokens before the cut are unlabelled (off by default, as in
    the paper). An episode that fits is returned as it is.
    """
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ValueError(f"max_length must be a positive int, got {max_length!r}")
    if len(episode.input_ids) <= max_length:
        return episode
    cut, labels, owner = max_length, episode.labels, episode.output_index
    inside = labels[cut - 1] != IGNORE and labels[cut] != IGNORE and owner[cut] == owner[cut - 1]
    victim = owner[cut - 1] if inside else None
    kept = labels[:cut]
    dropped = drop_partial_output and victim is not None
    if dropped:
        kept = [IGNORE if owner[k] == victim else label for k, label in enumerate(kept)]
    return replace(
        episode, input_ids=episode.input_ids[:cut], labels=kept, output_index=owner[:cut], truncated=True,
        cut_output=victim, partial_unlabelled=dropped,
    )  # fmt: skip


def cut_after(episode: EncodedEpisode, k: int) -> EncodedEpisode | None:
    """The episode cut right after the last token of scored output ``k`` (None when it has no output k)."""
    spans = scored_spans(episode)
    if len(spans) <= k:
        return None
    end = spans[k].positions[-1] + 1
    return EncodedEpisode(
        episode.input_ids[:end], episode.labels[:end], episode.output_index[:end], episode=episode.episode
    )


def complete_outputs(episode: EncodedEpisode) -> int | None:
    """The rank of the last scored output that is whole (a ``cut_output`` is not); None when nothing is scored."""
    spans = scored_spans(episode)
    if not spans:
        return None
    return spans[-1].example_ind - (1 if spans[-1].sample_index == episode.cut_output else 0)


def first_scored_end(episode: EncodedEpisode) -> int:
    """The number of tokens up to the end of the first scored output (-1 when nothing is scored)."""
    labels, owner = episode.labels, episode.output_index
    for k, label in enumerate(labels):
        if label != IGNORE:
            end = k
            while end + 1 < len(labels) and owner[end + 1] == owner[k] and labels[end + 1] != IGNORE:
                end += 1
            return end + 1
    return -1
