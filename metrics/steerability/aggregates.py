"""Unweighted means over per-output records, with standard errors and group breakdowns.

The aggregates of `docs/evaluation.md#steerability-aggregates`. Every output counts once whatever its length;
``loss`` is a per-output sum of NLL, so long outputs weigh more in it, which is why the per-token loss is
reported beside it (`docs/deviations.md#steerability-names-and-counts`).
"""

from __future__ import annotations

import numpy as np

from .records import Records

METRICS = ("loss", "all_acc", "first_acc", "acc")


def columns(records: Records) -> dict[str, np.ndarray]:
    """The per-output values that are averaged."""
    return {
        "loss": records.loss,
        "all_acc": records.all_acc,
        "first_acc": records.first_acc,
        "acc": records.acc,
        "loss_per_token": records.loss_per_token,
    }


def mean_and_sem(values: np.ndarray) -> tuple[float | None, float]:
    """Mean (None without records) and standard error with ddof=1 (0.0 with fewer than 2 records)."""
    if values.size == 0:
        return None, 0.0
    mean = float(np.mean(values))
    if values.size < 2:
        return mean, 0.0
    return mean, float(np.std(values, ddof=1) / np.sqrt(values.size))


def summarise(records: Records, selected: np.ndarray, suffix: str, names: tuple[str, ...] = METRICS) -> dict:
    """``<name><suffix>`` and ``<name><suffix>_sem`` for each metric over the selected records."""
    values = columns(records)
    result: dict = {}
    for name in names:
        mean, sem = mean_and_sem(values[name][selected])
        result[f"{name}{suffix}"] = mean
        result[f"{name}{suffix}_sem"] = sem
    return result


def group_means(records: Records, keys: np.ndarray, selected: np.ndarray | None = None) -> dict:
    """Per distinct key: the mean of each metric and the number of records (one bincount per metric)."""
    if selected is not None:
        keys = keys[selected]
    distinct, group = np.unique(keys, return_inverse=True)
    counts = np.bincount(group, minlength=distinct.size)
    values = columns(records)
    means = {}
    for name in METRICS:
        column = values[name] if selected is None else values[name][selected]
        means[name] = np.bincount(group, weights=column, minlength=distinct.size) / np.maximum(counts, 1)
    return {
        _plain(key): {**{name: float(means[name][i]) for name in METRICS}, "n": int(counts[i])}
        for i, key in enumerate(distinct)
    }


def _plain(key: object) -> object:
    """numpy scalars as Python ones, so the result serialises to JSON."""
    return key.item() if isinstance(key, np.generic) else key


def per_task(records: Records) -> dict:
    """Per task: the means over all outputs and over outputs with at least one in-context example."""
    if records.tasks is None:
        return {}
    every = group_means(records, records.tasks)
    with_context = group_means(records, records.tasks, records.shots >= 1)
    result = {}
    for task, entry in every.items():
        row = {name: entry[name] for name in METRICS}
        context = with_context.get(task)
        row.update({f"{name}_geq_1": (context[name] if context else None) for name in METRICS})
        row["n"] = entry["n"]
        row["n_geq_1"] = context["n"] if context else 0
        result[task] = row
    return result
