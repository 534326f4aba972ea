"""Checked per-output records of prequential scoring and their per-output quantities.

The scoring code hands over one row per scored output (`docs/evaluation.md#prequential-scoring`), each with a
ragged list of per-token values. All rows are laid end to end in flat arrays and reduced with
``np.*.reduceat``, so the work is a few numpy passes however many outputs there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from metrics.row_inputs import Ragged, RowError, check_columns, flatten, integers

LOGPROB_TOLERANCE = 1e-6
"""Slack above 0 for a log-probability: rounding in a model's log-softmax."""


@dataclass(frozen=True)
class CheckedRows:
    """The inputs after every check: gold log-probabilities, correctness and off-gold log-probabilities."""

    gold: Ragged
    correct: Ragged
    shots: np.ndarray
    tasks: np.ndarray | None
    other: Ragged | None


@dataclass(frozen=True)
class Records:
    """Per-output quantities (one entry per scored output) and the pooled token log-probabilities."""

    loss: np.ndarray
    n_tokens: np.ndarray
    first_acc: np.ndarray
    acc: np.ndarray
    all_acc: np.ndarray
    shots: np.ndarray
    tasks: np.ndarray | None
    gold_logprobs: np.ndarray
    gold_record: np.ndarray
    other_logprobs: np.ndarray | None
    other_record: np.ndarray | None

    def __len__(self) -> int:
        return int(self.loss.size)

    @property
    def loss_per_token(self) -> np.ndarray:
        """Summed NLL divided by the output's token count: the headline loss is a per-output sum, so long
        outputs dominate it (`docs/deviations.md#steerability-names-and-counts`)."""
        return self.loss / self.n_tokens


def _logprobs(rows: Sequence[Sequence[float]], field: str, allow_empty: bool) -> Ragged:
    ragged = flatten(rows, field, "token", allow_empty=allow_empty)
    ragged.require(
        np.isfinite(ragged.values) & (ragged.values <= LOGPROB_TOLERANCE), "a finite log-probability <= 0"
    )
    return ragged


def check_rows(
    token_logprobs: Sequence[Sequence[float]],
    token_correct: Sequence[Sequence[int]],
    shots: Sequence[int],
    tasks: Sequence[str] | None = None,
    incorrect_logprobs: Sequence[Sequence[float]] | None = None,
) -> CheckedRows:
    """Every row as given: lists of one length, finite log-probabilities <= 0, correctness 0 or 1 (integers,
    not booleans), one per token, integer shots >= 0 and non-empty task names; the first bad row fails."""
    check_columns(
        {
            "token_logprobs": token_logprobs,
            "token_correct": token_correct,
            "shots": shots,
            "tasks": tasks,
            "incorrect_logprobs": incorrect_logprobs,
        }
    )
    gold = _logprobs(token_logprobs, "token_logprobs", allow_empty=False)
    correct = flatten(token_correct, "token_correct", "token", integer=True, allow_empty=True)
    ragged = np.flatnonzero(correct.lengths != gold.lengths)
    if ragged.size:
        row = int(ragged[0])
        raise RowError(
            row,
            "token_correct",
            f"has {correct.lengths[row]} values but 'token_logprobs' has {gold.lengths[row]}; "
            "expected one per token",
        )
    correct.require((correct.values == 0) | (correct.values == 1), "0 or 1")
    if tasks is not None:
        for row, name in enumerate(tasks):
            if not isinstance(name, str) or not name:
                raise RowError(row, "tasks", f"got {name!r}; expected a non-empty task name")
    other = None
    if incorrect_logprobs is not None:
        other = _logprobs(incorrect_logprobs, "incorrect_logprobs", allow_empty=True)
    return CheckedRows(
        gold=gold,
        correct=correct,
        shots=integers(shots, "shots", minimum=0),
        tasks=None if tasks is None else np.asarray(tasks, dtype=object),
        other=other,
    )


def build_records(
    token_logprobs: Sequence[Sequence[float]],
    token_correct: Sequence[Sequence[int]],
    shots: Sequence[int],
    tasks: Sequence[str] | None = None,
    incorrect_logprobs: Sequence[Sequence[float]] | None = None,
) -> Records:
    """Check every row and derive loss (summed NLL), first-token, per-token and all-token accuracy."""
    if not len(token_logprobs):
        raise ValueError("no rows: token_logprobs is empty")
    rows = check_rows(token_logprobs, token_correct, shots, tasks, incorrect_logprobs)
    gold, correct = rows.gold, rows.correct
    return Records(
        loss=-gold.total(gold.values),
        n_tokens=gold.lengths,
        first_acc=correct.values[gold.starts],
        acc=gold.total(correct.values) / gold.lengths,
        all_acc=np.minimum.reduceat(correct.values, gold.starts),
        shots=rows.shots,
        tasks=rows.tasks,
        gold_logprobs=gold.values,
        gold_record=gold.row_of,
        other_logprobs=None if rows.other is None else rows.other.values,
        other_record=None if rows.other is None else rows.other.row_of,
    )
