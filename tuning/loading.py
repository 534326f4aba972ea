"""Loading a causal LM and its tokenizer by Hub id, local path, or the embedded default's name.

Every failure becomes one `ModelLoadError` that names the model and what the name was taken to be (a local
folder, a Hub id, the embedded model), so a typo never ends in a library traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from tuning.embedded import EMBEDDED_MODEL, EmbeddedModelError, embedded_model_dir, embedded_tokenizer

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

DTYPES = ("auto", "float32", "bfloat16", "float16")


class ModelLoadError(RuntimeError):
    """A model or tokenizer could not be loaded; the message names the model and what was tried."""


def resolve_model(model: str) -> str:
    """A loadable reference: the converted cache folder for the embedded name, else ``model`` unchanged."""
    if model.strip().lower() != EMBEDDED_MODEL:
        return model
    try:
        return str(embedded_model_dir())
    except EmbeddedModelError as err:
        raise ModelLoadError(str(err)) from err


def pick_device(device: str | None = None) -> str:
    """The requested device, else CUDA when present, else CPU."""
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(dtype: str, device: str) -> torch.dtype:
    """``auto`` -> bf16 on a CUDA device that computes it natively, float32 elsewhere (on a CPU too: full precision
    is the paper's scoring; ``bfloat16`` asks for it there); else the named dtype."""
    import torch

    from tuning.precision import bf16_support

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") and bf16_support(device).native else torch.float32
    return getattr(torch, dtype)


def _where(model: str, resolved: str) -> str:
    """Words for the error message: what the name was taken to be."""
    if resolved != model:
        return f"the embedded model converted to {resolved}"
    if Path(resolved).exists():
        return f"the local folder {Path(resolved).resolve()}"
    return f"the Hugging Face Hub id {resolved!r} (HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', '0')})"


def load_tokenizer(model: str, *, trust_remote_code: bool = False) -> PreTrainedTokenizerBase:
    """The tokenizer of ``model`` (Hub id, local path or the embedded name), pad = EOS when it has none."""
    from transformers import AutoTokenizer

    if model.strip().lower() == EMBEDDED_MODEL:
        try:
            tokenizer = embedded_tokenizer()
        except EmbeddedModelError as err:
            raise ModelLoadError(str(err)) from err
        return _with_pad(tokenizer, model)
    resolved = _resolved(model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(resolved, trust_remote_code=trust_remote_code)
    except Exception as err:  # noqa: BLE001 - any loader failure becomes one clear message
        raise ModelLoadError(
            f"could not load the tokenizer of {model!r} from {_where(model, resolved)}: {err}"
        ) from err
    return _with_pad(tokenizer, model)


def _with_pad(tokenizer: PreTrainedTokenizerBase, model: str) -> PreTrainedTokenizerBase:
    """The tokenizer with pad = EOS when it has no pad token of its own."""
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token is None:
            raise ModelLoadError(f"model {model!r}: the tokenizer has neither a pad nor an EOS token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _resolved(model: str) -> str:
    if not model or not model.strip():
        raise ModelLoadError("no model given: pass a Hub id, a local path, or " + repr(EMBEDDED_MODEL))
    looks_local = model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model
    if looks_local and not Path(model).expanduser().exists():
        raise ModelLoadError(f"model {model!r}: the local path {Path(model).expanduser()} does not exist")
    resolved = resolve_model(model)
    return str(Path(resolved).expanduser()) if Path(resolved).expanduser().exists() else resolved


def load_model_and_tokenizer(
    model: str, *, dtype: str = "auto", device: str | None = None, trust_remote_code: bool = False,
    device_map: str | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:  # fmt: skip
    """Model (eval mode, on ``device``) and tokenizer (pad = EOS when it has none) for ``model``.

    ``device_map="auto"`` places a model too large for one device across the GPUs (and the CPU) with
    accelerate's big-model inference instead of moving it whole to ``device``.
    """
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(model, trust_remote_code=trust_remote_code)
    resolved = _resolved(model)
    device = pick_device(device)
    placement = {"device_map": device_map} if device_map else {}
    try:
        lm = AutoModelForCausalLM.from_pretrained(
            resolved, dtype=pick_dtype(dtype, device), trust_remote_code=trust_remote_code, **placement
        )
    except Exception as err:  # noqa: BLE001
        raise ModelLoadError(
            f"could not load model {model!r} as a causal LM from {_where(model, resolved)}: {err}"
        ) from err
    if lm.generation_config is not None and lm.generation_config.pad_token_id is None:
        lm.generation_config.pad_token_id = tokenizer.pad_token_id
    if not device_map:
        lm.to(device)
    lm.eval()
    return lm, tokenizer
