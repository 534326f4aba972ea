"""Rows for the evaluations, from the builder's configs: grouped by row family and task, capped per task.

Each config is built with ``skip_unavailable=True`` and the tasks it could not build are reported, never
silently dropped. Which of a task's rows are scored is `spectrum_suite.selection`'s (the seeded subsample).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class EmptyConfigError(ValueError):
    """A config (or the whole request) gave no rows to evaluate."""


@dataclass
class EvalData:
    """Rows per row family and task, in builder order, plus the tasks that could not be built here."""

    rows: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)  # config -> unavailable task names

    def tasks(self, row_family: str) -> dict[str, list[dict[str, Any]]]:
        return self.rows.get(row_family, {})


def load_eval_data(configs: Sequence[str], *, data_dir: str | Path | None = None) -> EvalData:
    """Build every config's test split; rows grouped as ``rows[row_family][task]``."""
    import spectrum_suite
    from spectrum_suite.registry import config_row_family, config_tasks

    if not configs:
        raise EmptyConfigError("no configs given: name at least one (e.g. test, alignment, coverage)")
    data = EvalData()
    for config in configs:
        row_family = config_row_family(config)  # raises UnknownNameError for a bad name
        expected = [t.name for t in config_tasks(config)]
        try:
            ds = spectrum_suite.load_dataset(config, split="test", data_dir=data_dir, skip_unavailable=True)
        except ValueError as err:
            raise EmptyConfigError(f"config {config!r} has no held-out test split: {err}") from err
        except spectrum_suite.TasksUnavailableError as err:
            raise EmptyConfigError(f"config {config!r}: none of its tasks can be built here: {err}") from err
        present: dict[str, list[dict[str, Any]]] = {}
        for row in ds:
            present.setdefault(row["task"], []).append(row)
        data.skipped[config] = [name for name in expected if name not in present]
        if not present:
            raise EmptyConfigError(
                f"config {config!r} gave no rows; unavailable tasks: {', '.join(data.skipped[config]) or 'none'}"
            )
        bucket = data.rows.setdefault(row_family, {})
        for task, rows in present.items():
            bucket.setdefault(task, rows)
    return data
