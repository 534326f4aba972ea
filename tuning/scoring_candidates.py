"""Candidate scoring for distributional alignment (`spec/evaluations.md` §B.3), prefix-shared.

The prompt runs once with the key/value cache on; every candidate then continues from a copy of that
cache, many candidates per batch, so the prompt is never recomputed. A candidate's first token is
scored from the prompt's last logits, so a set of single-token candidates costs one forward pass.

Boundary rule: candidate ids are the tail of ``tokenize(prompt + candidate)`` after the prompt's own
ids whenever the joint tokenisation starts with them (spectrum prompts end in a newline, colon
candidates start with a space, chat prompts end in a header: no merge there). Where a tokenizer merges
across the boundary, the candidate is tokenised on its own (no special tokens) and the merge is counted.
No candidate is ever truncated (defects D43): a prompt + candidate longer than the context is an error
the caller turns into a skipped, counted item.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from tuning.backoff import map_batches

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


class TooLongError(ValueError):
    """A prompt (+ candidate) does not fit the model's context; the item is skipped, never truncated."""


@dataclass
class CandidateTokens:
    """Prompt ids, one id list per candidate, and how many candidates needed the boundary fallback."""

    prompt_ids: list[int]
    candidate_ids: list[list[int]]
    boundary_merges: int


def encode_prompt(tokenizer: PreTrainedTokenizerBase, prompt: str) -> list[int]:
    """Prompt ids with the tokenizer's default special tokens; a literal ``<bos>`` and a doubled BOS removed."""
    ids = tokenizer(prompt.replace("<bos>", ""))["input_ids"]
    bos = tokenizer.bos_token_id
    if bos is not None and len(ids) >= 2 and ids[0] == bos and ids[1] == bos:
        ids = ids[1:]
    return list(ids)


def encode_candidates(
    tokenizer: PreTrainedTokenizerBase, prompt: str, candidates: Sequence[str], suffix: str = ""
) -> CandidateTokens:
    """Ids for scoring each ``candidate + suffix`` after ``prompt`` (boundary rule in the module doc)."""
    prompt = prompt.replace("<bos>", "")
    prompt_ids = encode_prompt(tokenizer, prompt)
    bos = tokenizer.bos_token_id
    out: list[list[int]] = []
    merges = 0
    for i, cand in enumerate(candidates):
        text = cand.replace("<bos>", "") + suffix
        if not text:
            raise ValueError(f"candidate {i} is empty: nothing to score")
        joint = list(tokenizer(prompt + text)["input_ids"])
        if bos is not None and len(joint) >= 2 and joint[0] == bos and joint[1] == bos:
            joint = joint[1:]
        if joint[: len(prompt_ids)] == prompt_ids and len(joint) > len(prompt_ids):
            ids = joint[len(prompt_ids) :]
        else:
            merges += 1
            ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
        if not ids:
            raise ValueError(f"candidate {i} ({cand!r}) tokenises to no tokens")
        out.append(ids)
    return CandidateTokens(prompt_ids, out, merges)


def _device(model: PreTrainedModel):
    return next(model.parameters()).device


def check_fits(tokens: CandidateTokens, max_length: int | None) -> None:
    """Raise TooLongError unless the prompt and its longest candidate fit ``max_length`` tokens."""
    if max_length is None:
        return
    longest = len(tokens.prompt_ids) + max(len(c) for c in tokens.candidate_ids)
    if longest > max_length:
        raise TooLongError(
            f"prompt ({len(tokens.prompt_ids)} tokens) + longest candidate needs {longest} tokens; "
            f"the model's context is {max_length}"
        )


