"""The results of an evaluation run as typed records, with one serialisation (``results.json``).

`EvalResults` holds the run's facts (model, format, options, what was skipped) and one section per
evaluation: `SteerResults` (per task: k, counts, the steerability metric's results), `AlignResults` (per
task: counts, the distributional-alignment metric's results, per-row JS divergence and distances, example
rows) and `CoverResults` (per prompt setting: prompts, generations and the coverage metric's results).
`headline` flattens
the numbers the tables show. `save`/`load` write and read the JSON; a file that is not a results file fails
with its name and the field that is wrong.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuning.eval.uncertainty import Clusters, interval, resampled_tasks, rng, task_mean_replicates
from tuning.jsonfile import JSONFileError, json_ready, read_json, write_json

#: (headline key, column title, how to print it), the columns of every results table.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("steer/loss_geq_1", "loss ≥1 ↓", "{:.3f}"),
    ("steer/all_acc_geq_1", "exact match ≥1 ↑", "{:.3f}"),
    ("align/js_divergence", "JS div ↓", "{:.4f}"),
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


@dataclass
class SteerTask:
    """One steerability task: k, how many episodes were there / kept / evaluated / too long, the metric, and
    the evaluated episodes with every scored output's loss and exact match (for intervals and paired tests)."""

    k: int | None
    counts: dict[str, int]
    metrics: dict[str, Any] | None = None
    failed: str | None = None
    episode_ids: list[str] = field(default_factory=list)
    outputs: dict[str, list[float]] = field(default_factory=dict)  # episode (index), shots, loss, all_acc
    intervals: dict[str, list[float] | None] = field(default_factory=dict)  # None: one episode, no interval

    def clusters(self, record: str, min_shots: int = 1) -> Clusters:
        """One record ("loss" or "all_acc") of the outputs with at least ``min_shots`` examples, by episode."""
        o = self.outputs
        keep = [i for i, shots in enumerate(o["shots"]) if shots >= min_shots]
        return Clusters.of(
            [self.episode_ids[int(o["episode"][i])] for i in keep], [o[record][i] for i in keep]
        )


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
        """The 95% interval of the mean over tasks of a headline (`STEER_HEADLINES`), episodes resampled."""
        tasks = [t for t in self.evaluated().values() if t.outputs]
        if not tasks:
            return None
        generator = rng()
        return interval(
            task_mean_replicates([t.clusters(STEER_HEADLINES[key]).replicates(generator) for t in tasks])
        )


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
    # per evaluated row, "total_variation" and "wasserstein" (None for a row whose candidates are not a scale); empty
    # in results files written before they were recorded
    distances: dict[str, list[float | None]] = field(default_factory=dict)

    def clusters(self, figure: str = "js_divergence") -> Clusters:
        """Every evaluated row's value of ``figure`` (one of `ALIGN_FIGURES`), by row; rows without one left out."""
        values = self.js_per_row if figure == "js_divergence" else self.distances[figure]
        kept = [(row, v) for row, v in zip(self.row_ids, values, strict=True) if v is not None]
        return Clusters.of([row for row, _ in kept], [v for _, v in kept])

    def has(self, figure: str) -> bool:
        """Whether the task has ``figure`` and its per-row values (an interval can be computed)."""
        per_row = self.js_per_row if figure == "js_divergence" else self.distances.get(figure)
        return bool(self.metrics and self.metrics.get(figure) is not None and self.row_ids and per_row)


@dataclass
class AlignResults:
    tasks: dict[str, AlignTask]
    include_terminator: bool = False

    def mean(self, key: str) -> float | None:
        """The mean over evaluated tasks of one of the metric's numbers (``js_divergence``: the task's mean)."""
        values = [t.metrics[key] for t in self.tasks.values() if t.metrics and t.metrics.get(key) is not None]
        return sum(values) / len(values) if values else None

    def figures(self) -> list[str]:
        """The headline's JS divergence, and the other `ALIGN_FIGURES` some evaluated task has (the 1-Wasserstein
        distance only where some task's candidates are a scale)."""
        return [f for f in ALIGN_FIGURES if f == "js_divergence" or self.mean(f) is not None]

    def interval(self, figure: str = "js_divergence") -> list[float] | None:
        """The 95% interval of the mean over tasks of one of `ALIGN_FIGURES` (over the tasks that have it), rows
        resampled."""
        tasks = [t for t in self.tasks.values() if t.has(figure)]
        if not tasks:
            return None
        generator = rng()
        return interval(task_mean_replicates([t.clusters(figure).replicates(generator) for t in tasks]))


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

    def interval(self, name: str) -> list[float] | None:
        """The 95% interval of the mean over tasks of a headline, the tasks (prompts) resampled."""
        values = [self.task_value(t, name) for t in self.generations]
        values = [v for v in values if v is not None]
        return interval(resampled_tasks(values, rng())) if len(values) > 1 else None


@dataclass
class CoverResults:
    settings: dict[str, CoverSetting]
    num_generations: int
    top_k: int | None
    seed: int
    stop_strings: list[str]


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
    def intervals(self) -> dict[str, list[float] | None]:
        """The 95% interval of every headline number (keys as in `headline`)."""
        out: dict[str, list[float] | None] = {}
        if self.steerability:
            for key in STEER_HEADLINES:
                out[f"steer/{key}"] = self.steerability.interval(key)
        if self.alignment:
            for figure in self.alignment.figures():
                out[f"align/{figure}"] = self.alignment.interval(figure)
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
        if self.coverage:
            for setting, res in self.coverage.settings.items():
                for name in COVERAGE_AGGREGATES:
                    out[f"cover/{setting}/{name}"] = res.aggregate(name)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            **json_ready(self),
            "headline": json_ready(self.headline),
            "intervals": json_ready(self.intervals),
        }

    def save(self, path: Path) -> Path:
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: Path) -> EvalResults:
        """A run's ``results.json``; anything else fails naming the file and the field."""
        data = read_json(path, "the results.json of a python -m tuning.eval run")
        try:
            return from_data(cls, data, "results")
        except (TypeError, ValueError, KeyError) as err:
            raise JSONFileError(f"{path} is not a tuning.eval results file: {err}") from err


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
