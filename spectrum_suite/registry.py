"""Every Spectrum Suite task, collected from the source modules that declare them, and the group configs.

Each source module (`spectrum_suite.sources.<source>`) declares its tasks next to their logic; this module only
imports the modules that `spectrum_suite.sources.ADAPTERS` names, in that order (the paper's registry order, in
which the training mix is concatenated), and defines the groups. Three families: 94 episode tasks (the paper's
93 plus `habermas_opinions`, which its evaluation uses), 8 distributional-alignment tasks and 22
diversity/validity (coverage) tasks.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable
from pathlib import Path

from . import fetch
from .sources import ADAPTERS
from .task import KINDS, ROW_FAMILIES, SIDES, Source, TaskSpec

#: The source modules, in the order `spectrum_suite.sources.ADAPTERS` lists them (the paper's registry order).
MODULES = tuple(importlib.import_module(f"{__package__}.sources.{name}") for name in ADAPTERS)


def _collect(modules: Iterable) -> dict[str, TaskSpec]:
    tasks: dict[str, TaskSpec] = {}
    for module in modules:
        for task in module.TASKS:
            if task.name in tasks:
                raise ValueError(f"task {task.name!r} is declared twice ({module.__name__})")
            tasks[task.name] = task
    return tasks


_DECLARED = _collect(MODULES)
TASKS: dict[str, TaskSpec] = {
    name: task for rows in ROW_FAMILIES for name, task in _DECLARED.items() if task.row_family == rows
}
SOURCES: dict[str, Source] = {task.source.key: task.source for task in TASKS.values()}

# ---------------------------------------------------------------------------------------------------
# Groups


def _names(**where) -> tuple[str, ...]:
    return tuple(t.name for t in TASKS.values() if all(getattr(t, k) == v for k, v in where.items()))


SYNTHETIC_EPISODE_TASKS = tuple(
    t.name for t in TASKS.values() if t.row_family == "episodes" and t.source.origin == "SYN"
)

GROUPS: dict[str, tuple[str, ...]] = {
    "numeric_dist": ("normal", "multinomial", "geometric", "poisson", "binomial", "negative_binomial",
                     "categorical", "geometric_beta", "hypergeometric", "zipfian"),
    "synthetic": SYNTHETIC_EPISODE_TASKS,
    "train": _names(row_family="episodes", side="train"),
    "test": _names(row_family="episodes", side="test"),
    "capability": _names(row_family="episodes", side="capability"),
    "alignment": _names(row_family="alignment"),
    "coverage": _names(row_family="coverage"),
    "all": _names(row_family="episodes"),
}  # fmt: skip

GROUP_DESCRIPTIONS = {
    "numeric_dist": "normal and the nine pre-drawn discrete distributions",
    "synthetic": "every episode task generated in code (no download)",
    "train": "the training mix: every training-side episode task",
    "test": "the held-out Spectrum Suite test tasks (steerability)",
    "capability": "the held-out capability benchmarks",
    "alignment": "the distributional-alignment evaluation tasks",
    "coverage": "the diversity/validity evaluation tasks",
    "all": "every episode task, training and held-out",
}

CONFIG_NAMES = tuple(TASKS) + tuple(GROUPS)


class UnknownNameError(KeyError):
    """An unknown task or config name; the message lists the closest matches."""

    def __init__(self, what: str, name: str, known: Iterable[str]) -> None:
        close = difflib.get_close_matches(name, list(known), n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        self.message = f"unknown {what} {name!r}{hint} (`python -m spectrum_suite list` shows them all)"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def get_task(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownNameError("task", name, TASKS) from None


def config_tasks(config: str) -> tuple[TaskSpec, ...]:
    """The tasks a config builds: one task, or a group."""
    if config in TASKS:
        return (TASKS[config],)
    if config in GROUPS:
        return tuple(TASKS[n] for n in GROUPS[config])
    raise UnknownNameError("config", config, CONFIG_NAMES)


def config_row_family(config: str) -> str:
    """The row family of a config's tasks (every group holds one)."""
    families = {t.row_family for t in config_tasks(config)}
    if len(families) != 1:  # pragma: no cover - groups are defined per family
        raise ValueError(f"config {config!r} mixes families {sorted(families)}")
    return families.pop()


def list_tasks(
    row_family: str | None = None,
    side: str | None = None,
    source: str | None = None,
    kind: str | None = None,
    availability: str | None = None,
    data_dir: str | Path | None = None,
) -> list[TaskSpec]:
    """Every registered task, filtered on any of its attributes (availability as seen from ``data_dir``)."""
    for value, allowed, what in ((row_family, ROW_FAMILIES, "row_family"), (side, SIDES, "side"), (kind, KINDS, "kind"),
                                 (availability, fetch.AVAILABILITY, "availability")):  # fmt: skip
        if value is not None and value not in allowed:
            raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")
    if source is not None and source not in SOURCES:
        raise UnknownNameError("source", source, SOURCES)
    out = []
    for task in TASKS.values():
        if row_family and task.row_family != row_family or side and task.side != side:
            continue
        if source and task.source.key != source or kind and task.kind != kind:
            continue
        if availability and fetch.availability(task, data_dir) != availability:
            continue
        out.append(task)
    return out
