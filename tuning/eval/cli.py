"""The command line of ``python -m tuning.eval``: one evaluation run, or ``compare`` of several runs.

    python -m tuning.eval --model smollm2-135m-instruct --format spectrum --max-instances 20 --out runs/x
    python -m tuning.eval compare runs/x runs/y --out runs/compare

Bad input (an unknown model, a format the tokenizer cannot express, an empty config) ends in one clear line
and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from spectrum_suite.checks import check_writable_folder
from spectrum_suite.verbosity import add_verbosity_options, set_verbosity
from tuning.distributed import cpu_threads, device, is_main_process, start
from tuning.embedded import EMBEDDED_MODEL
from tuning.eval.data import EmptyConfigError
from tuning.eval.evaluation import FormatNotExpressibleError, evaluate_lm, write_run
from tuning.eval.options import DEFAULT_CONFIGS, FORMATS, K_WINDOW, MAX_INSTANCES, EvalOptions
from tuning.precision import require_bf16


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def _cap(text: str) -> int | None:
    """A per-task cap: an integer >= 1, or ``all`` for none."""
    return None if text.strip().lower() == "all" else _positive(text)


def build_parser() -> argparse.ArgumentParser:
    """The options of one evaluation run (``compare`` has its own parser)."""
    p = argparse.ArgumentParser(
        prog="python -m tuning.eval",
        description="Score one model on Spectrum Suite: steerability, distributional alignment, coverage. "
        "`python -m tuning.eval compare DIR...` puts several runs side by side.",
    )
    p.add_argument("--model", required=True, help="Hub id, local path, or smollm2-135m-instruct (embedded)")
    p.add_argument(
        "--format",
        default="spectrum",
        choices=FORMATS,
        dest="fmt",
        help="prompt format (default: %(default)s)",
    )
    p.add_argument(
        "--configs", nargs="+", default=list(DEFAULT_CONFIGS), help="builder configs (default: %(default)s)"
    )
    p.add_argument("--out", required=True, type=Path, help="run directory for results.json, report.md, plots")
    _add_protocol_options(p)
    _add_model_options(p)
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    add_verbosity_options(p)
    return p


def _add_protocol_options(p: argparse.ArgumentParser) -> None:
    """What is scored and how: the paper's protocol by default (`EvalOptions`)."""
    p.add_argument(
        "--max-instances", type=_cap, default=MAX_INSTANCES,
        help="episodes / alignment rows per task, a seeded subsample (default: %(default)s, the paper's; "
        "'all' for every one)",
    )  # fmt: skip
    p.add_argument(
        "--num-generations", type=_positive, default=100, help="samples per coverage task and setting"
    )
    p.add_argument(
        "--batch-size", type=_positive, default=8, help="batch size (halves itself on out-of-memory)"
    )
    p.add_argument("--seed", type=int, default=42, help="sampling seed")
    p.add_argument(
        "--top-k", type=int, default=None,
        help="coverage sampling top-k; default: the model's generation config (library default 50, as the paper "
        "sampled); 0 = no top-k. results.json records the value sampling applied",
    )  # fmt: skip
    p.add_argument(
        "--include-terminator", action="store_true", help="score alignment candidates through end of turn"
    )
    p.add_argument(
        "--k", type=int, default=None, help="fixed number of in-context outputs instead of k selection"
    )
    p.add_argument("--k-window", type=_positive, default=K_WINDOW, help="k-selection window in tokens")
    p.add_argument(
        "--k-tokenizer", default=EMBEDDED_MODEL,
        help="tokenizer that chooses k, the same for every model so runs compare (default: %(default)s, "
        "always available; google/gemma-3-1b-it is the paper's; 'model' = the evaluated model's own)",
    )  # fmt: skip
    p.add_argument("--k-from", default=None, help="a results.json whose k and episodes to reuse per task")
    p.add_argument("--data-dir", default=None, help="manual source files (else $SPECTRUM_SUITE_DATA)")


