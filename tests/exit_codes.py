"""The commands as a shell sees them: an argparse usage error (``SystemExit(2)``) is exit code 2, as is a
``return 2``."""

from __future__ import annotations

from collections.abc import Sequence

from tuning.eval import main as _eval_main


def eval_main(argv: Sequence[str]) -> int:
    """``python -m tuning.eval ARGV``'s exit code."""
    try:
        return _eval_main(list(argv))
    except SystemExit as exit_info:
        return int(exit_info.code or 0)


def small_eval(model: object, out: object, *extra: str) -> list[str]:
    """The arguments of a small evaluation (two rows of the urn task) of ``model`` into ``out``."""
    return ["--model", str(model), "--configs", "urn", "--max-instances", "2", "--out", str(out), *extra]
