"""`Format`: one prompt format resolved once for a tokenizer (and family), then used for every episode.

Built from a format name, a tokenizer and an optional prompt family, a `Format` settles everything the name
leaves open (the family's layout, the chat template's markers, the tokenizer's BOS) and refuses, right then,
a tokenizer that cannot express it (`FormatNotExpressibleError`: no chat template, missing turn tokens, no
EOS). Evaluation and training hold the object, never the name again. It renders an episode, gives the
generation prompt, the generation prefix and the stop strings, writes an output as it follows the prompt,
and `Format.encode` is the one path from messages to an `EncodedEpisode`: render, per-segment encoding,
the cut at a maximum length (`docs/formats.md#tokenisation`).
"""

from __future__ import annotations

from typing import Any

from .chat import CHAT_MARKERS, render_chat, require_chat_template, resolve_chat
from .colon import COLON_DELIM, COLON_LABEL, render_colon
from .encoded import EncodedEpisode, truncate
from .families import TURN_FAMILIES, check_family
from .messages import Segment, normalise_messages
from .spectrum import layout_for, render_spectrum
from .tokenize import CachedEncoder, tokenize_segments

#: The format names, in the order the documentation presents them.
FORMATS = ("spectrum", "colon", "chat")
#: The paper's code truncates every tokenised episode to this many tokens
#: (`docs/deviations.md#per-segment-tokenisation`); the evaluation applies it, as the paper did.
REFERENCE_MAX_LENGTH = 8192


class FormatNotExpressibleError(ValueError):
    """The tokenizer (or family) cannot express the format: no chat template, no turn tokens, no EOS, a bad name."""


def check_name(name: str) -> str:
    """``name`` if it is a format, else `FormatNotExpressibleError` naming the formats."""
    if name not in FORMATS:
        raise FormatNotExpressibleError(
            f"unknown format {name!r}: a format must be one of {', '.join(FORMATS)}"
        )
    return name


def continuation(fmt: str, text: str) -> str:
    """An output's text as it follows the generation prompt of format ``fmt``: the colon format writes a space
    after its label (``Output: y``), the others none (their prompt ends in a header line)."""
    return " " + text if check_name(fmt) == "colon" else text