def _add_model_options(p: argparse.ArgumentParser) -> None:
    """How the model is loaded and run."""
    p.add_argument(
        "--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"),
        help="weights and compute: auto = bfloat16 on a GPU that has it, float32 on a CPU (full precision, as the "
        "paper scores); bfloat16 on a CPU with bf16 instructions is faster, its effect is in docs/results.md",
    )  # fmt: skip
    p.add_argument("--device", default=None, help="cuda, cpu, ... (default: this process's GPU when present)")
    p.add_argument(
        "--device-map", default=None, choices=("auto",),
        help="auto: place a model too large for one device across the GPUs and the CPU (accelerate)",
    )  # fmt: skip
    p.add_argument("--trust-remote-code", action="store_true", help="allow model code from the Hub")
    p.add_argument(
        "--threads",
        type=_positive,
        default=None,
        help="torch CPU threads (default: this process's share of the cores)",
    )


def options_from(args: argparse.Namespace) -> EvalOptions:
    """The `EvalOptions` a parsed command line asks for."""
    return EvalOptions(
        configs=args.configs,
        max_instances=args.max_instances,
        num_generations=args.num_generations,
        batch_size=args.batch_size,
        seed=args.seed,
        top_k=args.top_k,
        include_terminator=args.include_terminator,
        k=args.k,
        k_window=args.k_window,
        k_tokenizer=args.k_tokenizer,
        k_from=args.k_from,
        data_dir=args.data_dir,
        progress=not args.no_progress,
    )


def run_cli(argv: Sequence[str]) -> int:
    """Load the model, evaluate, write the run directory."""
    from tuning.eval.report import headline_table
    from tuning.lm import LM
    from tuning.loading import ModelLoadError, load_model_and_tokenizer

    args = build_parser().parse_args(argv)
    set_verbosity(args.verbose, args.quiet)
    import torch

    torch.set_num_threads(args.threads or cpu_threads())
    try:
        opts = options_from(args)
        check_writable_folder(args.out, "--out")  # before the model is loaded, not after the evaluation
        if args.dtype == "bfloat16":
            require_bf16(args.device or device(), "--dtype bfloat16", "use --dtype float32 there")
        start()
        model, tokenizer = load_model_and_tokenizer(
            args.model, dtype=args.dtype, device=args.device or device(), trust_remote_code=args.trust_remote_code,
            device_map=args.device_map,
        )  # fmt: skip
        lm = LM(model, tokenizer, progress=opts.progress and is_main_process())
        results = evaluate_lm(lm, args.fmt, opts, model_name=args.model)
    except (ModelLoadError, FormatNotExpressibleError, EmptyConfigError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if is_main_process():
        for path in write_run(results, args.out):
            print(path)
        print(headline_table(results))
    return 0


def compare_cli(argv: Sequence[str]) -> int:
    """``compare DIR...``: the headline table, per-task differences against the first run, wins/ties/losses."""
    from tuning.eval.compare import ProtocolMismatch, compare
    from tuning.eval.plots import plot_compare
    from tuning.eval.report import comparison_report
    from tuning.eval.results import EvalResults
    from tuning.jsonfile import JSONFileError

    p = argparse.ArgumentParser(prog="python -m tuning.eval compare", description="Compare evaluation runs.")
    p.add_argument(
        "runs", nargs="+", type=Path, help="run directories holding results.json (the first is the baseline)"
    )
    p.add_argument(
        "--out", type=Path, default=None, help="where to write compare.md and plots (default: print only)"
    )
    p.add_argument(
        "--allow-protocol-mismatch", action="store_true",
        help="compare runs whose options, k or episodes differ (their differences then mix models and items)",
    )  # fmt: skip
    add_verbosity_options(p)
    args = p.parse_args(argv)
    set_verbosity(args.verbose, args.quiet)
    try:
        if args.out is not None:
            check_writable_folder(args.out, "--out")
        runs = [EvalResults.load(d / "results.json") for d in args.runs]
        comparison = compare(runs, [str(d) for d in args.runs], allow_mismatch=args.allow_protocol_mismatch)
    except (JSONFileError, ProtocolMismatch, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    report = comparison_report(comparison)
    print(report)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        plots = plot_compare(runs, comparison.labels, args.out)
        body = report + "".join(f"\n![{p.stem}]({p.name})\n" for p in plots)
        (args.out / "compare.md").write_text(body, encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "compare":
        return compare_cli(argv[1:])
    return run_cli(argv)
