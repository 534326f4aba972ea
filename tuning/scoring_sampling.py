"""Sampling for valid output-space coverage (`spec/evaluations.md` §C.4): N draws of one prompt.

The prompt runs once; its key/value cache is copied across each batch of identical rows (no padding, no
repeated prefill) and generation continues from it, stopping per row at the stop strings. The new
tokens are decoded **keeping** special tokens, because the cleaning function
(`metrics.coverage.cleaning.clean_generation`) expects them. Pure sampling by
default: temperature 1, top_p 1, top_k off (0), and a seed (defects D46: the reference had neither).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tuning.backoff import map_batches

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

#: Stop strings of spec §C.4, in its order; the tokenizer's EOS and "\n" follow them.
TURN_END_STRINGS = ("<|eot_id|>", "<end_of_turn>", "<|im_end|>", "<|end_of_text|>")


def sampling_stop_strings(tokenizer: PreTrainedTokenizerBase) -> list[str]:
    """The spec's stop list for this tokenizer: turn ends, its EOS, then a newline (no duplicates)."""
    out: list[str] = []
    for s in (*TURN_END_STRINGS, tokenizer.eos_token, "\n"):
        if s and s not in out:
            out.append(s)
    return out


def derived_seed(seed: int, *keys: str) -> int:
    """A stable 63-bit seed per (run seed, task, setting), so each task's draws are reproducible alone."""
    digest = hashlib.sha256("\x1f".join([str(seed), *keys]).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def sample(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompt_ids: Sequence[int],
    *,
    n: int,
    max_new_tokens: int,
    seed: int,
    batch_size: int = 8,
    top_k: int | None = 0,
    stop_strings: Sequence[str] | None = None,
    progress: bool = False,
) -> list[str]:
    """``n`` generations after ``prompt_ids``, decoded with special tokens kept (uncleaned)."""
    import torch

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    device = next(model.parameters()).device
    stops = list(stop_strings) if stop_strings is not None else sampling_stop_strings(tokenizer)
    prompt = torch.tensor([list(prompt_ids)], dtype=torch.long, device=device)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    prefix = None
    if prompt.shape[1] > 1:  # run the prompt (all but its last token) once; every batch continues from it
        with torch.inference_mode():
            prefix = model(input_ids=prompt[:, :-1], use_cache=True, logits_to_keep=1).past_key_values
    torch.manual_seed(seed)

    def run(chunk: Sequence[int]) -> list[str]:
        ids = prompt.expand(len(chunk), -1)
        cache = None
        if prefix is not None:
            cache = copy.deepcopy(prefix)
            cache.batch_repeat_interleave(len(chunk))
        with torch.inference_mode():
            out = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                past_key_values=cache,
                do_sample=True,
                temperature=1.0,
                top_p=1.0,
                top_k=top_k,
                max_new_tokens=max_new_tokens,
                stop_strings=stops or None,
                tokenizer=tokenizer,
                pad_token_id=pad_id,
            )
        new = out[:, prompt.shape[1] :]
        return tokenizer.batch_decode(new, skip_special_tokens=False)

    return map_batches(run, list(range(n)), batch_size, desc="sampling", progress=progress)
