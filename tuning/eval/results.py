"""The results of an evaluation run as typed records, with one serialisation (``results.json``).

`EvalResults` holds the run's facts (model, format, options, what was skipped) and one section per
evaluation: `SteerResults` (per task: k, counts, the steerability metric's results), `AlignResults` (per
task: counts, the distributional-alignment metric's results, per-row JS divergence, example rows) and
`CoverResults` (per prompt setting: prompts, generations and the coverage metric's results). `headline` flattens
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

from tuning.jsonfile import JSONFileError, json_ready, read_json, write_json

#: (headline key, column title, how to print it), the columns of every results table.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("steer/loss_geq_1", "loss ≥1 ↓", "{:.3f}"),
    ("steer/all_acc_geq_1", "exact match ≥1 ↑", "{:.3f}"),
    ("align/js_divergence", "JS div ↓", "{:.4f}"),
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


@dataclass
class SteerTask:
    """One steerability task: k, how many episodes were there / kept / evaluated / too long, the metric."""

    k: int | None
    counts: dict[str, int]
    metrics: dict[str, Any] | None = None
    failed: str | None = None


@dataclass
class SteerResults:
    tasks: dict[str, SteerTask]

    def mean(self, key: str) -> float | None:
        """The mean over evaluated tasks of one of the metric's numbers."""
        values = [t.metrics.get(key) for t in self.tasks.values() if t.metrics]
        values = [v for v in values if v is not None]
        return sum(values) / len(values) if values else None


@dataclass
class AlignExample:
    """One row, model distribution against target, for the plots."""

    instance_id: str
    candidates: list[str]
    target: list[float]
    model: list[float]


@dataclass
class AlignTask:
    counts: dict[str, int]
    metrics: dict[str, Any] | None = None
    js_per_row: list[float] = field(default_factory=list)
    examples: list[AlignExample] = field(default_factory=list)
    failed: str | None = None


@dataclass
class AlignResults:
    tasks: dict[str, AlignTask]
    include_terminator: bool = False

    def mean(self, key: str) -> float | None:
        """The mean over evaluated tasks of one of the metric's numbers (``js_divergence``: the task's mean)."""
        values = [t.metrics[key] for t in self.tasks.values() if t.metrics and t.metrics.get(key) is not None]
        return sum(values) / len(values) if values else None


@dataclass
class CoverSetting:
    """One prompt setting (description, examples or both): the prompt and the generations of every task."""

    prompts: dict[str, str]
    generations: dict[str, list[str]]
    skipped_too_long: list[str]
    metrics: dict[str, Any] | None = None

    def aggregate(self, name: str) -> float | None:
        """The across-task mean of one coverage number (`COVERAGE_AGGREGATES`)."""
        value = (self.metrics or {}).get(COVERAGE_AGGREGATES[name])
        return None if value is None else float(value)


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
    steerability: SteerResults | None = None
    alignment: AlignResults | None = None
    coverage: CoverResults | None = None

    @property
    def k(self) -> dict[str, int | None]:
        """k per steerability task."""
        return {name: t.k for name, t in self.steerability.tasks.items()} if self.steerability else {}

    @property
    def headline(self) -> dict[str, float | None]:
        """Flat headline numbers (keys as in `COLUMNS`, plus every coverage setting)."""
        out: dict[str, float | None] = {}
        if self.steerability:
            out["steer/loss_geq_1"] = self.steerability.mean("loss_geq_1")
            out["steer/all_acc_geq_1"] = self.steerability.mean("all_acc_geq_1")
        if self.alignment:
            out["align/js_divergence"] = self.alignment.mean("js_divergence")
        if self.coverage:
            for setting, res in self.coverage.settings.items():
                for name in COVERAGE_AGGREGATES:
                    out[f"cover/{setting}/{name}"] = res.aggregate(name)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {**json_ready(self), "headline": json_ready(self.headline)}

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
