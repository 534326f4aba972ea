"""Spectrum Suite: distributional language-modelling tasks as a `datasets` builder.

>>> import spectrum_suite
>>> ds = spectrum_suite.load_dataset("numeric_dist")          # doctest: +SKIP
>>> [t.name for t in spectrum_suite.list_tasks(side="test")]   # doctest: +SKIP
"""

from .builder import SpectrumSuite, SpectrumSuiteConfig, TasksUnavailableError, build_record, load_dataset
from .registry import GROUPS, TASKS, UnknownNameError, get_task, list_tasks
from .task import SourceFormatError, SourceUnavailable, TaskSpec

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
    "build_record",
    "get_task",
    "list_tasks",
    "load_dataset",
]
