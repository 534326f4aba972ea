"""Render and tokenise episodes: messages -> text segments flagged as scored -> ids with loss labels.

Three formats, one module each: ``spectrum`` (`.spectrum`: Spectrum-tuned models and training; the model
family's own turn tokens, or a plain text layout for any other tokenizer), ``colon`` (`.colon`: base models)
and ``chat`` (`.chat`: instruction-tuned models, through the tokenizer's own chat template). The families' turn
tokens are defined once, in `.families`; `.tokenize` encodes segments with loss labels; `.template` gives the
spectrum layout as a Jinja chat template that yields the same ids and scored positions through
``apply_chat_template``. `docs/formats.md` shows every format on one episode.
"""

from __future__ import annotations

from typing import Any

from .chat import DEFAULT_CHAT_PROMPT
from .encoded import EncodedEpisode, ScoredSpan, cut_after, scored_spans, truncate
from .families import PROMPT_FAMILIES, detect_family
from .format import FORMATS, REFERENCE_MAX_LENGTH, Format, FormatNotExpressibleError, continuation
from .messages import Segment
from .template import chat_template
from .tokenize import tokenize_segments

__all__ = [
    "DEFAULT_CHAT_PROMPT",
    "FORMATS",
    "PROMPT_FAMILIES",
    "REFERENCE_MAX_LENGTH",
    "EncodedEpisode",
    "Format",
    "FormatNotExpressibleError",
    "ScoredSpan",
    "Segment",
    "chat_template",
    "continuation",
    "cut_after",
    "detect_family",
    "generation_prefix",
    "prompt_text",
    "render",
    "scored_spans",
    "show",
    "stop_strings",
    "tokenize",
    "tokenize_segments",
    "truncate",
]

SHOW_MARK = "____"


def render(
    messages: Any,
    fmt: str,
    tokenizer: Any | None = None,
    family: str | None = None,
    add_generation_prompt: bool = False,
    **options: Any,
) -> list[Segment]:
    """`Format.render`: an episode's messages as segments ``(text, scored, output_index)`` in format ``fmt``."""
    return Format(fmt, tokenizer, family).render(messages, add_generation_prompt, **options)


def tokenize(
    messages: Any,
    fmt: str,
    tokenizer: Any,
    max_length: int | None = None,
    family: str | None = None,
    *,
    add_generation_prompt: bool = False,
    tokenize_max_length: int | None = None,
    strict: bool = False,
    **options: Any,
) -> dict[str, list[int]]:
    """`Format.tokenize`: ``input_ids``, ``labels``, ``output_index`` (per token, the sample index of the output
    whose scored span holds it, else -1) and ``attention_mask``; ``max_length`` (or ``tokenize_max_length``,
    e.g. `REFERENCE_MAX_LENGTH` for parity) cuts every array, the default keeps everything."""
    if tokenizer is None:
        raise ValueError("tokenize needs a tokenizer")
    limits = [m for m in (max_length, tokenize_max_length) if m is not None]
    return Format(fmt, tokenizer, family).tokenize(
        messages, min(limits) if limits else None, add_generation_prompt=add_generation_prompt, strict=strict,
        **options,
    )  # fmt: skip


def generation_prefix(fmt: str, family: str | None = None, tokenizer: Any | None = None) -> str:
    """`Format.generation_prefix`: the text that asks the model for the next output."""
    return Format(fmt, tokenizer, family).generation_prefix


def stop_strings(fmt: str, tokenizer: Any | None, family: str | None = None) -> list[str]:
    """`Format.stop_strings`: the strings that end a generated output."""
    return Format(fmt, tokenizer, family).stop_strings


def prompt_text(
    messages: Any, fmt: str, tokenizer: Any | None, family: str | None = None, **options: Any
) -> str:
    """`Format.prompt_text`: the generation prompt as one string (chat: ``system_prompt``, ...; colon:
    ``output_name``)."""
    return Format(fmt, tokenizer, family).prompt_text(messages, **options)


def show(segments: list[Segment]) -> str:
    """The prompt text with every scored span between ``____`` marks (`docs/formats.md#examples`)."""
    return "".join(f"{SHOW_MARK}{s.text}{SHOW_MARK}" if s.scored else s.text for s in segments)
