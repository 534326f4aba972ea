"""The command line of ``python -m tuning.eval``: one evaluation run, or ``compare`` of several runs.

    python -m tuning.eval --model smollm2-135m-instruct --format spectrum --max-instances 20 --out runs/x
    python -m tuning.eval --backend openai --base-url http://127.0.0.1:8000/v1 --model NAME --out runs/y
    python -m tuning.eval compare runs/x runs/y --out runs/compare

Bad input (an unknown model, a format the tokenizer cannot express, an empty config) ends in one clear line
and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spectrum_suite.checks import check_writable_folder
from spectrum_suite.formats import FORMATS, FormatNotExpressibleError
from spectrum_suite.verbosity import add_verbosity_options, set_verbosity
from tuning.distributed import cpu_threads, device, is_main_process, start, world_size
from tuning.eval.data import EmptyConfigError
from tuning.eval.evaluation import evaluate_lm, write_run
from tuning.eval.options import EvalOptions, OptionParser, check_lows, option
from tuning.lm.contract import LanguageModel
from tuning.lm.served import BACKEND
from tuning.precision import require_bf16


@dataclass
class RunOptions:
    """Which model, in which format, into which folder, and how the model is loaded and run (what is scored
    and how is `EvalOptions`)."""

    model: str = option(
        help="Hub id, local path, or smollm2-135m-instruct (embedded); with --backend openai the served model's name"
    )
    out: Path = option(help="run directory for results.json, report.md, plots")
    format: str = option("spectrum", choices=FORMATS, help="prompt format")
    dtype: str = option(
        "auto", choices=("auto", "float32", "bfloat16", "float16"),
        help="weights and compute: auto = bfloat16 on a GPU that has it, float32 on a CPU (full precision, as the "
        "paper scores); bfloat16 on a CPU with bf16 instructions is faster, its effect is in docs/results.md",
    )  # fmt: skip
    device: str | None = option(None, help="cuda, cpu, ... (none: this process's GPU when present)")
    device_map: str | None = option(
        None, choices=("auto",),
        help="auto: place a model too large for one device across the GPUs and the CPU (accelerate)",
    )  # fmt: skip
    trust_remote_code: bool = option(False, help="allow model code from the Hub")
    threads: int | None = option(
        None, low=1, help="torch CPU threads (none: this process's share of the cores)"
    )
    backend: str = option(
        "transformers", choices=("transformers", BACKEND),
        help="transformers: load and run the model in this process; openai: a model served over the "
        "OpenAI-compatible completions API (vLLM, ...), sent our own token ids (docs/served.md)",
    )  # fmt: skip
    base_url: str | None = option(
        None, help="--backend openai: the server's API root, e.g. http://HOST:8000/v1"
    )
    tokenizer: str | None = option(
        None, help="--backend openai: the served model's tokenizer (none: --model's name or folder)"
    )
    max_concurrency: int = option(8, low=1, help="--backend openai: requests in flight at once")

    def __post_init__(self) -> None:
        check_lows(RunOptions, vars(self))


def build_parser() -> OptionParser:
    """The options of one evaluation run (``compare`` has its own parser): `RunOptions` and `EvalOptions`."""
    p = OptionParser(
        (RunOptions, EvalOptions),
        prog="python -m tuning.eval",
        description="Score one model on Spectrum Suite: steerability, distributional alignment, coverage. "
        "`python -m tuning.eval compare DIR...` puts several runs side by side. Every option is spelt "
        "--snake_case or --kebab-case.",
    )
    add_verbosity_options(p)
    return p


def parse(argv: Sequence[str]) -> tuple[RunOptions, EvalOptions, argparse.Namespace]:
    """The run's and the evaluation's options; a bad value ends in argparse's usage error (exit code 2)."""
    run, opts, rest = build_parser().parse_all(argv)
    return run, opts, rest


def load_lm(run: RunOptions, progress: bool) -> LanguageModel:
    """The model the command line names, on the backend it names."""
    from tuning.lm import LM, ServedLM
    from tuning.loading import ModelLoadError, load_model_and_tokenizer, load_tokenizer

    if run.backend == BACKEND:
        if not run.base_url:
            raise ValueError("--backend openai needs --base-url, the server's API root (http://HOST:PORT/v1)")
        if world_size() > 1:
            raise ValueError(
                "--backend openai runs in one process (the server parallelises): launch it without accelerate"
            )
        try:
            tokenizer = load_tokenizer(run.tokenizer or run.model, trust_remote_code=run.trust_remote_code)
        except ModelLoadError as err:
            raise ModelLoadError(
                f"{err}. The served model's tokenizer is loaded here: name it with --tokenizer"
            ) from err
        return ServedLM.connect(
            run.base_url,
            run.model,
            tokenizer=tokenizer,
            max_concurrency=run.max_concurrency,
            progress=progress,
        )
    if run.base_url or run.tokenizer:
        raise ValueError("--base-url and --tokenizer are options of --backend openai")
    model, tokenizer = load_model_and_tokenizer(
        run.model, dtype=run.dtype, device=run.device or device(), trust_remote_code=run.trust_remote_code,
        device_map=run.device_map,
    )  # fmt: skip
    return LM(model, tokenizer, progress=progress)


def run_cli(argv: Sequence[str]) -> int:
    """Load the model, evaluate, write the run directory."""
    from tuning.eval.report import headline_table
    from tuning.lm import ServerError
    from tuning.loading import ModelLoadError

    run, opts, rest = parse(argv)
    set_verbosity(rest.verbose, rest.quiet)
    import torch

    torch.set_num_threads(run.threads or cpu_threads())
    try:
        check_writable_folder(run.out, "--out")  # before the model is loaded, not after the evaluation
        if run.dtype == "bfloat16" and run.backend != BACKEND:
            require_bf16(run.device or device(), "--dtype bfloat16", "use --dtype float32 there")
        start()
        lm = load_lm(run, progress=opts.progress and is_main_process())
        results = evaluate_lm(lm, run.format, opts, model_name=run.model)
    except (ModelLoadError, FormatNotExpressibleError, EmptyConfigError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ServerError as err:  # the server went away or kept failing: nothing is written
        print(f"error: {err}\nThe run did not finish; nothing was written to {run.out}.", file=sys.stderr)
        return 1
    if is_main_process():
        for path in write_run(results, run.out):
            print(path)
        print(headline_table(results))
    return 0


def compare_cli(argv: Sequence[str]) -> int:
    """``compare DIR...``: the headline table, per-task differences against the first run, and their verdicts."""
    from tuning.eval.compare import ProtocolMismatch, compare
    from tuning.eval.plots import plot_compare
    from tuning.eval.report import comparison_report
    from tuning.eval.results import EvalResults
    from tuning.jsonfile import JSONFileError

    p = argparse.ArgumentParser(
        prog="python -m tuning.eval compare",
        description="Compare evaluation runs. Runs that left --top-k to each model's generation config (the paper's "
        "sampling) compare whatever top-k each applied, and the report says how each sampled; a top-k fixed in one "
        "run that the other did not apply is another protocol.",
    )
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
