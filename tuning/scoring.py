"""Prequential output scoring: every scored output of an episode in one teacher-forced forward pass.

`spec/evaluations.md` §A.4. Each sequence carries, per token, its label (-100 when unscored) and the
sample index of the output whose scored span holds it (`spectrum_suite.formats.tokenize`'s
``output_index``). One forward pass per batch (right padding, pad = EOS) gives, at every scored token,
log p(gold) over the full vocabulary, whether gold is the argmax, and the other tokens above ln 0.01
(for calibration). Candidate scoring and sampling live in `scoring_candidates` and `scoring_sampling`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tuning.backoff import map_batches

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

IGNORE = -100
#: Other-token log-probs above ln(this) are kept for calibration (spec §A.6, threshold t).
INCORRECT_THRESHOLD = 0.01


@dataclass
class EncodedEpisode:
    """One tokenised episode: ids, labels (-100 = unscored) and per-token sample index (-1 = none)."""

    input_ids: list[int]
    labels: list[int]
    output_index: list[int]
    episode: int = -1  # the caller's episode number, carried into every record

    def __post_init__(self) -> None:
        n = len(self.input_ids)
        if len(self.labels) != n or len(self.output_index) != n:
            raise ValueError(
                f"episode {self.episode}: input_ids, labels and output_index must have one entry per token "
                f"(got {n}, {len(self.labels)}, {len(self.output_index)})"
            )


@dataclass
class ScoredSpan:
    """The token positions of one scored output: its rank among scored outputs and its sample index."""

    example_ind: int
    sample_index: int
    positions: list[int]


@dataclass
class OutputRecord:
    """Per-output record of spec §A.4 (``loss`` is the sum of the token NLLs, terminator included)."""

    episode: int
    example_ind: int
    sample_index: int
    token_ids: list[int]
    token_logprobs: list[float]
    token_correct: list[int]
    incorrect_logprobs: list[float] = field(default_factory=list)

    @property
    def loss(self) -> float:
        return -math.fsum(self.token_logprobs)

    @property
    def all_acc(self) -> int:
        return min(self.token_correct)


def scored_spans(episode: EncodedEpisode) -> list[ScoredSpan]:
    """The scored outputs of an episode in order; ``example_ind`` = rank, as in spec `formats.md` §4.3."""
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


def cut_after(episode: EncodedEpisode, k: int) -> EncodedEpisode | None:
    """The episode cut right after the last token of scored output ``k`` (None when it has no output k)."""
    spans = scored_spans(episode)
    if len(spans) <= k:
        return None
    end = spans[k].positions[-1] + 1
    return EncodedEpisode(
        episode.input_ids[:end], episode.labels[:end], episode.output_index[:end], episode=episode.episode
    )


def _forward_logits(
    model: PreTrainedModel, ids: torch.Tensor, mask: torch.Tensor, keep: torch.Tensor
) -> torch.Tensor:
    """Logits at the sequence positions ``keep`` only (saves the vocabulary projection elsewhere)."""
    try:
        logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep, use_cache=False).logits
    except TypeError:  # a model without logits_to_keep: project everything, then select
        logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
        return logits[:, keep]
    if logits.shape[1] != keep.numel():
        logits = logits[:, keep]
    return logits


def _score_batch(
    model: PreTrainedModel, batch: Sequence[EncodedEpisode], pad_id: int, threshold: float
) -> list[list[OutputRecord]]:
    """Records for each episode of one right-padded batch."""
    import torch

    device = next(model.parameters()).device
    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    spans_per = [scored_spans(e) for e in batch]
    targets: set[int] = set()
    for row, (ep, spans) in enumerate(zip(batch, spans_per, strict=True)):
        ids[row, : len(ep.input_ids)] = torch.tensor(ep.input_ids, dtype=torch.long)
        mask[row, : len(ep.input_ids)] = 1
        for span in spans:
            if span.positions[0] == 0:
                raise ValueError(f"episode {ep.episode}: the first token is scored, but has no context")
            targets.update(span.positions)
    if not targets:
        return [[] for _ in batch]
    keep_positions = sorted(p - 1 for p in targets)  # logits at p-1 predict the token at p
    column = {p + 1: c for c, p in enumerate(keep_positions)}
    keep = torch.tensor(keep_positions, dtype=torch.long, device=device)
    with torch.inference_mode():
        logits = _forward_logits(model, ids.to(device), mask.to(device), keep)
        logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
    log_t = math.log(threshold)
    out: list[list[OutputRecord]] = []
    for row, (ep, spans) in enumerate(zip(batch, spans_per, strict=True)):
        records = []
        for span in spans:
            cols = torch.tensor([column[p] for p in span.positions])
            gold = torch.tensor([ep.input_ids[p] for p in span.positions])
            dist = logprobs[row, cols]  # [n_tokens, vocab]
            gold_lp = dist.gather(1, gold[:, None])[:, 0]
            correct = dist.argmax(dim=-1) == gold
            above = dist > log_t
            above[torch.arange(len(gold)), gold] = False
            records.append(
                OutputRecord(
                    episode=ep.episode,
                    example_ind=span.example_ind,
                    sample_index=span.sample_index,
                    token_ids=gold.tolist(),
                    token_logprobs=gold_lp.tolist(),
                    token_correct=correct.int().tolist(),
                    incorrect_logprobs=dist[above].tolist(),
                )
            )
        out.append(records)
    return out


def score_episodes(
    model: PreTrainedModel,
    episodes: Sequence[EncodedEpisode],
    *,
    pad_id: int,
    batch_size: int = 4,
    threshold: float = INCORRECT_THRESHOLD,
    progress: bool = True,
    desc: str = "scoring outputs",
) -> list[OutputRecord]:
    """Teacher-forced records for every scored output of every episode (batches back off on OOM).

    Episodes are sorted by length inside the loop so that padding stays small; records come back in
    episode order. Sequences must already fit the model's context: the caller skips and counts the rest.
    """
    order = sorted(range(len(episodes)), key=lambda i: len(episodes[i].input_ids))
    ordered = [episodes[i] for i in order]
    per_episode = map_batches(
        lambda chunk: _score_batch(model, chunk, pad_id, threshold),
        ordered,
        batch_size,
        desc=desc,
        progress=progress,
    )
    by_index = dict(zip(order, per_episode, strict=True))
    return [rec for i in range(len(episodes)) for rec in by_index[i]]
