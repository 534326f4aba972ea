"""Distributional alignment: how far a model's distribution over candidate answers is from a target one.

An `evaluate` module (`docs/evaluation.md#distributional-alignment`). Each item is a list of candidate answers
with the target probabilities (e.g. the share of a population giving each answer) and the model's
log-probabilities of the same candidates; the headline number is the mean Jensen-Shannon divergence (natural
log). Scoring a model (`docs/evaluation.md#candidate-scoring`) is the job of the companion scoring code, not of
this module. Load it with ``evaluate.load(metrics.path("distributional_alignment"))``.
"""

from __future__ import annotations

import datasets
import evaluate
import numpy as np

from metrics import row_inputs

from .divergences import check_rows as check_items
from .divergences import item_scores

_CITATION = """\
@article{sorensen2025spectrum,
  title   = {Spectrum Tuning: Post-Training for Distributional Coverage and In-Context Steerability},
  author  = {Sorensen, Taylor and others},
  journal = {arXiv preprint arXiv:2510.06084},
  year    = {2025}
}
"""

_DESCRIPTION = """\
Distributional alignment compares, item by item, a target distribution P over a fixed set of candidate
answers with the model's distribution Q over the same candidates (the model's candidate probabilities
renormalised to sum to 1). Both are smoothed, P' = (P + eps) / sum(P + eps) and likewise Q', and the
module reports, each as mean, standard deviation (ddof=1) and standard error over items:
Jensen-Shannon divergence (natural log, at most ln 2), KL(target || model), reverse KL, cross-entropy
-sum P' ln Q', mode match (same most likely candidate, first index on ties), coverage (the model's total
mass on the candidates before renormalising) and the number of candidates. For comparison with other
benchmarks it also reports the total variation distance 1/2 sum |P - Q| (as Meister et al. 2024 do) and,
over the items whose candidates are an ordered scale (the per-item ordinal flag), the 1-Wasserstein
distance with the K candidates placed at 0, 1/(K-1), ..., 1, sum |CDF_P - CDF_Q| / (K - 1) (as OpinionQA
does); both on P and Q without smoothing, both in [0, 1].
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of list of float): per item, the model's score of each candidate, log-probabilities
        (summed over the candidate's tokens, natural log) by default, or probabilities with
        input_type="prob". Unnormalised: their total is the coverage, at most 1 (within 1e-6), since the
        candidates are mutually exclusive answers.
    references (list of list of float): per item, the target probabilities of the same candidates in the
        same order; each list must sum to 1 within 1e-6.
    ordinal (list of bool, optional): per item, whether its candidates are an ordered scale, in scale order
        (a Likert or agreement rating): the items the 1-Wasserstein distance is computed for.
    The three above are per-row inputs (features): pass them to compute, or in pieces to add_batch/add.
    input_type (str): "logprob" (default) or "prob".
    eps (float): smoothing added to both distributions before renormalising (default 1e-6, the paper's);
        with eps=0 the JS divergence is exactly scipy's jensenshannon(p, q) ** 2, and KL-type values may
        be inf.
    return_per_row (bool): also return the per-item values under "per_row" (default False).
Returns:
    "js_divergence", "js_divergence_std", "js_divergence_sem": the mean JS divergence over items (in
        [0, ln 2]; the headline), its standard deviation and its standard error, both with ddof=1: the
        reference's `js_divergence.mean`, `js_divergence.std` and `js_divergence.se`;
    the same three for "kl_divergence", "reverse_kl", "cross_entropy" (>= 0), "mode_match" (in [0, 1]),
        "coverage" (in [0, 1]; with log-probabilities, and with probabilities only when some item's total
        is not 1) and "n_targets" (candidates per item): "<name>" = the reference's `<name>.mean`,
        "<name>_std" = `<name>.std`, "<name>_sem" = `<name>.se`;
    the same three for "total_variation" (in [0, 1]; not in the reference) and, when ordinal flags are given
        and some item is ordinal, "wasserstein" (in [0, 1]; over the ordinal items only);
    "n_items": the number of items (the reference's `total_n`); "n_ordinal_items" when ordinal is given;
    "per_row": dict of lists, one value per item, when return_per_row=True ("wasserstein" is None for an
        item that is not ordinal).
    std and sem are 0.0 for a single item; if a value is inf (possible only with eps=0) its mean, std and
    sem are inf, never NaN.
Raises:
    ValueError naming the row and the field, as the rows are added and before anything is converted, for
    rows that are not lists, empty candidate lists, values that are not numbers (booleans, strings, None),
    NaN or +inf scores, ragged or mismatched lists, targets that are negative, not finite or do not sum
    to 1, and ordinal flags that are not booleans; and when computing, for probabilities that are negative or above 1, positive log-probabilities,
    candidates whose probabilities sum to more than 1 (candidates that are prefixes of one another must be
    scored with their terminator, include_terminator), and items where the model gives every candidate
    probability 0.
Examples:
    >>> import math
    >>> import evaluate
    >>> import metrics
    >>> alignment = evaluate.load(metrics.path("distributional_alignment"))
    >>> results = alignment.compute(
    ...     predictions=[[math.log(0.5), math.log(0.25)], [math.log(0.9), math.log(0.1)]],
    ...     references=[[2 / 3, 1 / 3], [0.0, 1.0]],
    ...     eps=0.0,
    ... )
    >>> round(results["js_divergence"], 4)
    0.2628
    >>> results["mode_match"], results["n_items"]
    (0.5, 2)
    >>> results["coverage"]
    0.875
    >>> round(results["total_variation"], 4)  # (|2/3 - 2/3| + |1/3 - 1/3|) / 2 and (0.9 + 0.9) / 2
    0.45
    >>> scale = alignment.compute(
    ...     predictions=[[math.log(0.5), math.log(0.5), -math.inf], [math.log(0.9), math.log(0.1)]],
    ...     references=[[0.0, 0.0, 1.0], [0.0, 1.0]],
    ...     ordinal=[True, False],
    ... )
    >>> round(scale["wasserstein"], 4), scale["n_ordinal_items"]  # (1/2 + 1) / 2 over the one ordinal item
    (0.75, 1)
    >>> alignment.add_batch(predictions=[[0.5, 0.25]], references=[[2 / 3, 1 / 3]])
    >>> alignment.add(prediction=[0.9, 0.1], reference=[0.0, 1.0])
    >>> round(alignment.compute(input_type="prob", eps=0.0)["js_divergence"], 4)
    0.2628
"""

