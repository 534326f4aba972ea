"""The `spectrum` format: each message a turn in the model family's own turn tokens, roles as plain text.

Gemma: ``<start_of_turn>output\\n`` + [``{y}<end_of_turn>``] + ``\\n``; ChatML (Qwen, SmolLM2): the same with
``<|im_start|>``/``<|im_end|>``; Llama 3: ``<|start_header_id|>output<|end_header_id|>\\n\\n`` + [``{y}<|eot_id|>``]
with no newline after a turn. Any other tokenizer gets the plain text layout (`plain_layout`). Only an output's
content and terminator are scored, and the first output only when a description precedes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .families import PROMPT_FAMILIES, TURN_FAMILIES, Family, check_family, detect_family, has_token
from .messages import Message, Segment, unknown_role


@dataclass(frozen=True)
class Layout:
    """The strings of the `spectrum` format for one family.

    A description renders as ``description_open + d + description_close``, an input likewise, and an
    output as ``output_open`` (unscored) + ``y + terminator`` (scored) + ``output_close`` (unscored).
    """

    family: str
    description_open: str
    description_close: str
    input_open: str
    input_close: str
    output_open: str
    terminator: str
    output_close: str
    turn_tokens: tuple[str, ...]

    @property
    def generation_prefix(self) -> str:
        """The text that asks the model for the next output."""
        return self.output_open


def turn_layout(family: Family) -> Layout:
    """The spectrum layout of a family with turn tokens: every message is a turn with its role as header."""
    close = family.turn_end + family.after_turn
    return Layout(
        family=family.name,
        description_open=family.header("description"),
        description_close=close,
        input_open=family.header("input"),
        input_close=close,
        output_open=family.header("output"),
        terminator=family.turn_end,
        output_close=family.after_turn,
        turn_tokens=family.control_tokens,
    )


LAYOUTS: dict[str, Layout] = {name: turn_layout(family) for name, family in TURN_FAMILIES.items()}


def plain_layout(terminator: str) -> Layout:
    """The text fallback: ``description:\\n{d}\\n``, ``input:\\n{x}\\n``, ``output:\\n`` + [``{y}{EOS}``] + ``\\n``.

    Single newlines (not blank lines) close each part so that byte-level BPE tokenizers split the
    per-segment text exactly as the joined text; the EOS token ends each output so generation stops.
    """
    return Layout(
        family="plain",
        description_open="description:\n",
        description_close="\n",
        input_open="input:\n",
        input_close="\n",
        output_open="output:\n",
        terminator=terminator,
        output_close="\n",
        turn_tokens=(),
    )


def layout_for(tokenizer: Any | None = None, family: str | None = None) -> Layout:
    """The spectrum layout for a tokenizer and/or family; checks the tokenizer has the family's tokens."""
    if tokenizer is None and family is None:
        raise ValueError(
            "format 'spectrum' needs a tokenizer or a family (one of " + ", ".join(PROMPT_FAMILIES) + ")"
        )
    name = detect_family(tokenizer, family) if tokenizer is not None else check_family(family)
    if name == "plain":
        eos = getattr(tokenizer, "eos_token", None) if tokenizer is not None else None
        if not eos:
            raise ValueError(
                "family 'plain' ends every output with the tokenizer's EOS token: pass a tokenizer that has one"
            )
        return plain_layout(eos)
    layout = LAYOUTS[name]
    if tokenizer is not None:
        missing = [tok for tok in layout.turn_tokens if not has_token(tokenizer, tok)]
        if missing:
            raise ValueError(
                f"family {name!r} needs the turn tokens {', '.join(missing)}, which this tokenizer lacks; "
                "use family='plain' for a tokenizer without them"
            )
    return layout


def render_spectrum(messages: list[Message], layout: Layout, add_generation_prompt: bool) -> list[Segment]:
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
