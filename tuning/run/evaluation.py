"""The held-out evaluation of a run, before and after training, with `tuning.eval`.

The starting model's results are kept in ``eval_before.json`` and reused when a resumed run asks for the same
evaluation; the tuned model is evaluated from the saved run folder, so what is measured is what was saved. Each
side also gets the run folder of `tuning.eval` (``eval/before``, ``eval/after``: results.json, report.md, plots).
"""

from __future__ import annotations

import gc
from pathlib import Path

from tuning.distributed import on_cuda
from tuning.eval import EvalOptions, EvalResults
from tuning.jsonfile import JSONFileError
from tuning.run.arguments import RunConfig


def eval_options(config: RunConfig) -> EvalOptions:
    """The evaluation the run's options ask for."""
    s = config.script
    return EvalOptions(
        configs=list(s.eval_configs),
        max_instances=s.eval_max_instances,
        num_generations=s.eval_num_generations,
        batch_size=s.eval_batch_size,
        seed=config.training.seed,
        data_dir=s.data_dir,
        progress=config.training.log_level not in ("error", "critical"),
    )


def _cached_before(path: Path, options: EvalOptions) -> EvalResults | None:
    """The starting model's results of an earlier attempt at this run, if they answer the same evaluation."""
    try:
        cached = EvalResults.load(path)
    except JSONFileError:
        return None
    return cached if cached.options == options.record() else None


def before_after(config: RunConfig, run_dir: Path) -> tuple[EvalResults, EvalResults]:
    """Evaluate the starting model (cached in eval_before.json across resumes) and the saved tuned model."""
    from tuning.eval import evaluate_lm, write_run
    from tuning.lm import LM
    from tuning.loading import load_model_and_tokenizer
    from tuning.run.model import load_start_model

    options = eval_options(config)
    cache = run_dir / "eval_before.json"
    before = _cached_before(cache, options)
    if before is None:
        model, tokenizer, _, _ = load_start_model(config, dtype="auto")  # bf16 on CUDA, like the tuned model
        model.to("cuda" if on_cuda() else "cpu")
        before = evaluate_lm(
            LM(model, tokenizer, progress=False),
            "spectrum",
            options,
            f"{config.model.model_name_or_path} (before)",
        )
        before.save(cache)
        del model
        gc.collect()
    tuned, tuned_tok = load_model_and_tokenizer(str(run_dir), dtype="auto")
    after = evaluate_lm(
        LM(tuned, tuned_tok, progress=options.progress), "spectrum", options, f"{run_dir.name} (after)"
    )
    after.save(run_dir / "eval_after.json")
    for label, results in (("before", before), ("after", after)):
        write_run(results, run_dir / "eval" / label)  # results.json, report.md and the plots of tuning.eval
    return before, after
