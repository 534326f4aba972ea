"""Turning a raw sampled continuation into the string that is validated (`docs/evaluation.md#cleaning`).

Cleaning decides what counts as one generation, so every coverage number depends on it; it lives in one
function used both by the sampling code and by the metric (``clean=True``).
"""

from __future__ import annotations

from collections.abc import Sequence

from spectrum_suite.formats.families import SAMPLING_STOP_STRINGS

REMOVED_TOKENS = ("<pad>", "<|endoftext|>")
"""Deleted everywhere, one per pass, in this order."""

DEFAULT_STOP_STRINGS = (*SAMPLING_STOP_STRINGS, "\n")
"""The paper's sampling stop strings, less the tokenizer's own EOS, which the caller adds."""

MODES = ("parity", "earliest")


def _cut(text: str, stop_strings: Sequence[str], mode: str) -> str:
    if mode == "parity":
        for stop in stop_strings:
            if stop in text:
                return text[: text.index(stop)]
        return text
    positions = [text.find(stop) for stop in stop_strings]
    found = [position for position in positions if position >= 0]
    return text[: min(found)] if found else text


def clean_generation(
    text: str, stop_strings: Sequence[str] = DEFAULT_STOP_STRINGS, mode: str = "parity"
) -> str:
    """The cleaned generation: in practice its first line, without surrounding whitespace or end tokens.

    Two passes, one per token of `REMOVED_TOKENS`: delete that token, strip, then cut at a stop string;
    finally strip again. ``mode="parity"`` cuts at the first stop string *in list order* that occurs (the
    reference's rule, the default); ``mode="earliest"`` cuts at whichever stop string occurs first in the
    text (`docs/deviations.md#cleaning-order`).
    """
    if not isinstance(text, str):
        raise ValueError(f"clean_generation: expected a string, got {text!r}")
    if mode not in MODES:
        raise ValueError(f"clean_generation: mode must be one of {MODES}, got {mode!r}")
    if isinstance(stop_strings, str):
        raise ValueError("clean_generation: stop_strings must be a list of strings, not one string")
    for index, stop in enumerate(stop_strings):
        if not isinstance(stop, str) or not stop:
            raise ValueError(
                f"clean_generation: stop_strings[{index}] is {stop!r}; expected a non-empty string"
            )
    for token in REMOVED_TOKENS:
        text = text.replace(token, "").strip()
        text = _cut(text, stop_strings, mode)
    return text.strip()
