"""Shared pieces of the prompt formats: segments, messages, model families and their turn layouts.

`spectrum_suite.formats` is the public entry point; this module holds what its renderers, the chat
format and the Jinja chat template all need, so that the spectrum layout is written down exactly once.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

FAMILIES = ("gemma", "chatml", "llama3", "plain")
"""Model families the `spectrum` format knows; ``plain`` is the text fallback for any other tokenizer."""

ROLES = ("description", "input", "output")

#: Tokens whose presence in a vocabulary identifies a family, checked in this order.
FAMILY_MARKERS: tuple[tuple[str, str], ...] = (
    ("gemma", "<start_of_turn>"),
    ("chatml", "<|im_start|>"),
    ("llama3", "<|start_header_id|>"),
)


class Segment(NamedTuple):
    """One piece of a rendered prompt: its text, whether it carries loss, and the sample it belongs to.

    ``output_index`` is the sample index j (the output's ``example_ind``) for the pieces of sample j
    (its input, header, content and closer), and -1 for descriptions and format scaffolding.
    """

    text: str
    scored: bool
    output_index: int


class Message(NamedTuple):
    """A validated message: role, content and the sample index j (-1 for a description)."""

    role: str
    content: str
    index: int


@dataclass(frozen=True)
class Layout:
    """The strings of the `spectrum` format for one family (`spec/formats.md` §3.2).

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


def _turn_layout(family: str, start: str, end: str, newline_after_turn: bool) -> Layout:
    """A layout where every turn is ``start + role + header end + content + end``."""
    close = end + ("\n" if newline_after_turn else "")
    return Layout(
        family=family,
        description_open=start.format(role="description"),
        description_close=close,
        input_open=start.format(role="input"),
        input_close=close,
        output_open=start.format(role="output"),
        terminator=end,
        output_close="\n" if newline_after_turn else "",
        turn_tokens=tuple(tok for tok in (start.split("{role}")[0], end) if tok),
    )


LAYOUTS: dict[str, Layout] = {
    "gemma": _turn_layout("gemma", "<start_of_turn>{role}\n", "<end_of_turn>", newline_after_turn=True),
    "chatml": _turn_layout("chatml", "<|im_start|>{role}\n", "<|im_end|>", newline_after_turn=True),
    "llama3": _turn_layout(
        "llama3", "<|start_header_id|>{role}<|end_header_id|>\n\n", "<|eot_id|>", newline_after_turn=False
    ),
}
LLAMA3_HEADER_END = "<|end_header_id|>"


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


def check_family(family: str) -> str:
    """Return ``family`` if it is known, else raise naming the valid ones."""
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; expected one of {', '.join(FAMILIES)}")
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
    """The family whose turn tokens the vocabulary holds (an explicit ``family`` wins), else ``plain``."""
    if family is not None:
        return check_family(family)
    for name, marker in FAMILY_MARKERS:
        if has_token(tokenizer, marker):
            return name
    return "plain"


def layout_for(tokenizer: Any | None = None, family: str | None = None) -> Layout:
    """The spectrum layout for a tokenizer and/or family; checks the tokenizer has the family's tokens."""
    if tokenizer is None and family is None:
        raise ValueError(
            "format 'spectrum' needs a tokenizer or a family (one of " + ", ".join(FAMILIES) + ")"
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
        needed = (*layout.turn_tokens, LLAMA3_HEADER_END) if name == "llama3" else layout.turn_tokens
        missing = [tok for tok in needed if not has_token(tokenizer, tok)]
        if missing:
            raise ValueError(
                f"family {name!r} needs the turn tokens {', '.join(missing)}, which this tokenizer lacks; "
                "use family='plain' for a tokenizer without them"
            )
    return layout


def normalise_messages(messages: Any) -> list[Message]:
    """Validate messages and give each input/output its sample index.

    Accepts a list of ``{role, content, example_ind?}`` mappings or the column form ``{role: [...],
    content: [...], example_ind: [...]}`` that `datasets` returns for a sequence of structs. Without
    ``example_ind`` an output is numbered by its position among the outputs, and an input takes the
    number of the output that follows it.
    """
    if isinstance(messages, Mapping):
        if "role" not in messages or "content" not in messages:
            raise ValueError("messages given as columns need 'role' and 'content' lists")
        roles, contents = list(messages["role"]), list(messages["content"])
        inds = list(messages.get("example_ind") or [None] * len(roles))
        if not len(roles) == len(contents) == len(inds):
            raise ValueError("messages columns 'role', 'content' and 'example_ind' differ in length")
        messages = [
            {"role": r, "content": c, "example_ind": e} for r, c, e in zip(roles, contents, inds, strict=True)
        ]
    if not isinstance(messages, Sequence) or isinstance(messages, str):
        raise TypeError(
            f"messages must be a list of {{role, content}} mappings, got {type(messages).__name__}"
        )
    if not messages:
        raise ValueError("messages is empty: an episode needs at least one message")
    out: list[Message] = []
    outputs = 0
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise TypeError(
                f"message {i}: expected a mapping with 'role' and 'content', got {type(message).__name__}"
            )
        role, content = message.get("role"), message.get("content")
        if not isinstance(role, str) or not role:
            raise ValueError(f"message {i}: 'role' must be a non-empty str, got {role!r}")
        if not isinstance(content, str):
            raise ValueError(f"message {i} ({role}): 'content' must be a str, got {type(content).__name__}")
        ind = message.get("example_ind")
        if ind is not None and (isinstance(ind, bool) or not isinstance(ind, numbers.Integral)):
            raise ValueError(f"message {i} ({role}): 'example_ind' must be an int or None, got {ind!r}")
        if role == "description":
            index = -1
        elif ind is not None and ind >= 0:
            index = int(ind)
        else:
            index = outputs
        if role in ("output", "assistant"):
            outputs += 1
        out.append(Message(role, content, index))
    return out


def unknown_role(i: int, role: str, allowed: Sequence[str] = ROLES) -> ValueError:
    """The error for a role a format does not know."""
    return ValueError(f"message {i}: unknown role {role!r}; expected one of {', '.join(allowed)}")


def special_affixes(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids the tokenizer adds by itself before and after any text (e.g. its BOS; some add an EOS)."""
    bare = tokenizer("a b", add_special_tokens=False)["input_ids"]
    full = tokenizer("a b", add_special_tokens=True)["input_ids"]
    for k in range(len(full) - len(bare) + 1):
        if full[k : k + len(bare)] == bare:
            return list(full[:k]), list(full[k + len(bare) :])
    raise ValueError("cannot find the text's tokens among the special tokens this tokenizer adds")
