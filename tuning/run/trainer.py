"""The Spectrum Tuning flow: inputs checked, train set built, TRL's `SFTTrainer` run, outputs saved.

Episodes of the builder's ``train`` split are rendered in the ``spectrum`` format of the model's family with
loss only on the scored spans (our ``labels``), truncated to ``max_length``, packed into padding-free rows where
the attention kernel allows it, and trained for one epoch (or ``max_steps``) by `SFTTrainer`. The run folder
gets safetensors, the tokenizer with the spectrum chat template, a generation config (temperature 1, no
top-k/top-p), the model card, the train-mix record and the evaluation of the start and the tuned model (`docs/tuning.md`).
"""

from __future__ import annotations

import copy
import gc
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning.distributed import is_main_process, on_cuda, world_size
from tuning.jsonfile import write_json
from tuning.run.arguments import RunConfig, RunInputError, gradient_accumulation, hyperparameters
from tuning.run.data import TrainData, TrainDataError, build_train_dataset, load_episodes

if TYPE_CHECKING:
    import datasets
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from spectrum_suite.formats import Format
    from tuning.eval import EvalResults
    from tuning.run.evaluation import Arm
    from tuning.run.start_kind import StartKind

logger = logging.getLogger("tuning.run")


def train_data(config: RunConfig, fmt: Format) -> TrainData:
    """The tokenised train set the options ask for; any problem with it is a `RunInputError`."""
    s = config.script
    try:
        episodes, skipped = load_episodes(
            s.configs, "train", s.data_dir, s.skip_unavailable, s.description_prob, s.validation_fraction
        )
        data = build_train_dataset(
            episodes, fmt, config.training.max_length, s.drop_partial_outputs, s.max_train_episodes,
            config.training.seed, s.configs, skipped, config.training.dataset_num_proc,
        )  # fmt: skip
    except (TrainDataError, ValueError, RuntimeError) as err:
        raise RunInputError(f"train data ({', '.join(s.configs)}): {err}") from err
    logger.info("train mix:\n%s", data.table())
    if data.skipped:
        logger.warning("skipped tasks: %s", ", ".join(data.skipped))
    return data


def training_rows(
    config: RunConfig, model: PreTrainedModel, data: TrainData
) -> tuple[datasets.Dataset, bool, str, float]:
    """The rows the trainer sees: packed when asked and the model's attention keeps episodes apart."""
    from tuning.run.packing import pack, packing_supported

    rows = data.dataset.select_columns(["input_ids", "labels"])
    if not config.training.packing:
        return rows, False, "off by request", 1.0
    supported, probe = packing_supported(model)
    if not supported:
        logger.warning("packing asked for but not used: %s", probe)
        return rows, False, probe, 1.0
    packed, stats = pack(data.dataset, config.training.max_length, config.training.dataset_num_proc)
    logger.info("packed %d episodes into %d rows (fill %.1f%%)", stats.episodes, stats.rows, 100 * stats.fill)
    return packed, True, probe, stats.episodes_per_row


def trainer_arguments(config: RunConfig, packed: bool, episodes_per_row: float) -> Any:
    """The `SFTConfig` handed to the trainer: the user's, with what this flow decides filled in."""
    args = copy.copy(config.training)
    if config.script.effective_batch is not None and not config.explicit_accumulation:
        args.gradient_accumulation_steps = gradient_accumulation(
            config.script.effective_batch, args.per_device_train_batch_size, world_size(), episodes_per_row
        )
    args.max_length = None  # episodes are already truncated
    args.packing = False  # packed above with TRL's own packer, so the step count is known here
    args.padding_free = packed
    args.eval_strategy = "no"
    args.push_to_hub = False  # pushed once at the end, with the model card and without checkpoints
    return args


def finished(checkpoint: Path, args: Any) -> bool:
    """Whether a checkpoint already holds the last optimizer step (``--max_steps``, else the run's own plan):
    resuming it would train past the end."""
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    last = args.max_steps if args.max_steps > 0 else state.get("max_steps", 0)
    return state.get("global_step", 0) >= last > 0


def optimizer_steps(args: Any, rows: int) -> int:
    per_step = args.per_device_train_batch_size * world_size() * args.gradient_accumulation_steps
    return args.max_steps if args.max_steps > 0 else math.ceil(rows * args.num_train_epochs / per_step)


def fit(
    config: RunConfig, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, rows: datasets.Dataset,
    args: Any, resume_from: Path | None,
) -> dict[str, Any]:  # fmt: skip
    """Train with `SFTTrainer` and save the final weights; the training result."""
    from trl import SFTTrainer

    from tuning.run.model import lora_config
    from tuning.run.outputs import mix_record_callback, plot_training_loss

    run_dir = config.run_dir
    os.environ.setdefault("TENSORBOARD_LOGGING_DIR", str(run_dir / "logs"))
    model.train()
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=rows, processing_class=tokenizer,
        peft_config=lora_config(model, config) if config.model.use_peft else None,
        callbacks=[mix_record_callback(run_dir / "train_data.json")],
    )  # fmt: skip
    parallelism = _parallelism(trainer, args)
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    trainer.save_model(str(run_dir))
    final = trainer.model
    if config.model.use_peft and is_main_process():
        final.save_pretrained(str(run_dir / "adapter"))
        final = final.merge_and_unload()
        final.save_pretrained(str(run_dir), safe_serialization=True)
        for stale in ("adapter_model.safetensors", "adapter_config.json"):
            (run_dir / stale).unlink(missing_ok=True)
    if is_main_process():
        tokenizer.save_pretrained(str(run_dir))
        final.generation_config.save_pretrained(str(run_dir))
        plot_training_loss(trainer.state.log_history, run_dir / "train_loss.png")
    outcome = {
        "global step": trainer.state.global_step,
        "train loss": round(float(result.training_loss), 4),
        "train time (s)": round(result.metrics.get("train_runtime", 0.0), 1),
        "train tokens": int(getattr(trainer, "_total_train_tokens", 0)),
        "resumed from": resume_from.name if resume_from else "",
        "parallelism": parallelism,
    }
    del trainer, final
    return outcome


