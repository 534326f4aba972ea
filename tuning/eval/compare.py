"""Several evaluation runs side by side: per-task figures with intervals, paired differences, wins/ties/losses.

Runs compare only when they followed the same protocol (`EvalOptions.protocol`), sampled with the same top-k,
and chose the same k and the same episodes and alignment rows per task: otherwise a difference could come from
the items scored, not from the models. `compare` refuses such runs unless told (``allow_mismatch``), and then
compares them over the episodes and rows both scored. Every later run is compared
with the first (the baseline): per task, the difference of each figure with its 95% bootstrap interval
(episodes or rows resampled together in both runs, over the episodes or rows both scored; coverage generations
resampled independently, since samples of two models are not paired), and over tasks, how many the later run
wins, ties (interval spans 0) and loses (tasks of a single episode or row are untested: no interval).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tuning.eval.options import PROTOCOL
from tuning.eval.results import STEER_HEADLINES, EvalResults
from tuning.eval.uncertainty import coverage_replicates, interval, paired_difference, rng, verdict

#: (figure, desideratum, lower is better) of the per-task comparisons.
FIGURES = (
    ("loss_geq_1", "steerability", True),
    ("all_acc_geq_1", "steerability", False),
    ("js_divergence", "alignment", True),
    ("percent_valid", "coverage", False),
    ("diversity", "coverage", False),
    ("yield", "coverage", False),
)
#: The coverage prompt setting the per-task comparison uses (the paper's headline setting).
SETTING = "both"


class ProtocolMismatch(ValueError):
    """Two runs did not follow the same protocol, or chose other k or episodes: their numbers do not compare."""


def protocol_differences(first: EvalResults, other: EvalResults) -> list[str]:
    """What makes ``other`` not comparable with ``first``: options of the protocol, k and episodes per task."""
    found = [f"{key}: {first.options.get(key)!r} vs {other.options.get(key)!r}" for key in PROTOCOL
             if first.options.get(key) != other.options.get(key)]  # fmt: skip
    mine, theirs = scored_tasks(first), scored_tasks(other)
    for section in sorted(set(mine) | set(theirs)):
        a, b = mine.get(section, set()), theirs.get(section, set())
        if a != b:
            found.append(
                f"{section}: the headlines average over other tasks (only in the first: {sorted(a - b) or 'none'}; "
                f"only in the other: {sorted(b - a) or 'none'})"
            )
    if first.coverage and other.coverage and first.coverage.top_k != other.coverage.top_k:
        found.append(f"top-k applied in sampling: {first.coverage.top_k} vs {other.coverage.top_k}")
    if first.alignment and other.alignment:
        for task, mine in first.alignment.tasks.items():
            theirs = other.alignment.tasks.get(task)
            if (
                theirs is not None
                and mine.row_ids
                and theirs.row_ids
                and set(mine.row_ids) != set(theirs.row_ids)
            ):
                found.append(
                    f"{task}: other rows ({len(set(mine.row_ids) ^ set(theirs.row_ids))} differ: another "
                    "selection, or rows too long for one model's context)"
                )
    if first.steerability and other.steerability:
        for task, mine in first.steerability.tasks.items():
            theirs = other.steerability.tasks.get(task)
            if theirs is None or mine.k is None or theirs.k is None:
                continue
            if mine.k != theirs.k:
                found.append(f"{task}: k {mine.k} vs {theirs.k}")
            elif set(mine.episode_ids) != set(theirs.episode_ids):
                found.append(
                    f"{task}: other episodes ({len(set(mine.episode_ids) ^ set(theirs.episode_ids))} differ: "
                    "another selection, or episodes too long for one model's context)"
                )
    return found


def scored_tasks(run: EvalResults) -> dict[str, set[str]]:
    """The tasks each headline of a run averages over (failed and unavailable tasks are not among them)."""
    out: dict[str, set[str]] = {}
    if run.steerability:
        out["steerability"] = set(run.steerability.evaluated())
    if run.alignment:
        out["alignment"] = {name for name, t in run.alignment.tasks.items() if t.metrics}
    if run.coverage:
        for setting, res in run.coverage.settings.items():
            per_task = (res.metrics or {}).get("per_task", {})
            out[f"coverage ({setting})"] = {
                t for t in res.generations if not per_task.get(t, {}).get("failed")
            }
    return out


@dataclass
class TaskDifference:
    """One figure of one task: the two runs' values and the difference (later minus first) with its interval."""

    figure: str
    task: str
    first: float
    later: float
    low: float
    high: float
    verdict: str


