"""The `colon` format, for base models: ``Description: {d}``, ``Input: {x}``, ``Output: {y}`` blocks.

``Description: {d}\\n\\n``, ``Input: {x}\\n\\n``, ``Output:`` + [`` {y.strip()}\\n\\n``]; every output is scored,
the first included, its blank line too.
"""

from __future__ import annotations

from .messages import Message, Segment

COLON_DELIM = "\n\n"
COLON_LABEL = "Output:"


def render_colon(
    messages: list[Message], add_generation_prompt: bool, output_name: str | None
) -> list[Segment]:
    """Segments of the colon format; ``output_name`` renames only the final generation label, never text in
    the content (`docs/deviations.md#colon-output-label`)."""
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
            # The alignment prompt's label follows its input after a single newline (docs/evaluation.md#alignment-prompts).
            segments[-1] = last._replace(text=last.text[:-1])
        segments.append(Segment(f"{output_name}:", False, -1))
    elif add_generation_prompt:
        segments.append(Segment(COLON_LABEL, False, -1))
    return segments
