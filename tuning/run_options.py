"""The options of ``python -m tuning.run``: presets, the argument parser, and what follows from the options.

`resolve_args` turns a command line into a complete set of settings (presets filled in, bad values refused
with `RunInputError` before anything is loaded); the run name, gradient accumulation and the hyperparameter
record for the model card are derived from those settings here too, so the training flow only reads them.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tuning.data import DEFAULT_MAX_LENGTH
from tuning.run_env import on_cuda, world_size

#: Settings a preset fixes unless given on the command line (spec/tuning.md §7 and §10 for v0/v1).
PRESETS: dict[str, dict[str, Any]] = {
    "v1": {
        "learning_rate": 3e-6,
        "effective_batch": 1024,
        "max_length": DEFAULT_MAX_LENGTH,
        "epochs": 1.0,
        "max_steps": -1,
        "max_train_episodes": None,
        "save_steps": 8,
        "eval_configs": ["test", "alignment", "coverage"],
        "eval_max_instances": None,
        "eval_num_generations": 100,
    },
    "v0": {"effective_batch": 2048},
    # The main job on a 2-core CPU: 16 optimizer steps of 4 episodes cut to 256 tokens (~16k tokens), at a
    # learning rate high enough to move a 135M model in that few steps, and an evaluation on the held-out
    # tasks available without downloads, small enough that train + both evaluations fit in 15 minutes:
    # flight (steerability), urn and states (alignment), three of the 22 coverage tasks (all 22 take about
    # 8 minutes per evaluation on this CPU; pass --eval-configs test alignment coverage for them).
    "quick": {
        "learning_rate": 5e-5,
        "effective_batch": 4,
        "max_length": 256,
        "epochs": 1.0,
        "max_steps": -1,
        "max_train_episodes": 64,
        "save_steps": 8,
        "eval_configs": ["flight", "urn", "states", "rng_1_10", "us_states_full_names", "weekdays_full"],
        "eval_max_instances": 6,
        "eval_num_generations": 8,
    },
}
PRESETS["v0"] = {**PRESETS["v1"], **PRESETS["v0"]}


class RunInputError(ValueError):
    """Bad input found before training: the message names the argument and what was expected."""


def build_parser() -> argparse.ArgumentParser:
    """Every option of a run; preset-controlled ones default to None and are filled by `resolve_args`."""
    from tuning.models import EMBEDDED_MODEL

    p = argparse.ArgumentParser(
        prog="python -m tuning.run",
        description="Spectrum Tuning of a causal LM on the Spectrum Suite train split, evaluated before and after.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("model")
    g.add_argument("--model", default=EMBEDDED_MODEL, help="Hub id, local path, or the embedded model's name")
    g.add_argument("--instruct-twin", help="copy the control-token rows and config from this instruct model")
    g.add_argument(
        "--family", choices=("gemma", "chatml", "llama3", "plain"), help="default: from the tokenizer"
    )
    g.add_argument("--dtype", default="float32", help="weights dtype (bf16 autocast is separate: --bf16)")
    g.add_argument(
        "--attn-implementation", help="default: eager for Gemma (as the reference), else the model's"
    )
    g.add_argument("--trust-remote-code", action="store_true", help="allow custom model code from the Hub")
    g.add_argument("--lora-r", type=int, default=0, help="LoRA rank; 0 = full fine-tuning")
    g.add_argument("--lora-alpha", type=float, help="default: 5 x rank (spec §11)")
    g.add_argument("--lora-targets", default="q_proj,v_proj", help="comma-separated module names for LoRA")
    g.add_argument("--lora-embeddings", action=argparse.BooleanOptionalAction, default=True,
                   help="also adapt the input embedding (spec §11; TRL 1.x refuses an LM-head adapter)")  # fmt: skip
    d = p.add_argument_group("data")
    d.add_argument(
        "--configs", nargs="+", default=["train"], help="builder configs whose train split is used"
    )
    d.add_argument(
        "--data-dir", help="data directory for sources with manual files (else $SPECTRUM_SUITE_DATA)"
    )
    d.add_argument("--skip-unavailable", action=argparse.BooleanOptionalAction, default=True,
                   help="skip tasks whose source is missing (listed in the log and the model card)")  # fmt: skip
    d.add_argument(
        "--description-prob", type=float, help="description inclusion probability (default: per task)"
    )
    d.add_argument("--max-length", type=int, help="truncate each episode to this many tokens")
    d.add_argument(
        "--drop-partial-outputs", action="store_true", help="unlabel an output cut by truncation (D32)"
    )
    d.add_argument("--max-train-episodes", type=int, help="use the first N episodes after a seed-42 shuffle")
    d.add_argument("--num-proc", type=int, help="processes for tokenisation")
    t = p.add_argument_group("training")
    t.add_argument("--preset", choices=("auto", *PRESETS), default="auto",
                   help="auto = quick on CPU, v1 on GPU; explicit options override the preset")  # fmt: skip
    t.add_argument("--learning-rate", type=float)
    t.add_argument(
        "--lr-scheduler", default="linear", help="transformers scheduler name (linear decays to 0)"
    )
    t.add_argument("--warmup-steps", type=int, default=0)
    t.add_argument("--epochs", type=float)
    t.add_argument(
        "--max-steps", type=int, help="stop after this many optimizer steps (-1: the epochs decide)"
    )
    t.add_argument("--effective-batch", type=int, help="episodes per optimizer step, over all processes")
    t.add_argument("--per-device-batch", type=int, default=1, help="rows per device per micro-step")
    t.add_argument("--packing", choices=("auto", "on", "off"), default="auto",
                   help="pack episodes into padding-free rows (auto: when a probe shows the kernel supports it)")  # fmt: skip
    t.add_argument("--bf16", action=argparse.BooleanOptionalAction, help="default: on CUDA with bf16 support")
    t.add_argument("--gradient-checkpointing", action=argparse.BooleanOptionalAction, help="default: on CUDA")
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--max-grad-norm", type=float, default=1.0)
    t.add_argument("--seed", type=int, default=42)
    t.add_argument("--save-steps", type=int, help="checkpoint every N optimizer steps (the latest is kept)")
    t.add_argument("--save-total-limit", type=int, default=1)
    t.add_argument("--logging-steps", type=int, default=1)
    o = p.add_argument_group("output")
    o.add_argument("--output-root", default="runs", help="runs are written to OUTPUT_ROOT/RUN_NAME")
    o.add_argument("--run-name", help="default: <model>_<preset>_spectrum[_lora_r<r>] (D30: no collisions)")
    o.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    o.add_argument("--overwrite", action="store_true", help="delete an existing run folder first")
    o.add_argument("--push-to-hub", metavar="ORG/NAME", help="upload the run folder (without checkpoints)")
    o.add_argument("--private", action="store_true", help="create the Hub repo as private")
    e = p.add_argument_group("evaluation")
    e.add_argument("--eval", action=argparse.BooleanOptionalAction, default=True,
                   help="evaluate before and after training with tuning.eval")  # fmt: skip
    e.add_argument("--eval-configs", nargs="+", help="held-out configs or tasks (preset default)")
    e.add_argument("--eval-max-instances", type=int, help="instances per task (preset default)")
    e.add_argument("--eval-num-generations", type=int, help="samples per coverage task (preset default)")
    e.add_argument("--eval-batch-size", type=int, default=8)
    return p


def resolve_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse, then fill every option left unset from the preset (auto: quick on CPU, v1 on CUDA)."""
    args = build_parser().parse_args(argv)
    if args.preset == "auto":
        args.preset = "v1" if on_cuda() else "quick"
    for key, value in PRESETS[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.bf16 is None:
        import torch

        args.bf16 = on_cuda() and torch.cuda.is_bf16_supported()
    if args.gradient_checkpointing is None:
        args.gradient_checkpointing = on_cuda()
    if args.lora_alpha is None:
        args.lora_alpha = 5.0 * args.lora_r
    for name in ("max_length", "effective_batch", "per_device_batch", "save_steps", "eval_batch_size"):
        if getattr(args, name) < 1:
            raise RunInputError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.lora_r < 0:
        raise RunInputError(f"--lora-r must be 0 (full fine-tuning) or positive, got {args.lora_r}")
    if args.description_prob is not None and not 0.0 <= args.description_prob <= 1.0:
        raise RunInputError(f"--description-prob must be in [0, 1], got {args.description_prob}")
    if args.push_to_hub and not re.fullmatch(r"[\w.-]+/[\w.-]+", args.push_to_hub):
        raise RunInputError(f"--push-to-hub must be ORG/NAME, got {args.push_to_hub!r}")
    return args


def safe_name(model: str) -> str:
    """A folder-safe model name that keeps the family substrings (gemma-3, Qwen3, Llama-3.1; D25)."""
    path = Path(model).expanduser()
    base = path.name if path.exists() else model
    return re.sub(r"[^\w.-]+", "-", base.strip("/")).strip("-") or "model"


def run_name(args: argparse.Namespace) -> str:
    """``<model>_<preset>_spectrum[_lora_r<r>]``: v0 and v1 runs never share a folder (defects D30)."""
    if args.run_name:
        return args.run_name
    lora = f"_lora_r{args.lora_r}" if args.lora_r else ""
    return f"{safe_name(args.model)}_{args.preset}_spectrum{lora}"


def gradient_accumulation(
    effective_batch: int, per_device: int, processes: int, episodes_per_row: float
) -> int:
    """Micro-steps per optimizer step so that one step sees about ``effective_batch`` episodes (spec §10)."""
    per_micro = per_device * processes * max(episodes_per_row, 1.0)
    return max(1, round(effective_batch / per_micro))


def hyperparameters(args: argparse.Namespace, grad_accum: int, packing: bool, steps: int) -> dict[str, Any]:
    """The settings that define the run, for the model card and run_args.json."""
    return {
        "preset": args.preset,
        "fine-tuning": f"LoRA r={args.lora_r}, alpha={args.lora_alpha:g}, targets {args.lora_targets}"
        + (" + input embedding" if args.lora_embeddings else "")
        if args.lora_r
        else "full",
        "format": "spectrum",
        "max_length": args.max_length,
        "learning_rate": args.learning_rate,
        "lr_scheduler": args.lr_scheduler,
        "warmup_steps": args.warmup_steps,
        "epochs": args.epochs,
        "max_steps": args.max_steps,
        "optimizer steps": steps,
        "effective batch (episodes/step)": args.effective_batch,
        "per-device batch (rows)": args.per_device_batch,
        "gradient accumulation": grad_accum,
        "processes": world_size(),
        "packing": "padding-free BFD" if packing else "off (one episode per row, right padding)",
        "bf16": args.bf16,
        "gradient checkpointing": args.gradient_checkpointing,
        "weight decay": args.weight_decay,
        "max grad norm": args.max_grad_norm,
        "seed": args.seed,
        "description inclusion": args.description_prob if args.description_prob is not None else "per task",
        "drop partial outputs": args.drop_partial_outputs,
        "max train episodes": args.max_train_episodes,
    }