@dataclass
class Comparison:
    """Every later run against the first: per-task differences and wins/ties/losses per figure."""

    labels: list[str]
    runs: list[EvalResults]
    differences: dict[str, list[TaskDifference]] = field(default_factory=dict)  # later label -> differences
    mismatches: dict[str, list[str]] = field(default_factory=dict)

    def tally(self, label: str, figure: str) -> dict[str, int]:
        """Wins, ties, losses (and untested tasks of one episode or row) of run ``label`` against the first
        over the tasks of one figure."""
        counts = {"win": 0, "tie": 0, "loss": 0, "untested": 0}
        for d in self.differences.get(label, []):
            if d.figure == figure:
                counts[d.verdict] += 1
        return counts


def tally_text(counts: dict[str, int]) -> str:
    """``W/T/L``, with the untested tasks named when there are any."""
    text = f"{counts['win']}/{counts['tie']}/{counts['loss']}"
    return text + (f" (+{counts['untested']} untested)" if counts.get("untested") else "")


def _difference(
    figure: str, task: str, first: float, later: float, replicates: np.ndarray, units: int
) -> TaskDifference:
    """One figure's difference with its interval and verdict (`FIGURES` says which direction is better) over
    ``units`` paired episodes, rows or generations."""
    low, high = interval(replicates)
    lower_is_better = next(lower for name, _, lower in FIGURES if name == figure)
    return TaskDifference(figure, task, first, later, low, high, verdict(low, high, lower_is_better, units))


def _steer_differences(first: EvalResults, later: EvalResults) -> list[TaskDifference]:
    out = []
    for task, a in (first.steerability.evaluated() if first.steerability else {}).items():
        b = (later.steerability.evaluated() if later.steerability else {}).get(task)
        if b is None or not a.outputs or not b.outputs:
            continue
        for figure, record in STEER_HEADLINES.items():
            paired = paired_difference(a.clusters(record), b.clusters(record), rng())
            if paired is None:
                continue
            out.append(_difference(figure, task, a.metrics[figure], b.metrics[figure], *paired))
    return out


def _align_differences(first: EvalResults, later: EvalResults) -> list[TaskDifference]:
    out = []
    for task, a in (first.alignment.tasks if first.alignment else {}).items():
        b = (later.alignment.tasks if later.alignment else {}).get(task)
        if b is None or not a.metrics or not b.metrics or not a.row_ids or not b.row_ids:
            continue
        paired = paired_difference(a.clusters(), b.clusters(), rng())
        if paired is None:
            continue
        figure = "js_divergence"
        out.append(_difference(figure, task, a.metrics[figure], b.metrics[figure], *paired))
    return out


def _cover_differences(first: EvalResults, later: EvalResults) -> list[TaskDifference]:
    out = []
    a = first.coverage.settings.get(SETTING) if first.coverage else None
    b = later.coverage.settings.get(SETTING) if later.coverage else None
    if a is None or b is None:
        return out
    for task in a.validity:
        if task not in b.validity:
            continue
        ra = coverage_replicates(a.generations[task], a.validity[task], rng())
        rb = coverage_replicates(b.generations[task], b.validity[task], rng(stream=1))
        for figure in ("percent_valid", "diversity", "yield"):
            reps = rb[figure] - ra[figure]
            units = min(len(a.generations[task]), len(b.generations[task]))
            out.append(
                _difference(figure, task, a.task_value(task, figure), b.task_value(task, figure), reps, units)
            )
    return out


def compare(runs: Sequence[EvalResults], labels: Sequence[str], allow_mismatch: bool = False) -> Comparison:
    """The comparison of every later run with the first; `ProtocolMismatch` unless they compare (or allowed)."""
    result = Comparison(list(labels), list(runs))
    first = runs[0]
    for label, later in zip(labels[1:], runs[1:], strict=True):
        found = protocol_differences(first, later)
        if found and not allow_mismatch:
            raise ProtocolMismatch(
                f"{labels[0]} and {label} did not evaluate the same items: {'; '.join(found[:5])}"
                + (f" (and {len(found) - 5} more)" if len(found) > 5 else "")
                + ". Evaluate both with the same options (--k-from the first run's results.json reuses its k and "
                "episodes), or pass --allow-protocol-mismatch"
            )
        result.mismatches[label] = found
        result.differences[label] = (
            _steer_differences(first, later)
            + _align_differences(first, later)
            + _cover_differences(first, later)
        )
    return result
