"""Distributional alignment: how far a model's distribution over candidate answers is from a target one.

An `evaluate` module (spec B.4-B.6). Each item is a list of candidate answers with the target
probabilities (e.g. the share of a population giving each answer) and the model's log-probabilities of
the same candidates; the headline number is the mean Jensen-Shannon divergence (natural log).
Scoring a model (spec B.2-B.3) is the job of the companion scoring code, not of this module.
"""

from __future__ import annotations

import datasets
import evaluate
import numpy as np

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
mass on the candidates before renormalising) and the number of candidates.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of list of float): per item, the model's score of each candidate, log-probabilities
        (summed over the candidate's tokens, natural log) by default, or probabilities with
        input_type="prob". Unnormalised: their total is the coverage.
    references (list of list of float): per item, the target probabilities of the same candidates in the
        same order; each list must sum to 1 within 1e-6.
    input_type (str): "logprob" (default) or "prob".
    eps (float): smoothing added to both distributions before renormalising (default 1e-6, the spec's);
        with eps=0 the JS divergence is exactly scipy's jensenshannon(p, q) ** 2, and KL-type values may
        be inf.
    return_per_row (bool): also return the per-item values under "per_row" (default False).
Returns:
    "js_divergence.mean", "js_divergence.std", "js_divergence.se": JS divergence in [0, ln 2];
    the same three for "kl_divergence", "reverse_kl", "cross_entropy" (>= 0), "mode_match" (in [0, 1]),
    "coverage" (>= 0; with log-probabilities, and with probabilities only when some item's total is not
    1) and "n_targets" (candidates per item);
    "total_n": the number of items;
    "per_row": dict of lists, one value per item, when return_per_row=True.
    std and se use ddof=1 and are 0.0 for a single item; if a value is inf (possible only with eps=0)
    its mean, std and se are inf, never NaN.
Raises:
    ValueError naming the row and the field for ragged or mismatched lists, empty candidate lists,
    NaN or infinite probabilities, negative probabilities, positive log-probabilities, targets that do not
    sum to 1, and items where the model gives every candidate probability 0.
Examples:
    >>> import math
    >>> import evaluate
    >>> alignment = evaluate.load("metrics/distributional_alignment")
    >>> results = alignment.compute(
    ...     predictions=[[math.log(0.5), math.log(0.25)], [math.log(0.9), math.log(0.1)]],
    ...     references=[[2 / 3, 1 / 3], [0.0, 1.0]],
    ...     eps=0.0,
    ... )
    >>> round(results["js_divergence.mean"], 4)
    0.2628
    >>> results["mode_match.mean"], results["total_n"]
    (0.5, 2)
    >>> results["coverage.mean"]
    0.875
"""

STATISTICS = ("mean", "std", "se")


def summarise(values: np.ndarray) -> dict[str, float]:
    """Mean, std (ddof=1) and standard error; 0.0 spread for one item, and inf rather than NaN for inf values."""
    mean = float(np.mean(values))
    if values.size < 2:
        return {"mean": mean, "std": 0.0, "se": 0.0}
    if not np.all(np.isfinite(values)):
        return {"mean": mean, "std": float("inf"), "se": float("inf")}
    std = float(np.std(values, ddof=1))
    return {"mean": mean, "std": std, "se": std / float(np.sqrt(values.size))}


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class DistributionalAlignment(evaluate.Metric):
    """JS divergence, KL, reverse KL, cross-entropy, mode match and coverage per item, then mean/std/se."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            module_type="metric",
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("float64")),
                    "references": datasets.Sequence(datasets.Value("float64")),
                }
            ),
            reference_urls=["https://arxiv.org/abs/2510.06084"],
        )

    def _compute(
        self,
        predictions: list[list[float]],
        references: list[list[float]],
        input_type: str = "logprob",
        eps: float = 1e-6,
        return_per_row: bool = False,
    ) -> dict:
        per_item = item_scores(predictions, references, input_type=input_type, eps=eps)
        result: dict = {}
        for name, values in per_item.items():
            for statistic, value in summarise(values).items():
                result[f"{name}.{statistic}"] = value
        result["total_n"] = len(predictions)
        if return_per_row:
            per_row = {name: values.tolist() for name, values in per_item.items()}
            per_row["mode_match"] = [int(v) for v in per_row["mode_match"]]
            per_row["n_targets"] = [int(v) for v in per_row["n_targets"]]
            result["per_row"] = per_row
        return result
