"""The ``harness`` subcommand of ``spectrum-suite``: its options (the protocol ones as `tuning.eval` names and
defaults them) and its run."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_command(commands: argparse._SubParsersAction) -> None:
    """Register ``harness`` with its options."""
    from tuning.eval.cli import _cap, _positive
    from tuning.eval.options import FORMATS, EvalOptions

    defaults = EvalOptions()
    p = commands.add_parser(
        "harness",
        help="write configs as lm-evaluation-harness tasks (lm_eval --include_path DIR)",
        description="Write Spectrum Suite configs as an lm-evaluation-harness task folder, rendered for one "
        "tokenizer and format, with the items tuning.eval scores (docs/harness.md).",
    )
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="configs or tasks, e.g. flight urn coverage")
    p.add_argument(
        "--tokenizer", required=True, help="the model to evaluate (Hub id, folder or smollm2-135m-instruct)"
    )
    p.add_argument(
        "--format",
        dest="fmt",
        default="spectrum",
        choices=FORMATS,
        help="prompt format (default: %(default)s)",
    )
    p.add_argument("--out", required=True, type=Path, help="the task folder to write")
    p.add_argument(
        "--k-from", default=None, help="a tuning.eval results.json whose k and episodes to reuse per task"
    )
    p.add_argument(
        "--k", type=int, default=None, help="a fixed number of in-context outputs instead of k selection"
    )
    p.add_argument(
        "--max-instances", type=_cap, default=defaults.max_instances,
        help="episodes / alignment rows per task, the seeded subsample of tuning.eval (default: %(default)s; 'all')",
    )  # fmt: skip
    p.add_argument(
        "--k-window", type=_positive, default=defaults.k_window, help="k-selection window in tokens"
    )
    p.add_argument(
        "--k-tokenizer", default=defaults.k_tokenizer,
        help="the tokenizer that chooses k (default: %(default)s, as tuning.eval; 'model' = --tokenizer's)",
    )  # fmt: skip
    p.add_argument(
        "--num-generations", type=_positive, default=defaults.num_generations,
        help="coverage samples per task and prompt setting: the harness's repeats (default: %(default)s)",
    )  # fmt: skip
    p.add_argument(
        "--top-k", type=int, default=None,
        help="coverage top-k; default: the model's generation config, as tuning.eval",
    )  # fmt: skip
    p.add_argument(
        "--include-terminator", action="store_true", help="score alignment candidates through end of turn"
    )
    p.add_argument("--data-dir", default=None, help="manual source files (else $SPECTRUM_SUITE_DATA)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export and print what was written."""
    from .export import export

    done = export(
        args.out, args.tokenizer, args.fmt, configs=args.configs, k_from=args.k_from, k=args.k,
        max_instances=args.max_instances, k_window=args.k_window, k_tokenizer=args.k_tokenizer,
        num_generations=args.num_generations, top_k=args.top_k, include_terminator=args.include_terminator,
        data_dir=args.data_dir,
    )  # fmt: skip
    print(done.summary())
    print(f"run it with: lm_eval --model hf --model_args pretrained=MODEL --include_path {done.folder} "
          f"--tasks {','.join(t.name for t in done.tasks)}")  # fmt: skip
    return 0
