"""Spectrum Suite: distributional language-modelling tasks as a `datasets` builder.

>>> import spectrum_suite
>>> ds = spectrum_suite.load_dataset("numeric_dist")          # doctest: +SKIP
>>> [t.name for t in spectrum_suite.list_tasks(side="test")]   # doctest: +SKIP
"""

from .builder import SpectrumSuite, SpectrumSuiteConfig, TasksUnavailableError, load_dataset
from .registry import GROUPS, TASKS, TaskSpec, UnknownNameError, get_task, list_tasks
from .sources.base import SourceFormatError, SourceUnavailable

__version__ = "0.1.0"

__all__ = [
    "GROUPS",
    "TASKS",
    "SourceFormatError",
    "SourceUnavailable",
    "SpectrumSuite",
    "SpectrumSuiteConfig",
    "TaskSpec",
    "TasksUnavailableError",
    "UnknownNameError",
    "get_task",
    "list_tasks",
    "load_dataset",
]
