"""Control-token rows from an instruct twin, on two tiny random models."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch
from transformers import (
    AutoModelForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
)

from tests.tokenizer_fixtures import build_tokenizer, make_tokenizer
from tuning.weight_transfer import (
    WeightTransferError,
    copy_control_rows,
    main,
    transfer_control_tokens,
)


def _llama(vocab: int, seed: int, tied: bool = True, eos: int = 0, hidden: int = 16) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=vocab, hidden_size=hidden, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=64, tie_word_embeddings=tied, eos_token_id=eos,
    )  # fmt: skip
    return LlamaForCausalLM(cfg)


@pytest.mark.parametrize("tied", [True, False])
def test_rows_copied_only_for_control_tokens(tied: bool) -> None:
    tok = make_tokenizer("chatml")
    vocab = len(tok)
    base, instruct = (
        _llama(vocab, 0, tied),
        _llama(vocab, 1, tied, eos=tok.convert_tokens_to_ids("<|im_end|>")),
    )
    before_in = base.get_input_embeddings().weight.detach().clone()
    before_out = base.get_output_embeddings().weight.detach().clone()
    model = transfer_control_tokens(base, instruct, base_tokenizer=tok, instruct_tokenizer=tok)
    ids = [tok.convert_tokens_to_ids(t) for t in ("<|im_start|>", "<|im_end|>")]
    others = [i for i in range(vocab) if i not in ids]
    emb, head = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    assert torch.equal(emb[ids], instruct.get_input_embeddings().weight[ids])
    assert torch.equal(head[ids], instruct.get_output_embeddings().weight[ids])
    assert torch.equal(emb[others], before_in[others])
    assert torch.equal(head[others], before_out[others])
    report = model.transfer_report
    assert report.tokens == {"<|im_start|>": ids[0], "<|im_end|>": ids[1]} and report.tied == tied
    assert report.config_changes["eos_token_id"] == {"base": 0, "instruct": ids[1]}
    assert model.config.eos_token_id == ids[1]


def test_checks_class_shapes_and_single_ids() -> None:
    tok = make_tokenizer("chatml")
    vocab = len(tok)
    base = _llama(vocab, 0)
    with pytest.raises(WeightTransferError, match="input-embedding shapes differ"):
        copy_control_rows(base, _llama(vocab, 1, hidden=24), tok, tok)
    with pytest.raises(WeightTransferError, match="input-embedding shapes differ"):
        copy_control_rows(base, _llama(vocab + 3, 1), tok, tok)
    other = MistralForCausalLM(
        MistralConfig(vocab_size=vocab, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=True)
    )  # fmt: skip
    with pytest.raises(WeightTransferError, match="model classes differ"):
        copy_control_rows(base, other, tok, tok)
    with pytest.raises(WeightTransferError, match="exactly one"):
        copy_control_rows(base, _llama(vocab, 1), tok, tok, tokens=["<|not a control token|>"])
    with pytest.raises(WeightTransferError, match="no chat-control tokens"):
        copy_control_rows(base, _llama(vocab, 1), tok, tok, family="plain")


def test_warns_when_the_base_tokenizer_maps_a_token_differently(caplog: pytest.LogCaptureFixture) -> None:
    inst_tok, base_tok = make_tokenizer("chatml"), make_tokenizer("plain")
    vocab = max(len(inst_tok), len(base_tok))
    with caplog.at_level(logging.WARNING, logger="tuning.weight_transfer"):
        report = copy_control_rows(_llama(vocab, 0), _llama(vocab, 1), base_tok, inst_tok)
    assert set(report.base_id_mismatches) == {"<|im_start|>", "<|im_end|>"}
    assert "maps" in caplog.text or "encodes" in caplog.text


def test_cli_saves_model_report_and_preprocessor_config(tmp_path: Path) -> None:
    tok = build_tokenizer("chatml")
    vocab = len(tok)
    for name, seed in (("base", 0), ("instruct", 1)):
        _llama(vocab, seed).save_pretrained(tmp_path / name)
        tok.save_pretrained(tmp_path / name)
    (tmp_path / "instruct" / "preprocessor_config.json").write_text('{"processor_class": "X"}\n')
    out = tmp_path / "out-Qwen3"
    assert main([str(tmp_path / "base"), str(tmp_path / "instruct"), "--out", str(out)]) == 0
    report = json.loads((out / "transfer_report.json").read_text())
    assert report["family"] == "chatml" and set(report["tokens"]) == {"<|im_start|>", "<|im_end|>"}
    assert (out / "preprocessor_config.json").read_text() == '{"processor_class": "X"}\n'
    saved = AutoModelForCausalLM.from_pretrained(out)
    instruct = AutoModelForCausalLM.from_pretrained(tmp_path / "instruct")
    ids = list(report["tokens"].values())
    assert torch.equal(saved.get_input_embeddings().weight[ids], instruct.get_input_embeddings().weight[ids])
    assert (out / "tokenizer.json").is_file()
