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
