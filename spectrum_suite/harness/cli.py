"""``spectrum-suite harness CONFIG... --tokenizer MODEL --out DIR``: write configs as an lm-evaluation-harness
task folder. The protocol options are `tuning.eval`'s own fields (`EvalOptions`: names, help, defaults and
ranges), less those the harness decides itself (its batch size and seed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spectrum_suite.formats import FORMATS
from spectrum_suite.verbosity import add_verbosity_options, set_verbosity
from tuning.eval.options import OptionParser, option, prefixed

DESCRIPTION = (
    "Write Spectrum Suite configs as an lm-evaluation-harness task folder (lm_eval --include_path DIR), rendered "
    "for one tokenizer and format, with the items tuning.eval scores (docs/harness.md). Every option is spelt "
    "--snake_case or --kebab-case."
)


@dataclass
class ExportOptions:
    """For which model, in which format, into which folder (what is exported is `EvalOptions`)."""

    tokenizer: str = option(
        help="the model you will evaluate (Hub id, folder or smollm2-135m-instruct): texts are rendered for its "
        "tokenizer and items longer than its context are skipped"
    )
    out: Path = option(help="the task folder to write")
    format: str = option("spectrum", choices=FORMATS, help="prompt format")


ProtocolOptions = prefixed(
    "", exclude=("configs", "batch_size", "seed"),
    help={"num_generations": "coverage samples per task and prompt setting: the harness's repeats"},
)  # fmt: skip


def build_parser() -> OptionParser:
    parser = OptionParser(
        (ExportOptions, ProtocolOptions), prog="spectrum-suite harness", description=DESCRIPTION
    )
    parser.add_argument(
        "configs", nargs="+", metavar="CONFIG", help="configs or tasks, e.g. flight urn coverage"
    )
    add_verbosity_options(parser)
    return parser


def main(argv: Sequence[str]) -> int:
    """Export and print what was written and how to run it (errors: `spectrum_suite.__main__.main`)."""
    from .export import export

    target, protocol, rest = build_parser().parse_all(argv)
    set_verbosity(rest.verbose, rest.quiet)
    done = export(target.out, target.tokenizer, target.format, protocol.options(configs=rest.configs))
    print(done.summary())
    print(
        f"run it with: lm_eval --model hf --model_args pretrained=MODEL --include_path {done.folder} "
        f"--tasks {','.join(t.name for t in done.tasks)}"
    )
    return 0
