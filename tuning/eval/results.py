"""The results of an evaluation run as typed records, with one serialisation (``results.json``).

`EvalResults` holds the run's facts (model, format, options, what was skipped) and one section per
evaluation: `SteerResults` (per task: k, counts, the steerability metric's results), `AlignResults` (per
task: counts, the distributional-alignment metric's results, per-row JS divergence and distances, example
rows) and `CoverResults` (per prompt setting: prompts, generations and the coverage metric's results).
`headline` flattens the numbers the tables show, `intervals` their 95% intervals and `interval_methods` how each
was computed (`tuning.eval.uncertainty`). `save`/`load` write and read the JSON; a file that is not a results file
fails with its name and the field that is wrong. Intervals are recomputed from the stored per-item numbers when a
file is loaded, so an older results file gets the current methods.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuning.eval.distinct import coverage_forms
from tuning.eval.proportions import WilsonForm, clustered_proportion
from tuning.eval.uncertainty import (
    RESAMPLES,
    TASK_MEAN,
    Clusters,
    Estimate,
    cluster_mean,
    cluster_spread,
    stream,
    task_mean,
)
from tuning.jsonfile import JSONFileError, json_ready, read_json, write_json

#: (headline key, column title, how to print it), the columns of every results table.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("steer/loss_geq_1", "loss ≥1 ↓", "{:.3f}"),
    ("steer/all_acc_geq_1", "exact match ≥1 ↑", "{:.3f}"),
    ("align/js_divergence", "JS div ↓", "{:.4f}"),
    ("align/states/js_divergence", "JS div states ↓", "{:.4f}"),
    ("align/total_variation", "TV ↓", "{:.4f}"),
    ("align/wasserstein", "W1 (scales) ↓", "{:.4f}"),
    ("cover/both/percent_valid", "% valid (both) ↑", "{:.1%}"),
    ("cover/both/diversity", "diversity (both) ↑", "{:.1%}"),
    ("cover/both/yield", "yield (both) ↑", "{:.1f}"),
)
#: Headline name -> the coverage metric's across-task mean.
COVERAGE_AGGREGATES = {
    "percent_valid": "percent_valid",
    "diversity": "unique_gens_pct",
    "yield": "unique_valid_count",
}


#: Steerability headline name -> the per-output record it averages over outputs with at least one example.
STEER_HEADLINES = {"loss_geq_1": "loss", "all_acc_geq_1": "all_acc"}
#: The alignment tasks of the paper's headline JS divergence; any other task (``states``) is reported beside it.
HEADLINE_ALIGNMENT_TASKS = (
    "global_oqa",
    "nytimes",
    "mpi",
    "rotten_tomatoes",
    "urn",
    "habermas",
    "numbergame",
)
#: The range of a JS divergence in nats, which its intervals respect.
JS_RANGE = (0.0, math.log(2))
#: Each alignment figure's range (total variation in [0, 1]; the 1-Wasserstein distance on positions scaled to
#: [0, 1] is in [0, 1] too).
ALIGN_RANGE = {"js_divergence": JS_RANGE, "total_variation": (0.0, 1.0), "wasserstein": (0.0, 1.0)}
#: How each figure's interval is computed (results.json's ``interval_methods``, the reports' notes).
INTERVAL_METHODS = {
    "loss_geq_1": "studentized cluster bootstrap over episodes (bootstrap-t, 4000 resamples, ends at least as wide as "
    "Student's t)",
    "all_acc_geq_1": "Wilson score interval with the episodes' design effect (t quantile, clusters - 1 df)",
    "js_divergence": "studentized cluster bootstrap over the task's row clusters (bootstrap-t, 4000 resamples, ends at "
    "least as wide as Student's t)",
    "total_variation": "as js_divergence",
    "wasserstein": "as js_divergence, over the rows whose candidates are a scale",
    "percent_valid": "Wilson score interval over the samples",
    "diversity": "Wilson form with the delete-one jackknife variance (effective sample size)",
    "yield": "Wilson form with the delete-one jackknife variance (effective sample size)",
    "over tasks": TASK_MEAN,
}


@dataclass
class SteerTask:
    """One steerability task: k, how many episodes were there / kept / evaluated / too long, the metric, and
    the evaluated episodes with every scored output's loss and exact match (for intervals and paired tests)."""

    k: int | None
    counts: dict[str, int]
    metrics: dict[str, Any] | None = None
    failed: str | None = None
    episode_ids: list[str] = field(default_factory=list)
    # per output: episode (index into episode_ids), shots (its rank j), sample (its sample index in the episode;
    # absent in results files written before it was recorded), loss, all_acc
    outputs: dict[str, list[float]] = field(default_factory=dict)
    intervals: dict[str, list[float] | None] = field(default_factory=dict)  # None: one episode, no interval

    def clusters(self, record: str, min_shots: int = 1) -> Clusters:
        """One record ("loss" or "all_acc") of the outputs with at least ``min_shots`` examples, by episode."""
        o = self.outputs
        keep = [i for i, shots in enumerate(o["shots"]) if shots >= min_shots]
        return Clusters.of(
            [self.episode_ids[int(o["episode"][i])] for i in keep], [o[record][i] for i in keep]
        )

    def items(self, record: str, by_sample: bool = True) -> dict[tuple[str, int], float]:
        """(episode id, sample index) -> ``record`` of every output with at least one example: the key that pairs
        the same output across formats (colon scores an episode's first sample, spectrum and chat may not).
        ``by_sample=False``, or an older results file without sample indices, keys by the rank j instead, which
        pairs outputs only within one format."""
        o = self.outputs
        keys = o["sample"] if by_sample and "sample" in o else o["shots"]
        return {
            (self.episode_ids[int(o["episode"][i])], int(keys[i])): float(o[record][i])
            for i, shots in enumerate(o["shots"])
            if shots >= 1
        }

    def estimate(self, task: str, figure: str, items: set[tuple[str, int]] | None = None,
                 by_sample: bool = True) -> Estimate | None:  # fmt: skip
        """A headline figure (`STEER_HEADLINES`) of this task with its interval, over all outputs with at least
        one example or only over ``items`` (keys of `items`); None when there is no such output."""
        found = self.items(STEER_HEADLINES[figure], by_sample)
        chosen = {key: v for key, v in found.items() if items is None or key in items}
        if not chosen:
            return None
        return steer_estimate(task, figure, [key[0] for key in chosen], list(chosen.values()))

    def spread(self, task: str, figure: str) -> Estimate | None:
        """A headline figure with its stored interval and its variance (cheap: no resampling), for the interval
        over tasks; None without outputs."""
        chosen = self.items(STEER_HEADLINES[figure]) if self.outputs else {}
        if not chosen:
            return None
        episodes, values = [key[0] for key in chosen], list(chosen.values())
        if figure == "all_acc_geq_1":
            return clustered_proportion(Clusters.of(episodes, values)).estimate()
        return cluster_spread(values, episodes, self.intervals.get(figure))

    def refresh_intervals(self, task: str) -> None:
        """Every headline's interval by the current method (`INTERVAL_METHODS`)."""
        found = {figure: self.estimate(task, figure) if self.outputs else None for figure in STEER_HEADLINES}
        self.intervals = {figure: e.bounds() for figure, e in found.items() if e is not None}


