"""Plain ways of computing what the library computes cleverly: the baselines of the benchmarks and the
oracles of the tests.

`full_candidate_scores` scores every prompt + candidate pair from scratch in one padded forward pass each batch
(the paper's way), against which `tuning.lm.LM.score_candidates` (prompt run once, its cache reused) is timed
and checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tuning.lm import LM, in_batches
from tuning.sequences import CandidateTokens


def full_candidate_scores(
    lm: LM, items: Sequence[CandidateTokens], *, batch_size: int = 32
) -> list[list[float]]:
    """Σ log p(candidate | prompt) for every candidate of every item, each pair run whole."""
    import torch

    pairs = [(i, c) for i, t in enumerate(items) for c in t.candidate_ids]
    order = sorted(range(len(pairs)), key=lambda k: len(items[pairs[k][0]].prompt_ids) + len(pairs[k][1]))

    def run(chunk: Sequence[int]) -> list[float]:
        ids, mask = lm.pad([list(items[pairs[k][0]].prompt_ids) + list(pairs[k][1]) for k in chunk])
        with torch.inference_mode():
            logprobs = torch.log_softmax(
                lm.model(input_ids=ids, attention_mask=mask, use_cache=False).logits.float(), -1
            )
        sums = []
        for row, k in enumerate(chunk):
            n_prompt, cand = len(items[pairs[k][0]].prompt_ids), torch.tensor(list(pairs[k][1]))
            span = logprobs[row, n_prompt - 1 : n_prompt - 1 + len(cand)].cpu()
            sums.append(float(span.gather(1, cand[:, None]).sum()))
        return sums

    by_pair = dict(zip(order, in_batches(run, order, batch_size, progress=False), strict=True))
    out: list[list[float]] = [[] for _ in items]
    for k, (i, _) in enumerate(pairs):
        out[i].append(by_pair[k])
    return out


def full_candidate_scores_of(
    lm: LM, prompt_ids: Sequence[int], candidate_ids: Sequence[Sequence[int]], **kw: Any
) -> list[float]:
    """`full_candidate_scores` of one prompt."""
    return full_candidate_scores(
        lm, [CandidateTokens(list(prompt_ids), [list(c) for c in candidate_ids], 0)], **kw
    )[0]
