"""The entry point of ``python -m tuning.run``: parse, train, print the table of the start and the tuned model.

Bad input ends in one line on standard error and exit code 2, before any model is loaded where it can be.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from spectrum_suite.checks import check_writable_folder
from spectrum_suite.verbosity import set_verbosity
from tuning.distributed import cpu_threads, is_main_process
from tuning.jsonfile import json_ready
from tuning.run.arguments import RunInputError, parse

#: transformers' --log_level (``-v``: info, ``-vv``: debug, ``-q``: error) -> our -v/-q counts.
VERBOSITY = {
    "debug": (2, 0),
    "info": (1, 0),
    "passive": (0, 0),
    "warning": (0, 1),
    "error": (0, 2),
    "critical": (0, 2),
}


def main(argv: Sequence[str] | None = None) -> int:
    from tuning.run.trainer import train

    try:
        config = parse(argv)
        set_verbosity(*VERBOSITY.get(config.training.log_level, (0, 0)))
        check_writable_folder(config.run_dir.parent, "--output_dir")
    except ValueError as err:  # RunInputError, and what TrainingArguments itself refuses
        print(f"error: {err}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(
        cpu_threads()
    )  # this process's share of the cores: several never oversubscribe them
    try:
        outcome = train(config)
    except RunInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not is_main_process():
        return 0
    if outcome.get("table"):
        print("\nThe start model in its own format and in the spectrum format, and the tuned model, on the held-out "
              "tasks (95% intervals in brackets):\n")  # fmt: skip
        print(outcome["table"])
    print(json.dumps(json_ready({k: v for k, v in outcome.items() if k != "table"}), indent=2))
    return 0
