"""Whether the start model of a run is a base or an instruct model, and so the format of its own evaluation arm.

The paper's baselines score a base model in the colon format and an instruct model in chat (`docs/tuning.md`).
A chat template alone does not tell them apart, since some base checkpoints ship one (Qwen3-14B-Base does), so
``--eval_start_format auto`` takes the first of these rules that decides:

1. ``--eval_start_format chat`` or ``colon``: that format;
2. ``--start_kind base`` or ``instruct``;
3. ``--instruct_twin`` given: the start model is the base model of that instruct model;
4. the last part of the model's name or path: the words ``instruct``, ``it`` or ``chat`` mark an instruct model,
   ``base`` or ``pt`` a base model (a name with both decides nothing);
5. the chat template's end-of-turn token (``<|im_end|>``, ``<|eot_id|>``, ``<end_of_turn>``) is an
   end-of-sequence token of the checkpoint (``generation_config.json``, ``config.json`` or the tokenizer's EOS):
   the model was trained to end its turns, an instruct model;
6. no chat template: a base model.

Otherwise the run stops before any weights load, asking for ``--start_kind``. Only the tokenizer and the JSON
configs are read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuning.run.arguments import START_FORMATS, START_KINDS, RunConfig, RunInputError

#: The format each kind is scored in (the paper's baselines).
FORMAT_OF = {"base": "colon", "instruct": "chat"}
#: Words of a model name that say which kind it is (checked whole, case-insensitive).
NAME_MARKERS = {"instruct": ("instruct", "it", "chat"), "base": ("base", "pt")}


@dataclass(frozen=True)
class StartKind:
    """The start model's kind (None when ``--eval_start_format`` alone decided), the format of its own arm, and
    which rule decided it."""

    kind: str | None
    format: str
    reason: str

    def sentence(self) -> str:
        """The choice in words, for the comparison and the model card."""
        kind = (
            f"{'an' if self.kind == 'instruct' else 'a'} {self.kind} model"
            if self.kind
            else "kind not decided"
        )
        return f"start model: {kind}, scored in the {self.format} format ({self.reason})"


def name_kind(model: str) -> str | None:
    """The kind the last part of a model's name or path says, or None when it says none (or both)."""
    words = set(re.split(r"[^a-z0-9]+", Path(model.strip().rstrip("/\\")).name.lower()))
    found = [kind for kind, markers in NAME_MARKERS.items() if words & set(markers)]
    return found[0] if len(found) == 1 else None


def _config_file(source: str, name: str) -> dict[str, Any]:
    """A JSON config of the checkpoint (a local folder, or the Hub's cache), or {} when it has none."""
    from transformers.utils import cached_file

    try:
        path = cached_file(
            source, name, _raise_exceptions_for_missing_entries=False,
            _raise_exceptions_for_connection_errors=False,
        )  # fmt: skip
    except (OSError, ValueError):
        return {}
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _ids(value: Any) -> set[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return {value}
    return {v for v in value if isinstance(v, int)} if isinstance(value, list) else set()


def end_of_sequence_ids(source: str, tokenizer: Any) -> dict[str, set[int]]:
    """The end-of-sequence token ids the checkpoint declares, per file that declares them."""
    generation = _config_file(source, "generation_config.json")
    config = _config_file(source, "config.json")
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else {}
    return {
        "generation_config.json": _ids(generation.get("eos_token_id")),
        "config.json": _ids(config.get("eos_token_id")) | _ids(text.get("eos_token_id")),
        "the tokenizer's EOS": _ids(tokenizer.eos_token_id),
    }


def end_of_turn(tokenizer: Any) -> str | None:
    """The end-of-turn token of the tokenizer's family when its chat template uses it, else None."""
    from spectrum_suite.formats import detect_family
    from spectrum_suite.formats.families import TURN_FAMILIES

    template = getattr(tokenizer, "chat_template", None)
    family = TURN_FAMILIES.get(detect_family(tokenizer))
    if not isinstance(template, str) or family is None or family.turn_end not in template:
        return None
    return family.turn_end


def decide(
    model: str, tokenizer: Callable[[], Any], *, start_format: str = "auto", start_kind: str = "auto",
    instruct_twin: str | None = None, source: str | None = None,
) -> StartKind:  # fmt: skip
    """The start arm by the rules above. ``tokenizer`` loads the model's tokenizer, called only when the options
    and the name do not decide; ``source`` is where the configs are read (default ``model``)."""
    if start_format not in START_FORMATS:
        raise RunInputError(
            f"--eval_start_format must be one of {', '.join(START_FORMATS)}, got {start_format!r}"
        )
    if start_kind not in START_KINDS:
        raise RunInputError(f"--start_kind must be one of {', '.join(START_KINDS)}, got {start_kind!r}")
    kind = None if start_kind == "auto" else start_kind
    if start_format != "auto":
        given = f" with --start_kind {kind}" if kind else ""
        return StartKind(kind, start_format, f"--eval_start_format {start_format} given{given}")
    if kind:
        return StartKind(kind, FORMAT_OF[kind], f"--start_kind {kind} given")
    if instruct_twin:
        return StartKind(
            "base", "colon", f"--instruct_twin {instruct_twin} given: the start model is its base model"
        )
    named = name_kind(model)
    if named:
        word = Path(model.strip().rstrip("/\\")).name
        return StartKind(named, FORMAT_OF[named], f"the name {word!r} marks it")
    tok = tokenizer()
    end = end_of_turn(tok)
    if end is not None:
        end_id = tok.convert_tokens_to_ids(end)
        declared = [
            where for where, ids in end_of_sequence_ids(source or model, tok).items() if end_id in ids
        ]
        if declared:
            return StartKind(
                "instruct", "chat", f"its end-of-turn token {end} ends a sequence ({', '.join(declared)})"
            )
    if not getattr(tok, "chat_template", None):
        return StartKind("base", "colon", "its tokenizer has no chat template")
    raise RunInputError(
        f"--model {model!r}: cannot tell whether the start model is a base or an instruct model, which decides its "
        "baseline format (the paper's: colon for a base model, chat for an instruct one): its tokenizer has a chat "
        "template, its name has no marker (instruct, it, chat; base, pt) and "
        + (f"its end-of-turn token {end} ends no sequence in its configs" if end else
           "its chat template uses no known end-of-turn token")
        + ". Pass --start_kind base or --start_kind instruct (or --eval_start_format colon|chat, or --no_eval)"
    )  # fmt: skip


def start_arm(config: RunConfig) -> StartKind:
    """The run's start arm, decided from the options, the name, the tokenizer and the configs (no weights)."""
    from tuning.loading import ModelLoadError, load_tokenizer

    name = config.model.model_name_or_path or ""

    def tokenizer() -> Any:
        try:
            return load_tokenizer(name, trust_remote_code=config.training.trust_remote_code)
        except (ModelLoadError, ValueError) as err:
            raise RunInputError(f"--model {name!r}: {err}") from err

    s, local = config.script, Path(name).expanduser()
    return decide(
        name, tokenizer, start_format=s.eval_start_format, start_kind=s.start_kind,
        instruct_twin=s.instruct_twin, source=str(local) if local.exists() else name,
    )  # fmt: skip
