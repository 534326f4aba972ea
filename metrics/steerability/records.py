"""Checked per-output records of prequential scoring and the per-output quantities of spec A.8.

The scoring code hands over one row per scored output, each with a ragged list of per-token values.
All rows are laid end to end in flat arrays and reduced with ``np.*.reduceat``, so the work is a few
numpy passes however many outputs there are.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LOGPROB_TOLERANCE = 1e-6
"""Slack above 0 for a log-probability: rounding in a model's log-softmax."""


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
        """Summed NLL over the output's tokens divided by their number (defects D40)."""
        return self.loss / self.n_tokens


def _flat(rows: Sequence[Sequence[float]], field: str, allow_empty: bool) -> tuple[np.ndarray, np.ndarray]:
    """Values of ragged ``rows`` end to end, and each row's length; a malformed row fails with its index."""
    try:
        lengths = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
        values = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.float64, count=int(lengths.sum()))
    except (TypeError, ValueError):
        for index, row in enumerate(rows):
            try:
                if row is None or isinstance(row, (str, bytes)):
                    raise TypeError
                np.fromiter(row, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"row {index}: field {field!r}: expected a list of numbers, got {row!r}"
                ) from None
        raise ValueError(f"field {field!r}: expected a list of lists of numbers") from None
    if not allow_empty:
        empty = np.flatnonzero(lengths == 0)
        if empty.size:
            raise ValueError(f"row {int(empty[0])}: field {field!r}: expected at least one token, got none")
    return values, lengths


def _check_logprobs(values: np.ndarray, lengths: np.ndarray, field: str) -> None:
    bad = np.flatnonzero(~np.isfinite(values) | (values > LOGPROB_TOLERANCE))
    if bad.size:
        row_of = np.repeat(np.arange(lengths.size), lengths)
        first = int(bad[0])
        row = int(row_of[first])
        token = first - int(lengths[:row].sum())
        raise ValueError(
            f"row {row}: field {field!r}: value {token} is {float(values[first])!r}; expected a finite log-probability <= 0"
        )


def _check_count(name: str, values: Sequence | None, expected: int) -> None:
    if values is not None and len(values) != expected:
        raise ValueError(
            f"{name} has {len(values)} rows but token_logprobs has {expected}; expected one per output"
        )


def build_records(
    token_logprobs: Sequence[Sequence[float]],
    token_correct: Sequence[Sequence[int]],
    shots: Sequence[int],
    tasks: Sequence[str] | None = None,
    incorrect_logprobs: Sequence[Sequence[float]] | None = None,
) -> Records:
    """Check every row and derive loss (summed NLL), first-token, per-token and all-token accuracy."""
    count = len(token_logprobs)
    if count == 0:
        raise ValueError("no rows: token_logprobs is empty")
    for name, values in (("token_correct", token_correct), ("shots", shots), ("tasks", tasks)):
        _check_count(name, values, count)
    _check_count("incorrect_logprobs", incorrect_logprobs, count)

    gold, lengths = _flat(token_logprobs, "token_logprobs", allow_empty=False)
    _check_logprobs(gold, lengths, "token_logprobs")
    correct, correct_lengths = _flat(token_correct, "token_correct", allow_empty=False)
    ragged = np.flatnonzero(correct_lengths != lengths)
    if ragged.size:
        row = int(ragged[0])
        raise ValueError(
            f"row {row}: field 'token_correct' has {correct_lengths[row]} values but 'token_logprobs' has "
            f"{lengths[row]}; expected one per token"
        )
    not_binary = np.flatnonzero((correct != 0) & (correct != 1))
    if not_binary.size:
        row = int(np.repeat(np.arange(count), lengths)[not_binary[0]])
        raise ValueError(f"row {row}: field 'token_correct': got {correct[not_binary[0]]!r}; expected 0 or 1")

    shot_array = _shots(shots)
    task_array = _tasks(tasks)
    other = other_record = None
    if incorrect_logprobs is not None:
        other, other_lengths = _flat(incorrect_logprobs, "incorrect_logprobs", allow_empty=True)
        _check_logprobs(other, other_lengths, "incorrect_logprobs")
        other_record = np.repeat(np.arange(count), other_lengths)

    starts = np.zeros(count, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return Records(
        loss=-np.add.reduceat(gold, starts),
        n_tokens=lengths,
        first_acc=correct[starts],
        acc=np.add.reduceat(correct, starts) / lengths,
        all_acc=np.minimum.reduceat(correct, starts),
        shots=shot_array,
        tasks=task_array,
        gold_logprobs=gold,
        gold_record=np.repeat(np.arange(count), lengths),
        other_logprobs=other,
        other_record=other_record,
    )


def _shots(shots: Sequence[int]) -> np.ndarray:
    """Integers >= 0; checked with numpy, with a per-row scan only to name a bad row."""
    array = np.asarray(shots)
    if array.ndim == 1 and array.dtype.kind in "iu":
        negative = np.flatnonzero(array < 0)
        if not negative.size:
            return array.astype(np.int64)
    for index, value in enumerate(shots):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"row {index}: field 'shots': got {value!r}; expected an integer >= 0")
    raise ValueError("field 'shots': expected a list of integers >= 0")


def _tasks(tasks: Sequence[str] | None) -> np.ndarray | None:
    if tasks is None:
        return None
    for index, value in enumerate(tasks):
        if not isinstance(value, str) or not value:
            raise ValueError(f"row {index}: field 'tasks': got {value!r}; expected a non-empty task name")
    return np.asarray(tasks, dtype=object)
