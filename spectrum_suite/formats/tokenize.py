"""Tokenisation of rendered segments: per-segment encoding with loss labels and per-token output indices.

Every segment is encoded on its own and the ids concatenated, with the tokenizer's own BOS once at the start,
no tokenizer-added trailing EOS inside the sequence (an EOS that is part of the text, such as a ChatML
``<|im_end|>`` terminator, stays), and one unlabelled EOS at the end when the last token is not already the
EOS. This is how the paper's reference tokenises; `tokenize_segments(..., strict=True)` checks that it agrees
with tokenising the joined text.
"""

from __future__ import annotations

from typing import Any

from .messages import Segment


class CachedEncoder:
    """A tokenizer proxy that memoises ``tokenizer(text, add_special_tokens=...)`` calls.

    Episodes repeat the same few segment texts hundreds of times (turn headers, separators, the handful of
    values of a discrete distribution), and one encoder call costs far more than a dict lookup; everything else
    is delegated to the wrapped tokenizer, so the formats see a tokenizer. A `Format` encodes through one.
    """

    def __init__(self, tokenizer: Any, maxsize: int = 200_000) -> None:
        self._wrapped = tokenizer
        self._cache: dict[tuple[str, bool], list[int]] = {}
        self._maxsize = maxsize

    def __call__(
        self, text: str | list[str], add_special_tokens: bool = True, **kwargs: Any
    ) -> dict[str, list[int] | list[list[int]]]:
        if kwargs or not (
            isinstance(text, str) or (isinstance(text, list) and all(isinstance(t, str) for t in text))
        ):
            return self._wrapped(text, add_special_tokens=add_special_tokens, **kwargs)
        texts = [text] if isinstance(text, str) else text
        misses = list(dict.fromkeys(t for t in texts if (t, add_special_tokens) not in self._cache))
        if misses:
            if len(self._cache) + len(misses) > self._maxsize:
                self._cache.clear()
            encoded = self._wrapped(misses, add_special_tokens=add_special_tokens)["input_ids"]
            for t, ids in zip(misses, encoded, strict=True):
                self._cache[(t, add_special_tokens)] = list(ids)
        found = [list(self._cache[(t, add_special_tokens)]) for t in texts]
        return {"input_ids": found[0] if isinstance(text, str) else found}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_wrapped", "_cache", "_maxsize"):
            raise AttributeError(name)
        return getattr(self._wrapped, name)


def special_affixes(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids the tokenizer adds by itself before and after any text (e.g. its BOS; some add an EOS)."""
    bare = tokenizer("a b", add_special_tokens=False)["input_ids"]
    full = tokenizer("a b", add_special_tokens=True)["input_ids"]
    for k in range(len(full) - len(bare) + 1):
        if full[k : k + len(bare)] == bare:
            return list(full[:k]), list(full[k + len(bare) :])
    raise ValueError("cannot find the text's tokens among the special tokens this tokenizer adds")


def tokenize_segments(
    segments: list[Segment], tokenizer: Any, *, add_final_eos: bool = True, strict: bool = False
) -> dict[str, list[int]]:
    """Token ids, labels (-100 where unscored) and per-token output index of segments.

    Each segment is encoded on its own (`docs/formats.md#tokenisation`). ``strict`` also encodes the joined text
    and raises when the two differ (`docs/deviations.md#per-segment-tokenisation`), which happens with some
    tokenizers at boundaries. Cutting at a maximum length is `spectrum_suite.formats.encoded.truncate`'s.
    """
    prefix, _added_after = special_affixes(
        tokenizer
    )  # ids a tokenizer appends after the text (an EOS) are dropped inside the sequence
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
    return {"input_ids": ids, "labels": labels, "output_index": owner}


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
    """Consecutive scored spans must be apart by at least one unscored token (`docs/formats.md#scored-outputs`)."""
    for k in range(1, len(owner)):
        if owner[k] != -1 and owner[k - 1] != -1 and owner[k] != owner[k - 1]:
            raise ValueError(f"scored spans of outputs {owner[k - 1]} and {owner[k]} touch at token {k}")
