"""The held-out evaluation of a run with `tuning.eval`: the paper's baselines and the tuned model.

Three arms are scored on the same items (one k-tokenizer, the same episodes and rows): the start model in its
own format (the paper's baselines: colon for a base model, chat for an instruct one, as `tuning.run.start_kind`
decides before training), the start model in the spectrum format, and the tuned model, loaded back from the
run folder so that what is measured is what was saved. Each arm gets the run folder of `tuning.eval` under
``eval/<arm>/`` (results.json, report.md, plots) as soon as it is done; a resumed run reuses a start arm whose
results answer the same evaluation. ``eval/comparison.md`` compares the tuned model with each start arm, per
task with paired intervals and verdicts (better, no detectable difference, worse). Under a multi-process launch every process evaluates its
share of each arm (`tuning.distributed.share`) and the main process writes.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuning.distributed import agree, barrier, device, is_main_process
from tuning.eval import EvalOptions, EvalResults
from tuning.eval.compare import FIGURES, Comparison
from tuning.eval.data import EvalData
from tuning.jsonfile import JSONFileError
from tuning.run.arguments import RunConfig, RunInputError
from tuning.run.start_kind import StartKind


@dataclass(frozen=True)
class Arm:
    """One evaluated model and format: its folder under ``eval/`` and its label in the tables."""

    folder: str
    label: str
    fmt: str
    tuned: bool


def arms(natural: str) -> tuple[Arm, Arm, Arm]:
    return (
        Arm(f"start-{natural}", f"start ({natural})", natural, tuned=False),
        Arm("start-spectrum", "start (spectrum)", "spectrum", tuned=False),
        Arm("tuned-spectrum", "tuned (spectrum)", "spectrum", tuned=True),
    )


def eval_options(config: RunConfig) -> EvalOptions:
    """The evaluation the run's ``--eval_*`` options ask for, with the run's seed and data directory."""
    return config.evaluation.options(
        seed=config.training.seed, data_dir=config.script.data_dir,
        progress=config.training.log_level not in ("error", "critical") and is_main_process(),
    )  # fmt: skip


def evaluation_record(config: RunConfig, start: StartKind) -> dict[str, Any]:
    """What decides a run's evaluation, as its mark records it: a resumed finished run is evaluated again
    when this differs."""
    options = eval_options(config)
    return {"options": options.measured(), "skip_failed_tasks": options.skip_failed_tasks,
            "start_format": start.format}  # fmt: skip


def check_arm_folders(run_dir: Path) -> None:
    """The arm folders an evaluation would replace can be replaced: none holds a file someone added or edited.
    Those of an earlier release carry no mark of their own; the run's mark vouches for them and they get one."""
    from spectrum_suite.folders import FolderError, check_target, snapshot
    from tuning.eval.evaluation import EVAL_MARK

    names = {a.folder for fmt in ("chat", "colon") for a in arms(fmt)}
    for folder in sorted(p for p in (run_dir / "eval").glob("*") if p.name in names and p.is_dir()):
        if is_main_process() and not EVAL_MARK.owns(folder):
            EVAL_MARK.create(folder)
            EVAL_MARK.add(folder, snapshot(folder))
        try:
            check_target(folder, EVAL_MARK, f"the arm folder eval/{folder.name}")
        except FolderError as err:
            raise RunInputError(str(err)) from None


def preflight(config: RunConfig, start: StartKind) -> EvalData:
    """What the evaluation needs, checked before training: the start model's tokenizer can express the start
    arm's format and the spectrum format, every held-out task can be scored (or failures are accepted), and the
    arm folders of a resumed run can be replaced."""
    from spectrum_suite.formats import Format
    from tuning.eval.evaluation import prepare
    from tuning.loading import load_tokenizer

    if config.script.resume:
        check_arm_folders(config.run_dir)

    tokenizer = load_tokenizer(
        config.model.model_name_or_path, trust_remote_code=config.training.trust_remote_code
    )
    natural = start.format
    for fmt in dict.fromkeys((natural, "spectrum")):
        try:
            Format(fmt, tokenizer)
        except ValueError as err:
            option = "--eval_start_format" if fmt == natural else "--model"
            raise RunInputError(f"{option}: {err} (the start model's arm of the evaluation)") from None
    try:
        return prepare(eval_options(config))
    except ValueError as err:
        raise RunInputError(
            f"evaluation (--eval_*; --eval_skip_failed_tasks accepts failed tasks, --no_eval skips it): {err}"
        ) from None


