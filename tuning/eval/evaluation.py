"""`evaluate_model`: the three evaluations of one model, and writing a run folder.

Steerability runs on the episode configs, distributional alignment on the alignment configs and coverage on
the coverage configs, each on the builder's held-out rows; the model is run by a `tuning.lm.LanguageModel`
(transformers in process, or a served model) and the numbers come from the metric modules in ``metrics/``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import metrics
from spectrum_suite.formats import Format
from tuning.distributed import world_size
from tuning.eval.data import load_eval_data
from tuning.eval.options import OWN_TOKENIZER, EvalOptions
from tuning.eval.results import EvalResults
from tuning.lm import LM, LanguageModel

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

METRIC_NAMES = {"episodes": "steerability", "alignment": "distributional_alignment", "coverage": "coverage"}


def k_format(name: str, own: Any) -> Format:
    """The spectrum format of the tokenizer that chooses k for every model (``own``, the evaluated model's, for
    ``model``), with the option to name when that tokenizer cannot be loaded."""
    from tuning.loading import ModelLoadError, load_tokenizer

    if name == OWN_TOKENIZER:
        return Format("spectrum", own)
    try:
        return Format("spectrum", load_tokenizer(name))
    except ModelLoadError as err:
        raise ModelLoadError(
            f"the k tokenizer {name!r} (--k-tokenizer) could not be loaded: {err}. Any tokenizer works as long "
            "as every run you compare uses the same one; 'model' uses the evaluated model's own"
        ) from err


def check_engine(lm: LanguageModel, configs: Any) -> None:
    """Fail early when the engine cannot score (a server without prompt log-probabilities) and ``configs`` ask
    for steerability or alignment, which score; coverage only samples."""
    from spectrum_suite.registry import config_row_family

    reason = lm.cannot_score
    if reason is None:
        return
    scoring = [c for c in configs if config_row_family(c) in ("episodes", "alignment")]
    if scoring:
        raise ValueError(f"configs {', '.join(scoring)} cannot be evaluated: {reason}")


def resolve_format(fmt: str | Format, tokenizer: Any) -> Format:
    """The evaluated format for the model's tokenizer, resolved once (`FormatNotExpressibleError` if it cannot
    be); a `Format` given must be the model's tokenizer's, or every id would be another vocabulary's."""
    if isinstance(fmt, str):
        return Format(fmt, tokenizer)
    if fmt.tokenizer is not tokenizer:
        raise ValueError(f"{fmt!r} was resolved for another tokenizer than the evaluated model's")
    return fmt


def evaluate_lm(
    lm: LanguageModel, fmt: str | Format, opts: EvalOptions, model_name: str | None = None
) -> EvalResults:
    """Every evaluation that ``opts.configs`` call for, on one loaded model (either backend), in format ``fmt``
    (a name, or a `Format` of the model's tokenizer with a forced family)."""
    from tuning.eval.alignment import evaluate_alignment
    from tuning.eval.coverage import evaluate_coverage
    from tuning.eval.steerability import evaluate_steerability

    fmt = resolve_format(fmt, lm.tokenizer)
    check_engine(lm, opts.configs)
    started = time.perf_counter()
    data = load_eval_data(opts.configs, data_dir=opts.data_dir)
    k_selection = k_format(opts.k_tokenizer, lm.tokenizer)
    engine = lm.describe()
    results = EvalResults(
        model=model_name or lm.name,
        format=fmt.name,
        dtype=engine["dtype"],
        device=engine["device"],
        backend=engine,
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
            lambda tasks, m: evaluate_steerability(lm, fmt, tasks, m, opts, k_selection),
        ),
        ("alignment", "alignment", lambda tasks, m: evaluate_alignment(lm, fmt, tasks, m, opts)),
        ("coverage", "coverage", lambda tasks, m: evaluate_coverage(lm, fmt, tasks, m, opts)),
    )
    for section, row_family, run in sections:
        if data.tasks(row_family):
            t0 = time.perf_counter()
            setattr(results, section, run(data.tasks(row_family), metrics.load(METRIC_NAMES[row_family])))
            results.timings[f"{section}_s"] = round(time.perf_counter() - t0, 2)
    results.timings["total_s"] = round(time.perf_counter() - started, 2)
    return results


def evaluate_model(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    fmt: str | Format,
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


def write_run(results: EvalResults, out: Path) -> list[Path]:
    """results.json, the plots and report.md into ``out``; returns the files written."""
    from tuning.eval.plots import plot_run
    from tuning.eval.report import render_report

    out.mkdir(parents=True, exist_ok=True)
    results.save(out / "results.json")
    plots = plot_run(results, out)
    (out / "report.md").write_text(render_report(results, [p.name for p in plots]), encoding="utf-8")
    return [out / "results.json", out / "report.md", *plots]
