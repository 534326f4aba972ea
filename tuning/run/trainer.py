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
    from tuning.run.folder import RunFolder
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


def check_positions(model: PreTrainedModel, data: TrainData, max_length: int) -> None:
    """Refuse episodes longer than the model has positions for (learned position tables fail mid-training;
    rotary ones would silently train beyond the context the model knows)."""
    config = model.config
    limit = next(
        (getattr(config, k) for k in ("max_position_embeddings", "n_positions") if getattr(config, k, None)),
        None,
    )
    if isinstance(limit, int) and data.longest > limit:
        raise RunInputError(
            f"--max_length {max_length}: episodes of up to {data.longest} tokens are longer than the {limit} positions "
            f"of the model; pass --max_length {limit} or less"
        )


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
    args.logging_nan_inf_filter = False  # a NaN loss is logged as NaN, and stops the run (`divergence`)
    return args


def effective_batch(args: Any, episodes_per_row: float) -> float:
    """The episodes one optimizer step really takes (packed rows hold ``episodes_per_row`` on average)."""
    per_step = args.per_device_train_batch_size * world_size() * args.gradient_accumulation_steps
    return round(per_step * max(episodes_per_row, 1.0), 1)


def optimizer_steps(args: Any, rows: int) -> int:
    per_step = args.per_device_train_batch_size * world_size() * args.gradient_accumulation_steps
    return args.max_steps if args.max_steps > 0 else math.ceil(rows * args.num_train_epochs / per_step)


def fit(
    config: RunConfig, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, rows: datasets.Dataset,
    args: Any, resume_from: Path | None, folder: RunFolder,
) -> dict[str, Any]:  # fmt: skip
    """Train with `SFTTrainer` and save the final weights (checked finite first); the training result."""
    from trl import SFTTrainer

    from tuning.run.divergence import TrainingDiverged, check_weights, divergence_callback, mean_logged_loss
    from tuning.run.model import lora_config
    from tuning.run.outputs import mix_record_callback, plot_training_loss

    run_dir = config.run_dir
    _tensorboard_logs(run_dir / "logs")
    model.train()

    class Trainer(SFTTrainer):
        def create_model_card(self, *args: Any, **kwargs: Any) -> None:
            """TRL writes its own README.md at every checkpoint; the run's card is written once it is complete,
            so an interrupted or diverged run never looks like a finished model."""

    trainer = Trainer(
        model=model, args=args, train_dataset=rows, processing_class=tokenizer,
        peft_config=lora_config(model, config) if config.model.use_peft else None,
        callbacks=[mix_record_callback(run_dir / "train_data.json"), divergence_callback()],
    )  # fmt: skip
    parallelism = _parallelism(trainer, args)
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    history = trainer.state.log_history
    rate = next((e["learning_rate"] for e in reversed(history) if "learning_rate" in e), None)
    check_weights(trainer.model, trainer.state.global_step, rate)
    loss = mean_logged_loss(history)
    if loss is None and math.isfinite(result.training_loss):
        loss = float(result.training_loss)  # nothing was logged (fewer steps than --logging_steps)
    if loss is None or not math.isfinite(loss):
        raise TrainingDiverged(f"training ended without a finite loss ({loss}); the run is not complete")
    with folder.recording():
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
            plot_training_loss(history, run_dir / "train_loss.png")
    outcome = {
        "global step": trainer.state.global_step,
        "train loss": round(loss, 4),
        "train time (s)": round(result.metrics.get("train_runtime", 0.0), 1),
        "train tokens": int(getattr(trainer, "_total_train_tokens", 0)),
        "resumed from": resume_from.name if resume_from else "",
        "parallelism": parallelism,
    }
    if resume_from:  # the time and tokens are this session's; the loss is the whole run's
        outcome["this session"] = "train time and tokens since " + resume_from.name
    del trainer, final
    return outcome


#: The TensorBoard folder this process set for its last run (a value the user set is kept).
_LOGS_SET: list[str] = []


