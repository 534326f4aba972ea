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

This module is the training flow; the options live in `tuning.run_options`, the run folder's handling in
`tuning.run_outputs`, and the process facts (CUDA, rank, world size) in `tuning.run_env`.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning.data import TrainDataError, build_train_dataset, load_episodes, pack
from tuning.run_env import is_main_process, on_cuda, world_size
from tuning.run_options import RunInputError, gradient_accumulation, hyperparameters, resolve_args, run_name
from tuning.run_outputs import mix_record_callback, prepare_run_dir, push_to_hub, spectrum_generation_config

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger("tuning.run")


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
        model.to("cuda" if on_cuda() else "cpu")
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
        use_cpu=not on_cuda(),
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
    if on_cuda():
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
