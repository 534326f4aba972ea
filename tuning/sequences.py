"""Token sequences for scoring, before any model runs: the prompt and candidate token lists of distributional
alignment, next to the encoded episodes of steerability (`EncodedEpisode`, `scored_spans`, `cut_after`: they
live with the formats, `spectrum_suite.formats.encoded`, and are named here too for the model side).

Candidate ids are the tail of ``tokenize(prompt + candidate)`` after the prompt's own ids whenever the joint
tokenisation starts with them (spectrum prompts end in a newline, colon candidates start with a space, chat
prompts end in a header: no merge there); where a tokenizer merges across the boundary, the candidate is
tokenised on its own and the merge is counted. No candidate is ever truncated: a prompt and candidate longer than the context is refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spectrum_suite.formats.encoded import IGNORE, EncodedEpisode, ScoredSpan, cut_after, scored_spans

__all__ = [
    "IGNORE",
    "CandidateTokens",
    "EncodedEpisode",
    "ScoredSpan",
    "TooLongError",
    "cut_after",
    "encode_candidates",
    "encode_prompt",
    "normalise",
    "scored_spans",
]


class TooLongError(ValueError):
    """A prompt (+ candidate) does not fit the model's context; the item is skipped, never truncated."""


@dataclass
class CandidateTokens:
    """Prompt ids, one id list per candidate, and how many candidates needed the boundary fallback."""

    prompt_ids: list[int]
    candidate_ids: list[list[int]]
    boundary_merges: int

    def check_fits(self, max_length: int | None) -> None:
        """Raise TooLongError unless the prompt and its longest candidate fit ``max_length`` tokens."""
        longest = len(self.prompt_ids) + max(len(c) for c in self.candidate_ids)
        if max_length is not None and longest > max_length:
            raise TooLongError(
                f"prompt ({len(self.prompt_ids)} tokens) + longest candidate needs {longest} tokens; "
                f"the model's context is {max_length}"
            )


def _without_double_bos(ids: list[int], tokenizer: Any, text: str) -> list[int]:
    """The ids, refusing a doubled BOS: formats render prompts without a literal BOS, the tokenizer adds one."""
    bos = tokenizer.bos_token_id
    if bos is not None and len(ids) >= 2 and ids[0] == bos and ids[1] == bos:
        raise ValueError(
            f"the prompt starts with a literal BOS token, so it would be encoded twice: {text[:40]!r}"
        )
    return ids


def encode_prompt(tokenizer: Any, prompt: str) -> list[int]:
    """Prompt ids with the tokenizer's default special tokens (its own BOS, where it adds one)."""
    return _without_double_bos(list(tokenizer(prompt)["input_ids"]), tokenizer, prompt)


def encode_candidates(
    tokenizer: Any, prompt: str, candidates: Sequence[str], suffix: str = ""
) -> CandidateTokens:
    """Ids for scoring each ``candidate + suffix`` after ``prompt`` (boundary rule in the module doc)."""
    prompt_ids = encode_prompt(tokenizer, prompt)
    out: list[list[int]] = []
    merges = 0
    for i, cand in enumerate(candidates):
        text = cand + suffix
        if not text:
            raise ValueError(f"candidate {i} is empty: nothing to score")
        joint = _without_double_bos(list(tokenizer(prompt + text)["input_ids"]), tokenizer, prompt)
        if joint[: len(prompt_ids)] == prompt_ids and len(joint) > len(prompt_ids):
            ids = joint[len(prompt_ids) :]
        else:
            merges += 1
            ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
        if not ids:
            raise ValueError(f"candidate {i} ({cand!r}) tokenises to no tokens")
        out.append(ids)
    return CandidateTokens(prompt_ids, out, merges)


def normalise(logprobs: Sequence[float]) -> list[float]:
    """The model distribution Q over the candidates (renormalised prefix probabilities)."""
    top = max(logprobs)
    weights = [math.exp(lp - top) for lp in logprobs]
    total = math.fsum(weights)
    return [w / total for w in weights]
