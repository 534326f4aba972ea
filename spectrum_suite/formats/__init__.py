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

from .chat import CHAT_MARKERS, DEFAULT_CHAT_PROMPT, chat_markers, render_chat
from .colon import COLON_LABEL, render_colon
from .families import PROMPT_FAMILIES, check_family, detect_family
from .messages import Segment, normalise_messages
from .spectrum import layout_for, render_spectrum
from .template import chat_template
from .tokenize import tokenize_segments

__all__ = [
    "DEFAULT_CHAT_PROMPT",
    "PROMPT_FAMILIES",
    "FORMATS",
    "REFERENCE_MAX_LENGTH",
    "Segment",
    "chat_template",
    "continuation",
    "detect_family",
    "generation_prefix",
    "prompt_text",
    "render",
    "show",
    "stop_strings",
    "tokenize",
    "tokenize_segments",
]

FORMATS = ("spectrum", "colon", "chat")
#: The paper's code truncates every tokenised episode to this many tokens
#: (`docs/deviations.md#per-segment-tokenisation`); pass it as
#: ``tokenize_max_length`` for parity. Our default is no truncation.
REFERENCE_MAX_LENGTH = 8192
SHOW_MARK = "____"


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt


def render(
    messages: Any,
    fmt: str,
    tokenizer: Any | None = None,
    family: str | None = None,
    add_generation_prompt: bool = False,
    **options: Any,
) -> list[Segment]:
    """Render an episode's messages as segments ``(text, scored, output_index)`` in format ``fmt``.

    ``spectrum`` needs a tokenizer or a family; ``chat`` needs a tokenizer with a chat template and takes
    the options of `spectrum_suite.formats.chat.build_chat`; ``colon`` takes ``output_name``.
    """
    _check_format(fmt)
    msgs = normalise_messages(messages)
    if fmt == "chat":
        return render_chat(msgs, tokenizer, family, add_generation_prompt, **options)
    allowed = ("output_name",) if fmt == "colon" else ()
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"format {fmt!r} got unknown options {unknown}; expected some of {list(allowed)}")
    if fmt == "colon":
        return render_colon(msgs, add_generation_prompt, options.get("output_name"))
    return render_spectrum(msgs, layout_for(tokenizer, family), add_generation_prompt)


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
    """``input_ids``, ``labels``, ``output_index`` and ``attention_mask`` of an episode in format ``fmt``.

    ``output_index`` holds, per token, the sample index j of the output whose scored span holds it (-1
    elsewhere). ``max_length`` (or its alias ``tokenize_max_length``, e.g. `REFERENCE_MAX_LENGTH` for
    parity) truncates every array; the default keeps everything. With ``add_generation_prompt`` the
    sequence ends in the generation prefix and gets no final EOS.
    """
    if tokenizer is None:
        raise ValueError("tokenize needs a tokenizer")
    segments = render(messages, fmt, tokenizer, family, add_generation_prompt, **options)
    limits = [m for m in (max_length, tokenize_max_length) if m is not None]
    return tokenize_segments(
        segments,
        tokenizer,
        min(limits) if limits else None,
        add_final_eos=not add_generation_prompt,
        strict=strict,
    )


def generation_prefix(fmt: str, family: str | None = None, tokenizer: Any | None = None) -> str:
    """The text that asks the model for the next output: the spectrum output header, ``Output:``, or
    the assistant header of the chat template (with a tokenizer, the Qwen3-style think block included)."""
    _check_format(fmt)
    if fmt == "colon":
        return COLON_LABEL
    if fmt == "spectrum":
        return layout_for(tokenizer, family).generation_prefix
    if tokenizer is not None:
        return chat_markers(tokenizer, family)[0]
    if family is None or check_family(family) not in CHAT_MARKERS:
        raise ValueError(f"the chat generation prefix needs a tokenizer or one of {', '.join(CHAT_MARKERS)}")
    return CHAT_MARKERS[family][0]


def stop_strings(fmt: str, tokenizer: Any | None, family: str | None = None) -> list[str]:
    """Strings that end a generated output: the spectrum terminator, ``\\n`` for colon (its
    ``end_string``), or the chat template's end-of-turn string."""
    _check_format(fmt)
    if fmt == "colon":
        return ["\n"]
    if fmt == "spectrum":
        return [layout_for(tokenizer, family).terminator]
    return [chat_markers(tokenizer, family)[1]]


def continuation(fmt: str, text: str) -> str:
    """How an output's text follows the generation prompt of ``fmt``: the colon format writes a space after its
    label (``Output: y``), the others none (their prompt ends in a header line)."""
    _check_format(fmt)
    return " " + text if fmt == "colon" else text


def prompt_text(
    messages: Any, fmt: str, tokenizer: Any | None, family: str | None = None, **options: Any
) -> str:
    """The generation prompt as one string (render with ``add_generation_prompt=True``), for candidate
    scoring and sampling; options as `render` (chat: ``system_prompt``, ``all_examples_in_prompt``...;
    colon: ``output_name``)."""
    return "".join(seg.text for seg in render(messages, fmt, tokenizer, family, True, **options))


def show(segments: list[Segment]) -> str:
    """The prompt text with every scored span between ``____`` marks (`docs/formats.md#examples`)."""
    return "".join(f"{SHOW_MARK}{s.text}{SHOW_MARK}" if s.scored else s.text for s in segments)
