"""Valid output-space coverage: are a model's samples valid, and how much of the valid space do they span?

An `evaluate` module (`docs/evaluation.md#coverage`). Each row is one task: the N generations sampled for it
(by the companion sampling code) and either the task's validator name, an explicit set of valid strings or
precomputed validity flags. The headline numbers, averaged over tasks, are % valid, diversity (distinct among
valid) and yield (distinct valid count). Load it with ``evaluate.load(metrics.path("coverage"))``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import datasets
import evaluate
import numpy as np

from metrics import row_inputs

from .cleaning import DEFAULT_STOP_STRINGS, clean_generation
from .diversity import aggregate, task_metrics
from .validator_files import ValidatorDataUnavailable
from .validators import VALIDATORS, valid_set, validator

# evaluate.load copies only the files this script imports directly (and reads any text after an import
# as a download URL, so no comment may follow one): word_lists.py is used through validators.py.
from .word_lists import Cars

logger = logging.getLogger(__name__)
__all__ = ["FEATURE_SETS", "Cars", "Coverage", "TaskRow", "check_rows"]

_CITATION = """\
@article{sorensen2025spectrum,
  title   = {Spectrum Tuning: Post-Training for Distributional Coverage and In-Context Steerability},
  author  = {Sorensen, Taylor and others},
  journal = {arXiv preprint arXiv:2510.06084},
  year    = {2025}
}
"""

_DESCRIPTION = """\
Valid output-space coverage asks, for prompts with many valid answers (a car make and model, a prime
number, a US state), whether a model's samples are valid and spread over the valid answers. Each row is one
task: its N sampled generations and the name of one of the 22 task validators (or an explicit list of the
valid strings, or precomputed validity flags). Per task: percent_valid (valid / N), unique_gens_pct
(diversity: distinct valid strings / valid ones), unique_valid_count (yield), usable and raw uniqueness,
pairwise collision rate among valid generations with its standard error, and, for tasks with a finite valid
set, coverage_pct (distinct valid / size of the set). Across tasks: the mean of each under its own name, with
its population standard deviation (`_std`) and standard error (`_sem`).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of list of str): per task, its N generations (cleaned, or raw with clean=True).
    tasks (list of str): per task, the validator name (one of the 22 task names), or any label ("" is
        allowed) when that row's validity comes from valid_sets or validity.
    valid_sets (list of (list of str or None), optional): per row, the exact valid strings, used instead
        of a validator; coverage_pct is then computed against its size.
    validity (list of (list of bool or None), optional): per row, precomputed validity of each generation
        (booleans, one per generation), used instead of a validator.
    valid_set_sizes (list of (int or None), optional): per row with validity, the size of its valid set,
        for coverage_pct (an integer >= 1, at least the row's distinct valid generations).
    The five above are per-row inputs (features): pass them to compute, or in pieces to add_batch/add.
    The optional ones form alternative feature sets; every row of one computation gives the same inputs
    (None in one row's place leaves that row without them).
    clean (bool): apply clean_generation (`docs/evaluation.md#cleaning`) to every generation first
        (default False).
    stop_strings (list of str, optional): stop strings for cleaning (default: the paper's list without the
        tokenizer's EOS, which the caller should add).
    clean_mode (str): "parity" (cut at the first stop string in list order, the default) or "earliest".
    data_dir (str, optional): directory holding the validators_* word lists (default $SPECTRUM_SUITE_DATA,
        else the download cache).
    return_validity (bool): also return each generation's validity under "per_task"[task]["validity"]
        (default False), e.g. to bootstrap per-task intervals.
Returns:
    "per_task": {task: {"percent_valid", "unique_gens_pct", "usable_unique_pct", "raw_unique_pct",
        "pairwise_collision", "pairwise_uniqueness" (all in [0, 1]), "unique_valid_count",
        "raw_unique_count", "n_valid", "possible_collisions", "actual_collisions" (counts),
        "pairwise_collision_sem" (>= 0), "coverage_pct" (in [0, 1], None without a finite valid set)}};
        a task whose word list is unavailable is recorded as {"failed": True, "error": message}.
    "<metric>", "<metric>_std" (population), "<metric>_sem" over the evaluated tasks, for each per-task
        metric above except the collision counts and pairwise_collision_sem: "<metric>" is the reference's
        `aggregate/<metric>_mean` ("percent_valid" = `aggregate/percent_valid_mean`, % valid;
        "unique_gens_pct", diversity; "unique_valid_count", yield), "<metric>_std" and "<metric>_sem" its
        `aggregate/<metric>_std` and `aggregate/<metric>_sem`;
    "coverage_pct", "coverage_pct_std", "coverage_pct_sem" over finite-set tasks only (None if none) and
        "coverage_pct_tasks", their number;
    "n_tasks" (tasks evaluated; the reference's `aggregate/total_tasks_evaluated`), "n_failed_tasks"
        (`aggregate/failed_tasks_count`), "success_rate" (`aggregate/success_rate`).
Raises:
    ValueError naming the row and the field, as the rows are added and before anything is converted, for
    an empty generation list, a generation that is not a string, a task that is not a string, an unknown
    validator name, an empty or malformed valid set, validity flags that are not one boolean per
    generation, a valid-set size that is not an integer >= 1 (2.5, True) or comes without validity flags,
    a row with both a valid set and validity flags, and lists of different lengths; and when computing, for
    a task given twice and a valid-set size below the row's distinct valid generations.
Examples:
    >>> import evaluate
    >>> import metrics
    >>> coverage = evaluate.load(metrics.path("coverage"))
    >>> results = coverage.compute(
    ...     predictions=[["7", "7", "3", "eleven"], ["Utah", "Utah", "Ohio", "Texas"]],
    ...     tasks=["rng_1_10", "us_states_full_names"],
    ... )
    >>> results["per_task"]["rng_1_10"]["percent_valid"], results["per_task"]["rng_1_10"]["unique_valid_count"]
    (0.75, 2)
    >>> results["per_task"]["us_states_full_names"]["coverage_pct"]
    0.06
    >>> results["percent_valid"], results["n_tasks"]
    (0.875, 2)
    >>> coverage.add_batch(predictions=[["a", "b", "a"]], tasks=["judged"], validity=[[True, False, True]])
    >>> coverage.add(prediction=["x", "y"], tasks="", validity=[True, True])
    >>> results = coverage.compute()
    >>> results["per_task"]["judged"]["n_valid"], results["per_task"]["row_1"]["unique_valid_count"]
    (2, 2)
"""

FEATURE_SETS = row_inputs.feature_sets(
    required={"predictions": datasets.Sequence(datasets.Value("string")), "tasks": datasets.Value("string")},
    optional={
        "valid_sets": datasets.Sequence(datasets.Value("string")),
        "validity": datasets.Sequence(datasets.Value("bool")),
        "valid_set_sizes": datasets.Value("int64"),
    },
)
"""predictions and tasks, with each combination of the optional valid_sets, validity and valid_set_sizes."""


@dataclass(frozen=True)
class TaskRow:
    """One checked row: the task's generations and where their validity comes from."""

    generations: list[str]
    task: str
    valid_set: frozenset[str] | None
    validity: list[bool] | None
    valid_set_size: int | None


def _generations(row: int, generations: object) -> list[str]:
    if not isinstance(generations, row_inputs.ROW_TYPES) or not len(generations):
        raise row_inputs.RowError(
            row, "predictions", f"expected a non-empty list of generations, got {generations!r}"
        )
    for index, text in enumerate(generations):
        if not isinstance(text, str):
            raise row_inputs.RowError(
                row, "predictions", f"generation {index} is {text!r}; expected a string"
            )
    return list(generations)


def _explicit_set(row: int, values: object) -> frozenset[str]:
    if not isinstance(values, row_inputs.ROW_TYPES) or not len(values):
        raise row_inputs.RowError(row, "valid_sets", f"expected a non-empty list of strings, got {values!r}")
    for value in values:
        if not isinstance(value, str):
            raise row_inputs.RowError(row, "valid_sets", f"{value!r} is not a string")
    return frozenset(values)


def _given_validity(row: int, values: object, generations: list[str]) -> list[bool]:
    """Precomputed validity flags: one boolean (not 0/1, not a string) per generation."""
    if not isinstance(values, row_inputs.ROW_TYPES) or len(values) != len(generations):
        raise row_inputs.RowError(
            row, "validity", f"expected {len(generations)} booleans, one per generation, got {values!r}"
        )
    for value in values:
        if not isinstance(value, (bool, np.bool_)):
            raise row_inputs.RowError(row, "validity", f"{value!r} is not a boolean")
    return [bool(value) for value in values]


def _set_size(row: int, size: object) -> int:
    if not row_inputs.is_number_type(type(size), integer=True) or size < 1:
        raise row_inputs.RowError(row, "valid_set_sizes", f"got {size!r}; expected an integer >= 1 or None")
    return int(size)


def check_rows(
    predictions: Sequence[Sequence[str]],
    tasks: Sequence[str],
    valid_sets: Sequence[Sequence[str] | None] | None = None,
    validity: Sequence[Sequence[bool] | None] | None = None,
    valid_set_sizes: Sequence[int | None] | None = None,
) -> list[TaskRow]:
    """Every row as given, with where its validity comes from: its validity flags, its valid set, else the
    validator its task names; the first bad row fails."""
    row_inputs.check_columns(
        {
            "predictions": predictions,
            "tasks": tasks,
            "valid_sets": valid_sets,
            "validity": validity,
            "valid_set_sizes": valid_set_sizes,
        }
    )
    checked = []
    for row, task in enumerate(tasks):
        generations = _generations(row, predictions[row])
        if not isinstance(task, str):
            raise row_inputs.RowError(row, "tasks", f"got {task!r}; expected a validator name or a label")
        explicit = (
            None if valid_sets is None or valid_sets[row] is None else _explicit_set(row, valid_sets[row])
        )
        given = (
            None
            if validity is None or validity[row] is None
            else _given_validity(row, validity[row], generations)
        )
        size = (
            None
            if valid_set_sizes is None or valid_set_sizes[row] is None
            else _set_size(row, valid_set_sizes[row])
        )
        if explicit is not None and given is not None:
            raise row_inputs.RowError(
                row, "valid_sets", "given together with 'validity'; expected one of them"
            )
        if size is not None and given is None:
            raise row_inputs.RowError(
                row,
                "valid_set_sizes",
                f"got {size} for a row without validity flags; a valid set or a validator has its own size",
            )
        if explicit is None and given is None and task not in VALIDATORS:
            raise row_inputs.RowError(
                row, "tasks", f"unknown validator {task!r}; expected one of {sorted(VALIDATORS)}"
            )
        checked.append(TaskRow(generations, task, explicit, given, size))
    return checked


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Coverage(row_inputs.CheckedMetric):
    """% valid, diversity, yield, uniqueness and set coverage per task, then averaged over tasks."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            module_type="metric",
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=FEATURE_SETS,
            reference_urls=["https://arxiv.org/abs/2510.06084"],
        )

    def check_rows(self, **columns: list) -> None:
        check_rows(**columns)

    def _compute(
        self,
        predictions: list[list[str]],
        tasks: list[str],
        valid_sets: list[list[str] | None] | None = None,
        validity: list[list[bool] | None] | None = None,
        valid_set_sizes: list[int | None] | None = None,
        clean: bool = False,
        stop_strings: list[str] | None = None,
        clean_mode: str = "parity",
        data_dir: str | None = None,
        return_validity: bool = False,
    ) -> dict:
        for name, flag in (("clean", clean), ("return_validity", return_validity)):
            if not isinstance(flag, bool):
                raise ValueError(f"{name} must be True or False, got {flag!r}")
        rows = check_rows(predictions, tasks, valid_sets, validity, valid_set_sizes)
        if not rows:
            raise ValueError("no rows: predictions is empty")
        stops = DEFAULT_STOP_STRINGS if stop_strings is None else stop_strings
        per_task: dict[str, dict] = {}
        for row, entry in enumerate(rows):
            label = entry.task or f"row_{row}"
            if label in per_task:
                raise row_inputs.RowError(
                    row, "tasks", f"{label!r} is given twice; expected one row per task"
                )
            texts = (
                [clean_generation(text, stops, clean_mode) for text in entry.generations]
                if clean
                else entry.generations
            )
            if entry.validity is not None:
                flags, size = list(entry.validity), entry.valid_set_size
            elif entry.valid_set is not None:
                flags, size = [text in entry.valid_set for text in texts], len(entry.valid_set)
            else:
                try:
                    check = validator(entry.task, data_dir)
                except ValidatorDataUnavailable as err:
                    logger.warning("coverage: task %s failed: %s", entry.task, err)
                    per_task[label] = {"failed": True, "error": str(err)}
                    continue
                finite = valid_set(entry.task)
                flags, size = [check(text) for text in texts], len(finite) if finite else None
            per_task[label] = task_metrics(texts, flags, size)
            distinct = per_task[label]["unique_valid_count"]
            if entry.validity is not None and size is not None and distinct > size:
                raise row_inputs.RowError(
                    row,
                    "valid_set_sizes",
                    f"got {size}, but the row has {distinct} distinct valid generations; the valid set cannot be smaller",
                )
            if return_validity:
                per_task[label]["validity"] = [bool(flag) for flag in flags]
        return {"per_task": per_task, **aggregate(per_task)}