def steer_estimate(
    task: str, figure: str, episodes: Sequence[str], values: Sequence[float], resamples: int = RESAMPLES
) -> Estimate:
    """A steerability figure over outputs (``values``, grouped by ``episodes``): loss by the studentized cluster
    bootstrap (``resamples`` of them), exact match by the clustered Wilson interval."""
    if figure == "all_acc_geq_1":
        return clustered_proportion(Clusters.of(episodes, values)).estimate()
    generator = stream("steerability", figure, task)
    return cluster_mean(values, episodes, generator, bounds=(0.0, math.inf), resamples=resamples)


@dataclass
class SteerResults:
    tasks: dict[str, SteerTask]

    def evaluated(self) -> dict[str, SteerTask]:
        return {name: t for name, t in self.tasks.items() if t.metrics}

    def mean(self, key: str) -> float | None:
        """The mean over evaluated tasks of one of the metric's numbers."""
        values = [t.metrics.get(key) for t in self.evaluated().values()]
        values = [v for v in values if v is not None]
        return sum(values) / len(values) if values else None

    def interval(self, key: str) -> list[float] | None:
        """The 95% interval of the mean over the evaluated tasks of a headline (`STEER_HEADLINES`): the tasks
        fixed, each task's own interval giving its variance (`task_mean`)."""
        found = [t.spread(name, key) for name, t in self.evaluated().items()]
        if not found or any(e is None for e in found):
            return None
        bounds = (0.0, 1.0) if key == "all_acc_geq_1" else (0.0, math.inf)
        return task_mean(found, bounds).bounds()  # type: ignore[arg-type]


@dataclass
class AlignExample:
    """One row, model distribution against target, for the plots."""

    instance_id: str
    candidates: list[str]
    target: list[float]
    model: list[float]


