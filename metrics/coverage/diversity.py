"""Validity, diversity and yield of one task's generations, and their aggregate over tasks.

The definitions of `docs/evaluation.md#per-task-metrics` and `docs/evaluation.md#coverage-aggregation`.

Uniqueness is exact string equality (case- and punctuation-sensitive): the generations are expected to
be cleaned already.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

AGGREGATED = (
    "percent_valid",
    "unique_gens_pct",
    "unique_valid_count",
    "usable_unique_pct",
    "raw_unique_count",
    "raw_unique_pct",
    "n_valid",
    "pairwise_collision",
    "pairwise_uniqueness",
)
"""Per-task metrics averaged over every evaluated task; coverage_pct is averaged over finite-set tasks."""


def task_metrics(generations: Sequence[str], valid: Sequence[bool], valid_set_size: int | None) -> dict:
    """The per-task metrics of one task from its N generations and their validity."""
    total = len(generations)
    valid_texts = [text for text, ok in zip(generations, valid, strict=True) if ok]
    n_valid = len(valid_texts)
    counts = Counter(valid_texts)
    unique_valid = len(counts)
    raw_unique = len(set(generations))
    if n_valid <= 1:
        possible = actual = 0
        collision, sem = 0.0, 0.0
    else:
        possible = n_valid * (n_valid - 1) // 2
        actual = sum(count * (count - 1) // 2 for count in counts.values())
        collision = actual / possible
        sem = math.sqrt(collision * (1 - collision) / possible)
    return {
        "percent_valid": n_valid / total,
        "unique_gens_pct": unique_valid / n_valid if n_valid else 0.0,
        "unique_valid_count": unique_valid,
        "usable_unique_pct": unique_valid / total,
        "raw_unique_count": raw_unique,
        "raw_unique_pct": raw_unique / total,
        "n_valid": n_valid,
        "possible_collisions": possible,
        "actual_collisions": actual,
        "pairwise_collision": collision,
        "pairwise_uniqueness": 1.0 - collision,
        "pairwise_collision_sem": sem,
        "coverage_pct": unique_valid / valid_set_size if valid_set_size else None,
    }


def _population_stats(values: list[float]) -> tuple[float, float, float]:
    """Mean, population std (divide by n) and std / sqrt(n)."""
    array = np.asarray(values, dtype=np.float64)
    std = float(np.std(array))
    return float(np.mean(array)), std, std / math.sqrt(array.size)


def aggregate(per_task: dict[str, dict]) -> dict:
    """``<metric>``, ``<metric>_std`` and ``<metric>_sem`` over the tasks that were evaluated, plus task counts.

    A task whose entry has ``failed`` counts in ``n_failed_tasks`` only. With no evaluated task the means are
    0 (pairwise uniqueness 1) and coverage is None, as in the reference.
    """
    evaluated = [entry for entry in per_task.values() if not entry.get("failed")]
    result: dict = {}
    for name in AGGREGATED:
        values = [entry[name] for entry in evaluated]
        mean, std, sem = (
            _population_stats(values) if values else (1.0 if name == "pairwise_uniqueness" else 0.0, 0.0, 0.0)
        )
        result.update({name: mean, f"{name}_std": std, f"{name}_sem": sem})
    coverage = [entry["coverage_pct"] for entry in evaluated if entry["coverage_pct"] is not None]
    mean, std, sem = _population_stats(coverage) if coverage else (None, None, None)
    result.update({"coverage_pct": mean, "coverage_pct_std": std, "coverage_pct_sem": sem})
    result["coverage_pct_tasks"] = len(coverage)
    result["n_tasks"] = len(evaluated)
    result["n_failed_tasks"] = len(per_task) - len(evaluated)
    result["success_rate"] = len(evaluated) / len(per_task) if per_task else 0.0
    return result
