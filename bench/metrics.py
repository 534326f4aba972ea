"""Throughput of the alignment and steerability metrics, against a naive per-row Python baseline.

    python bench/metrics.py [--alignment-rows 100000] [--steerability-rows 10000] [--seed 0]

Both metrics are timed twice: the numpy core alone, and end to end through ``metrics.load(...).compute``
(which adds the checks of the rows as given and evaluate's Arrow round trip). The baseline computes the same numbers with one Python loop
iteration per row, in the same run on the same data; its results are checked against the metric's, so
the ratio compares equal work.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import metrics  # noqa: E402
from metrics.distributional_alignment.divergences import item_scores  # noqa: E402
from metrics.steerability.calibration import expected_calibration_error  # noqa: E402
from metrics.steerability.records import build_records  # noqa: E402


def timed(work: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = work()
    return time.perf_counter() - start, value


# --- data ------------------------------------------------------------------------------------------------


def alignment_rows(
    count: int, rng: np.random.Generator
) -> tuple[list[list[float]], list[list[float]], list[bool]]:
    """Items of 2-9 candidates: model log-probabilities with some mass off the candidates, targets, and whether
    the candidates are a scale (half of them)."""
    sizes = rng.integers(2, 10, count)
    predictions = [np.log(rng.dirichlet(np.ones(size)) * rng.uniform(0.2, 1.0)).tolist() for size in sizes]
    references = [rng.dirichlet(np.ones(size)).tolist() for size in sizes]
    return predictions, references, (rng.random(count) < 0.5).tolist()


def steerability_rows(count: int, rng: np.random.Generator) -> dict:
    """Outputs of 1-20 tokens at 0-7 shots with a few off-gold log-probabilities each."""
    sizes = rng.integers(1, 21, count)
    return {
        "token_logprobs": [np.log(rng.uniform(0.005, 1.0, size)).tolist() for size in sizes],
        "token_correct": [(rng.random(size) < 0.6).astype(int).tolist() for size in sizes],
        "shots": rng.integers(0, 8, count).tolist(),
        "tasks": [f"task_{index % 15}" for index in range(count)],
        "incorrect_logprobs": [np.log(rng.uniform(0.001, 0.4, 3)).tolist() for _ in sizes],
    }


# --- naive baselines: one Python iteration per row -------------------------------------------------------

NAIVE_ALIGNMENT_KEYS = (
    "js_divergence",
    "kl_divergence",
    "reverse_kl",
    "cross_entropy",
    "mode_match",
    "coverage",
    "total_variation",
    "wasserstein",
)


def naive_alignment(
    predictions: list[list[float]], references: list[list[float]], ordinal: list[bool], eps: float = 1e-6
) -> dict:
    result: dict[str, list[float]] = {name: [] for name in NAIVE_ALIGNMENT_KEYS}
    for scores, target, scale in zip(predictions, references, ordinal, strict=True):
        mass = [math.exp(value) for value in scores]
        coverage = sum(mass)
        plain = [value / coverage for value in mass]
        result["total_variation"].append(0.5 * sum(abs(a - b) for a, b in zip(target, plain, strict=True)))
        gaps, ahead = [], 0.0
        for a, b in zip(target[:-1], plain[:-1], strict=True):
            ahead += a - b
            gaps.append(abs(ahead))
        result["wasserstein"].append(sum(gaps) / (len(target) - 1) if scale else math.nan)
        model = [value / coverage + eps for value in mass]
        model_total, target_total = sum(model), sum(value + eps for value in target)
        q = [value / model_total for value in model]
        p = [(value + eps) / target_total for value in target]
        mid = [(a + b) / 2 for a, b in zip(p, q, strict=True)]
        result["js_divergence"].append(
            0.5 * sum(a * math.log(a / m) for a, m in zip(p, mid, strict=True))
            + 0.5 * sum(b * math.log(b / m) for b, m in zip(q, mid, strict=True))
        )
        result["kl_divergence"].append(sum(a * math.log(a / b) for a, b in zip(p, q, strict=True)))
        result["reverse_kl"].append(sum(b * math.log(b / a) for a, b in zip(p, q, strict=True)))
        result["cross_entropy"].append(-sum(a * math.log(b) for a, b in zip(p, q, strict=True)))
        result["mode_match"].append(float(p.index(max(p)) == q.index(max(q))))
        result["coverage"].append(coverage)
    return result


def naive_steerability(rows: dict) -> dict:
    loss, all_acc, first_acc, acc, shots_of = [], [], [], [], []
    gold, other = [], []
    for logprobs, correct, shots, incorrect in zip(
        rows["token_logprobs"], rows["token_correct"], rows["shots"], rows["incorrect_logprobs"], strict=True
    ):
        loss.append(-sum(logprobs))
        all_acc.append(min(correct))
        first_acc.append(correct[0])
        acc.append(sum(correct) / len(correct))
        shots_of.append(shots)
        gold.extend(logprobs)
        other.extend(incorrect)
    selected = [index for index, shots in enumerate(shots_of) if shots >= 1]
    result = {"loss_geq_1": sum(loss[i] for i in selected) / len(selected)}
    result["all_acc_geq_1"] = sum(all_acc[i] for i in selected) / len(selected)
    cut = math.log(0.01)
    pooled = [value for value in gold if value > cut] + [value for value in other if value > cut]
    correct_kept = [value for value in gold if value > cut]
    pooled_sorted = sorted(pooled)
    bins = min(10, len(pooled))
    edges = [float(np.percentile(pooled_sorted, 100 * i / bins)) for i in range(bins + 1)]
    gaps = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        members = [value for value in pooled if low <= value <= high]
        if members:
            hits = sum(1 for value in correct_kept if low <= value <= high)
            gaps.append(abs(sum(math.exp(v) for v in members) / len(members) - hits / len(members)))
    result["ece"] = sum(gaps) / len(gaps)
    return result


# --- vectorised runs -------------------------------------------------------------------------------------


def vector_steerability(rows: dict) -> dict:
    records = build_records(**rows)
    selected = records.shots >= 1
    ece = expected_calibration_error(records.gold_logprobs, records.other_logprobs)
    return {
        "loss_geq_1": float(records.loss[selected].mean()),
        "all_acc_geq_1": float(records.all_acc[selected].mean()),
        "ece": ece["ece"],
    }


def report(name: str, rows: int, core: float, end_to_end: float, naive: float) -> None:
    print(
        f"{name:<26} {rows:>8,d} rows | core {core:6.3f} s {rows / core:>12,.0f} rows/s | "
        f"evaluate.compute {end_to_end:6.3f} s {rows / end_to_end:>10,.0f} rows/s | "
        f"naive loop {naive:6.3f} s | speed-up core x{naive / core:5.1f}, end to end x{naive / end_to_end:4.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alignment-rows", type=int, default=100_000)
    parser.add_argument("--steerability-rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    predictions, references, ordinal = alignment_rows(args.alignment_rows, rng)
    alignment = metrics.load("distributional_alignment")
    core, scores = timed(lambda: item_scores(predictions, references, ordinal=ordinal))
    end_to_end, result = timed(
        lambda: alignment.compute(predictions=predictions, references=references, ordinal=ordinal)
    )
    naive, expected = timed(lambda: naive_alignment(predictions, references, ordinal))
    for key, values in expected.items():
        np.testing.assert_allclose(scores[key], values, rtol=1e-6, atol=1e-9, err_msg=key)
        assert math.isclose(result[key], float(np.nanmean(values)), rel_tol=1e-6, abs_tol=1e-9), key
    report("distributional_alignment", args.alignment_rows, core, end_to_end, naive)

    rows = steerability_rows(args.steerability_rows, rng)
    steerability = metrics.load("steerability")
    core, got = timed(lambda: vector_steerability(rows))
    end_to_end, result = timed(lambda: steerability.compute(**rows))
    naive, expected = timed(lambda: naive_steerability(rows))
    result["ece"] = result["calibration"]["ece"]
    for key, value in expected.items():
        assert math.isclose(got[key], value, rel_tol=1e-9, abs_tol=1e-12), (key, got[key], value)
        assert math.isclose(result[key], value, rel_tol=1e-9, abs_tol=1e-12), (key, result[key], value)
    report("steerability", args.steerability_rows, core, end_to_end, naive)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
