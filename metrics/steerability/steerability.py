"""In-context steerability: does the model use a description and earlier examples to match a new process?

An `evaluate` module (`docs/evaluation.md#steerability`). Every output of a held-out episode is scored with
teacher forcing given the description (if any) and the earlier gold outputs of the same episode (prequential
scoring, done by the companion scoring code); this module turns those per-output token scores into the
headline numbers: mean summed NLL and greedy exact match over outputs with at least one in-context example.
Load it with ``evaluate.load(metrics.path("steerability"))``.
"""

from __future__ import annotations

import datasets
import evaluate
import numpy as np

from metrics import row_inputs

from .aggregates import METRICS, group_means, per_task, summarise
from .calibration import check_arguments, expected_calibration_error
from .records import Records, build_records
from .records import check_rows as check_records

_CITATION = """\
@article{sorensen2025spectrum,
  title   = {Spectrum Tuning: Post-Training for Distributional Coverage and In-Context Steerability},
  author  = {Sorensen, Taylor and others},
  journal = {arXiv preprint arXiv:2510.06084},
  year    = {2025}
}
"""

_DESCRIPTION = """\
In-context steerability measures how well a model uses in-context information (a description and/or
example outputs of one data-generating process) to match that process. Each row is one scored output:
the log-probabilities of its gold tokens (terminator included), whether each gold token was the argmax
over the vocabulary, and how many gold outputs of the same episode came before it (shots). Per output:
loss = -sum(token_logprobs) in nats, first_acc = token_correct[0], acc = mean(token_correct) and
all_acc = min(token_correct) (greedy exact match). The module reports unweighted means over outputs with
standard errors: over all outputs, over outputs with shots >= 1 (the headline loss_geq_1 and
all_acc_geq_1), the reference's `_k` family, the curve by shot count, a per-task breakdown and the
calibration error (ECE) of the token probabilities.
"""

_KWARGS_DESCRIPTION = """
Args:
    token_logprobs (list of list of float): per output, log p(gold token) of each of its tokens (natural
        log, terminator included); finite and <= 0.
    token_correct (list of list of int): per output, 1 where the gold token was the argmax, else 0 (integers,
        not booleans); same lengths as token_logprobs.
    shots (list of int): per output, the number of earlier gold outputs of its episode in the context
        (the scored-output index j); shots >= 1 means at least one in-context example.
    tasks (list of str, optional): per output, the task name, for the per-task breakdown.
    incorrect_logprobs (list of list of float, optional): per output, the log-probabilities of all other
        vocabulary entries above ln(ece_threshold) at its positions; needed for calibration.
    The five above are per-row inputs (features): pass them to compute, or in pieces to add_batch/add.
    The optional ones form alternative feature sets; every row of one computation gives the same inputs.
    k (int, optional): the episode's last scored index k (default: the largest shots present); no row
        may have shots > k.
    ece_threshold (float): probabilities at or below it are left out of calibration (default 0.01).
    ece_bins (int): at most this many equal-mass bins (default 10).
Returns:
    Each key is the reference's `eval/<key>` without the `eval/` prefix where the reference has one.
    For the four metrics loss (summed NLL per output, nats, >= 0), all_acc, first_acc and acc (in [0, 1]),
    each with a `_sem` (standard error, ddof=1; 0.0 with fewer than 2 outputs) and four record sets:
        "<metric>": all outputs (reference `eval/<metric>`, `eval/<metric>_sem`);
        "<metric>_geq_1": outputs with shots >= 1 (headline: "loss_geq_1", "all_acc_geq_1"; reference
            `eval/loss_geq_1`, `eval/all_acc_geq_1`);
        "<metric>_k": shots == k - 1 among shots >= 1 (reference `eval/<metric>_k`, its naming kept);
        "<metric>_at_k": shots == k (what the name `_k` suggests; not in the reference).
    "loss_per_token", "loss_per_token_geq_1" (+ `_sem`): summed NLL divided by the output's token count.
    "k", "n_outputs", "n_outputs_geq_1", "n_outputs_k", "n_outputs_at_k": counts.
    "curve": {shots: {"loss", "all_acc", "first_acc", "acc", "n"}} (the reference's `results` table
        per example_ind).
    "per_task": {task: {the four metrics over all outputs and with `_geq_1`, "n", "n_geq_1"}} (empty
        without tasks).
    "calibration", "calibration_geq_1", "calibration_k": {"ece" (in [0, 1]), "bin_means",
        "bin_p_correct", "n_bins", "n_all", "n_correct"} over all, shots >= 1 and shots == k - 1 outputs;
        None without incorrect_logprobs.
    A mean over no outputs is None, never NaN.
Raises:
    ValueError naming the row and the field, as the rows are added and before anything is converted, for
    rows that are not lists, empty outputs, values that are not numbers (booleans, strings, None), NaN,
    infinite or positive log-probabilities, token_correct values other than the integers 0 and 1 (0.5,
    True), ragged token_correct, shots that are not integers >= 0 (1.5, True), empty task names and lists
    of different lengths; and for rows beyond k or a bad k, ece_threshold or ece_bins.
Examples:
    >>> import math
    >>> import evaluate
    >>> import metrics
    >>> steerability = evaluate.load(metrics.path("steerability"))
    >>> results = steerability.compute(
    ...     token_logprobs=[[math.log(0.5), math.log(0.5)], [math.log(0.8), math.log(0.9)]],
    ...     token_correct=[[0, 1], [1, 1]],
    ...     shots=[0, 1],
    ... )
    >>> round(results["loss"], 4), results["all_acc"], results["acc"]
    (0.8574, 0.5, 0.75)
    >>> round(results["loss_geq_1"], 4), results["all_acc_geq_1"], results["n_outputs_geq_1"]
    (0.3285, 1.0, 1)
    >>> sorted(results["curve"])
    [0, 1]
    >>> steerability.add_batch(token_logprobs=[[math.log(0.5)]], token_correct=[[1]], shots=[0], tasks=["a"])
    >>> steerability.add(token_logprobs=[math.log(0.8)], token_correct=[0], shots=1, tasks="a")
    >>> results = steerability.compute(k=1)
    >>> results["n_outputs"], results["per_task"]["a"]["n_geq_1"], results["all_acc_geq_1"]
    (2, 1, 0.0)
"""


