"""``python -m tuning.eval``: steerability, distributional alignment and coverage of one model.

The package, in the order data flows through it: `options` (what to run), `data` (the held-out rows),
`kselect` (how many outputs each episode is scored on), `steerability`, `alignment` and `coverage` (one
evaluation each, running the model through a `tuning.lm.LanguageModel` and the metric modules), `results` (typed
records and ``results.json``), `report` and `plots` (markdown and PNG), `evaluation` (all three, and the run
folder) and `cli` (the command line, either backend).
"""

from tuning.eval.cli import main
from tuning.eval.evaluation import (
    FormatNotExpressibleError,
    check_format,
    evaluate_lm,
    evaluate_model,
    write_run,
)
from tuning.eval.options import FORMATS, EvalOptions
from tuning.eval.results import EvalResults

__all__ = [
    "FORMATS",
    "EvalOptions",
    "EvalResults",
    "FormatNotExpressibleError",
    "check_format",
    "evaluate_lm",
    "evaluate_model",
    "main",
    "write_run",
]
