"""``python -m tuning.run``: Spectrum Tuning with TRL, then the held-out evaluation before and after.

    python -m tuning.run                                   # the main job: the embedded SmolLM2-135M, CPU budget
    python -m tuning.run --model Qwen/Qwen3-14B-Base --instruct-twin Qwen/Qwen3-14B --preset v1
    accelerate launch --config_file tuning/configs/zero3_offload.yaml -m tuning.run --model ... --preset v1

The recipe is `spec/tuning.md`: episodes of the builder's ``train`` split in the ``spectrum`` format of the
model's family, loss only on scored spans (our ``labels``), truncation to ``max_length``, one epoch of full
fine-tuning (or LoRA) with linear decay and no warmup, checkpoints every few steps keeping the latest. The
``v1``/``v0`` presets are the paper's (lr 3e-6, max_length 1024, 1024/2048 episodes per optimizer step;
gradient accumulation follows from the number of processes); ``quick`` is a CPU budget for the main job.
Packing (TRL's best-fit decreasing into padding-free rows) is used where a probe shows that the model's
attention kernel keeps packed episodes apart. Everything lands in ``<output-root>/<run name>/``: safetensors,
the tokenizer with the spectrum chat template, a generation config (temperature 1, no top-k/top-p), the
model card, TensorBoard logs, the train-mix record and the before/after table.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import re
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning.data import DEFAULT_MAX_LENGTH, TrainDataError, build_train_dataset, load_episodes, pack

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger("tuning.run")

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
PRESET_KEYS = tuple(PRESETS["v1"])
REPORT_FILES = ("before_after.md", "before_after.json", "train_data.json", "run_args.json")


class RunInputError(ValueError):
    """Bad input found before training: the message names the argument and what was expected."""


# ---------------------------------------------------------------------------------------------------
# Arguments


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


def _on_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse, then fill every option left unset from the preset (auto: quick on CPU, v1 on CUDA)."""
    args = build_parser().parse_args(argv)
    if args.preset == "auto":
        args.preset = "v1" if _on_cuda() else "quick"
    for key, value in PRESETS[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.bf16 is None:
        import torch

        args.bf16 = _on_cuda() and torch.cuda.is_bf16_supported()
    if args.gradient_checkpointing is None:
        args.gradient_checkpointing = _on_cuda()
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


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def gradient_accumulation(
    effective_batch: int, per_device: int, processes: int, episodes_per_row: float
) -> int:
    """Micro-steps per optimizer step so that one step sees about ``effective_batch`` episodes (spec §10)."""
    per_micro = per_device * processes * max(episodes_per_row, 1.0)
    return max(1, round(effective_batch / per_micro))


# ---------------------------------------------------------------------------------------------------
# Model


def load_start_model(
    args: argparse.Namespace, dtype: str | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase, str, dict]:
    """The model as training starts: loaded, control-token rows transferred, family checked."""
    from spectrum_suite.formats import detect_family
    from spectrum_suite.formats_base import layout_for
    from tuning.models import ModelLoadError, load_model_and_tokenizer
    from tuning.weight_transfer import WeightTransferError, copy_control_rows

    try:
        model, tokenizer = load_model_and_tokenizer(
            args.model, dtype=dtype or args.dtype, device="cpu", trust_remote_code=args.trust_remote_code
        )
    except (ModelLoadError, ValueError) as err:
        raise RunInputError(f"--model {args.model!r}: {err}") from err
    family = detect_family(tokenizer, args.family)
    try:
        layout_for(tokenizer, family)
    except ValueError as err:
        raise RunInputError(
            f"--model {args.model!r}: the tokenizer has no usable turn tokens for family {family!r}: {err}"
        ) from err
    transfer: dict[str, Any] = {}
    if args.instruct_twin:
        try:
            twin, twin_tok = load_model_and_tokenizer(
                args.instruct_twin,
                dtype=dtype or args.dtype,
                device="cpu",
                trust_remote_code=args.trust_remote_code,
            )
        except (ModelLoadError, ValueError) as err:
            raise RunInputError(f"--instruct-twin {args.instruct_twin!r}: {err}") from err
        try:
            report = copy_control_rows(
                model, twin, tokenizer, twin_tok, family=family if family != "plain" else None
            )
        except WeightTransferError as err:
            raise RunInputError(f"--instruct-twin {args.instruct_twin!r}: {err}") from err
        transfer = json.loads(report.to_json())
        del twin
        gc.collect()
    attn = args.attn_implementation or ("eager" if family == "gemma" else None)
    if attn:
        model.set_attn_implementation(attn)
    return model, tokenizer, family, transfer


def packing_supported(model: PreTrainedModel, atol: float = 1e-3) -> tuple[bool, str]:
    """Whether two episodes packed in one row (position ids restarting, no attention mask) give the same
    logits as each run alone: true for kernels that honour packed position ids (sdpa, eager and flash
    attention in recent transformers), false where episodes would attend across their boundary."""
    import torch

    vocab = model.get_input_embeddings().weight.shape[0]
    gen = torch.Generator().manual_seed(0)
    first = torch.randint(0, vocab, (1, 7), generator=gen)
    second = torch.randint(0, vocab, (1, 5), generator=gen)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            # No cache, as in training: the packed-sequence mask is only derived when there is none.
            alone = [model(input_ids=x.to(device), use_cache=False).logits.float() for x in (first, second)]
            positions = torch.cat([torch.arange(7), torch.arange(5)])[None].to(device)
            joined = torch.cat([first, second], 1).to(device)
            packed = model(input_ids=joined, position_ids=positions, use_cache=False).logits.float()
    except Exception as err:  # noqa: BLE001 - any failure means: do not pack
        return False, f"probe failed: {type(err).__name__}: {err}"
    finally:
        model.train(was_training)
    diff = max((packed[:, :7] - alone[0]).abs().max().item(), (packed[:, 7:] - alone[1]).abs().max().item())
    kernel = getattr(model.config, "_attn_implementation", "?")
    if diff <= atol:
        return True, f"{kernel}: packed logits match (max diff {diff:.2e})"
    return False, f"{kernel}: packed episodes leak into each other (max logit diff {diff:.2e})"


def spectrum_generation_config(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, family: str
) -> None:
    """Sampling at temperature 1 with no top-k/top-p, stopping at the spectrum terminator (spec §9)."""
    from transformers import GenerationConfig

    from spectrum_suite.formats import stop_strings

    stops = []
    for text in stop_strings("spectrum", tokenizer, family):
        ids = tokenizer.encode(text, add_special_tokens=False)
        if len(ids) == 1:
            stops.append(ids[0])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in stops:
        stops.append(tokenizer.eos_token_id)
    model.generation_config = GenerationConfig(
        do_sample=True,
        temperature=1.0,
        top_k=0,
        top_p=1.0,
        eos_token_id=stops or None,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )


def lora_config(model: PreTrainedModel, args: argparse.Namespace) -> Any:
    """LoRA as the reference's option (spec §11): alpha 5r, no dropout, q/v projections (+ input embedding)."""
    from peft import LoraConfig

    targets = [t.strip() for t in args.lora_targets.split(",") if t.strip()]
    if args.lora_embeddings:
        names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
        # The reference also adapts the LM head; TRL 1.x computes log-probs from ``lm_head.weight`` directly
        # (fused head) and refuses an adapter there, so only the input embedding is added.
        targets += [n for n in ("embed_tokens", "wte", "word_embeddings") if n in names]
    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [t for t in targets if t not in present]
    if missing:
        raise RunInputError(f"--lora-targets: the model has no modules named {missing}")
    return LoraConfig(
        r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
        target_modules=targets,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# Checkpoints and output


def mix_record_callback(record: Path) -> Any:
    """A callback that copies the train-mix record into every checkpoint (D33: the mix travels with it)."""
    from transformers import TrainerCallback

    class _CopyMix(TrainerCallback):
        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            target = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if state.is_world_process_zero and record.is_file() and target.is_dir():
                shutil.copy2(record, target / record.name)

    return _CopyMix()


def complete_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoint folders whose ``trainer_state.json`` (written last by the Trainer) exists, oldest first."""
    found = []
    for path in run_dir.glob("checkpoint-*"):
        match = re.fullmatch(r"checkpoint-(\d+)", path.name)
        if match and path.is_dir() and (path / "trainer_state.json").is_file():
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def prepare_run_dir(run_dir: Path, resume: bool, overwrite: bool) -> Path | None:
    """The checkpoint to resume from, after refusing to clobber an earlier run's checkpoints."""
    checkpoints = complete_checkpoints(run_dir) if run_dir.exists() else []
    if overwrite and run_dir.exists() and is_main_process():
        shutil.rmtree(run_dir)
        return None
    if resume:
        if not checkpoints:
            logger.warning("--resume: no complete checkpoint in %s; starting from the beginning", run_dir)
            return None
        return checkpoints[-1]
    if checkpoints:
        raise RunInputError(
            f"{run_dir} already holds checkpoints ({checkpoints[-1].name}); pass --resume to continue it, "
            "--overwrite to start over, or another --run-name"
        )
    return None


def push_to_hub(run_dir: Path, repo_id: str, private: bool = False) -> str:
    """Create the model repo if needed and upload the run folder, checkpoints left out."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    info = api.upload_folder(
        folder_path=str(run_dir),
        repo_id=repo_id,
        repo_type="model",
        ignore_patterns=["checkpoint-*", "checkpoint-*/**"],
        commit_message="Spectrum Tuning run " + run_dir.name,
    )
    return str(getattr(info, "commit_url", info))


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


# ---------------------------------------------------------------------------------------------------
# Evaluation


def evaluate(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, args: argparse.Namespace, name: str
) -> dict:
    """`tuning.eval.evaluate_model` on the held-out configs, spectrum format."""
    from tuning.eval import evaluate_model

    model.eval()
    return evaluate_model(
        model,
        tokenizer,
        "spectrum",
        args.eval_configs,
        max_instances=args.eval_max_instances,
        num_generations=args.eval_num_generations,
        batch_size=args.eval_batch_size,
        seed=args.seed,
        data_dir=args.data_dir,
        model_name=name,
        progress=False,
    )


def before_after(args: argparse.Namespace, run_dir: Path) -> tuple[dict, dict, str]:
    """Evaluate the starting model (cached in eval_before.json across resumes) and the saved tuned model."""
    from tuning.eval import headline_table
    from tuning.models import load_model_and_tokenizer

    cache = run_dir / "eval_before.json"
    before = json.loads(cache.read_text()) if cache.is_file() else None
    options = {"configs": list(args.eval_configs), "max_instances": args.eval_max_instances,
               "num_generations": args.eval_num_generations}  # fmt: skip
    if before is None or before.get("run_options") != options:
        model, tokenizer, _, _ = load_start_model(args, dtype="auto")  # bf16 on CUDA, like the tuned model
        model.to("cuda" if _on_cuda() else "cpu")
        before = evaluate(model, tokenizer, args, f"{args.model} (before)")
        before["run_options"] = options
        cache.write_text(json.dumps(before, indent=2, default=str) + "\n")
        del model
        gc.collect()
    tuned, tuned_tok = load_model_and_tokenizer(str(run_dir), dtype="auto")
    after = evaluate(tuned, tuned_tok, args, f"{run_dir.name} (after)")
    after["run_options"] = options
    (run_dir / "eval_after.json").write_text(json.dumps(after, indent=2, default=str) + "\n")
    table = headline_table(before, after)
    return before, after, table


# ---------------------------------------------------------------------------------------------------
# The run


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Check the inputs, build the data, train with SFTTrainer, save, evaluate, write the card, push."""
    import torch
    from trl import SFTConfig, SFTTrainer

    from spectrum_suite.formats import chat_template
    from tuning.model_card import write_model_card

    started = time.perf_counter()
    run_dir = Path(args.output_root).expanduser() / run_name(args)
    resume_from = prepare_run_dir(run_dir, args.resume, args.overwrite)
    model, tokenizer, family, transfer = load_start_model(args)
    try:
        episodes, skipped = load_episodes(
            args.configs, "train", args.data_dir, args.skip_unavailable, args.description_prob
        )
        data = build_train_dataset(
            episodes, tokenizer, family, args.max_length, args.drop_partial_outputs, args.max_train_episodes,
            args.seed, args.configs, skipped, args.num_proc,
        )  # fmt: skip
    except (TrainDataError, ValueError, RuntimeError) as err:
        raise RunInputError(f"train data ({', '.join(args.configs)}): {err}") from err
    logger.info("train mix:\n%s", data.table())
    if data.skipped:
        logger.warning("skipped tasks: %s", ", ".join(data.skipped))
    use_packing = args.packing == "on"
    probe = "off by request"
    if args.packing == "auto":
        use_packing, probe = packing_supported(model)
    logger.info("packing: %s (%s)", use_packing, probe)
    train_rows = data.dataset.select_columns(["input_ids", "labels"])
    episodes_per_row = 1.0
    if use_packing:
        train_rows, stats = pack(data.dataset, args.max_length, args.num_proc)
        episodes_per_row = stats.episodes_per_row
        logger.info(
            "packed %d episodes into %d rows (fill %.1f%%)", stats.episodes, stats.rows, 100 * stats.fill
        )
    grad_accum = gradient_accumulation(
        args.effective_batch, args.per_device_batch, world_size(), episodes_per_row
    )
    per_step = args.per_device_batch * world_size() * grad_accum
    steps = args.max_steps if args.max_steps > 0 else math.ceil(len(train_rows) * args.epochs / per_step)
    tokenizer.chat_template = chat_template(family, tokenizer)
    spectrum_generation_config(model, tokenizer, family)
    run_dir.mkdir(parents=True, exist_ok=True)
    if is_main_process():
        data.save(run_dir / "train_data.json")
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(run_dir / "logs")
    config = SFTConfig(
        output_dir=str(run_dir),
        run_name=run_dir.name,
        per_device_train_batch_size=args.per_device_batch,
        gradient_accumulation_steps=grad_accum,
        learning_rate=args.learning_rate,
        lr_scheduler_type=args.lr_scheduler,
        warmup_steps=args.warmup_steps,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        weight_decay=args.weight_decay,
        max_grad_norm=args.max_grad_norm,
        seed=args.seed,
        bf16=args.bf16,
        fp16=False,
        gradient_checkpointing=args.gradient_checkpointing,
        logging_steps=args.logging_steps,
        save_strategy="steps",
        save_steps=args.save_steps,
        save_total_limit=args.save_total_limit,
        report_to=["tensorboard"],
        eval_strategy="no",
        max_length=None,  # episodes are already truncated to --max-length
        packing=False,  # packed above, with the same TRL packer, so the step count is known here
        padding_free=use_packing,
        dataset_num_proc=args.num_proc,
        use_cpu=not _on_cuda(),
    )
    peft_config = lora_config(model, args) if args.lora_r else None
    model.train()
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=train_rows,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[mix_record_callback(run_dir / "train_data.json")],
    )
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    trainer.save_model(str(run_dir))
    final_model = trainer.model
    if args.lora_r and is_main_process():
        final_model.save_pretrained(str(run_dir / "adapter"))
        final_model = final_model.merge_and_unload()
        final_model.save_pretrained(str(run_dir), safe_serialization=True)
        for stale in ("adapter_model.safetensors", "adapter_config.json"):
            (run_dir / stale).unlink(missing_ok=True)
    if is_main_process():
        tokenizer.save_pretrained(str(run_dir))
        final_model.generation_config.save_pretrained(str(run_dir))
    train_result = {
        "global step": trainer.state.global_step,
        "train loss": round(float(result.training_loss), 4),
        "train time (s)": round(result.metrics.get("train_runtime", 0.0), 1),
        "train tokens": int(getattr(trainer, "_total_train_tokens", 0)),
        "resumed from": resume_from.name if resume_from else "",
    }
    del trainer, final_model, model
    gc.collect()
    if _on_cuda():
        torch.cuda.empty_cache()
    if not is_main_process():
        return {"run_dir": str(run_dir), **train_result}
    hyper = hyperparameters(args, grad_accum, use_packing, steps)
    hyper["packing probe"] = probe
    table = None
    if args.eval:
        before, after, table = before_after(args, run_dir)
        (run_dir / "before_after.md").write_text(table)
        (run_dir / "before_after.json").write_text(
            json.dumps({"before": before["headline"], "after": after["headline"]}, indent=2) + "\n"
        )
    record = {
        "args": vars(args),
        "hyperparameters": hyper,
        "train_result": train_result,
        "transfer": transfer,
    }
    (run_dir / "run_args.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    write_model_card(
        run_dir / "README.md",
        run_name=run_dir.name,
        base_model=args.model,
        instruct_twin=args.instruct_twin,
        family=family,
        data=data.summary(),
        data_table=data.table(),
        hyperparameters=hyper,
        before_after=table,
        train_result=train_result,
        repo_id=args.push_to_hub,
    )
    pushed = push_to_hub(run_dir, args.push_to_hub, args.private) if args.push_to_hub else None
    return {"run_dir": str(run_dir), **train_result, "table": table, "pushed": pushed,
            "total time (s)": round(time.perf_counter() - started, 1)}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        args = resolve_args(argv)
        outcome = train(args)
    except RunInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if outcome.get("table"):
        print("\nBefore/after on the held-out tasks (spectrum format):\n")
        print(outcome["table"])
    print(json.dumps({k: v for k, v in outcome.items() if k != "table"}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