def cached(folder: Path, options: EvalOptions, fmt: str) -> EvalResults | None:
    """An earlier attempt's results of one arm, if they answer the same evaluation in the same format."""
    try:
        earlier = EvalResults.load(folder / "results.json")
    except JSONFileError:
        return None
    measured = {k: v for k, v in earlier.options.items() if k in options.measured()}
    same = earlier.format == fmt and measured == options.measured()
    return earlier if same else None


def _evaluate(
    model: Any, tokenizer: Any, arm: Arm, options: EvalOptions, name: str, out: Path, data: EvalData
) -> EvalResults:
    """One arm on every process; the main one writes its run folder."""
    from tuning.eval import evaluate_lm, write_run
    from tuning.lm import LM

    results = evaluate_lm(LM(model, tokenizer, progress=options.progress), arm.fmt, options, name, data=data)
    if is_main_process():
        write_run(results, out, option=f"the arm folder eval/{arm.folder}")
    return results


def evaluate_arms(
    config: RunConfig, run_dir: Path, start: StartKind, data: EvalData, reuse_tuned: bool = False
) -> dict[Arm, EvalResults]:
    """The three arms' results, on every process (the start model is loaded only if a start arm is not cached;
    with ``reuse_tuned``, the model was not trained in this invocation and its arm may be cached too)."""
    from tuning.loading import load_model_and_tokenizer
    from tuning.run.model import load_start_model

    options = eval_options(config)
    start_name = config.model.model_name_or_path
    *start_arms, tuned_arm = arms(start.format)
    results: dict[Arm, EvalResults] = {}
    for arm in start_arms + ([tuned_arm] if reuse_tuned else []):
        earlier = agree(
            cached(run_dir / "eval" / arm.folder, options, arm.fmt) if is_main_process() else None
        )
        if earlier is not None:
            results[arm] = earlier
    missing = [a for a in start_arms if a not in results]
    if missing:
        model, tokenizer, _, _ = load_start_model(config, dtype="auto")  # bf16 on CUDA, like the tuned model
        model.to(device())
        for arm in missing:
            results[arm] = _evaluate(
                model, tokenizer, arm, options, start_name, run_dir / "eval" / arm.folder, data
            )
        del model
        gc.collect()
    barrier()  # the tuned model is saved by the main process
    if tuned_arm not in results:
        model, tokenizer = load_model_and_tokenizer(str(run_dir), dtype="auto", device=device())
        out = run_dir / "eval" / tuned_arm.folder
        results[tuned_arm] = _evaluate(model, tokenizer, tuned_arm, options, run_dir.name, out, data)
    return {arm: results[arm] for arm in (*start_arms, tuned_arm)}


def comparisons(results: dict[Arm, EvalResults]) -> list[Comparison]:
    """The tuned model against each start arm (the start arm is the baseline of each comparison)."""
    from tuning.eval.compare import compare

    (tuned,) = [a for a in results if a.tuned]
    return [
        compare([results[arm], results[tuned]], [arm.label, tuned.label], allow_mismatch=True)
        for arm in results
        if not arm.tuned
    ]


def tallies(found: list[Comparison]) -> dict[str, dict[str, dict[str, int]]]:
    """How many tasks the tuned model does better, with no detectable difference, worse (and untested), per figure,
    against each start arm."""
    return {
        f"{c.labels[1]} vs {c.labels[0]}": {figure: c.tally(c.labels[1], figure) for figure, _, _ in FIGURES}
        for c in found
    }


def write_evaluation(
    results: dict[Arm, EvalResults], run_dir: Path, start: StartKind
) -> tuple[str, dict[str, Any]]:
    """``before_after.md``/``.json`` and ``eval/comparison.md`` with its plots, on the main process (each saying
    how the start arm's format was chosen); the headline table of the three arms and the tuned model's verdicts
    per figure."""
    from tuning.eval.plots import plot_compare
    from tuning.eval.report import comparison_report, headline_table
    from tuning.jsonfile import write_json

    labels = [arm.label for arm in results]
    table = headline_table(*results.values(), labels=labels)
    found = comparisons(results)
    tally = tallies(found)
    (run_dir / "before_after.md").write_text(table, encoding="utf-8")
    write_json(run_dir / "before_after.json", {
        "arms": {arm.label: {"folder": f"eval/{arm.folder}", "model": r.model, "format": r.format,
                             "headline": r.headline, "intervals": r.intervals} for arm, r in results.items()},
        "start_arm": start, "verdicts": tally,
    })  # fmt: skip
    out = run_dir / "eval"
    plots = plot_compare(list(results.values()), labels, out)
    body = f"The {start.sentence()}.\n\n" + "\n\n".join(comparison_report(c) for c in found)
    body += "".join(f"\n![{p.stem}]({p.name})\n" for p in plots)
    (out / "comparison.md").write_text(body, encoding="utf-8")
    return table, tally
