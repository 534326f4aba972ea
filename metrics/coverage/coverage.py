"""Valid output-space coverage: are a model's samples valid, and how much of the valid space do they span?

An `evaluate` module (spec C.2, C.5-C.8). Each row is one task: the N generations sampled for it (by the
companion sampling code) and either the task's validator name or an explicit set of valid strings. The
headline numbers, averaged over tasks, are % valid, diversity (distinct among valid) and yield (distinct
valid count).
"""

from __future__ import annotations

import logging

import datasets
import evaluate
import numpy as np

from .cleaning import DEFAULT_STOP_STRINGS, clean_generation
from .diversity import aggregate, task_metrics
from .validator_files import ValidatorDataUnavailable
from .validators import VALIDATORS, valid_set, validator

# evaluate.load copies only the files this script imports directly (and reads any text after an import
# as a download URL, so no comment may follow one): word_lists.py is used through validators.py.
from .word_lists import Cars

logger = logging.getLogger(__name__)
__all__ = ["Cars", "Coverage"]

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
valid strings). Per task: percent_valid (valid / N), unique_gens_pct (diversity: distinct valid strings /
valid ones), unique_valid_count (yield), usable and raw uniqueness, pairwise collision rate among valid
generations with its standard error, and, for tasks with a finite valid set, coverage_pct (distinct valid /
size of the set). Across tasks: mean, population std and sem of each ("aggregate/...").
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of list of str): per task, its N generations (cleaned, or raw with clean=True).
    tasks (list of str): per task, the validator name (one of the 22 task names), or any label ("" is
        allowed) when that row's valid set is given in valid_sets.
    valid_sets (list of (list of str or None), optional): per row, the exact valid strings, used instead
        of a validator; coverage_pct is then computed against its size.
    validity (list of (list of bool or None), optional): per row, precomputed validity of each generation,
        used instead of a validator (spec C.8); with valid_set_sizes (list of int or None) per row for
        coverage_pct.
    clean (bool): apply clean_generation (spec C.5) to every generation first (default False).
    stop_strings (list of str, optional): stop strings for cleaning (default: the spec's list without the
        tokenizer's EOS, which the caller should add).
    clean_mode (str): "parity" (cut at the first stop string in list order, the default) or "earliest".
    data_dir (str, optional): directory holding the validators_* word lists (default $SPECTRUM_SUITE_DATA,
        else the download cache).
Returns:
    "per_task": {task: {"percent_valid", "unique_gens_pct", "usable_unique_pct", "raw_unique_pct",
        "pairwise_collision", "pairwise_uniqueness" (all in [0, 1]), "unique_valid_count",
        "raw_unique_count", "n_valid", "possible_collisions", "actual_collisions" (counts),
        "pairwise_collision_sem" (>= 0), "coverage_pct" (in [0, 1], None without a finite valid set)}};
        a task whose word list is unavailable is recorded as {"failed": True, "error": message}.
    "aggregate/<metric>_mean", "_std" (population), "_sem" over the evaluated tasks, for the metrics above;
    "aggregate/coverage_pct_*" over finite-set tasks only (None if none) and "aggregate/coverage_pct_tasks";
    "aggregate/total_tasks_evaluated", "aggregate/failed_tasks_count", "aggregate/success_rate".
Raises:
    ValueError naming the row and the field for an empty generation list, a generation that is not a
    string, an unknown validator name, an empty or malformed valid set, validity flags that are not one
    boolean per generation, a bad valid-set size, lists of different lengths, or a task given twice.
Examples:
    >>> import evaluate
    >>> coverage = evaluate.load("metrics/coverage")
    >>> results = coverage.compute(
    ...     predictions=[["7", "7", "3", "eleven"], ["Utah", "Utah", "Ohio", "Texas"]],
    ...     tasks=["rng_1_10", "us_states_full_names"],
    ... )
    >>> results["per_task"]["rng_1_10"]["percent_valid"], results["per_task"]["rng_1_10"]["unique_valid_count"]
    (0.75, 2)
    >>> results["per_task"]["us_states_full_names"]["coverage_pct"]
    0.06
    >>> results["aggregate/percent_valid_mean"]
    0.875
"""


def _check_rows(predictions: list, tasks: list, per_row: dict[str, list | None]) -> None:
    if len(tasks) != len(predictions):
        raise ValueError(
            f"tasks has {len(tasks)} rows but predictions has {len(predictions)}; expected one per task"
        )
    for name, values in per_row.items():
        if values is not None and len(values) != len(predictions):
            raise ValueError(f"{name} has {len(values)} rows but predictions has {len(predictions)}")
    if not predictions:
        raise ValueError("no rows: predictions is empty")
    for row, generations in enumerate(predictions):
        if generations is None or isinstance(generations, str) or not len(generations):
            raise ValueError(
                f"row {row}: field 'predictions': expected a non-empty list of generations, got {generations!r}"
            )
        for index, text in enumerate(generations):
            if not isinstance(text, str):
                raise ValueError(
                    f"row {row}: field 'predictions': generation {index} is {text!r}; expected a string"
                )


def _given_validity(row: int, values: object, generations: list[str]) -> list[bool]:
    """Precomputed validity flags (spec C.8): one bool per generation."""
    if not isinstance(values, (list, tuple)) or len(values) != len(generations):
        raise ValueError(
            f"row {row}: field 'validity': expected {len(generations)} booleans, one per generation"
        )
    for value in values:
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"row {row}: field 'validity': {value!r} is not a boolean")
    return [bool(value) for value in values]


def _set_size(row: int, size: object) -> int | None:
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(
            f"row {row}: field 'valid_set_sizes': got {size!r}; expected a positive integer or None"
        )
    return int(size)


def _explicit_set(row: int, values: object) -> frozenset[str]:
    if isinstance(values, str) or not isinstance(values, (list, tuple, set, frozenset)) or not values:
        raise ValueError(
            f"row {row}: field 'valid_sets': expected a non-empty list of strings, got {values!r}"
        )
    for value in values:
        if not isinstance(value, str):
            raise ValueError(f"row {row}: field 'valid_sets': {value!r} is not a string")
    return frozenset(values)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Coverage(evaluate.Metric):
    """% valid, diversity, yield, uniqueness and set coverage per task, then averaged over tasks."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            module_type="metric",
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("string")),
                    "tasks": datasets.Value("string"),
                }
            ),
            reference_urls=["https://arxiv.org/abs/2510.06084"],
        )

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
    ) -> dict:
        _check_rows(
            predictions,
            tasks,
            {"valid_sets": valid_sets, "validity": validity, "valid_set_sizes": valid_set_sizes},
        )
        stops = DEFAULT_STOP_STRINGS if stop_strings is None else stop_strings
        per_task: dict[str, dict] = {}
        for row, (generations, task) in enumerate(zip(predictions, tasks, strict=True)):
            explicit = (
                None if valid_sets is None or valid_sets[row] is None else _explicit_set(row, valid_sets[row])
            )
            given = (
                None
                if validity is None or validity[row] is None
                else _given_validity(row, validity[row], generations)
            )
            if explicit is not None and given is not None:
                raise ValueError(
                    f"row {row}: fields 'valid_sets' and 'validity' are both given; expected one"
                )
            label = task or f"row_{row}"
            if explicit is None and given is None and task not in VALIDATORS:
                raise ValueError(
                    f"row {row}: field 'tasks': unknown validator {task!r}; expected one of {sorted(VALIDATORS)}"
                )
            if label in per_task:
                raise ValueError(
                    f"row {row}: field 'tasks': {label!r} is given twice; expected one row per task"
                )
            texts = (
                [clean_generation(text, stops, clean_mode) for text in generations]
                if clean
                else list(generations)
            )
            if given is not None:
                size = _set_size(row, None if valid_set_sizes is None else valid_set_sizes[row])
                per_task[label] = task_metrics(texts, given, size)
                continue
            if explicit is not None:
                per_task[label] = task_metrics(texts, [text in explicit for text in texts], len(explicit))
                continue
            try:
                check = validator(task, data_dir)
            except ValidatorDataUnavailable as err:
                logger.warning("coverage: task %s failed: %s", task, err)
                per_task[label] = {"failed": True, "error": str(err)}
                continue
            finite = valid_set(task)
            per_task[label] = task_metrics(
                texts, [check(text) for text in texts], len(finite) if finite else None
            )
        return {"per_task": per_task, **aggregate(per_task)}
