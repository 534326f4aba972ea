"""Several evaluation runs side by side: per-task figures and differences with intervals, and verdicts that hold.

Runs compare only when they followed the same protocol (`EvalOptions.protocol`), sampled with the top-k the
options fixed (when a run fixed one; left to each model's generation config, as the paper sampled, the two may
differ, and the report says how each run sampled), and chose the same k and the same episodes and alignment rows per task: otherwise a difference could come from
the items scored, not from the models. `compare` refuses such runs unless told (``allow_mismatch``), and then
compares them over the episodes and rows both scored: both runs' values and their difference are computed over
those same items. Every later run is compared with the first (the baseline), per task and figure:

- steerability and alignment: paired, the same outputs (matched by episode and sample index, so formats that
  score different outputs of an episode still pair correctly) or rows in both runs, their clusters resampled
  together (`DIFFERENCE_METHODS`);
- coverage: the two runs' samples are independent, and their difference is Newcombe's interval.

Each difference has a p-value; Holm's correction over the tasks of a figure keeps the chance of any false
difference in that figure at or below 5%, and gives the verdict: better, no detectable difference (not "equal":
the data could not tell) or worse; a task of a single episode or row is untested. A sign test over tasks says
whether more tasks moved one way than the other. Every task and figure resamples from its own seeded stream.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from tuning.eval.options import PROTOCOL
from tuning.eval.proportions import independent_difference
from tuning.eval.results import JS_RANGE, STEER_HEADLINES, EvalResults, SteerTask
from tuning.eval.uncertainty import (
    BETTER,
    MIN_UNITS,
    SAME,
    UNTESTED,
    VERDICTS,
    WORSE,
    Difference,
    Estimate,
    SignTest,
    cluster_mean,
    holm,
    paired_difference,
    sign_test,
    stream,
    verdict,
)  # fmt: skip

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
    found += sampling_differences(first, other)
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


def sampling_differences(first: EvalResults, other: EvalResults) -> list[str]:
    """The coverage samples were drawn differently where it matters: a top-k that the options of either run fixed
    and the other did not apply, or another temperature or top-p. Two runs that each left top-k to their model's
    generation config compare (the paper's protocol) whatever top-k each applied: `sampling_note` says which."""
    a, b = first.coverage, other.coverage
    if a is None or b is None:
        return []
    found = []
    fixed = first.options.get("top_k") is not None or other.options.get("top_k") is not None
    if fixed and a.top_k != b.top_k:
        found.append(f"top-k applied in sampling: {a.sampling(first.options.get('top_k'))} vs "
                     f"{b.sampling(other.options.get('top_k'))}")  # fmt: skip
    if (a.temperature, a.top_p) != (b.temperature, b.top_p):
        found.append(f"temperature/top-p: {a.temperature:g}/{a.top_p:g} vs {b.temperature:g}/{b.top_p:g}")
    return found


def sampling_note(runs: Sequence[EvalResults], labels: Sequence[str]) -> str | None:
    """How each run drew its coverage samples, in one line (None without coverage)."""
    drawn = [f"{label} {run.coverage.sampling(run.options.get('top_k'))}"
             for run, label in zip(runs, labels, strict=True) if run.coverage]  # fmt: skip
    return "How each run sampled (coverage): " + "; ".join(drawn) + "." if drawn else None


@dataclass
class TaskDifference:
    """One figure of one task: both runs' values over the items both scored (with their intervals), the
    difference (later minus first) with its interval and p-value, the p-value after Holm's correction over the
    figure's tasks, and the verdict it gives."""

    figure: str
    task: str
    first: float
    later: float
    low: float | None
    high: float | None
    p_value: float | None
    adjusted_p: float | None
    verdict: str
    units: int
    method: str
    first_interval: list[float] | None = None
    later_interval: list[float] | None = None


@dataclass
class Comparison:
    """Every later run against the first: per-task differences, and per figure how many tasks are better, show no
    detectable difference or are worse (Holm-corrected over the figure's tasks), with a sign test over tasks."""

    labels: list[str]
    runs: list[EvalResults]
    differences: dict[str, list[TaskDifference]] = field(default_factory=dict)  # later label -> differences
    mismatches: dict[str, list[str]] = field(default_factory=dict)

    def tally(self, label: str, figure: str) -> dict[str, int]:
        """How many tasks of one figure run ``label`` does better, with no detectable difference, worse (and
        untested: tasks of one episode or row) than the first run."""
        counts = dict.fromkeys(VERDICTS, 0)
        for d in self.differences.get(label, []):
            if d.figure == figure:
                counts[d.verdict] += 1
        return counts

    def sign_test(self, label: str, figure: str) -> SignTest:
        """The sign test over the tasks of one figure: as many tasks better as worse, by their point difference?"""
        lower = LOWER_IS_BETTER[figure]
        return sign_test([(d.first - d.later) if lower else (d.later - d.first)
                          for d in self.differences.get(label, []) if d.figure == figure])  # fmt: skip


#: figure -> lower is better.
LOWER_IS_BETTER = {name: lower for name, _, lower in FIGURES}
#: The range of each figure's difference (its interval is clipped to it).
DIFFERENCE_RANGE = {"loss_geq_1": (-math.inf, math.inf), "all_acc_geq_1": (-1.0, 1.0),
                    "js_divergence": (-JS_RANGE[1], JS_RANGE[1])}  # fmt: skip
#: How each figure's differences are measured (compare.md says it).
DIFFERENCE_METHODS = {
    "loss_geq_1": "paired studentized cluster bootstrap over episodes; outputs paired by (episode, sample index)",
    "all_acc_geq_1": "paired studentized cluster bootstrap over episodes; outputs paired by (episode, sample index)",
    "js_divergence": "paired studentized cluster bootstrap over the task's row clusters; rows paired by id",
    "percent_valid": "Newcombe's hybrid score interval (two independent sets of samples)",
    "diversity": "Newcombe's square-and-add of the two jackknife Wilson intervals (independent samples)",
    "yield": "Newcombe's square-and-add of the two jackknife Wilson intervals (independent samples)",
}


def tally_text(counts: dict[str, int]) -> str:
    """``better/no detectable difference/worse``, with the untested tasks named when there are any."""
    text = f"{counts[BETTER]}/{counts[SAME]}/{counts[WORSE]}"
    return text + (f" (+{counts[UNTESTED]} untested)" if counts.get(UNTESTED) else "")


def _row(figure: str, task: str, first: Estimate, later: Estimate, diff: Difference) -> TaskDifference:
    return TaskDifference(
        figure, task, first.value, later.value, *(diff.interval or (None, None)), diff.p_value, None, UNTESTED,
        diff.units, diff.method, first.bounds(), later.bounds(),
    )  # fmt: skip


def _by_sample(a: SteerTask, b: SteerTask) -> bool:
    """Whether both runs recorded each output's sample index (older results files did not)."""
    return "sample" in a.outputs and "sample" in b.outputs


def _steer_pairs(first: EvalResults, later: EvalResults) -> dict[str, tuple[SteerTask, SteerTask]]:
    """The steerability tasks both runs evaluated, with outputs."""
    theirs = later.steerability.evaluated() if later.steerability else {}
    return {
        task: (a, theirs[task])
        for task, a in (first.steerability.evaluated() if first.steerability else {}).items()
        if task in theirs and a.outputs and theirs[task].outputs
    }


def unpairable(first: EvalResults, later: EvalResults, label: str) -> list[str]:
    """Steerability tasks whose outputs cannot be paired: a run without sample indices (an older results file)
    pairs by rank, which is right only within one format."""
    if first.format == later.format:
        return []
    return [
        f"{task}: not compared: the steerability outputs of {label if 'sample' not in b.outputs else 'the first run'} "
        "have no sample index (results.json field steerability.tasks.<task>.outputs.sample, written by newer "
        f"versions), and runs in different formats ({first.format} vs {later.format}) pair their outputs only by "
        "it; evaluate that model again"
        for task, (a, b) in _steer_pairs(first, later).items()
        if not _by_sample(a, b)
    ]


def _steer_differences(first: EvalResults, later: EvalResults) -> list[TaskDifference]:
    """Per steerability task and headline, the paired difference over the outputs both runs scored, matched by
    (episode, sample index), or by rank within one format when a run has no sample indices (`unpairable`)."""
    out = []
    for task, (a, b) in _steer_pairs(first, later).items():
        by_sample = _by_sample(a, b)
        if not by_sample and first.format != later.format:
            continue
        for figure, record in STEER_HEADLINES.items():
            mine, yours = a.items(record, by_sample), b.items(record, by_sample)
            shared = [key for key in mine if key in yours]
            if not shared:
                continue
            keys = set(shared)
            diff = paired_difference([mine[k] for k in shared], [yours[k] for k in shared], [k[0] for k in shared],
                                     stream("compare", figure, task), DIFFERENCE_RANGE[figure])  # fmt: skip
            estimates = (run.estimate(task, figure, keys, by_sample) for run in (a, b))
            out.append(_row(figure, task, *estimates, diff))
    return out


def _align_differences(first: EvalResults, later: EvalResults) -> list[TaskDifference]:
    out = []
    figure = "js_divergence"
    for task, a in (first.alignment.tasks if first.alignment else {}).items():
        b = (later.alignment.tasks if later.alignment else {}).get(task)
        if b is None or not a.metrics or not b.metrics or not a.row_ids or not b.row_ids:
            continue
        mine = dict(zip(a.row_ids, zip(a.js_per_row, a.cluster_ids, strict=True), strict=True))
        yours = dict(zip(b.row_ids, b.js_per_row, strict=True))
        shared = [r for r in a.row_ids if r in yours]
        if not shared:
            continue
        clusters = [mine[r][1] for r in shared]
        values_a, values_b = [mine[r][0] for r in shared], [yours[r] for r in shared]
        diff = paired_difference(
            values_a, values_b, clusters, stream("compare", figure, task), DIFFERENCE_RANGE[figure]
        )
        estimates = [
            cluster_mean(v, clusters, stream("alignment", figure, task), JS_RANGE)
            for v in (values_a, values_b)
        ]
        out.append(_row(figure, task, *estimates, diff))
    return out


def _cover_differences(first: EvalResults, later: EvalResults) -> list[TaskDifference]:
    out = []
    a = first.coverage.settings.get(SETTING) if first.coverage else None
    b = later.coverage.settings.get(SETTING) if later.coverage else None
    if a is None or b is None:
        return out
    for task in a.validity:
        forms_a, forms_b = a.forms(task), b.forms(task)
        if forms_a is None or forms_b is None:
            continue
        units = min(len(a.generations[task]), len(b.generations[task]))
        for figure in ("percent_valid", "diversity", "yield"):
            diff = independent_difference(forms_a[figure], forms_b[figure], units)
            out.append(_row(figure, task, forms_a[figure].estimate(), forms_b[figure].estimate(), diff))
    return out


def _decide(differences: list[TaskDifference]) -> None:
    """Holm's correction over the tasks of each figure, and each difference's verdict from it."""
    for figure, _, lower in FIGURES:
        family = [d for d in differences if d.figure == figure]
        adjusted = holm([d.p_value if d.units >= MIN_UNITS else None for d in family])
        for d, p in zip(family, adjusted, strict=True):
            d.adjusted_p = p
            d.verdict = verdict(Difference(d.later - d.first, None, d.p_value, d.method, d.units), p, lower)


def compare(runs: Sequence[EvalResults], labels: Sequence[str], allow_mismatch: bool = False) -> Comparison:
    """The comparison of every later run with the first; `ProtocolMismatch` unless they compare (or allowed)."""
    result = Comparison(list(labels), list(runs))
    first = runs[0]
    for label, later in zip(labels[1:], runs[1:], strict=True):
        found = protocol_differences(first, later) + unpairable(first, later, label)
        if found and not allow_mismatch:
            raise ProtocolMismatch(
                f"{labels[0]} and {label} did not evaluate the same items: {'; '.join(found[:5])}"
                + (f" (and {len(found) - 5} more)" if len(found) > 5 else "")
                + ". Evaluate both with the same options (--k-from the first run's results.json reuses its k and "
                "episodes), or pass --allow-protocol-mismatch"
            )
        result.mismatches[label] = found
        differences = (
            _steer_differences(first, later)
            + _align_differences(first, later)
            + _cover_differences(first, later)
        )
        _decide(differences)
        result.differences[label] = differences
    return result
