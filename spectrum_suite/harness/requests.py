"""How lm-evaluation-harness turns a (context, continuation) pair into tokens, and whether that equals ours.

The harness's hf model (its ``TemplateLM`` pair encoding) moves the context's trailing whitespace into the
continuation, encodes context + continuation as one string and scores the tokens after the context's own
encoding. Each string gets the tokenizer's default special tokens (its BOS where it adds one), except a string
that already starts with the BOS text (or, for a tokenizer without BOS, the EOS text), which gets none.

We score per rendered segment (`spectrum_suite.formats.tokenize`), the text before an output ending in its
header's newline. So the exporter splits that whitespace off the context itself and asks for it as a second
request whose log-likelihood the metric subtracts (`metrics.harness`), and it checks, per item, that the
harness's tokens of both requests are exactly our context and output tokens (`tokens_agree`), which fails only
where a tokenizer merges across a segment boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def split_whitespace(text: str) -> tuple[str, str]:
    """``text`` without its trailing whitespace, and that whitespace (what the harness moves)."""
    stripped = text.rstrip()
    return stripped, text[len(stripped) :]


def harness_ids(tokenizer: Any, text: str) -> list[int]:
    """The ids the harness's hf model gives one string (its default ``add_bos_token``, see the module doc)."""
    prefix = tokenizer.bos_token or tokenizer.eos_token
    special = not (prefix and text.startswith(prefix))
    return list(tokenizer(text, add_special_tokens=special)["input_ids"])


def scored_ids(tokenizer: Any, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """The context ids and the scored continuation ids of one harness log-likelihood request."""
    context, moved = split_whitespace(context)
    whole = harness_ids(tokenizer, context + moved + continuation)
    own = harness_ids(tokenizer, context)
    return own, whole[len(own) :]


def tokens_agree(
    tokenizer: Any, context: str, whitespace: str, output: str, ours: Sequence[int], our_output: Sequence[int]
) -> bool:
    """Whether the requests ``(context, whitespace + output)`` and ``(context, whitespace)`` score exactly our
    tokens: ``ours`` (the ids before the output, whitespace included) and ``our_output``."""
    context_ids, whole = scored_ids(tokenizer, context, whitespace + output)
    if whitespace:
        _, gap = scored_ids(tokenizer, context, whitespace)
    else:
        gap = []
    return context_ids + gap == list(ours) and whole == gap + list(our_output)
