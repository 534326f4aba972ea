"""The command line of ``python -m tuning.eval``: one evaluation run, or ``compare`` of several runs.

    python -m tuning.eval --model smollm2-135m-instruct --format spectrum --max-instances 20 --out runs/x
    python -m tuning.eval --backend openai --base-url http://127.0.0.1:8000/v1 --model NAME --out runs/y
    python -m tuning.eval compare runs/x runs/y --out runs/compare

Bad input (an unknown model, a format the tokenizer cannot express, an empty config, a value out of range)
ends in one clear line and exit code 2 before the model is loaded, never a traceback; tasks that fail make the
exit code 1 once the run folder is written, unless ``--skip-failed-tasks``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spectrum_suite.folders import Mark, check_target, write_whole
from spectrum_suite.formats import FORMATS, Format, FormatNotExpressibleError
from spectrum_suite.verbosity import add_verbosity_options, set_verbosity
from tuning.distributed import cpu_threads, device, is_main_process, start, world_size
from tuning.eval.data import EmptyConfigError
from tuning.eval.evaluation import EVAL_MARK, evaluate_lm, failed_tasks_message, prepare, write_run
from tuning.eval.options import EvalOptions, OptionParser, check_lows, given, option
from tuning.eval.steerability import episodes_cap_from
from tuning.jsonfile import JSONFileError
from tuning.lm.contract import LanguageModel
from tuning.lm.served import BACKEND
from tuning.precision import require_bf16

#: The most requests in flight at once: far above what one server batches, low enough to refuse a typo.
MAX_CONCURRENCY = 4096
#: The mark of a ``compare --out`` folder.
COMPARE_MARK = Mark(".spectrum_compare.json", "tuning.eval compare")


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
        None,
        low=1,
        high=os.cpu_count() or 1,
        help="torch CPU threads (none: this process's share of the cores)",
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
    max_concurrency: int = option(
        8, low=1, high=MAX_CONCURRENCY, help="--backend openai: requests in flight at once"
    )

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
    parser = build_parser()
    run, opts, rest = parser.parse_all(argv)
    try:  # the episodes reused were capped by that run's --max-instances; this one takes the same cap
        opts = episodes_cap_from(opts, given(argv, "max_instances"))
    except (JSONFileError, ValueError) as err:
        parser.error(f"--k-from: {err}")
    return run, opts, rest


def check_backend(run: RunOptions) -> Any:
    """The backend's options and the tokenizer the format is resolved with, checked before any data or model is
    loaded; the tokenizer."""
    from tuning.loading import ModelLoadError, load_tokenizer

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
    else:
        if run.base_url or run.tokenizer:
            raise ValueError("--base-url and --tokenizer are options of --backend openai")
        tokenizer = load_tokenizer(run.model, trust_remote_code=run.trust_remote_code)
    Format(run.format, tokenizer)  # a format the tokenizer cannot express fails here, naming why
    return tokenizer


def load_lm(run: RunOptions, tokenizer: Any, progress: bool) -> LanguageModel:
    """The model the command line names, on the backend it names (``tokenizer``: from `check_backend`)."""
    from tuning.lm import LM, ServedLM
    from tuning.loading import load_model_and_tokenizer

    if run.backend == BACKEND:
        return ServedLM.connect(
            run.base_url,
            run.model,
            tokenizer=tokenizer,
            max_concurrency=run.max_concurrency,
            progress=progress,
        )
    model, tokenizer = load_model_and_tokenizer(
        run.model, dtype=run.dtype, device=run.device or device(), trust_remote_code=run.trust_remote_code,
        device_map=run.device_map,
    )  # fmt: skip
    return LM(model, tokenizer, progress=progress)


def run_cli(argv: Sequence[str]) -> int:
    """Check every option and the data, load the model, evaluate, write the run folder.

    Exit codes: 0 done; 2 bad input, found before the model is loaded where it can be; 1 tasks failed (the run
    folder is written and its report lists them) without ``--skip-failed-tasks``, or the server failed.
    """
    from tuning.eval.report import failed_note, headline_table
    from tuning.lm import ServerError
    from tuning.loading import ModelLoadError, check_device

    run, opts, rest = parse(argv)
    set_verbosity(rest.verbose, rest.quiet)
    import torch

    torch.set_num_threads(run.threads or cpu_threads())
    try:
        # everything that can be checked without the model, before it is loaded
        if run.device is not None:
            check_device(run.device)
        out = check_target(run.out, EVAL_MARK, "--out")
        if run.dtype == "bfloat16" and run.backend != BACKEND:
            require_bf16(run.device or device(), "--dtype bfloat16", "use --dtype float32 there")
        tokenizer = check_backend(run)
        data = prepare(opts)
        start()
        lm = load_lm(run, tokenizer, progress=opts.progress and is_main_process())
        results = evaluate_lm(lm, run.format, opts, model_name=run.model, data=data)
    except (
        ModelLoadError, FormatNotExpressibleError, EmptyConfigError, JSONFileError, KeyError, ValueError
    ) as err:  # fmt: skip
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ServerError as err:  # the server went away or kept failing: nothing is written
        print(f"error: {err}\nThe run did not finish; nothing was written to {run.out}.", file=sys.stderr)
        return 1
    if is_main_process():
        try:
            written = write_run(results, out)
        except (
            ValueError
        ) as err:  # files were added to --out during the evaluation: the results are kept aside
            print(f"error: {err}", file=sys.stderr)
            return 2
        for path in written:
            print(path)
        print(headline_table(results))
        print(failed_note(results))
    if results.failed_tasks and not opts.skip_failed_tasks:
        print(
            f"error: {failed_tasks_message(results.failed_tasks)}; the results are in {out}", file=sys.stderr
        )
        return 1
    return 0


def compare_cli(argv: Sequence[str]) -> int:
    """``compare DIR...``: the headline table, per-task differences against the first run, and their verdicts."""
    from tuning.eval.compare import ProtocolMismatch, compare
    from tuning.eval.plots import plot_compare
    from tuning.eval.report import comparison_report
    from tuning.eval.results import EvalResults

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
        out = check_target(args.out, COMPARE_MARK, "--out") if args.out is not None else None
        runs = [EvalResults.load(d / "results.json") for d in args.runs]
        comparison = compare(runs, [str(d) for d in args.runs], allow_mismatch=args.allow_protocol_mismatch)
    except (JSONFileError, ProtocolMismatch, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    report = comparison_report(comparison)
    print(report)
    if out is not None:

        def write(folder: Path) -> None:
            plots = plot_compare(runs, comparison.labels, folder)
            body = report + "".join(f"\n![{p.stem}]({p.name})\n" for p in plots)
            (folder / "compare.md").write_text(body, encoding="utf-8")

        try:
            write_whole(out, COMPARE_MARK, write, "--out")
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "compare":
        return compare_cli(argv[1:])
    return run_cli(argv)