class Format:
    """A prompt format resolved for one tokenizer and prompt family; see the module docstring.

    ``Format("spectrum", tokenizer)`` takes the family from the tokenizer's vocabulary, ``family=`` forces
    one. Without a tokenizer, ``spectrum`` needs a family and ``colon`` nothing; both can then render and give
    prompts and stop strings, but not encode. ``chat`` needs a tokenizer with a chat template (with only a
    family, it gives that family's generation prefix and stop string).
    """

    def __init__(self, name: str, tokenizer: Any | None = None, family: str | None = None) -> None:
        self.name, self.tokenizer = check_name(name), tokenizer
        self._encoder = CachedEncoder(tokenizer) if tokenizer is not None else None
        self.family: str | None = None
        try:
            if name == "spectrum":
                self._layout = layout_for(tokenizer, family)
                self.family = self._layout.family
            elif name == "chat":
                self._resolve_chat(family)
            elif family is not None:
                self.family = check_family(family)
        except (ValueError, TypeError) as err:
            raise self._refusal(err) from err

    def _resolve_chat(self, family: str | None) -> None:
        if self._encoder is not None:
            self.family, header, end = resolve_chat(self._encoder, family)
        elif family is not None and check_family(family) in CHAT_MARKERS:
            self.family, (header, end) = family, CHAT_MARKERS[family]
        else:
            raise ValueError(
                "format 'chat' needs a tokenizer with a chat template (for its generation prefix and stop "
                f"string alone, a family: one of {', '.join(TURN_FAMILIES)})"
            )
        self._markers = (header, end)

    def _refusal(self, err: Exception) -> FormatNotExpressibleError:
        if self.tokenizer is None:
            return FormatNotExpressibleError(str(err))
        name = getattr(self.tokenizer, "name_or_path", None) or type(self.tokenizer).__name__
        return FormatNotExpressibleError(
            f"the tokenizer of {name!r} cannot express format {self.name!r}: {err}"
        )

    def __repr__(self) -> str:
        name = getattr(self.tokenizer, "name_or_path", None) if self.tokenizer is not None else None
        return f"Format({self.name!r}, tokenizer={name!r}, family={self.family!r})"

    # -- text ------------------------------------------------------------------------------------------

    def render(self, messages: Any, add_generation_prompt: bool = False, **options: Any) -> list[Segment]:
        """An episode's messages as segments ``(text, scored, output_index)``.

        Options: ``chat`` takes those of `spectrum_suite.formats.chat.build_chat` (``system_prompt``,
        ``all_examples_in_prompt``, ...), ``colon`` takes ``output_name``, ``spectrum`` none.
        """
        msgs = normalise_messages(messages)
        if self.name == "chat":
            if self._encoder is None:
                require_chat_template(None)
            return render_chat(
                msgs, self._encoder, self.family, self._markers, add_generation_prompt, **options
            )
        allowed = ("output_name",) if self.name == "colon" else ()
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise TypeError(
                f"format {self.name!r} got unknown options {unknown}; expected some of {list(allowed)}"
            )
        if self.name == "colon":
            return render_colon(msgs, add_generation_prompt, options.get("output_name"))
        return render_spectrum(msgs, self._layout, add_generation_prompt)

    def prompt_text(self, messages: Any, **options: Any) -> str:
        """The generation prompt as one string (`render` with ``add_generation_prompt=True``), for candidate
        scoring and sampling."""
        return "".join(seg.text for seg in self.render(messages, True, **options))

    @property
    def generation_prefix(self) -> str:
        """The text that asks for the next output: the spectrum output header, ``Output:``, or the chat
        template's assistant header (with a Qwen3-style template, its empty think block included)."""
        if self.name == "colon":
            return COLON_LABEL
        if self.name == "spectrum":
            return self._layout.generation_prefix
        return self._markers[0]

    @property
    def stop_strings(self) -> list[str]:
        """Strings that end a generated output: the spectrum terminator, ``\\n`` for colon, or the chat
        template's end-of-turn string."""
        if self.name == "colon":
            return ["\n"]
        if self.name == "spectrum":
            return [self._layout.terminator]
        return [self._markers[1]]

    @property
    def output_end(self) -> str:
        """What ends an output's scored span: the colon format's blank line, else its stop string."""
        return COLON_DELIM if self.name == "colon" else self.stop_strings[0]

    def continuation(self, text: str) -> str:
        """An output's text as it follows the generation prompt (`continuation`)."""
        return continuation(self.name, text)

    # -- tokens ----------------------------------------------------------------------------------------

    def encode(
        self, messages: Any, *, max_length: int | None = None, drop_partial_output: bool = False,
        episode: int = -1, add_generation_prompt: bool = False, strict: bool = False, **options: Any,
    ) -> EncodedEpisode:  # fmt: skip
        """The episode as ids, labels and per-token output index, cut at ``max_length`` (`encoded.truncate`).

        Segments are encoded one by one (`tokenize_segments`; ``strict`` checks that the joined text agrees),
        so with a ``max_length`` only the segments that can reach its first ``max_length + 1`` tokens are
        encoded (a ~1000-draw episode would otherwise cost thousands of encoder calls for tokens the cut throws
        away) and the kept tokens are those of the whole episode. With ``add_generation_prompt`` the sequence
        ends in the generation prefix and gets no final EOS.
        """
        if self._encoder is None:
            raise ValueError(f"format {self.name!r} needs a tokenizer to encode")
        segments = self.render(messages, add_generation_prompt, **options)
        if max_length is not None:
            segments = _leading_segments(segments, max_length)
        enc = tokenize_segments(
            segments, self._encoder, add_final_eos=not add_generation_prompt, strict=strict
        )
        encoded = EncodedEpisode(enc["input_ids"], enc["labels"], enc["output_index"], episode=episode)
        if max_length is None:
            return encoded
        return truncate(encoded, max_length, drop_partial_output=drop_partial_output)

    def tokenize(self, messages: Any, max_length: int | None = None, **kwargs: Any) -> dict[str, list[int]]:
        """`encode` as the arrays a `datasets` row or a model call takes: ``input_ids``, ``labels``,
        ``output_index`` and ``attention_mask``."""
        enc = self.encode(messages, max_length=max_length, **kwargs)
        return {
            "input_ids": enc.input_ids,
            "labels": enc.labels,
            "output_index": enc.output_index,
            "attention_mask": [1] * len(enc.input_ids),
        }


def _leading_segments(segments: list[Segment], max_length: int) -> list[Segment]:
    """Enough leading segments to fix the first ``max_length + 1`` tokens (every non-empty one gives >= 1)."""
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ValueError(f"max_length must be a positive int or None, got {max_length!r}")
    kept, nonempty = [], 0
    for seg in segments:
        kept.append(seg)
        nonempty += bool(seg.text)
        if nonempty >= max_length + 2:
            break
    return kept
