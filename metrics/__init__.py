"""The three desiderata of Spectrum Suite as `evaluate` metric modules.

Each sub-folder is an `evaluate` module and also an ordinary package, so that code such as the model-side
scoring can import ``metrics.coverage.cleaning.clean_generation`` directly. `evaluate.load` copies only a
module's own folder; what the three share (`metrics.row_inputs`) they import from the installed package.

Load a module from any working directory by its folder, `path`:

    import evaluate
    import metrics

    steerability = evaluate.load(metrics.path("steerability"))  # the same as metrics.load("steerability")

From the repository root the relative form ``evaluate.load("metrics/steerability")`` works too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import evaluate

NAMES = ("steerability", "distributional_alignment", "coverage")
"""The metric modules, by folder name."""


def path(name: str) -> str:
    """The folder of metric module ``name`` in the installed package, as `evaluate.load` takes it."""
    if name not in NAMES:
        raise ValueError(f"unknown metric module {name!r}; expected one of {', '.join(NAMES)}")
    return str(Path(__file__).resolve().parent / name)


def load(name: str, **kwargs: Any) -> evaluate.EvaluationModule:
    """``evaluate.load(metrics.path(name), **kwargs)``, e.g. with ``experiment_id=`` or ``keep_in_memory=``."""
    import evaluate

    return evaluate.load(path(name), **kwargs)
