"""The `spectrum` layout as a Jinja chat template, with `{% generation %}` around scored spans.

A tuned model ships with this template, so ``tokenizer.apply_chat_template(messages)`` on messages with
roles description/input/output renders exactly what `spectrum_suite.formats.render` does, and
``return_assistant_tokens_mask=True`` (or TRL's assistant-only loss) marks the same tokens that
`spectrum_suite.formats.tokenize` labels: each output's content and terminator, except the first
output when no description precedes it. The template also writes the one BOS (where the tokenizer adds
one) and the final EOS that `tokenize` adds, because `apply_chat_template` tokenises without special
tokens.

The ids agree whenever encoding segment by segment equals encoding the joined text (check it with
``tokenize(..., strict=True)``). That holds for byte-level BPE tokenizers with the layouts here, since
every boundary falls next to a special token or after a single newline. It can fail for SentencePiece
tokenizers that prefix each encoded text with a space marker, and with GPT-2-style splitting when a
content ends in whitespace (``"a\n"`` + ``"\n"`` is split differently from ``"a\n\n"``).
"""

from __future__ import annotations

from typing import Any

from .families import check_family
from .messages import ROLES
from .spectrum import LAYOUTS, plain_layout
from .tokenize import special_affixes

#: Families whose tokenizers add a BOS by themselves; used when no tokenizer is given.
ADDS_BOS = {"gemma": True, "chatml": False, "llama3": True, "plain": True}
_EOS_MARK = "\x00eos\x00"


def _literal(text: str) -> str:
    """A Jinja string literal for ``text``."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return "'" + escaped + "'"


def _expr(text: str) -> str:
    """A Jinja expression for a layout string; the plain family's terminator is the ``eos_token``."""
    pieces = text.split(_EOS_MARK)
    parts = []
    for i, piece in enumerate(pieces):
        if i:
            parts.append("eos_token")
        if piece:
            parts.append(_literal(piece))
    return " + ".join(parts) if parts else "''"


def _emit(expr: str) -> str:
    """A Jinja output statement without surrounding whitespace."""
    return "{{- " + expr + " -}}"


def _set_tail(text: str) -> str:
    """Remember how the rendered text ends, to know whether the final EOS is still needed."""
    return "{%- set ns.tail = " + _expr(text) + " -%}"


def chat_template(family: str, tokenizer: Any | None = None, add_bos: bool | None = None) -> str:
    """A chat template rendering the `spectrum` layout of ``family`` for roles description/input/output.

    ``add_bos`` says whether the template starts with ``bos_token``; it should be true exactly when the
    tokenizer adds a BOS by itself, which is read off ``tokenizer`` when given, else taken from the
    family (Gemma and Llama 3 do, ChatML does not, and the plain fallback assumes it does).
    """
    check_family(family)
    layout = plain_layout(_EOS_MARK) if family == "plain" else LAYOUTS[family]
    if add_bos is None:
        add_bos = bool(special_affixes(tokenizer)[0]) if tokenizer is not None else ADDS_BOS[family]
    content = "message['content']"
    scored = f"{content} + {_expr(layout.terminator)}"
    lines = [
        "{#- Spectrum Suite: the spectrum format, family " + family + " -#}",
        "{%- set ns = namespace(scorable=false, tail='') -%}",
        "{%- if bos_token is defined and bos_token -%}{{- bos_token -}}{%- endif -%}" if add_bos else "",
        "{%- for message in messages -%}",
        "{%- if message['role'] == 'description' -%}",
        _emit(f"{_expr(layout.description_open)} + {content} + {_expr(layout.description_close)}"),
        "{%- set ns.scorable = true -%}" + _set_tail(layout.description_close),
        "{%- elif message['role'] == 'input' -%}",
        _emit(f"{_expr(layout.input_open)} + {content} + {_expr(layout.input_close)}"),
        _set_tail(layout.input_close),
        "{%- elif message['role'] == 'output' -%}",
        _emit(_expr(layout.output_open)),
        "{%- if ns.scorable -%}{%- generation -%}" + _emit(scored) + "{%- endgeneration -%}",
        "{%- else -%}" + _emit(scored) + "{%- endif -%}",
        _emit(_expr(layout.output_close)) if layout.output_close else "",
        "{%- set ns.scorable = true -%}" + _set_tail(layout.terminator + layout.output_close),
        "{%- else -%}",
        _emit(f"raise_exception('unknown role ' + message['role'] + '; expected one of {', '.join(ROLES)}')"),
        "{%- endif -%}",
        "{%- endfor -%}",
        "{%- if add_generation_prompt -%}" + _emit(_expr(layout.output_open)),
        "{%- elif eos_token is defined and eos_token and not ns.tail.endswith(eos_token) -%}"
        + _emit("eos_token"),
        "{%- endif -%}",
    ]
    return "\n".join(line for line in lines if line) + "\n"