def score_candidates(
    model: PreTrainedModel,
    prompt_ids: Sequence[int],
    candidate_ids: Sequence[Sequence[int]],
    *,
    batch_size: int = 32,
    progress: bool = False,
) -> list[float]:
    """Σ log p(candidate tokens | prompt) per candidate, the prompt run once and its cache reused."""
    import torch

    if not prompt_ids:
        raise ValueError("the prompt has no tokens: candidate scoring needs at least one context token")
    device = _device(model)
    prompt = torch.tensor([list(prompt_ids)], device=device)
    with torch.inference_mode():
        try:  # only the last position's logits are needed: skip the vocabulary projection elsewhere
            out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
        except TypeError:
            out = model(input_ids=prompt, use_cache=True)
    first = torch.log_softmax(out.logits[0, -1].float(), dim=-1).cpu()
    cache = out.past_key_values
    totals = [float(first[c[0]]) for c in candidate_ids]
    longer = [i for i, c in enumerate(candidate_ids) if len(c) > 1]
    if not longer:
        return totals
    n_prompt = len(prompt_ids)

    def run(chunk: Sequence[int]) -> list[float]:
        rest = [list(candidate_ids[i]) for i in chunk]  # tokens 0..n-1; feed 0..n-2, score 1..n-1
        width = max(len(r) for r in rest) - 1
        ids = torch.zeros((len(rest), width), dtype=torch.long)
        mask = torch.zeros((len(rest), n_prompt + width), dtype=torch.long)
        mask[:, :n_prompt] = 1
        for row, toks in enumerate(rest):
            ids[row, : len(toks) - 1] = torch.tensor(toks[:-1])
            mask[row, n_prompt : n_prompt + len(toks) - 1] = 1
        batch_cache = copy.deepcopy(cache)
        batch_cache.batch_repeat_interleave(len(rest))
        with torch.inference_mode():
            logits = model(
                input_ids=ids.to(device),
                attention_mask=mask.to(device),
                past_key_values=batch_cache,
                use_cache=True,
            ).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
        sums = []
        for row, toks in enumerate(rest):
            gold = torch.tensor(toks[1:])
            sums.append(float(logprobs[row, : len(gold)].gather(1, gold[:, None]).sum()))
        return sums

    order = sorted(longer, key=lambda i: len(candidate_ids[i]))  # similar lengths share a batch
    rest_sums = map_batches(run, order, batch_size, desc="candidates", progress=progress)
    for i, s in zip(order, rest_sums, strict=True):
        totals[i] += s
    return totals


