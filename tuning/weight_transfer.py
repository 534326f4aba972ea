"""Control-token embedding rows from an instruct twin (`docs/tuning.md#control-token-transfer`).

A base checkpoint has the chat-control tokens (``<|im_start|>``, ``<start_of_turn>``, ...) in its vocabulary,
but their rows are essentially untrained. Spectrum Tuning uses them as role markers, so before training we
copy the instruct twin's input-embedding and LM-head rows for exactly those tokens into the base model and
adopt the instruct config. Unlike the paper's code (`docs/deviations.md#weight-transfer`) every config field
that changes is logged and
returned, and Gemma's ``preprocessor_config.json`` is copied from the instruct checkpoint, not from an
undefined name.

    python -m tuning.weight_transfer BASE INSTRUCT --out DIR [--family chatml] [--tokens T1 T2]
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import shutil
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spectrum_suite.folders import Mark
from spectrum_suite.formats.families import TURN_FAMILIES

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

#: The chat-control tokens of each family whose rows are transferred.
CONTROL_TOKENS: dict[str, tuple[str, ...]] = {name: f.control_tokens for name, f in TURN_FAMILIES.items()}
#: Config fields that always differ between two loaded checkpoints and say nothing about the model.
_IGNORED_CONFIG_KEYS = frozenset({"_name_or_path", "transformers_version", "_commit_hash"})
#: The mark of a folder this command wrote (`spectrum_suite.folders`).
TRANSFER_MARK = Mark(".spectrum_transfer.json", "tuning.weight_transfer")


class WeightTransferError(ValueError):
    """The base and instruct checkpoints cannot be combined; the message says which check failed."""


@dataclass
class TransferReport:
    """What a transfer did: the ids copied, whether the head was tied, and the config fields replaced."""

    family: str
    tokens: dict[str, int]
    tied: bool
    base_id_mismatches: dict[str, list[int]] = field(default_factory=dict)
    config_changes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, default=str)


def control_tokens_for(family: str) -> tuple[str, ...]:
    """The control tokens of a family; a family without turn tokens (plain) has nothing to transfer."""
    if family not in CONTROL_TOKENS:
        raise WeightTransferError(
            f"family {family!r} has no chat-control tokens to transfer; known families: {', '.join(CONTROL_TOKENS)}"
        )
    return CONTROL_TOKENS[family]


def single_token_id(tokenizer: PreTrainedTokenizerBase, token: str, which: str) -> int:
    """The one id ``token`` encodes to (without special tokens); an error when it is not exactly one id."""
    ids = tokenizer.encode(token, add_special_tokens=False)
    if len(ids) != 1:
        raise WeightTransferError(
            f"the {which} tokenizer encodes control token {token!r} as {len(ids)} ids {ids}, expected exactly one"
        )
    return int(ids[0])


def config_diff(before: Any, after: Any) -> dict[str, dict[str, Any]]:
    """Top-level config fields whose value differs, as {field: {"base": old, "instruct": new}}."""
    old, new = before.to_dict(), after.to_dict()
    changes: dict[str, dict[str, Any]] = {}
    for key in sorted(set(old) | set(new)):
        if key in _IGNORED_CONFIG_KEYS:
            continue
        if old.get(key, "<absent>") != new.get(key, "<absent>"):
            changes[key] = {"base": old.get(key, "<absent>"), "instruct": new.get(key, "<absent>")}
    return changes


def _heads_tied(model: PreTrainedModel) -> bool:
    out = model.get_output_embeddings()
    return out is not None and out.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()


def _check_compatible(base: PreTrainedModel, instruct: PreTrainedModel) -> None:
    """Same class, same input-embedding shape, same LM-head shape (`docs/tuning.md#control-token-transfer`)."""
    if type(base) is not type(instruct):
        raise WeightTransferError(
            f"model classes differ: base is {type(base).__name__}, instruct is {type(instruct).__name__}"
        )
    base_in, inst_in = base.get_input_embeddings().weight, instruct.get_input_embeddings().weight
    if base_in.shape != inst_in.shape:
        raise WeightTransferError(
            f"input-embedding shapes differ: base {tuple(base_in.shape)}, instruct {tuple(inst_in.shape)}"
        )
    base_out, inst_out = base.get_output_embeddings(), instruct.get_output_embeddings()
    if (base_out is None) != (inst_out is None):
        raise WeightTransferError("only one of the two models has an LM head (output embeddings)")
    if base_out is not None and base_out.weight.shape != inst_out.weight.shape:
        raise WeightTransferError(
            f"LM-head shapes differ: base {tuple(base_out.weight.shape)}, instruct {tuple(inst_out.weight.shape)}"
        )


def copy_control_rows(
    base: PreTrainedModel,
    instruct: PreTrainedModel,
    base_tokenizer: PreTrainedTokenizerBase,
    instruct_tokenizer: PreTrainedTokenizerBase,
    tokens: Sequence[str] | None = None,
    family: str | None = None,
    replace_config: bool = True,
) -> TransferReport:
    """Copy the control tokens' rows from ``instruct`` into ``base`` in place and adopt the instruct config."""
    import torch

    if family is None:
        from spectrum_suite.formats import detect_family

        family = detect_family(instruct_tokenizer)
    token_list = tuple(tokens) if tokens else control_tokens_for(family)
    _check_compatible(base, instruct)
    ids = {tok: single_token_id(instruct_tokenizer, tok, "instruct") for tok in token_list}
    mismatches: dict[str, list[int]] = {}
    for tok, tid in ids.items():
        base_ids = base_tokenizer.encode(tok, add_special_tokens=False)
        if base_ids != [tid]:
            mismatches[tok] = [int(i) for i in base_ids]
            logger.warning(
                "the base tokenizer encodes %r as %s, the instruct tokenizer as [%d]; copying row %d",
                tok,
                base_ids,
                tid,
                tid,
            )
    tied = _heads_tied(base)
    index = torch.tensor(sorted(set(ids.values())), dtype=torch.long)
    with torch.no_grad():
        src_in = instruct.get_input_embeddings().weight
        dst_in = base.get_input_embeddings().weight
        dst_in[index.to(dst_in.device)] = src_in[index.to(src_in.device)].to(dst_in.device, dst_in.dtype)
        if not tied and base.get_output_embeddings() is not None:
            src_out = instruct.get_output_embeddings().weight
            dst_out = base.get_output_embeddings().weight
            dst_out[index.to(dst_out.device)] = src_out[index.to(src_out.device)].to(
                dst_out.device, dst_out.dtype
            )
    changes: dict[str, dict[str, Any]] = {}
    if replace_config:
        changes = config_diff(base.config, instruct.config)
        name_or_path = getattr(base.config, "_name_or_path", "")
        base.config = copy.deepcopy(instruct.config)
        base.config._name_or_path = name_or_path
        for key, change in changes.items():
            logger.info(
                "config %s: %r -> %r (from the instruct twin)", key, change["base"], change["instruct"]
            )
    report = TransferReport(family, ids, tied, mismatches, changes)
    logger.info("copied control-token rows %s (tied head: %s)", ids, tied)
    return report