def _parallelism(trainer: Any, args: Any) -> str:
    """How the trainer really spreads the work, with a warning when that is not what the launch asked for
    (accelerate runs an FSDP or DeepSpeed config as plain data parallelism on a machine without GPUs)."""
    running = trainer.accelerator.distributed_type.value
    asked = [name for name, wanted in (
        ("FSDP", os.environ.get("ACCELERATE_USE_FSDP") == "true" or bool(args.fsdp)),
        ("DEEPSPEED", os.environ.get("ACCELERATE_USE_DEEPSPEED") == "true" or bool(args.deepspeed)),
    ) if wanted]  # fmt: skip
    if asked and running not in asked and is_main_process():
        logger.warning(
            "the launch asked for %s but accelerate runs %s (FSDP and DeepSpeed need GPUs): every process "
            "holds the whole model",
            asked[0],
            running,
        )
    return f"{running} on {trainer.accelerator.num_processes} process(es)"


def finish(
    config: RunConfig,
    data: TrainData,
    family: str,
    record: dict[str, Any],
    evaluated: dict[Arm, EvalResults] | None,
    start: StartKind | None = None,
) -> tuple[str | None, dict[str, Any] | None]:
    """On the main process: the evaluation's tables, run_args.json, the model card, the push; the headline table
    and the tuned model's verdicts per figure."""
    from tuning.run.card import CardFacts, write_model_card
    from tuning.run.evaluation import write_evaluation
    from tuning.run.outputs import push_to_hub

    run_dir, table, tally, tuned = config.run_dir, None, None, None
    if evaluated:
        table, tally = write_evaluation(evaluated, run_dir, start)
        tuned = next(r for arm, r in evaluated.items() if arm.tuned).headline
    write_json(run_dir / "run_args.json", record)
    t = config.training
    facts = CardFacts(
        run_name=run_dir.name, base_model=config.model.model_name_or_path, instruct_twin=config.script.instruct_twin,
        family=family, data=data.summary(), data_table=data.table(), hyperparameters=record["hyperparameters"],
        train_result=record["train_result"], before_after=table, after=tuned,
        repo_id=t.hub_model_id if t.push_to_hub else None, start_arm=start.sentence() if start else None,
    )  # fmt: skip
    write_model_card(run_dir / "README.md", facts)
    if t.push_to_hub:
        record["pushed"] = push_to_hub(run_dir, t.hub_model_id, bool(t.hub_private_repo))
    return table, tally


def train(config: RunConfig) -> dict[str, Any]:
    """Check the inputs, build the data, train, save, evaluate, write the card, push."""
    from spectrum_suite.formats import chat_template
    from tuning.eval.compare import tally_text
    from tuning.run.evaluation import evaluate_arms
    from tuning.run.folder import RunFolder
    from tuning.run.model import load_start_model
    from tuning.run.outputs import spectrum_generation_config
    from tuning.run.start_kind import start_arm

    started = time.perf_counter()
    folder = RunFolder(config.run_dir)
    resume_from = folder.check(config.script.resume, config.script.overwrite)
    start = start_arm(config) if config.script.eval else None  # undecidable: refused before any weights load
    model, tokenizer, fmt, transfer = load_start_model(config)
    data = train_data(config, fmt)
    rows, packed, probe, per_row = training_rows(config, model, data)
    args = trainer_arguments(config, packed, per_row)
    hyper = {
        **hyperparameters(config, packed, optimizer_steps(args, len(rows)), world_size()),
        "gradient accumulation": args.gradient_accumulation_steps,
        "packing probe": probe,
    }
    if resume_from is not None and finished(resume_from, args):
        logger.info(
            "%s already trained to its last step (%s): nothing to resume", config.run_dir, resume_from.name
        )
        return {"run_dir": str(config.run_dir), "already finished": resume_from.name, "table": None}
    tokenizer.chat_template = chat_template(fmt.family, tokenizer)
    spectrum_generation_config(model, fmt)
    folder.start(config.script.overwrite)  # every input is good: only now is an old run moved aside
    try:
        if is_main_process():
            data.save(config.run_dir / "train_data.json")
        outcome = fit(config, model, tokenizer, rows, args, resume_from)
        del model
        _release_memory()
        evaluated = evaluate_arms(config, config.run_dir, start) if start else None  # every process
        table = None
        if is_main_process():
            record = {
                "script": config.script, "evaluation": config.evaluation, "training": config.training.to_dict(),
                "model": config.model, "hyperparameters": hyper, "train_result": outcome, "transfer": transfer,
                "start_arm": start,
            }  # fmt: skip
            table, tally = finish(config, data, fmt.family, record, evaluated, start)
            outcome["pushed"] = record.get("pushed")
            if tally:
                outcome["tuned: better/no detectable difference/worse"] = {
                    versus: {figure: tally_text(t) for figure, t in by_figure.items()}
                    for versus, by_figure in tally.items()
                }
    except BaseException:
        folder.fail()
        raise
    folder.succeed()
    return {"run_dir": str(config.run_dir), **outcome, "table": table,
            "total time (s)": round(time.perf_counter() - started, 1)}  # fmt: skip


def _release_memory() -> None:
    gc.collect()
    if on_cuda():
        import torch

        torch.cuda.empty_cache()