def score_candidates_full(
    model: PreTrainedModel,
    prompt_ids: Sequence[int],
    candidate_ids: Sequence[Sequence[int]],
    *,
    batch_size: int = 32,
    progress: bool = False,
) -> list[float]:
    """The same sums computed from scratch, prompt + candidate per row (the baseline and the check)."""
    import torch

    device = _device(model)
    n_prompt = len(prompt_ids)

    def run(chunk: Sequence[Sequence[int]]) -> list[float]:
        width = n_prompt + max(len(c) for c in chunk)
        ids = torch.zeros((len(chunk), width), dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, cand in enumerate(chunk):
            seq = list(prompt_ids) + list(cand)
            ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
        with torch.inference_mode():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
        sums = []
        for row, cand in enumerate(chunk):
            gold = torch.tensor(list(cand))
            rows = logprobs[row, n_prompt - 1 : n_prompt - 1 + len(gold)]
            sums.append(float(rows.gather(1, gold[:, None]).sum()))
        return sums

    return map_batches(run, list(candidate_ids), batch_size, desc="candidates (full)", progress=progress)


def _last_logprobs(model: PreTrainedModel, prompts: Sequence[Sequence[int]]) -> list[Any]:
    """Next-token log-probabilities after each prompt, the prompts run as one right-padded batch."""
    import torch

    device = _device(model)
    width = max(len(p) for p in prompts)
    ids = torch.zeros((len(prompts), width), dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, p in enumerate(prompts):
        ids[row, : len(p)] = torch.tensor(list(p))
        mask[row, : len(p)] = 1
    lasts = sorted({len(p) - 1 for p in prompts})
    column = {pos: c for c, pos in enumerate(lasts)}
    keep = torch.tensor(lasts, dtype=torch.long, device=device)
    with torch.inference_mode():
        try:
            logits = model(
                input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False, logits_to_keep=keep
            ).logits
        except TypeError:
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False).logits[
                :, keep
            ]
        if logits.shape[1] != len(lasts):
            logits = logits[:, keep]
        picked = torch.stack([logits[row, column[len(p) - 1]] for row, p in enumerate(prompts)])
        return list(torch.log_softmax(picked.float(), dim=-1).cpu())


def score_rows(
    model: PreTrainedModel, items: Sequence[CandidateTokens], *, batch_size: int = 32, progress: bool = False
) -> list[list[float]]:
    """`score_candidates` for many rows: rows whose candidates are all one token need only their
    prompt's last logits, so their prompts run together in batches; the others reuse their prompt cache."""
    out: list[list[float] | None] = [None] * len(items)
    single = [i for i, t in enumerate(items) if all(len(c) == 1 for c in t.candidate_ids)]
    single.sort(key=lambda i: len(items[i].prompt_ids))  # similar lengths share a batch
    dists = map_batches(
        lambda chunk: _last_logprobs(model, [items[i].prompt_ids for i in chunk]),
        single,
        batch_size,
        desc="single-token rows",
        progress=progress,
    )
    for i, dist in zip(single, dists, strict=True):
        out[i] = [float(dist[c[0]]) for c in items[i].candidate_ids]
    rest = [i for i, o in enumerate(out) if o is None]
    for i in tqdm(rest, desc="multi-token rows", disable=not progress or not rest, leave=False):
        out[i] = score_candidates(model, items[i].prompt_ids, items[i].candidate_ids, batch_size=batch_size)
    return [o for o in out if o is not None]


def score_rows_full(
    model: PreTrainedModel, items: Sequence[CandidateTokens], *, batch_size: int = 32, progress: bool = False
) -> list[list[float]]:
    """The from-scratch baseline over many rows: every (prompt, candidate) pair of every row, batched."""
    pairs = [(i, c) for i, t in enumerate(items) for c in t.candidate_ids]
    order = sorted(range(len(pairs)), key=lambda k: len(items[pairs[k][0]].prompt_ids) + len(pairs[k][1]))

    def run(chunk: Sequence[int]) -> list[float]:
        import torch

        device = _device(model)
        seqs = [list(items[pairs[k][0]].prompt_ids) + list(pairs[k][1]) for k in chunk]
        width = max(len(q) for q in seqs)
        ids = torch.zeros((len(seqs), width), dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for row, q in enumerate(seqs):
            ids[row, : len(q)] = torch.tensor(q)
            mask[row, : len(q)] = 1
        with torch.inference_mode():
            logprobs = torch.log_softmax(
                model(
                    input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False
                ).logits.float(),
                dim=-1,
            ).cpu()
        sums = []
        for row, k in enumerate(chunk):
            n_prompt, cand = len(items[pairs[k][0]].prompt_ids), list(pairs[k][1])
            gold = torch.tensor(cand)
            sums.append(
                float(logprobs[row, n_prompt - 1 : n_prompt - 1 + len(cand)].gather(1, gold[:, None]).sum())
            )
        return sums

    sums = map_batches(run, order, batch_size, desc="pairs (full)", progress=progress)
    by_pair = dict(zip(order, sums, strict=True))
    out: list[list[float]] = [[] for _ in items]
    for k, (i, _) in enumerate(pairs):
        out[i].append(by_pair[k])
    return out


def normalise(logprobs: Sequence[float]) -> list[float]:
    """The model distribution Q over the candidates (renormalised prefix probabilities)."""
    top = max(logprobs)
    weights = [math.exp(lp - top) for lp in logprobs]
    total = math.fsum(weights)
    return [w / total for w in weights]