def transfer_control_tokens(
    base: PreTrainedModel,
    instruct: PreTrainedModel,
    tokens: Sequence[str] | None = None,
    family: str | None = None,
    *,
    base_tokenizer: PreTrainedTokenizerBase,
    instruct_tokenizer: PreTrainedTokenizerBase,
) -> PreTrainedModel:
    """The base model with the instruct twin's control-token rows and config; the report is on ``.transfer_report``."""
    report = copy_control_rows(base, instruct, base_tokenizer, instruct_tokenizer, tokens, family)
    base.transfer_report = report
    return base


def copy_preprocessor_config(instruct_source: str, out_dir: Path) -> Path | None:
    """Copy ``preprocessor_config.json`` of a local instruct checkpoint or Hub repo when it has one (Gemma 3)."""
    name = "preprocessor_config.json"
    local = Path(instruct_source).expanduser() / name
    if local.is_file():
        return Path(shutil.copy2(local, out_dir / name))
    if Path(instruct_source).expanduser().exists():
        return None
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError
    except ImportError:  # pragma: no cover - huggingface_hub is a dependency
        return None
    try:
        fetched = hf_hub_download(instruct_source, name)
    except EntryNotFoundError:
        return None
    return Path(shutil.copy2(fetched, out_dir / name))


def transfer_and_save(
    base_id: str,
    instruct_id: str,
    out_dir: str | Path,
    tokens: Sequence[str] | None = None,
    family: str | None = None,
    dtype: str = "auto",
) -> TransferReport:
    """Load both checkpoints, transfer, and save the result with the **base** tokenizer to ``out_dir``: a
    folder of its own (`spectrum_suite.folders`: checked before anything loads, written aside, swapped in whole,
    never into a folder holding files it did not write)."""
    from spectrum_suite.folders import check_target, write_whole
    from tuning.loading import load_model_and_tokenizer, pick_dtype

    pick_dtype(dtype, "cpu")
    check_target(Path(out_dir), TRANSFER_MARK, "--out")
    base, base_tok = load_model_and_tokenizer(base_id, dtype=dtype, device="cpu")
    instruct, inst_tok = load_model_and_tokenizer(instruct_id, dtype=dtype, device="cpu")
    report = copy_control_rows(base, instruct, base_tok, inst_tok, tokens, family)
    del instruct

    def write(out: Path) -> None:
        base.save_pretrained(out, safe_serialization=True)
        base_tok.save_pretrained(out)
        copy_preprocessor_config(instruct_id, out)
        (out / "transfer_report.json").write_text(report.to_json() + "\n")

    write_whole(Path(out_dir), TRANSFER_MARK, write, "--out")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tuning.weight_transfer", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("base", help="base (pretrained) model: Hub id or local path")
    parser.add_argument("instruct", help="its instruct twin: Hub id or local path")
    parser.add_argument(
        "--out",
        required=True,
        help="output folder (keep the family name, e.g. Qwen3, in it: docs/deviations.md#model-family-detection)",
    )
    parser.add_argument(
        "--family", choices=sorted(CONTROL_TOKENS), help="default: detected from the tokenizer"
    )
    parser.add_argument("--tokens", nargs="+", help="control tokens to copy (default: the family's)")
    parser.add_argument("--dtype", default="auto", help="auto, float32, bfloat16 or float16")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from tuning.loading import ModelLoadError

    try:
        report = transfer_and_save(args.base, args.instruct, args.out, args.tokens, args.family, args.dtype)
    except (WeightTransferError, ModelLoadError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(report.to_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
