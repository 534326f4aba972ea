"""The model families and their chat-control tokens: the one place where turn tokens are written down.

Every format that reuses a family's turn tokens (the `spectrum` layout, the `chat` format's scored spans, the
Jinja template a tuned model ships with), the paper's sampling stop strings, and the control-token weight
transfer of Spectrum Tuning read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Family:
    """A family's turn syntax: a turn is ``turn_start + role + header_close + content + turn_end + after_turn``.

    ``assistant`` is the role name of the family's own chat template for the model's turns;
    ``control_tokens`` are the special tokens of that syntax, whose embedding rows Spectrum Tuning copies
    from an instruct twin into a base model.
    """

    name: str
    turn_start: str
    header_close: str
    turn_end: str
    after_turn: str
    assistant: str
    control_tokens: tuple[str, ...]

    def header(self, role: str) -> str:
        """The opening of a turn of ``role``."""
        return self.turn_start + role + self.header_close


GEMMA = Family(
    "gemma", "<start_of_turn>", "\n", "<end_of_turn>", "\n", "model", ("<start_of_turn>", "<end_of_turn>")
)
CHATML = Family(
    "chatml", "<|im_start|>", "\n", "<|im_end|>", "\n", "assistant", ("<|im_start|>", "<|im_end|>")
)
LLAMA3 = Family(
    "llama3", "<|start_header_id|>", "<|end_header_id|>\n\n", "<|eot_id|>", "", "assistant",
    ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
)  # fmt: skip

#: Families with turn tokens, in the order their markers are looked for in a vocabulary.
TURN_FAMILIES: dict[str, Family] = {f.name: f for f in (GEMMA, CHATML, LLAMA3)}
PROMPT_FAMILIES = (*TURN_FAMILIES, "plain")
"""Prompt (model) families the `spectrum` format knows; ``plain`` is the text fallback for any other tokenizer.
Row families, what a config's rows hold, are another thing: `spectrum_suite.task.ROW_FAMILIES`."""

#: The Llama 3 base models' end-of-text token, which the paper's sampling also stops at.
LLAMA3_END_OF_TEXT = "<|end_of_text|>"
#: The stop strings of the paper's coverage sampling, in its order; the tokenizer's EOS and a newline follow.
SAMPLING_STOP_STRINGS = (LLAMA3.turn_end, GEMMA.turn_end, CHATML.turn_end, LLAMA3_END_OF_TEXT)
#: Qwen3-style ChatML templates open every assistant turn with an empty think block.
THINK_BLOCK = "<think>\n\n</think>\n\n"


def check_family(family: str) -> str:
    """Return ``family`` if it is known, else raise naming the valid ones."""
    if family not in PROMPT_FAMILIES:
        raise ValueError(f"unknown model family {family!r}; expected one of {', '.join(PROMPT_FAMILIES)}")
    return family


def has_token(tokenizer: Any, token: str) -> bool:
    """Whether ``token`` is one entry of the tokenizer's vocabulary (added tokens included).

    Asks the fast tokenizer's backend directly: building the whole vocabulary dict costs tens of
    milliseconds for a 50k vocabulary, which adds up over a training set.
    """
    backend = getattr(tokenizer, "_tokenizer", None)
    if backend is not None and hasattr(backend, "token_to_id"):
        return backend.token_to_id(token) is not None
    if not hasattr(tokenizer, "convert_tokens_to_ids"):
        raise TypeError(f"expected a transformers tokenizer, got {type(tokenizer).__name__}")
    found = tokenizer.convert_tokens_to_ids(token)
    unk = getattr(tokenizer, "unk_token", None)
    return found is not None and (found != getattr(tokenizer, "unk_token_id", None) or token == unk)


def detect_family(tokenizer: Any, family: str | None = None) -> str:
    """The family whose turn-start token the vocabulary holds (an explicit ``family`` wins), else ``plain``."""
    if family is not None:
        return check_family(family)
    for name, fam in TURN_FAMILIES.items():
        if has_token(tokenizer, fam.turn_start):
            return name
    return "plain"