#: The alignment figures reported per task and over tasks, each with its interval: the paper's JS divergence and the
#: peers' total variation and 1-Wasserstein distance (the latter over the rows whose candidates are a scale).
ALIGN_FIGURES = ("js_divergence", "total_variation", "wasserstein")


@dataclass
class AlignTask:
    """One alignment task: counts, the metric, every evaluated row's id, JS divergence and distances, a few example
    rows."""

    counts: dict[str, int]
    metrics: dict[str, Any] | None = None
    js_per_row: list[float] = field(default_factory=list)
    examples: list[AlignExample] = field(default_factory=list)
    failed: str | None = None
    row_ids: list[str] = field(default_factory=list)
    intervals: dict[str, list[float] | None] = field(default_factory=dict)  # None: one row, no interval
    # per evaluated row, the cluster it belongs to (the row's ``cluster`` field: rows of one question, book, movie
    # or number set); empty in results files written before clusters were recorded: then every row is its own
    row_clusters: list[str] = field(default_factory=list)
    # per evaluated row, "total_variation" and "wasserstein" (None for a row whose candidates are not a scale); empty
    # in results files written before they were recorded
    distances: dict[str, list[float | None]] = field(default_factory=dict)

    @property
    def cluster_ids(self) -> list[str]:
        """The cluster of every evaluated row (its own id where none was recorded)."""
        return self.row_clusters if len(self.row_clusters) == len(self.row_ids) else list(self.row_ids)

    def per_row(self, figure: str = "js_divergence") -> tuple[list[str], list[float]]:
        """The clusters and values of ``figure`` (one of `ALIGN_FIGURES`) of the rows that have one."""
        values = self.js_per_row if figure == "js_divergence" else self.distances.get(figure, [])
        if len(values) != len(self.row_ids):
            return [], []
        kept = [(c, v) for c, v in zip(self.cluster_ids, values, strict=True) if v is not None]
        return [c for c, _ in kept], [float(v) for _, v in kept]

    def clusters(self, figure: str = "js_divergence") -> Clusters:
        """Every evaluated row's value of ``figure``, grouped by the rows' clusters; rows without one left out."""
        return Clusters.of(*self.per_row(figure))

    def has(self, figure: str) -> bool:
        """Whether the task has ``figure`` and its per-row values (an interval can be computed)."""
        return bool(self.metrics and self.metrics.get(figure) is not None and self.per_row(figure)[1])

    def estimate(self, task: str, figure: str = "js_divergence") -> Estimate:
        """The mean of a per-row figure (one of `ALIGN_FIGURES`) with its studentized cluster-bootstrap interval,
        the task's row clusters resampled together (`cluster_mean`, which takes any other per-row figure)."""
        clusters, values = self.per_row(figure)
        if not values:
            raise ValueError(f"{task}: no per-row values of {figure} to form an interval from")
        return cluster_mean(values, clusters, stream("alignment", figure, task), bounds=ALIGN_RANGE[figure])

    def spread(self, figure: str = "js_divergence") -> Estimate | None:
        """A figure with its stored interval and its variance (cheap: no resampling), for the interval over tasks;
        None without per-row values."""
        clusters, values = self.per_row(figure)
        return cluster_spread(values, clusters, self.intervals.get(figure)) if values else None

    def refresh_intervals(self, task: str) -> None:
        """Every figure's interval by the current method (none without per-row values)."""
        for figure in ALIGN_FIGURES:
            if self.has(figure):
                self.intervals = {**self.intervals, figure: self.estimate(task, figure).bounds()}


@dataclass
class AlignResults:
    tasks: dict[str, AlignTask]
    include_terminator: bool = False

    def headline_tasks(self) -> dict[str, AlignTask]:
        """The evaluated tasks of the paper's headline (`HEADLINE_ALIGNMENT_TASKS`)."""
        return {n: t for n, t in self.tasks.items() if n in HEADLINE_ALIGNMENT_TASKS and t.metrics}

    def beside(self) -> dict[str, AlignTask]:
        """The evaluated tasks reported beside the headline, not in its mean (``states``)."""
        return {n: t for n, t in self.tasks.items() if n not in HEADLINE_ALIGNMENT_TASKS and t.metrics}

    def mean(self, key: str) -> float | None:
        """The mean over the evaluated headline tasks of one of the metric's numbers (``js_divergence``: the
        task's mean)."""
        values = [t.metrics[key] for t in self.headline_tasks().values() if t.metrics.get(key) is not None]
        return sum(values) / len(values) if values else None

    def figures(self) -> list[str]:
        """The headline's JS divergence, and the other `ALIGN_FIGURES` some evaluated headline task has (the
        1-Wasserstein distance only where some task's candidates are a scale)."""
        return [f for f in ALIGN_FIGURES if f == "js_divergence" or self.mean(f) is not None]

    def interval(self, figure: str = "js_divergence") -> list[float] | None:
        """The 95% interval of a headline figure: the headline tasks that have it held fixed, each task's own
        variance added up (`task_mean`)."""
        found = [
            t.spread(figure) for t in self.headline_tasks().values() if t.metrics.get(figure) is not None
        ]
        if not found or any(e is None for e in found):
            return None
        return task_mean(found, ALIGN_RANGE[figure]).bounds()  # type: ignore[arg-type]


