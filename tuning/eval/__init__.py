"""``python -m tuning.eval``: steerability, distributional alignment and coverage of one model.

The package, in the order data flows through it: `options` (what to run), `data` (the held-out rows; which
of them are scored, and on how many outputs, is `spectrum_suite.selection`'s), `steerability`, `alignment` and `coverage` (one
evaluation each, running the model through a `tuning.lm.LanguageModel` and the metric modules), `results` (typed records
and ``results.json``), `report` and `plots` (markdown and PNG), `evaluation` (all three, and the run folder)
and `cli` (the command line).
"""

from spectrum_suite.formats import FORMATS, Format, FormatNotExpressibleError
from tuning.eval.cli import main
from tuning.eval.evaluation import evaluate_lm, evaluate_model, write_run
from tuning.eval.options import EvalOptions
from tuning.eval.results import EvalResults

__all__ = [
    "FORMATS",
    "EvalOptions",
    "EvalResults",
    "Format",
    "FormatNotExpressibleError",
    "evaluate_lm",
    "evaluate_model",
    "main",
    "write_run",
]