FEATURE_SETS = row_inputs.feature_sets(
    required={
        "predictions": datasets.Sequence(datasets.Value("float64")),
        "references": datasets.Sequence(datasets.Value("float64")),
    },
    optional={"ordinal": datasets.Value("bool")},
)
"""predictions and references, with or without the per-item ordinal flags."""

STATISTICS = ("", "_std", "_sem")
"""The suffixes of each value's mean, standard deviation and standard error."""


def summarise(values: np.ndarray) -> tuple[float, float, float]:
    """Mean, std (ddof=1) and standard error; 0.0 spread for one item, and inf rather than NaN for inf values."""
    mean = float(np.mean(values))
    if values.size < 2:
        return mean, 0.0, 0.0
    if not np.all(np.isfinite(values)):
        return mean, float("inf"), float("inf")
    std = float(np.std(values, ddof=1))
    return mean, std, std / float(np.sqrt(values.size))


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class DistributionalAlignment(row_inputs.CheckedMetric):
    """JS divergence, KL, reverse KL, cross-entropy, total variation, 1-Wasserstein (ordinal items), mode match
    and coverage per item, then mean, std and sem."""

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
        check_items(**columns)

    def _compute(
        self,
        predictions: list[list[float]],
        references: list[list[float]],
        input_type: str = "logprob",
        ordinal: list[bool] | None = None,
        eps: float = 1e-6,
        return_per_row: bool = False,
    ) -> dict:
        if not isinstance(return_per_row, bool):
            raise ValueError(f"return_per_row must be True or False, got {return_per_row!r}")
        per_item = item_scores(predictions, references, input_type=input_type, eps=eps, ordinal=ordinal)
        result: dict = {}
        for name, values in per_item.items():
            measured = values[~np.isnan(values)] if name == "wasserstein" else values
            if measured.size:
                for suffix, value in zip(STATISTICS, summarise(measured), strict=True):
                    result[f"{name}{suffix}"] = value
        result["n_items"] = len(predictions)
        if ordinal is not None:
            result["n_ordinal_items"] = int(np.sum(ordinal))
        if return_per_row:
            per_row = {name: values.tolist() for name, values in per_item.items()}
            per_row["mode_match"] = [int(v) for v in per_row["mode_match"]]
            per_row["n_targets"] = [int(v) for v in per_row["n_targets"]]
            if "wasserstein" in per_row:
                per_row["wasserstein"] = [None if np.isnan(v) else v for v in per_row["wasserstein"]]
            result["per_row"] = per_row
        return result
