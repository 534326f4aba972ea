"""``python -m tuning.eval``: the three evaluations of `spec/evaluations.md` on one model.

    python -m tuning.eval --model smollm2-135m-instruct --format spectrum --max-instances 20 --out runs/x
    python -m tuning.eval compare runs/x runs/y --out runs/compare

Steerability (episode configs), distributional alignment (alignment configs) and coverage (coverage
configs) run on the builder's held-out rows; the model is run by `tuning.scoring*` and the numbers come
from the metric modules in ``metrics/``. The run directory gets ``results.json``, ``report.md`` and PNG
plots. `evaluate_model` is the same evaluation as a function (used by `tuning.run` before and after
tuning).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning.eval_data import DEFAULT_CONFIGS, EmptyConfigError, load_eval_data
from tuning.ksel import K_WINDOW, MIN_EPISODES_FOR_K2
from tuning.report import headline_table  # noqa: F401 - part of this module's public API

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

FORMATS = ("spectrum", "colon", "chat")
METRIC_NAMES = {"episodes": "steerability", "alignment": "distributional_alignment", "coverage": "coverage"}


class FormatNotExpressibleError(ValueError):
    """The tokenizer cannot render the chosen format (no chat template, no turn tokens, no EOS)."""


def metric_path(name: str) -> Path:
    """The folder of one of our metric modules (``metrics/<name>``), for `evaluate.load`."""
    import metrics

    path = Path(metrics.__file__).resolve().parent / name
    if not (path / f"{name}.py").is_file():
        raise FileNotFoundError(f"metric module {name!r} not found at {path}")
    return path


def load_metric(name: str) -> Any:
    """`evaluate.load` of one of our metric modules, from its folder (works offline)."""
    import evaluate

    return evaluate.load(str(metric_path(name)))


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


def evaluate_model(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    fmt: str,
    configs: Sequence[str] = DEFAULT_CONFIGS,
    *,
    max_instances: int | None = None,
    num_generations: int = 100,
    batch_size: int = 8,
    seed: int = 42,
    top_k: int | None = 0,
    include_terminator: bool = False,
    k: int | None = None,
    k_window: int = K_WINDOW,
    k_tokenizer: Any = None,
    min_episodes_for_k2: int = MIN_EPISODES_FOR_K2,
    data_dir: str | Path | None = None,
    model_name: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Every evaluation that ``configs`` call for, as one JSON-ready dict (see `tuning.report`)."""
    from tuning.eval_align import AlignOptions, evaluate_alignment
    from tuning.eval_cover import CoverOptions, evaluate_coverage
    from tuning.eval_steer import SteerOptions, evaluate_steerability
    from tuning.models import context_length

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    configs = [configs] if isinstance(configs, str) else list(configs)
    check_format(fmt, tokenizer)
    started = time.perf_counter()
    data = load_eval_data(configs, data_dir=data_dir)
    ctx = context_length(model)
    results: dict[str, Any] = {
        "model": model_name or getattr(model, "name_or_path", None) or type(model).__name__,
        "format": fmt,
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "device": str(next(model.parameters()).device),
        "context_length": ctx,
        "configs": list(configs),
        "skipped_tasks": data.skipped,
        "options": {
            "max_instances": max_instances,
            "num_generations": num_generations,
            "batch_size": batch_size,
            "seed": seed,
            "top_k": top_k,
            "include_terminator": include_terminator,
            "k": k,
            "k_window": k_window,
            "k_tokenizer": getattr(k_tokenizer, "name_or_path", None)
            if k_tokenizer is not None
            else "model's own",
        },
        "timings": {"load_data_s": round(time.perf_counter() - started, 2)},
    }
    if data.tasks("episodes"):
        t0 = time.perf_counter()
        opts = SteerOptions(
            max_instances=max_instances,
            batch_size=max(1, batch_size // 2),  # full episodes: the longest sequences of the three
            k=k,
            k_window=k_window,
            k_tokenizer=k_tokenizer,
            min_episodes_for_k2=min_episodes_for_k2,
            context_length=ctx,
            progress=progress,
        )
        results["steerability"] = evaluate_steerability(
            model, tokenizer, fmt, data.tasks("episodes"), load_metric("steerability"), opts
        )
        results["k"] = {task: res["k"] for task, res in results["steerability"]["tasks"].items()}
        results["timings"]["steerability_s"] = round(time.perf_counter() - t0, 2)
    if data.tasks("alignment"):
        t0 = time.perf_counter()
        opts_a = AlignOptions(
            max_instances=max_instances,
            batch_size=batch_size * 4,  # candidates are a few tokens long
            include_terminator=include_terminator,
            context_length=ctx,
            progress=progress,
        )
        results["alignment"] = evaluate_alignment(
            model, tokenizer, fmt, data.tasks("alignment"), load_metric("distributional_alignment"), opts_a
        )
        results["timings"]["alignment_s"] = round(time.perf_counter() - t0, 2)
    if data.tasks("coverage"):
        t0 = time.perf_counter()
        opts_c = CoverOptions(
            num_generations=num_generations,
            batch_size=batch_size,
            seed=seed,
            top_k=top_k,
            context_length=ctx,
            data_dir=data_dir,
            progress=progress,
        )
        results["coverage"] = evaluate_coverage(
            model, tokenizer, fmt, data.tasks("coverage"), load_metric("coverage"), opts_c
        )
        results["timings"]["coverage_s"] = round(time.perf_counter() - t0, 2)
    results["timings"]["total_s"] = round(time.perf_counter() - started, 2)
    from tuning.report import headline

    results["headline"] = headline(results)
    return results


def json_ready(value: Any) -> Any:
    """``value`` with numpy scalars as Python ones, tuples as lists and non-finite floats as None (JSON
    has no NaN or infinity)."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def write_json(path: Path, payload: Any) -> None:
    """Write JSON to a temporary file beside ``path`` and rename it in place (no half-written file)."""
    payload = json_ready(payload)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, allow_nan=False)
            fh.write("\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_run(results: dict[str, Any], out: Path) -> list[Path]:
    """results.json, the plots and report.md into ``out``; returns the files written."""
    from tuning.plots import plot_run
    from tuning.report import render_report

    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "results.json", results)
    plots = plot_run(results, out)
    (out / "report.md").write_text(render_report(results, [p.name for p in plots]), encoding="utf-8")
    return [out / "results.json", out / "report.md", *plots]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The CLI of one evaluation run (``compare`` has its own parser)."""
    p = argparse.ArgumentParser(
        prog="python -m tuning.eval",
        description="Score one model on Spectrum Suite: steerability, distributional alignment, coverage. "
        "`python -m tuning.eval compare DIR...` puts several runs side by side.",
    )
    p.add_argument("--model", required=True, help="Hub id, local path, or smollm2-135m-instruct (embedded)")
    p.add_argument("--format", required=True, choices=FORMATS, dest="fmt", help="prompt format")
    p.add_argument(
        "--configs", nargs="+", default=list(DEFAULT_CONFIGS), help="builder configs (default: %(default)s)"
    )
    p.add_argument("--out", required=True, type=Path, help="run directory for results.json, report.md, plots")
    p.add_argument(
        "--max-instances", type=_positive, default=None, help="cap on episodes / alignment rows per task"
    )
    p.add_argument(
        "--num-generations", type=_positive, default=100, help="samples per coverage task and setting"
    )
    p.add_argument(
        "--batch-size", type=_positive, default=8, help="batch size (halves itself on out-of-memory)"
    )
    p.add_argument("--seed", type=int, default=42, help="sampling seed")
    p.add_argument(
        "--top-k", type=int, default=0, help="sampling top-k; 0 = off (default), -1 = library default"
    )
    p.add_argument(
        "--include-terminator", action="store_true", help="score alignment candidates through end of turn"
    )
    p.add_argument(
        "--k", type=int, default=None, help="fixed number of in-context outputs instead of k selection"
    )
    p.add_argument("--k-window", type=_positive, default=K_WINDOW, help="k-selection window in tokens")
    p.add_argument("--k-tokenizer", default=None, help="tokenizer for k selection (default: the model's own)")
    p.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"))
    p.add_argument("--device", default=None, help="cuda, cpu, ... (default: cuda when present)")
    p.add_argument("--data-dir", default=None, help="manual source files (else $SPECTRUM_SUITE_DATA)")
    p.add_argument("--trust-remote-code", action="store_true", help="allow model code from the Hub")
    p.add_argument(
        "--threads", type=_positive, default=None, help="torch CPU threads (1 helps on a busy shared CPU)"
    )
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return p


def run_cli(argv: Sequence[str]) -> int:
    """Load the model, evaluate, write the run directory; errors become one clear line and exit code 2."""
    from tuning.models import ModelLoadError, load_model_and_tokenizer

    args = build_parser().parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        model, tokenizer = load_model_and_tokenizer(
            args.model, dtype=args.dtype, device=args.device, trust_remote_code=args.trust_remote_code
        )
        k_tok = None
        if args.k_tokenizer:
            from transformers import AutoTokenizer

            k_tok = AutoTokenizer.from_pretrained(args.k_tokenizer)
        results = evaluate_model(
            model,
            tokenizer,
            args.fmt,
            args.configs,
            max_instances=args.max_instances,
            num_generations=args.num_generations,
            batch_size=args.batch_size,
            seed=args.seed,
            top_k=None if args.top_k < 0 else args.top_k,
            include_terminator=args.include_terminator,
            k=args.k,
            k_window=args.k_window,
            k_tokenizer=k_tok,
            data_dir=args.data_dir,
            model_name=args.model,
            progress=not args.no_progress,
        )
    except (ModelLoadError, FormatNotExpressibleError, EmptyConfigError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in write_run(results, args.out):
        print(path)
    from tuning.report import headline_table as table

    print(table(results))
    return 0


def compare_cli(argv: Sequence[str]) -> int:
    """``compare DIR...``: one table and overlaid curves of several runs."""
    from tuning.plots import plot_compare
    from tuning.report import compare_table

    p = argparse.ArgumentParser(prog="python -m tuning.eval compare", description="Compare evaluation runs.")
    p.add_argument("runs", nargs="+", type=Path, help="run directories holding results.json")
    p.add_argument(
        "--out", type=Path, default=None, help="where to write compare.md and plots (default: print only)"
    )
    args = p.parse_args(argv)
    runs = []
    for d in args.runs:
        path = d / "results.json"
        if not path.is_file():
            print(
                f"error: {path} does not exist (expected a run directory of python -m tuning.eval)",
                file=sys.stderr,
            )
            return 2
        runs.append(json.loads(path.read_text(encoding="utf-8")))
    labels = [str(d) for d in args.runs]
    table = compare_table(runs, labels)
    print(table)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        plots = plot_compare(runs, labels, args.out)
        body = "# Comparison\n\n" + table + "\n" + "".join(f"\n![{p.stem}]({p.name})\n" for p in plots)
        (args.out / "compare.md").write_text(body, encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "compare":
        return compare_cli(argv[1:])
    return run_cli(argv)


if __name__ == "__main__":
    raise SystemExit(main())
