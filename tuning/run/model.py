"""The model as training starts: loaded, control-token rows copied from an instruct twin, its spectrum format
resolved (family checked); and the LoRA configuration when ``--use_peft`` asks for one."""

from __future__ import annotations

import gc
import json
from typing import TYPE_CHECKING, Any

from tuning.run.arguments import RunConfig, RunInputError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from spectrum_suite.formats import Format


def load_start_model(
    config: RunConfig, dtype: str | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase, Format, dict[str, Any]]:
    """Model, tokenizer, its spectrum `Format` (the prompt family in it) and the weight-transfer report (empty
    without an instruct twin)."""
    from spectrum_suite.formats import Format, FormatNotExpressibleError, detect_family
    from tuning.loading import ModelLoadError, load_model_and_tokenizer

    name, twin_name = config.model.model_name_or_path, config.script.instruct_twin
    dtype = dtype or config.model.dtype or "float32"
    trust = config.training.trust_remote_code
    try:
        model, tokenizer = load_model_and_tokenizer(name, dtype=dtype, device="cpu", trust_remote_code=trust)
    except (ModelLoadError, ValueError) as err:
        raise RunInputError(f"--model {name!r}: {err}") from err
    family = detect_family(tokenizer, config.script.family)
    try:
        fmt = Format("spectrum", tokenizer, family)
    except FormatNotExpressibleError as err:
        raise RunInputError(
            f"--model {name!r}: the tokenizer has no usable turn tokens for family {family!r}: {err}"
        ) from err
    transfer = _transfer(model, tokenizer, family, twin_name, dtype, trust) if twin_name else {}
    attn = config.model.attn_implementation or ("eager" if family == "gemma" else None)
    if attn:
        model.set_attn_implementation(attn)
    return model, tokenizer, fmt, transfer


def _transfer(
    model: Any, tokenizer: Any, family: str, twin_name: str, dtype: str, trust: bool
) -> dict[str, Any]:
    """Copy the instruct twin's control-token rows and config into ``model``; the report as a dict."""
    from tuning.loading import ModelLoadError, load_model_and_tokenizer
    from tuning.weight_transfer import WeightTransferError, copy_control_rows

    try:
        twin, twin_tok = load_model_and_tokenizer(
            twin_name, dtype=dtype, device="cpu", trust_remote_code=trust
        )
    except (ModelLoadError, ValueError) as err:
        raise RunInputError(f"--instruct-twin {twin_name!r}: {err}") from err
    try:
        report = copy_control_rows(
            model, twin, tokenizer, twin_tok, family=family if family != "plain" else None
        )
    except WeightTransferError as err:
        raise RunInputError(f"--instruct-twin {twin_name!r}: {err}") from err
    del twin
    gc.collect()
    return json.loads(report.to_json())


def lora_config(model: PreTrainedModel, config: RunConfig) -> Any:
    """LoRA as the paper's option: alpha 5r (the recipes' default), no dropout, q/v projections (+ input embedding)."""
    from peft import LoraConfig

    args = config.model
    targets = list(args.lora_target_modules or ["q_proj", "v_proj"])
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    if config.script.lora_embeddings:
        # The paper's option also adapts the LM head; TRL computes log-probs from ``lm_head.weight`` directly
        # (a fused head) and refuses an adapter there, so only the input embedding is added.
        targets += [n for n in ("embed_tokens", "wte", "word_embeddings") if n in names]
    missing = [t for t in targets if t not in names]
    if missing:
        raise RunInputError(f"--lora_target_modules: the model has no modules named {missing}")
    return LoraConfig(
        r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout, bias="none",
        task_type="CAUSAL_LM", target_modules=targets,
    )  # fmt: skip
