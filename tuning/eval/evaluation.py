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
from tuning.distributed import world_size
from tuning.eval.data import load_eval_data
from tuning.eval.options import FORMATS, OWN_TOKENIZER, EvalOptions
from tuning.eval.results import EvalResults
from tuning.lm import LM

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

METRIC_NAMES = {"episodes": "steerability", "alignment": "distributional_alignment", "coverage": "coverage"}


class FormatNotExpressibleError(ValueError):
    """The tokenizer cannot render the chosen format (no chat template, no turn tokens, no EOS)."""


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


def load_k_tokenizer(name: str, own: Any) -> Any:
    """The tokenizer that chooses k for every model (``own``, the evaluated model's, for ``model``), with the
    option to name when it cannot be loaded."""
    from tuning.loading import ModelLoadError, load_tokenizer

    if name == OWN_TOKENIZER:
        return own
    try:
        return load_tokenizer(name)
    except ModelLoadError as err:
        raise ModelLoadError(
            f"the k tokenizer {name!r} (--k-tokenizer) could not be loaded: {err}. Any tokenizer works as long "
            "as every run you compare uses the same one; 'model' uses the evaluated model's own"
        ) from err


def evaluate_lm(lm: LM, fmt: str, opts: EvalOptions, model_name: str | None = None) -> EvalResults:
    """Every evaluation that ``opts.configs`` call for, on one loaded model."""
    from tuning.eval.alignment import evaluate_alignment
    from tuning.eval.coverage import evaluate_coverage
    from tuning.eval.steerability import evaluate_steerability

    check_format(fmt, lm.tokenizer)
    started = time.perf_counter()
    data = load_eval_data(opts.configs, data_dir=opts.data_dir)
    k_tokenizer = load_k_tokenizer(opts.k_tokenizer, lm.tokenizer)
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
            lambda tasks, m: evaluate_steerability(lm, fmt, tasks, m, opts, k_tokenizer),
        ),
        ("alignment", "alignment", lambda tasks, m: evaluate_alignment(lm, fmt, tasks, m, opts)),
        ("coverage", "coverage", lambda tasks, m: evaluate_coverage(lm, fmt, tasks, m, opts)),
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


def write_run(results: EvalResults, out: Path) -> list[Path]:
    """results.json, the plots and report.md into ``out``; returns the files written."""
    from tuning.eval.plots import plot_run
    from tuning.eval.report import render_report

    out.mkdir(parents=True, exist_ok=True)
    results.save(out / "results.json")
    plots = plot_run(results, out)
    (out / "report.md").write_text(render_report(results, [p.name for p in plots]), encoding="utf-8")
    return [out / "results.json", out / "report.md", *plots]
