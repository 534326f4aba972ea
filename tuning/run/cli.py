"""The entry point of ``python -m tuning.run``: parse, train, print the table of the start and the tuned model.

Exit codes: 0 done; 2 bad input, in one line on standard error, before any model is loaded or folder created
where it can be; 1 a training that diverged (nothing saved as a finished run), or an evaluation with failed
tasks without ``--eval_skip_failed_tasks`` (the run is saved and its tables list them).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from spectrum_suite.folders import check_writable
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
        check_writable(config.run_dir.parent, "--output_root")
    except ValueError as err:  # RunInputError, and what TrainingArguments itself refuses
        print(f"error: {err}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(
        cpu_threads()
    )  # this process's share of the cores: several never oversubscribe them
    from tuning.eval.evaluation import failed_tasks_message
    from tuning.run.divergence import TrainingDiverged

    try:
        outcome = train(config)
    except RunInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except TrainingDiverged as err:
        print(f"\nerror: {err}", file=sys.stderr)  # on a line of its own, after the progress bar
        return 1
    failed = outcome.pop("failed tasks", None) or {}
    if is_main_process():
        if outcome.get("table"):
            print("\nThe start model in its own format and in the spectrum format, and the tuned model, on the "
                  "held-out tasks (95% intervals in brackets):\n")  # fmt: skip
            print(outcome["table"])
        print(json.dumps(json_ready({k: v for k, v in outcome.items() if k != "table"}), indent=2))
    if failed and not config.evaluation.eval_skip_failed_tasks:
        for arm, tasks in failed.items():
            print(f"error: {arm}: {failed_tasks_message(tasks, '--eval_skip_failed_tasks')}", file=sys.stderr)
        print(
            f"error: the run is saved in {outcome['run_dir']}; its evaluation lacks the tasks above",
            file=sys.stderr,
        )
        return 1
    return 0
