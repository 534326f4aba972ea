"""`evaluate_model`: the three evaluations of one model, and writing a run folder.

Steerability runs on the episode configs, distributional alignment on the alignment configs and coverage on
the coverage configs, each on the builder's held-out rows; the model is run by `tuning.lm.LM` and the numbers
come from the metric modules in ``metrics/``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import metrics
from spectrum_suite.folders import Mark, resolve, write_whole
from tuning.distributed import world_size
from tuning.eval.data import EvalData, load_eval_data
from tuning.eval.options import FORMATS, OWN_TOKENIZER, EvalOptions
from tuning.eval.results import EvalResults
from tuning.lm import LM

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

METRIC_NAMES = {"episodes": "steerability", "alignment": "distributional_alignment", "coverage": "coverage"}
#: The mark of an evaluation run folder (`spectrum_suite.folders`): written aside, swapped in whole.
EVAL_MARK = Mark(".spectrum_eval.json", "tuning.eval")


class FormatNotExpressibleError(ValueError):
    """The tokenizer cannot render the chosen format (no chat template, no turn tokens, no EOS)."""


class FailedTasksError(ValueError):
    """Tasks that cannot be scored or that failed, when the caller did not opt to skip them: a headline without
    them would silently mean something else."""


def failed_tasks_message(failed: dict[str, str], skip_option: str = "--skip-failed-tasks") -> str:
    """One line naming every failed task and why, and how to accept a headline without them."""
    by_reason: dict[str, list[str]] = {}
    for task, why in failed.items():
        by_reason.setdefault(why, []).append(task)
    listed = "; ".join(f"{', '.join(tasks)}: {why}" for why, tasks in by_reason.items())
    return (
        f"{len(failed)} task(s) failed and would be left out of the headline: {listed}. Fix the cause, leave "
        f"them out of the configs, or pass {skip_option} to accept a headline without them (the report lists them)"
    )


def prepare(opts: EvalOptions) -> EvalData:
    """Everything an evaluation checks without a model, so that bad input fails before one is loaded: the rows
    of every config, the coverage tasks whose word list is missing, and the k and episodes of ``k_from``."""
    from tuning.eval.coverage import unscoreable
    from tuning.eval.steerability import reused_selection

    data = load_eval_data(opts.configs, data_dir=opts.data_dir)
    data.unscoreable = unscoreable(data.tasks("coverage"), opts.data_dir)
    if data.unscoreable and not opts.skip_failed_tasks:
        raise FailedTasksError(
            failed_tasks_message({f"coverage/{t}": why for t, why in data.unscoreable.items()})
        )
    data.reused = reused_selection(opts, list(data.tasks("episodes")))
    return data


def check_format(fmt: str, tokenizer: Any) -> None:
    """Fail early, with the reason, when ``tokenizer`` cannot express format ``fmt``."""
    from spectrum_suite.formats import prompt_text

    if fmt not in FORMATS:
        raise FormatNotExpressibleError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    probe = [{"role": "description", "content": "d"}, {"role": "output", "content": "y"}]
    try:
        prompt_text(probe, fmt, tokenizer)
    except (ValueError, TypeError) as err:
        name = getattr(tokenizer, "name_or_path", type(tokenizer).__name__)
        raise FormatNotExpressibleError(
            f"the tokenizer of {name!r} cannot express format {fmt!r}: {err}"
        ) from err


def _k_tokenizer(name: str) -> Any:
    """The tokenizer that chooses k for every model, with the option to name when it cannot be loaded."""
    from tuning.loading import ModelLoadError, load_tokenizer

    try:
        return load_tokenizer(name)
    except ModelLoadError as err:
        raise ModelLoadError(
            f"the k tokenizer {name!r} (--k-tokenizer) could not be loaded: {err}. Any tokenizer works as long "
            "as every run you compare uses the same one; 'model' uses the evaluated model's own"
        ) from err


def evaluate_lm(
    lm: LM, fmt: str, opts: EvalOptions, model_name: str | None = None, data: EvalData | None = None
) -> EvalResults:
    """Every evaluation that ``opts.configs`` call for, on one loaded model (``data``: from `prepare`)."""
    from tuning.eval.alignment import evaluate_alignment
    from tuning.eval.coverage import evaluate_coverage
    from tuning.eval.steerability import evaluate_steerability

    check_format(fmt, lm.tokenizer)
    started = time.perf_counter()
    data = data if data is not None else prepare(opts)
    k_tokenizer = lm.tokenizer if opts.k_tokenizer == OWN_TOKENIZER else _k_tokenizer(opts.k_tokenizer)
    results = EvalResults(
        model=model_name or lm.name,
        format=fmt,
        dtype=str(next(lm.model.parameters()).dtype).removeprefix("torch."),
        device=str(lm.device),
        context_length=lm.context_length,
        configs=list(opts.configs),
        skipped_tasks=data.skipped,
        options=opts.record(),
        timings={"load_data_s": round(time.perf_counter() - started, 2)},
        num_processes=world_size(),
    )
    sections = (
        (
            "steerability",
            "episodes",
            lambda tasks, m: evaluate_steerability(lm, fmt, tasks, m, opts, k_tokenizer, data.reused),
        ),
        ("alignment", "alignment", lambda tasks, m: evaluate_alignment(lm, fmt, tasks, m, opts)),
        (
            "coverage",
            "coverage",
            lambda tasks, m: evaluate_coverage(lm, fmt, tasks, m, opts, data.unscoreable),
        ),
    )
    for section, family, run in sections:
        if data.tasks(family):
            t0 = time.perf_counter()
            setattr(results, section, run(data.tasks(family), metrics.load(METRIC_NAMES[family])))
            results.timings[f"{section}_s"] = round(time.perf_counter() - t0, 2)
    results.timings["total_s"] = round(time.perf_counter() - started, 2)
    return results


def evaluate_model(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    fmt: str,
    configs: Any = None,
    *,
    options: EvalOptions | None = None,
    model_name: str | None = None,
    **overrides: Any,
) -> EvalResults:
    """`evaluate_lm` for a model and tokenizer; ``overrides`` are `EvalOptions` fields (``max_instances=...``)."""
    opts = replace(options or EvalOptions(), **overrides)
    if configs is not None:
        opts = replace(opts, configs=configs)
    return evaluate_lm(LM(model, tokenizer, progress=opts.progress), fmt, opts, model_name)


def write_run(results: EvalResults, out: Path, option: str = "--out") -> list[Path]:
    """results.json, the plots and report.md as the run folder ``out``, written aside and swapped in whole
    (`spectrum_suite.folders`: never into a folder we did not write); returns the files written."""
    from tuning.eval.plots import plot_run
    from tuning.eval.report import render_report

    def write(folder: Path) -> list[str]:
        results.save(folder / "results.json")
        plots = plot_run(results, folder)
        (folder / "report.md").write_text(render_report(results, [p.name for p in plots]), encoding="utf-8")
        return ["results.json", "report.md", *(p.name for p in plots)]

    names = write_whole(Path(out), EVAL_MARK, write, option)
    return [resolve(Path(out), option) / name for name in names]