@dataclass
class CoverSetting:
    """One prompt setting (description, examples or both): the prompt and the generations of every task."""

    prompts: dict[str, str]
    generations: dict[str, list[str]]
    skipped_too_long: list[str]
    metrics: dict[str, Any] | None = None
    validity: dict[str, list[bool]] = field(default_factory=dict)
    intervals: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # task -> headline -> interval

    def aggregate(self, name: str) -> float | None:
        """The across-task mean of one coverage number (`COVERAGE_AGGREGATES`)."""
        value = (self.metrics or {}).get(COVERAGE_AGGREGATES[name])
        return None if value is None else float(value)

    def task_value(self, task: str, name: str) -> float | None:
        """One task's value of a headline (`COVERAGE_AGGREGATES`), None if it failed or did not run."""
        entry = (self.metrics or {}).get("per_task", {}).get(task) or {}
        value = entry.get(COVERAGE_AGGREGATES[name])
        return None if value is None else float(value)

    def forms(self, task: str) -> dict[str, WilsonForm] | None:
        """% valid, diversity and yield of one task with their intervals' forms (`tuning.eval.distinct`); None
        without the samples' validity."""
        if task not in self.validity or task not in self.generations:
            return None
        return coverage_forms(self.generations[task], self.validity[task])

    def refresh_intervals(self) -> None:
        """Every task's intervals by the current methods."""
        self.intervals = {}
        for task in self.validity:
            forms = self.forms(task)
            if forms is not None:
                self.intervals[task] = {name: form.estimate().bounds() for name, form in forms.items()}

    def interval(self, name: str) -> list[float] | None:
        """The 95% interval of the mean over tasks of a headline: the tasks fixed, each task's own interval
        giving its variance (`task_mean`); None if a task's samples have no validity recorded."""
        tasks = [t for t in self.generations if self.task_value(t, name) is not None]
        forms = [self.forms(t) for t in tasks]
        if not tasks or any(f is None for f in forms):
            return None
        top = float(max(len(self.generations[t]) for t in tasks)) if name == "yield" else 1.0
        return task_mean([f[name].estimate() for f in forms], (0.0, top)).bounds()  # type: ignore[index]


@dataclass
class CoverResults:
    settings: dict[str, CoverSetting]
    num_generations: int
    top_k: int | None  # the top-k sampling applied (0: none), whether fixed by the options or the model's own
    seed: int
    stop_strings: list[str]
    temperature: float = 1.0  # what sampling applied; files written before these were recorded sampled at 1
    top_p: float = 1.0
    failed: dict[str, str] = field(default_factory=dict)  # task -> why it has no numbers

    def sampling(self, fixed: int | None) -> str:
        """How the samples were drawn, in words; ``fixed`` is the top-k the options fixed (None: the model's)."""
        top_k = f"top-k {self.top_k or 'none'} ({'fixed by top_k' if fixed is not None else 'its generation config'})"
        return f"{top_k}, temperature {self.temperature:g}, top-p {self.top_p:g}"