def _tensorboard_logs(folder: Path) -> None:
    """TensorBoard writes into ``folder`` unless the user named another in ``$TENSORBOARD_LOGGING_DIR``; a
    second run in the same process never writes into the first run's folder."""
    current = os.environ.get("TENSORBOARD_LOGGING_DIR")
    if current is None or current in _LOGS_SET:
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(folder)
        _LOGS_SET.append(str(folder))


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
    (with the tasks each arm failed on) and the tuned model's verdicts per figure."""
    from tuning.eval.report import failed_note
    from tuning.run.card import CardFacts, write_model_card
    from tuning.run.evaluation import write_evaluation
    from tuning.run.outputs import push_to_hub

    run_dir, table, tally, tuned = config.run_dir, None, None, None
    if evaluated:
        table, tally = write_evaluation(evaluated, run_dir, start)
        table += "".join("\n" + failed_note(r, arm.label) for arm, r in evaluated.items() if r.failed_tasks)
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


def recorded_data_differences(run_dir: Path, data: TrainData) -> list[str]:
    """How the train set built now differs from the one the run recorded (configs, tasks, episodes, tokens)."""
    path = run_dir / "train_data.json"
    if not path.is_file():
        return []
    before, now = json.loads(path.read_text()), data.summary()
    found = [f"{key}: {before.get(key)!r} vs {now.get(key)!r}" for key in
             ("configs", "skipped", "family", "max_length", "drop_partial_outputs", "rows", "labelled_tokens")
             if before.get(key) != now.get(key)]  # fmt: skip
    tasks_before, tasks_now = before.get("tasks", {}), now["tasks"]
    for task in sorted(set(tasks_before) | set(tasks_now)):
        a, b = tasks_before.get(task, {}), tasks_now.get(task, {})
        changed = [k for k in ("kept", "labelled_tokens") if a.get(k) != b.get(k)]
        if changed:
            found.append(f"task {task}: " + ", ".join(f"{k} {a.get(k)} vs {b.get(k)}" for k in changed))
    return found


def train(config: RunConfig) -> dict[str, Any]:
    """Check the inputs, build the data, train, save, evaluate, write the card, push."""
    from spectrum_suite.formats import chat_template
    from tuning.run.arguments import flat_arguments
    from tuning.run.evaluation import preflight
    from tuning.run.folder import TRAINED, RunFolder
    from tuning.run.model import load_start_model, start_format
    from tuning.run.outputs import spectrum_generation_config
    from tuning.run.start_kind import start_arm

    started = time.perf_counter()
    s = config.script
    arguments = flat_arguments(s, config.training, config.model)
    folder = RunFolder(config.run_dir)
    point = folder.check(s.resume, s.overwrite, arguments)
    config.training.output_dir = str(folder.path)  # a link to a folder is followed
    start = start_arm(config) if s.eval else None  # undecidable: refused before any weights load
    eval_data = preflight(config, start) if start else None  # before training, not after it
    _, fmt = start_format(config)
    data = train_data(config, fmt)
    if s.resume:
        changed = recorded_data_differences(config.run_dir, data)
        if changed:
            raise RunInputError(
                "--resume: the train set built now differs from the one the run was trained on (recorded vs now): "
                + "; ".join(changed) + ". Resume with the same data (--configs, --data_dir, sources), or start a new run"
            )  # fmt: skip
    if point.trained:
        return _evaluate_finished(config, folder, point, data, fmt.family, eval_data, start, started)
    model, tokenizer, fmt, transfer = load_start_model(config)
    check_positions(model, data, config.training.max_length)
    rows, packed, probe, per_row = training_rows(config, model, data)
    args = trainer_arguments(config, packed, per_row)
    hyper = {
        **hyperparameters(config, packed, optimizer_steps(args, len(rows)), world_size()),
        "effective batch (episodes/step)": effective_batch(args, per_row),
        "gradient accumulation": args.gradient_accumulation_steps,
        "packing probe": probe,
    }
    tokenizer.chat_template = chat_template(fmt.family, tokenizer)
    spectrum_generation_config(model, fmt)
    folder.start(s.overwrite, s.resume, arguments)  # every input is good: only now is an old run moved aside
    try:
        if is_main_process():
            with folder.recording():
                data.save(config.run_dir / "train_data.json")
        outcome = fit(config, model, tokenizer, rows, args, point.checkpoint, folder)
        folder.state(TRAINED, hyperparameters=hyper, train_result=outcome, transfer=transfer)
        del model
        _release_memory()
        result = _evaluate_and_finish(
            config, folder, data, fmt.family, eval_data, hyper, outcome, transfer, start
        )
    except BaseException as err:
        folder.fail(str(err))
        raise
    folder.succeed()
    return {**result, "total time (s)": round(time.perf_counter() - started, 1)}


