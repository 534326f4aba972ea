"""Messages and segments: what every format reads and writes.

An episode is a list of messages ``{role, content, example_ind}``; a format renders it as segments, pieces of
text flagged as scored or not and tagged with the sample they belong to.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

ROLES = ("description", "input", "output")


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