@dataclass
class EvalResults:
    """Everything one `tuning.eval` run wrote: its facts, each evaluation that ran, and the timings."""

    model: str
    format: str
    dtype: str
    device: str
    context_length: int | None
    configs: list[str]
    skipped_tasks: dict[str, list[str]]
    options: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    num_processes: int = 1
    backend: dict[str, Any] = field(default_factory=dict)  # what ran the model (`LanguageModel.describe`)
    steerability: SteerResults | None = None
    alignment: AlignResults | None = None
    coverage: CoverResults | None = None

    @property
    def k(self) -> dict[str, int | None]:
        """k per steerability task."""
        return {name: t.k for name, t in self.steerability.tasks.items()} if self.steerability else {}

    @property
    def failed_tasks(self) -> dict[str, str]:
        """Every task that was asked for and has no numbers, as ``section/task`` -> why: these are left out of
        the headline, so the report lists them and the command fails unless told to skip them."""
        out: dict[str, str] = {}
        for section, tasks in (("steerability", self.steerability), ("alignment", self.alignment)):
            for name, task in tasks.tasks.items() if tasks else ():
                if task.failed:
                    out[f"{section}/{name}"] = task.failed
        for name, why in self.coverage.failed.items() if self.coverage else ():
            out[f"coverage/{name}"] = why
        return out

    @property
    def intervals(self) -> dict[str, list[float] | None]:
        """The 95% interval of every headline number (keys as in `headline`)."""
        out: dict[str, list[float] | None] = {}
        if self.steerability:
            for key in STEER_HEADLINES:
                out[f"steer/{key}"] = self.steerability.interval(key)
        if self.alignment:
            for figure in self.alignment.figures():
                out[f"align/{figure}"] = self.alignment.interval(figure)
            for task, res in self.alignment.beside().items():
                for figure in ALIGN_FIGURES:
                    if res.metrics.get(figure) is not None:
                        out[f"align/{task}/{figure}"] = res.intervals.get(figure)
        if self.coverage:
            for setting, res in self.coverage.settings.items():
                for name in COVERAGE_AGGREGATES:
                    out[f"cover/{setting}/{name}"] = res.interval(name)
        return out

    @property
    def headline(self) -> dict[str, float | None]:
        """Flat headline numbers (keys as in `COLUMNS`, plus every coverage setting)."""
        out: dict[str, float | None] = {}
        if self.steerability:
            out["steer/loss_geq_1"] = self.steerability.mean("loss_geq_1")
            out["steer/all_acc_geq_1"] = self.steerability.mean("all_acc_geq_1")
        if self.alignment:
            for figure in self.alignment.figures():
                out[f"align/{figure}"] = self.alignment.mean(figure)
            for task, res in self.alignment.beside().items():
                for figure in ALIGN_FIGURES:
                    if res.metrics.get(figure) is not None:
                        out[f"align/{task}/{figure}"] = res.metrics[figure]
        if self.coverage:
            for setting, res in self.coverage.settings.items():
                for name in COVERAGE_AGGREGATES:
                    out[f"cover/{setting}/{name}"] = res.aggregate(name)
        return out

    def refresh_intervals(self) -> None:
        """Every per-task interval by the current methods, from the stored per-item numbers."""
        if self.steerability:
            for name, task in self.steerability.tasks.items():
                task.refresh_intervals(name)
        if self.alignment:
            for name, task in self.alignment.tasks.items():
                task.refresh_intervals(name)
        if self.coverage:
            for setting in self.coverage.settings.values():
                setting.refresh_intervals()

    def to_dict(self) -> dict[str, Any]:
        return {
            **json_ready(self),
            "headline": json_ready(self.headline),
            "intervals": json_ready(self.intervals),
            "interval_methods": INTERVAL_METHODS,
        }

    def save(self, path: Path) -> Path:
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: Path) -> EvalResults:
        """A run's ``results.json``; anything else fails naming the file and the field."""
        data = read_json(path, "the results.json of a python -m tuning.eval run")
        try:
            results = from_data(cls, data, "results")
        except (TypeError, ValueError, KeyError) as err:
            raise JSONFileError(f"{path} is not a tuning.eval results file: {err}") from err
        if data.get("interval_methods") != INTERVAL_METHODS:  # written with other methods: recompute them
            results.refresh_intervals()
        return results


def from_data(kind: Any, data: Any, where: str) -> Any:
    """``data`` (parsed JSON) as an instance of the annotated type ``kind``, checked field by field."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if data is None and type(None) in typing.get_args(kind):
            return None
        return from_data(options[0], data, where)
    if dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise TypeError(f"{where}: expected an object, got {type(data).__name__}")
        hints = typing.get_type_hints(kind)
        values = {}
        for f in dataclasses.fields(kind):
            if f.name in data:
                values[f.name] = from_data(hints[f.name], data[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise KeyError(f"{where}: field {f.name!r} is missing")
        return kind(**values)
    if origin is dict:
        _, value_kind = typing.get_args(kind)
        if not isinstance(data, dict):
            raise TypeError(f"{where}: expected an object, got {type(data).__name__}")
        return {k: from_data(value_kind, v, f"{where}.{k}") for k, v in data.items()}
    if origin in (list, tuple):
        (item_kind, *_) = typing.get_args(kind)
        if not isinstance(data, list):
            raise TypeError(f"{where}: expected a list, got {type(data).__name__}")
        return origin(from_data(item_kind, v, f"{where}[{i}]") for i, v in enumerate(data))
    if kind is Any:
        return data
    if kind is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
        raise TypeError(f"{where}: expected {kind.__name__}, got {data!r}")
    return data
