"""Render and tokenise episodes: messages -> text segments flagged as scored -> ids with loss labels.

Three formats (`spec/formats.md` §3):

- ``spectrum`` (Spectrum-tuned models, and training): each message is a turn that reuses the model
  family's own chat-control tokens, with the role names ``description``, ``input`` and ``output`` as
  ordinary text. Gemma: ``<start_of_turn>output\\n`` + [``{y}<end_of_turn>``] + ``\\n``; ChatML (Qwen,
  SmolLM2): the same with ``<|im_start|>``/``<|im_end|>``; Llama 3: ``<|start_header_id|>output
  <|end_header_id|>\\n\\n`` + [``{y}<|eot_id|>``] with no newline after a turn. Any other tokenizer
  gets the **plain** text layout::

      description:\\n{d}\\n
      input:\\n{x}\\n
      output:\\n + [{y}{EOS}] + \\n

  where ``{EOS}`` is the tokenizer's EOS token (so generation stops there; a tokenizer without an EOS
  cannot use it). Only an output's content and terminator are scored, and the first output is not
  scored unless a description precedes it.
- ``colon`` (base models): ``Description: {d}\\n\\n``, ``Input: {x}\\n\\n``, ``Output:`` + [`` {y.strip()}
  \\n\\n``]; every output is scored, the first included.
- ``chat`` (instruction-tuned models): an ordinary chat rendered by the tokenizer's own template
  (`spectrum_suite.formats_chat`).

Tokenisation (`spec/formats.md` §4) encodes every segment on its own and concatenates the ids, with the
tokenizer's own BOS once at the start, no tokenizer-added trailing EOS inside the sequence (an EOS that
is part of the text, such as a ChatML ``<|im_end|>`` terminator, stays), and one unlabelled EOS at the
end when the last token is not already the EOS. `chat_template` gives the spectrum layout as a Jinja
template that yields the same ids and the same scored positions through ``apply_chat_template``.
"""

from __future__ import annotations

from typing import Any

from .chat_template import chat_template
from .formats_base import (
    FAMILIES,
    Layout,
    Message,
    Segment,
    check_family,
    detect_family,
    layout_for,
    normalise_messages,
    special_affixes,
    unknown_role,
)
from .formats_chat import CHAT_MARKERS, DEFAULT_CHAT_PROMPT, chat_markers, render_chat

