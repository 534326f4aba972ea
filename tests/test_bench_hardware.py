"""`bench/hardware.py`'s accounting on a tiny model: the FLOPs it credits equal what PyTorch counts the step
doing, and its profile splits a step's whole wall time into categories."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import LlamaConfig, LlamaForCausalLM
from trl.trainer.utils import add_fused_lm_head

from bench.hardware import (
    ELEMENTWISE,
    FRAMEWORK,
    categorise,
    model_flops,
    profile_step,
    score_step,
    train_step,
)

VOCAB = 512


def _tiny(tied: bool) -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=4, max_position_embeddings=256, tie_word_embeddings=tied,
    )  # fmt: skip
    model = LlamaForCausalLM(config)
    model.config._attn_implementation = "eager"  # attention as matmuls, which the FLOP counter sees
    return model


def _counted(step) -> int:
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


@pytest.mark.parametrize("tied", [True, False])
def test_scoring_flops_are_what_the_forward_pass_computes(tied: bool) -> None:
    model = _tiny(tied).eval()
    ids = torch.randint(0, VOCAB, (2, 48))
    credited = model_flops(model, ids.numel(), ids.numel(), [48, 48], per_weight=2)
    counted = _counted(lambda: score_step(model, ids))
    # Only the RMSNorm weights multiply nothing in a matmul: under 0.5% of this model's weights.
    assert credited["dense"] + credited["attention"] == pytest.approx(counted, rel=0.005)


@pytest.mark.parametrize("tied", [True, False])
def test_training_flops_are_three_forward_passes(tied: bool) -> None:
    model = _tiny(tied).train()
    ids = torch.randint(0, VOCAB, (1, 64))
    credited = model_flops(model, 64, 64, [64], per_weight=6)
    counted = _counted(lambda: model(input_ids=ids, labels=ids, use_cache=False).loss.backward())
    assert credited["dense"] + credited["attention"] == pytest.approx(counted, rel=0.005)


def test_trls_fused_head_projects_every_position_on_a_cpu() -> None:
    """Why the bench credits the LM head at every position but a row's last, labelled or not."""
    model = _tiny(tied=True)
    add_fused_lm_head(model, outputs=("log_probs",))
    ids = torch.randint(0, VOCAB, (1, 64))
    labels = ids.clone()
    labels[:, :40] = -100  # a prompt: 24 labelled positions
    with torch.no_grad():
        counted = _counted(lambda: model(input_ids=ids, labels=labels, use_cache=False, fused_lm_head=True))
    credited = model_flops(model, 64, 63, [64], per_weight=2)
    assert credited["dense"] + credited["attention"] == pytest.approx(counted, rel=0.005)


def test_the_profile_accounts_for_the_whole_step() -> None:
    model = _tiny(tied=True)
    model.config._attn_implementation = "sdpa"
    add_fused_lm_head(model, outputs=("log_probs",))
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)
    ids = torch.randint(0, VOCAB, (1, 32))
    batch = {"input_ids": ids, "labels": ids, "episode_lengths": [32]}
    train_step(model, optimizer, [batch], True)
    shares = profile_step(lambda: train_step(model, optimizer, [batch], True))
    wall = shares.pop("wall (s)")
    assert wall > 0 and sum(shares.values()) == pytest.approx(1.0, abs=0.01)  # no time counted twice
    for category in ("matmul (layers)", "LM head + loss", "attention", "optimizer + clipping", "precision casts",
                     "embedding", ELEMENTWISE, FRAMEWORK):  # fmt: skip
        assert shares.get(category, 0.0) > 0, (category, shares)


@pytest.mark.parametrize(
    ("chain", "category"),
    [
        (["aten::mm", "ChunkedLogProbFunction"], "LM head + loss"),
        (["aten::mm", "autograd::engine::evaluate_function: MmBackward0"], "matmul (layers)"),
        (
            [
                "aten::mul",
                "autograd::engine::evaluate_function: ScaledDotProductFlashAttentionForCpuBackward0",
            ],
            "attention",
        ),  # fmt: skip
        (["aten::_fused_adamw_", "Optimizer.step#AdamW.step"], "optimizer + clipping"),
        (["aten::copy_", "aten::_to_copy", "aten::to"], "precision casts"),
        (["aten::mul"], ELEMENTWISE),
        (["autograd::engine::evaluate_function: MulBackward0"], FRAMEWORK),
    ],
)
def test_events_fall_in_their_category(chain: list[str], category: str) -> None:
    assert categorise(chain) == category


def test_the_fused_and_the_plain_head_take_the_same_step() -> None:
    """The two losses `--plain-head` times against each other are one objective: the same update."""
    import copy

    base = _tiny(tied=True)
    ids = torch.randint(0, VOCAB, (1, 48))
    labels = ids.clone()
    labels[:, :20] = -100
    batches = [{"input_ids": ids[:, :24], "labels": labels[:, :24], "episode_lengths": [24]},
               {"input_ids": ids[:, 24:], "labels": labels[:, 24:], "episode_lengths": [24]}]  # fmt: skip
    updated = []
    for fused in (True, False):
        model = copy.deepcopy(base).train()
        add_fused_lm_head(
            model, outputs=("log_probs", "entropy", "is_top1")
        )  # on the copy: it binds the model
        train_step(model, torch.optim.SGD(model.parameters(), lr=1.0), batches, False, fused)
        updated.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    before = torch.cat([p.detach().flatten() for p in base.parameters()])
    assert not torch.equal(updated[0], before)
    torch.testing.assert_close(updated[0], updated[1], rtol=1e-4, atol=1e-5)
