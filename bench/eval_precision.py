"""What scoring in bf16 (``tuning.eval --dtype bfloat16``) does to the figures, against float32 on the same items.

    python bench/eval_precision.py                                  # the quick recipe's steer + alignment tasks
    python bench/eval_precision.py --configs flight urn states numeric_dist --max-instances 20

The embedded model is evaluated twice in one process, weights in float32 and in bfloat16, on the same episodes,
k and rows (steerability and distributional alignment: the evaluations that score, not sample). Printed: the
size of the differences per scored output (loss in nats, exact match flips) and per alignment row (JS
divergence), the headline of each precision, and the bf16/float32 time ratio. Refused on a CPU without bf16
instructions, as ``tuning.eval`` refuses it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # first: this folder's metrics.py must not shadow the metrics package
import tuning  # noqa: E402, F401 - before torch: OpenMP's passive wait policy, as tuning.eval runs


def differences(a: list[float], b: list[float]) -> dict[str, float]:
    """Sizes of ``b - a`` item by item."""
    gaps = [abs(y - x) for x, y in zip(a, b, strict=True)]
    return {"n": len(gaps), "mean": statistics.fmean(gaps), "median": statistics.median(gaps), "max": max(gaps),
            "mean_signed": statistics.fmean(y - x for x, y in zip(a, b, strict=True)),
            "scale": statistics.fmean(abs(x) for x in a)}  # fmt: skip


def evaluate(dtype: str, opts: Any) -> tuple[Any, float]:
    from tuning.eval.evaluation import evaluate_lm
    from tuning.lm import LM
    from tuning.loading import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer("smollm2-135m-instruct", dtype=dtype, device="cpu")
    started = time.perf_counter()
    results = evaluate_lm(LM(model, tokenizer, progress=False), "spectrum", opts)
    return results, time.perf_counter() - started


def compare(base: Any, other: Any) -> dict[str, dict[str, float]]:
    """Per-output loss and exact match (steerability) and per-row JS (alignment), item by item."""
    out: dict[str, dict[str, float]] = {}
    for name, task in base.steerability.tasks.items() if base.steerability else []:
        twin = other.steerability.tasks[name]
        if task.metrics and twin.metrics:
            assert task.episode_ids == twin.episode_ids, f"{name}: different episodes"
            out[f"{name}: loss per output (nats)"] = differences(task.outputs["loss"], twin.outputs["loss"])
            flips = sum(x != y for x, y in zip(task.outputs["all_acc"], twin.outputs["all_acc"], strict=True))
            out[f"{name}: exact match flips"] = {"n": len(task.outputs["all_acc"]), "flips": flips}
    for name, task in base.alignment.tasks.items() if base.alignment else []:
        twin = other.alignment.tasks[name]
        if task.metrics and twin.metrics:
            assert task.row_ids == twin.row_ids, f"{name}: different rows"
            out[f"{name}: JS per row"] = differences(task.js_per_row, twin.js_per_row)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=["flight", "urn", "states"])
    parser.add_argument("--max-instances", type=int, default=6, help="episodes / rows per task")
    args = parser.parse_args(argv)

    import torch

    from tuning.distributed import cpu_threads
    from tuning.eval.options import EvalOptions
    from tuning.eval.report import headline_table
    from tuning.precision import require_bf16

    try:
        support = require_bf16("cpu", "bench/eval_precision.py", "nothing to compare on this CPU")
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    torch.set_num_threads(cpu_threads())
    opts = EvalOptions(configs=args.configs, max_instances=args.max_instances, progress=False)
    runs = {dtype: evaluate(dtype, opts) for dtype in ("float32", "bfloat16")}
    (base, base_s), (bf16, bf16_s) = runs["float32"], runs["bfloat16"]
    print(f"CPU: {support.evidence}; {torch.get_num_threads()} threads; configs {' '.join(args.configs)}, "
          f"{args.max_instances} instances per task\n")  # fmt: skip
    print("| items | n | mean abs diff | median | max | mean signed (bf16 - float32) | mean of float32 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for what, d in compare(base, bf16).items():
        if "flips" in d:
            print(f"| {what} | {d['n']} | {d['flips']} of {d['n']} | | | | |")
        else:
            print(f"| {what} | {d['n']} | {d['mean']:.2e} | {d['median']:.2e} | {d['max']:.2e} | "
                  f"{d['mean_signed']:+.2e} | {d['scale']:.3g} |")  # fmt: skip
    print("\n" + headline_table(base, bf16, labels=["float32", "bfloat16"]))
    print(
        f"\nevaluation time: float32 {base_s:.0f} s, bfloat16 {bf16_s:.0f} s: bf16/float32 {bf16_s / base_s:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