FEATURE_SETS = row_inputs.feature_sets(
    required={
        "token_logprobs": datasets.Sequence(datasets.Value("float64")),
        "token_correct": datasets.Sequence(datasets.Value("int32")),
        "shots": datasets.Value("int64"),
    },
    optional={
        "tasks": datasets.Value("string"),
        "incorrect_logprobs": datasets.Sequence(datasets.Value("float64")),
    },
)
"""The inputs without, and with either or both of, the optional tasks and incorrect_logprobs."""


def _resolve_k(k: int | None, shots: np.ndarray) -> int:
    largest = int(shots.max())
    if k is None:
        return largest
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    if largest > k:
        row = int(np.argmax(shots > k))
        raise row_inputs.RowError(
            row, "shots", f"got {int(shots[row])}, beyond k={k}; the scoring keeps only outputs 0 ... k"
        )
    return int(k)


def _calibration(records: Records, selected: np.ndarray, threshold: float, bins: int) -> dict | None:
    if records.other_logprobs is None:
        return None
    return expected_calibration_error(
        records.gold_logprobs[selected[records.gold_record]],
        records.other_logprobs[selected[records.other_record]],
        threshold=threshold,
        max_bins=bins,
    )


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Steerability(row_inputs.CheckedMetric):
    """Prequential loss and accuracy over scored outputs, by shot count and task, with calibration."""

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
        check_records(**columns)

    def _compute(
        self,
        token_logprobs: list[list[float]],
        token_correct: list[list[int]],
        shots: list[int],
        tasks: list[str] | None = None,
        incorrect_logprobs: list[list[float]] | None = None,
        k: int | None = None,
        ece_threshold: float = 0.01,
        ece_bins: int = 10,
    ) -> dict:
        check_arguments(ece_threshold, ece_bins)
        records = build_records(token_logprobs, token_correct, shots, tasks, incorrect_logprobs)
        k = _resolve_k(k, records.shots)
        every = np.ones(len(records), dtype=bool)
        with_context = records.shots >= 1
        parity_k = with_context & (records.shots == k - 1)
        at_k = records.shots == k
        result: dict = {}
        result.update(summarise(records, every, ""))
        result.update(summarise(records, with_context, "_geq_1"))
        result.update(summarise(records, parity_k, "_k"))
        result.update(summarise(records, at_k, "_at_k"))
        result.update(summarise(records, every, "", ("loss_per_token",)))
        result.update(summarise(records, with_context, "_geq_1", ("loss_per_token",)))
        result["k"] = k
        result["n_outputs"] = len(records)
        result["n_outputs_geq_1"] = int(with_context.sum())
        result["n_outputs_k"] = int(parity_k.sum())
        result["n_outputs_at_k"] = int(at_k.sum())
        result["curve"] = group_means(records, records.shots)
        result["per_task"] = per_task(records)
        result["calibration"] = _calibration(records, every, ece_threshold, ece_bins)
        result["calibration_geq_1"] = _calibration(records, with_context, ece_threshold, ece_bins)
        result["calibration_k"] = _calibration(records, parity_k, ece_threshold, ece_bins)
        return result


__all__ = ["FEATURE_SETS", "METRICS", "Steerability"]