def _evaluate_and_finish(
    config: RunConfig, folder: RunFolder, data: TrainData, family: str, eval_data: Any, hyper: dict[str, Any],
    outcome: dict[str, Any], transfer: dict[str, Any], start: StartKind | None, reuse_tuned: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Evaluate the three arms (every process), then on the main one write the tables, record and card, and mark
    the run complete; the outcome printed at the end."""
    from tuning.eval.compare import tally_text
    from tuning.run.evaluation import evaluate_arms, evaluation_record
    from tuning.run.folder import COMPLETE

    evaluated = None
    if start is not None:
        with folder.recording(("eval",)):
            evaluated = evaluate_arms(config, config.run_dir, start, eval_data, reuse_tuned=reuse_tuned)
    outcome = dict(outcome)
    table = None
    if is_main_process():
        record = {
            "script": config.script, "evaluation": config.evaluation, "training": config.training.to_dict(),
            "model": config.model, "hyperparameters": hyper, "train_result": outcome, "transfer": transfer,
            "start_arm": start,
        }  # fmt: skip
        with folder.recording():
            table, tally = finish(config, data, family, record, evaluated, start)
        outcome["pushed"] = record.get("pushed")
        if tally:
            outcome["tuned: better/no detectable difference/worse"] = {
                versus: {figure: tally_text(t) for figure, t in by_figure.items()}
                for versus, by_figure in tally.items()
            }
        folder.state(COMPLETE, evaluation=evaluation_record(config, start) if evaluated and start else None)
    failed = {arm.label: r.failed_tasks for arm, r in (evaluated or {}).items() if r.failed_tasks}
    return {"run_dir": str(config.run_dir), **outcome, "table": table, "failed tasks": failed}


def _evaluate_finished(
    config: RunConfig,
    folder: RunFolder,
    point: Any,
    data: TrainData,
    family: str,
    eval_data: Any,
    start: StartKind | None,
    started: float,
) -> dict[str, Any]:
    """``--resume`` of a run whose training is over: nothing is trained; it is evaluated again when the
    evaluation options differ from those of its last evaluation (or it has none yet)."""
    from tuning.run.evaluation import evaluation_record
    from tuning.run.folder import TRAINED

    record = point.record
    wanted = evaluation_record(config, start) if start else None
    if start is None or record.get("evaluation") == wanted:
        logger.info("%s is trained and evaluated with these options: nothing to do", config.run_dir)
        return {"run_dir": str(config.run_dir), "already finished": True, "table": None}
    earlier = _recorded_run(config.run_dir, record)
    if is_main_process():
        folder.state(TRAINED)
    result = _evaluate_and_finish(
        config, folder, data, family, eval_data, earlier["hyperparameters"], earlier["train_result"],
        earlier.get("transfer", {}), start, reuse_tuned=True,
    )  # fmt: skip
    return {**result, "evaluated again": True, "total time (s)": round(time.perf_counter() - started, 1)}


def _recorded_run(run_dir: Path, record: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters and training result of a trained run: from its mark, else its run_args.json."""
    if "train_result" in record:
        return record
    return json.loads((run_dir / "run_args.json").read_text())


def _release_memory() -> None:
    gc.collect()
    if on_cuda():
        import torch

        torch.cuda.empty_cache()