__all__ = [
    "DEFAULT_CHAT_PROMPT",
    "FAMILIES",
    "FORMATS",
    "REFERENCE_MAX_LENGTH",
    "Segment",
    "chat_template",
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
#: The reference truncates every tokenised episode to this many tokens (defects D27); pass it as
#: ``tokenize_max_length`` for parity. Our default is no truncation.
REFERENCE_MAX_LENGTH = 8192
COLON_DELIM = "\n\n"
COLON_LABEL = "Output:"
SHOW_MARK = "____"


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt


def _render_spectrum(messages: list[Message], layout: Layout, add_generation_prompt: bool) -> list[Segment]:
    """Segments of the spectrum format, with the first-output rule."""
    segments: list[Segment] = []
    described, outputs = False, 0
    for i, message in enumerate(messages):
        if message.role == "description":
            text = layout.description_open + message.content + layout.description_close
            segments.append(Segment(text, False, -1))
            described = True
        elif message.role == "input":
            segments.append(
                Segment(layout.input_open + message.content + layout.input_close, False, message.index)
            )
        elif message.role == "output":
            scored = described or outputs > 0
            segments.append(Segment(layout.output_open, False, message.index))
            segments.append(Segment(message.content + layout.terminator, scored, message.index))
            if layout.output_close:
                segments.append(Segment(layout.output_close, False, message.index))
            outputs += 1
        else:
            raise unknown_role(i, message.role)
    if add_generation_prompt:
        segments.append(Segment(layout.generation_prefix, False, -1))
    return segments


def _render_colon(
    messages: list[Message], add_generation_prompt: bool, output_name: str | None
) -> list[Segment]:
    """Segments of the colon format; ``output_name`` renames only the final generation label (D41)."""
    segments: list[Segment] = []
    for message in messages:
        if message.role == "description":
            segments.append(Segment(f"Description: {message.content}{COLON_DELIM}", False, -1))
        elif message.role == "input":
            segments.append(Segment(f"Input: {message.content}{COLON_DELIM}", False, message.index))
        elif message.role in ("output", "assistant"):
            segments.append(Segment(COLON_LABEL, False, message.index))
            segments.append(Segment(" " + message.content.strip() + COLON_DELIM, True, message.index))
        else:
            segments.append(
                Segment(f"{message.role.capitalize()}: {message.content}{COLON_DELIM}", False, -1)
            )
    if output_name is not None:
        if not add_generation_prompt:
            raise ValueError("output_name renames the generation label: it needs add_generation_prompt=True")
        if not isinstance(output_name, str) or not output_name.strip():
            raise ValueError(f"output_name must be a non-empty str, got {output_name!r}")
        last = segments[-1]
        if last.text.endswith(COLON_DELIM):
            # evaluations.md §B.2: the label follows its input after a single newline.
            segments[-1] = last._replace(text=last.text[:-1])
        segments.append(Segment(f"{output_name}:", False, -1))
    elif add_generation_prompt:
        segments.append(Segment(COLON_LABEL, False, -1))
    return segments


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
    the options of `spectrum_suite.formats_chat.build_chat`; ``colon`` takes ``output_name``.
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
        return _render_colon(msgs, add_generation_prompt, options.get("output_name"))
    return _render_spectrum(msgs, layout_for(tokenizer, family), add_generation_prompt)


def tokenize_segments(
    segments: list[Segment],
    tokenizer: Any,
    max_length: int | None = None,
    *,
    add_final_eos: bool = True,
    strict: bool = False,
) -> dict[str, list[int]]:
    """Token ids, labels (-100 where unscored), per-token output index and attention mask of segments.

    Each segment is encoded on its own (`spec/formats.md` §4.1). ``strict`` also encodes the joined text
    and raises when the two differ (defects D26), which happens with some tokenizers at boundaries.
    """
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1
    ):
        raise ValueError(f"max_length must be a positive int or None, got {max_length!r}")
    prefix, _added_after = special_affixes(
        tokenizer
    )  # ids a tokenizer appends (an EOS) are dropped: §4.1 rule 3
    ids, labels, owner = list(prefix), [-100] * len(prefix), [-1] * len(prefix)
    pieces = (
        tokenizer([seg.text for seg in segments], add_special_tokens=False)["input_ids"] if segments else []
    )
    for seg, piece in zip(segments, pieces, strict=True):
        ids += piece
        labels += piece if seg.scored else [-100] * len(piece)
        owner += [seg.output_index if seg.scored else -1] * len(piece)
    if strict:
        _check_joined(segments, tokenizer, prefix, ids)
    eos_id = getattr(tokenizer, "eos_token_id", None)
    if add_final_eos and eos_id is not None and (not ids or ids[-1] != eos_id):
        ids.append(eos_id)
        labels.append(-100)
        owner.append(-1)
    _check_separated(owner)
    if max_length is not None:
        ids, labels, owner = ids[:max_length], labels[:max_length], owner[:max_length]
    return {"input_ids": ids, "labels": labels, "output_index": owner, "attention_mask": [1] * len(ids)}


def _check_joined(segments: list[Segment], tokenizer: Any, prefix: list[int], ids: list[int]) -> None:
    """Raise when encoding the joined text gives other ids than encoding segment by segment."""
    joined = (
        list(prefix) + tokenizer("".join(s.text for s in segments), add_special_tokens=False)["input_ids"]
    )
    if joined != ids:
        at = next(
            (k for k, (a, b) in enumerate(zip(joined, ids, strict=False)) if a != b),
            min(len(joined), len(ids)),
        )
        raise ValueError(
            f"per-segment tokenisation differs from the joined text at token {at} "
            f"({len(ids)} vs {len(joined)} tokens); this tokenizer merges across segment boundaries"
        )


def _check_separated(owner: list[int]) -> None:
    """Consecutive scored spans must be apart by at least one unscored token (`spec/formats.md` §4.2)."""
    for k in range(1, len(owner)):
        if owner[k] != -1 and owner[k - 1] != -1 and owner[k] != owner[k - 1]:
            raise ValueError(f"scored spans of outputs {owner[k - 1]} and {owner[k]} touch at token {k}")


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


def prompt_text(
    messages: Any, fmt: str, tokenizer: Any | None, family: str | None = None, **options: Any
) -> str:
    """The generation prompt as one string (render with ``add_generation_prompt=True``), for candidate
    scoring and sampling; options as `render` (chat: ``system_prompt``, ``all_examples_in_prompt``...;
    colon: ``output_name``)."""
    return "".join(seg.text for seg in render(messages, fmt, tokenizer, family, True, **options))


def show(segments: list[Segment]) -> str:
    """The prompt text with every scored span between ``____`` marks (`spec/formats.md` §3.7)."""
    return "".join(f"{SHOW_MARK}{s.text}{SHOW_MARK}" if s.scored else s.text for s in segments)
