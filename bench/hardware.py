"""How close training and scoring of the embedded model come to this machine's measured peak, float32 and bf16.

    python bench/hardware.py                  # SmolLM2-135M, rows of 256 tokens, 1 and 4 rows per micro-step
    python bench/hardware.py --rounds 5 --length 512 --rows 1 2 --json hardware.json

1. The achievable peak: an n x n matmul (``--matmul-size``) in float32 and in bf16 on every thread this process
   may use, the best of several calls.
2. A training micro-step as `tuning.run` takes it: the embedded model (float32 weights), ``--rows`` packed rows of
   ``--length`` tokens of real training episodes (synthetic tasks, spectrum format) flattened padding-free by
   TRL's collator, TRL's fused LM head (log-probs without the full logits), backward, gradient clipping
   and the optimizer transformers' Trainer builds (fused AdamW). bf16 is mixed precision as accelerate applies it
   with ``bf16=True``: the same float32 model under ``torch.autocast("cpu", torch.bfloat16)``.
3. Scoring as `tuning.eval` runs it: a forward pass over ``--score-rows`` rows of ``--length`` tokens, logits at
   every position, in float32 and with the weights in bf16 (``--dtype bfloat16``).

FLOPs are the usual estimate: 6 per weight per token for training (2 forward, 4 backward), 2 for scoring, where
the LM head (the tied embedding matrix) counts at the positions it is applied to: in training on a CPU TRL's fused
head projects every position but a row's last, labelled or not (on a GPU with Triton, only labelled ones),
plus, separately, attention: 4·layers·width·S per token forward (S the episode's length, full square, not causal).
Every figure is a fraction of the measured peak of the same precision, and of the bf16 peak.

Load on a shared machine moves every timing: rounds alternate all measurements, and the best round of each is the
achievable figure (the median is printed beside it). A profile of one training micro-step per precision
(torch.profiler) attributes its wall time to matmuls, the LM head and loss, attention, the optimizer, precision
casts, other element-wise work and the Python/framework time between operators, and the bench names what keeps
bf16 training under the goal of 50% of the bf16 peak.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # first: this folder's metrics.py must not shadow the metrics package
import tuning  # noqa: E402, F401 - before torch: OpenMP's passive wait policy, as tuning.run and tuning.eval run

GOAL = 0.5  # bf16 training, as a fraction of the measured bf16 peak
TASKS = ["coinflip", "cards", "numeric_dist"]  # synthetic training tasks: no download needed

#: Category -> fragments of the operator's own name or of an enclosing range (lower case); the first match wins.
#: The enclosing ranges are profiler events: TRL's fused head (``ChunkedLogProbFunction``), autograd's backward
#: nodes (``...ScaledDotProductFlashAttentionForCpuBackward0``), the optimizer step and our gradient clipping.
ENCLOSING = (
    ("LM head + loss", ("chunkedlogprob", "log_softmax", "nll_loss", "cross_entropy")),
    ("attention", ("scaled_dot_product", "scaleddotproduct", "flash_attention", "flashattention")),
    ("optimizer + clipping", ("optimizer.step", "clip_grad_norm")),
    ("embedding", ("embedding",)),
)
OWN = (
    ("precision casts", ("aten::copy_", "aten::_to_copy", "aten::to")),
    ("matmul (layers)", ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul", "aten::linear")),
)
ELEMENTWISE = "other element-wise (norm, activation, rotary, residual)"
FRAMEWORK = "Python + framework (between operators, autograd engine)"


@dataclass
class Timings:
    """Seconds per call of one measurement, over rounds."""

    flops: float
    seconds: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.seconds)

    def gflops(self, seconds: float | None = None) -> float:
        return self.flops / (self.best if seconds is None else seconds) / 1e9


def matmul_timer(n: int, dtype: Any) -> tuple[Callable[[], None], float]:
    import torch

    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    return (lambda: a @ b), 2.0 * n**3


def packed_rows(tokenizer: Any, length: int, count: int) -> list[dict]:
    """The ``count`` fullest packed rows of ``length`` tokens of real training episodes, as `tuning.run` packs."""
    from tuning.run.data import build_train_dataset, load_episodes
    from tuning.run.packing import pack

    episodes, _ = load_episodes(TASKS, "train")
    data = build_train_dataset(episodes, tokenizer, max_length=length, max_episodes=4 * count)
    packed, _ = pack(data.dataset, length)
    rows = [{k: row[k] for k in ("input_ids", "labels", "seq_lengths")} for row in packed]
    return sorted(rows, key=lambda row: -len(row["input_ids"]))[:count]


def micro_batch(tokenizer: Any, rows: list[dict]) -> dict:
    """``rows`` collated as the trainer collates them: flattened padding-free, position ids per episode."""
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    batch = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id, padding_free=True)(rows)
    batch["episode_lengths"] = [n for row in rows for n in row["seq_lengths"]]
    return batch


def model_flops(
    model: Any, tokens: int, head_tokens: int, episode_lengths: list[int], per_weight: int
) -> dict:
    """Weight FLOPs (``per_weight`` per weight per token, the LM head only at ``head_tokens``; an untied input
    embedding is a lookup, not counted) and attention (``per_weight / 2`` times the forward's 4·width·n² per layer
    and episode of n tokens)."""
    config = model.config
    head, lookup = model.get_output_embeddings().weight, model.get_input_embeddings().weight
    weights = sum(p.numel() for p in model.parameters()) - (lookup.numel() if lookup is not head else 0)
    head = head.numel()
    dense = per_weight * ((weights - head) * tokens + head * head_tokens)
    square = sum(n * n for n in episode_lengths)
    attention = per_weight // 2 * 4 * config.num_hidden_layers * config.hidden_size * square
    return {"dense": float(dense), "attention": float(attention), "tokens": tokens}


def train_step(model: Any, optimizer: Any, batch: dict, bf16: bool) -> None:
    """One micro-step of the trainer's computation: fused-head loss, backward, clipping, optimizer."""
    import torch

    inputs = {k: v for k, v in batch.items() if k != "episode_lengths"}
    with torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
        out = model(**inputs, use_cache=False, fused_lm_head=True)
    loss = -out.log_probs.sum() / out.label_mask.sum().clamp(min=1)
    loss.backward()
    with torch.profiler.record_function("clip_grad_norm"):
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def score_step(model: Any, ids: Any) -> None:
    import torch

    with torch.inference_mode():
        model(input_ids=ids, use_cache=False).logits.float()


def categorise(chain: list[str]) -> str:
    """The category of a profiler event from its name and its enclosing events' names (innermost first)."""
    lower = [name.lower() for name in chain]
    for category, fragments in ENCLOSING:
        if any(f in name for name in lower for f in fragments):
            return category
    for category, names in OWN:
        if lower[0] in names:
            return category
    return ELEMENTWISE if lower[0].startswith("aten::") else FRAMEWORK


def profile_step(step: Callable[[], None]) -> dict[str, float]:
    """Wall-time shares of one call of ``step`` by category: every profiled event's own (self) time goes to the
    category of it and its enclosing events, and the wall time no event covers is Python and framework time."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        started = time.perf_counter()
        step()
        wall = time.perf_counter() - started
    seconds: dict[str, float] = {}
    for event in prof.events():
        chain, parent = [event.name], event.cpu_parent
        while parent is not None:
            chain.append(parent.name)
            parent = parent.cpu_parent
        category = categorise(chain)
        seconds[category] = seconds.get(category, 0.0) + event.self_cpu_time_total / 1e6
    seconds[FRAMEWORK] = seconds.get(FRAMEWORK, 0.0) + max(0.0, wall - sum(seconds.values()))
    return {**{k: v / wall for k, v in seconds.items()}, "wall (s)": wall}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from transformers import Trainer
    from trl import SFTConfig
    from trl.trainer.utils import add_fused_lm_head

    from tuning.distributed import cpu_threads
    from tuning.loading import load_model_and_tokenizer
    from tuning.precision import bf16_support

    torch.set_num_threads(args.threads or cpu_threads())
    load_before = os.getloadavg()[0]
    support = bf16_support("cpu")
    model, tokenizer = load_model_and_tokenizer("smollm2-135m-instruct", dtype="float32", device="cpu")
    scorer = {"float32": copy.deepcopy(model).eval(), "bf16": copy.deepcopy(model).to(torch.bfloat16).eval()}
    add_fused_lm_head(model, outputs=("log_probs", "entropy", "is_top1"))  # as SFTTrainer does
    model.train()
    config = SFTConfig(output_dir=str(REPO / "runs"), use_cpu=True, report_to=[], learning_rate=5e-5)
    optimizer_cls, optimizer_kwargs = Trainer.get_optimizer_cls_and_kwargs(config)
    optimizer = optimizer_cls(model.parameters(), **optimizer_kwargs)
    precisions = {"float32": torch.float32, "bf16": torch.bfloat16}

    timers: dict[str, tuple[Callable[[], None], Timings]] = {}
    for name, dtype in precisions.items():
        call, flops = matmul_timer(args.matmul_size, dtype)
        timers[f"peak/{name}"] = call, Timings(flops)
    flops_of: dict[str, dict] = {}
    rows_of_data = packed_rows(tokenizer, args.length, max(args.rows) + args.score_rows)
    for rows in args.rows:
        batch = micro_batch(tokenizer, rows_of_data[:rows])
        ids = batch["input_ids"]
        projected = ids.shape[0] * (
            ids.shape[1] - 1
        )  # TRL's fused head off Triton: every position but the last
        flops = model_flops(model, ids.numel(), projected, batch["episode_lengths"], 6)
        flops["labelled share"] = float((batch["labels"][:, 1:] != -100).sum()) / projected
        flops_of[f"train/{rows}"] = flops
        for name in precisions:
            step = lambda b=batch, bf16=name == "bf16": train_step(model, optimizer, b, bf16)  # noqa: E731
            timers[f"train/{rows}/{name}"] = step, Timings(flops["dense"])
    stream = torch.tensor(
        [t for row in rows_of_data for t in row["input_ids"]]
    )  # rows of any fill, cut to length
    score_batch = stream[: args.score_rows * args.length].view(args.score_rows, args.length)
    flops_of["score"] = model_flops(
        model, score_batch.numel(), score_batch.numel(), [args.length] * args.score_rows, 2
    )
    for name in precisions:
        step = lambda m=scorer[name]: score_step(m, score_batch)  # noqa: E731
        timers[f"score/{name}"] = step, Timings(flops_of["score"]["dense"])

    for round_index in range(args.rounds + 1):  # round 0 warms every path up and is not counted
        for call, timing in timers.values():
            best = float("inf")
            for _ in range(args.repeats):
                started = time.perf_counter()
                call()
                best = min(best, time.perf_counter() - started)
            if round_index:
                timing.seconds.append(best)
        print(f"round {round_index}/{args.rounds} done", file=sys.stderr, flush=True)

    profiles = {}
    if args.profile:
        rows = args.rows[0]
        for name in precisions:
            profiles[name] = profile_step(timers[f"train/{rows}/{name}"][0])
    return {
        "load average (1 min) before, after": [load_before, os.getloadavg()[0]],
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "bf16 support": support.evidence,
        "bf16 native": support.native,
        "parameters": sum(p.numel() for p in model.parameters()),
        "timings": {k: {"flops": t.flops, "seconds": t.seconds} for k, (_, t) in timers.items()},
        "flops": flops_of,
        "profile rows": args.rows[0],
        "profiles": profiles,
        "args": vars(args),
    }


def report(result: dict[str, Any]) -> str:
    """The tables and the verdict, in Markdown."""
    t = {k: Timings(v["flops"], v["seconds"]) for k, v in result["timings"].items()}
    peak = {name: t[f"peak/{name}"].gflops() for name in ("float32", "bf16")}
    a = result["args"]
    lines = [
        f"CPU: {result['bf16 support']}; torch {result['torch']}, {result['threads']} threads; "
        f"embedded SmolLM2-135M ({result['parameters'] / 1e6:.1f}M weights); best of {a['rounds']} rounds "
        f"(median in brackets); load average {result['load average (1 min) before, after'][0]:.1f} before, "
        f"{result['load average (1 min) before, after'][1]:.1f} after",
        "",
        f"Peak ({a['matmul_size']}x{a['matmul_size']} matmul): float32 {peak['float32']:.0f} GFLOP/s, "
        f"bf16 {peak['bf16']:.0f} GFLOP/s ({peak['bf16'] / peak['float32']:.2f}x)",
        "",
        "| what | precision | s per call | tokens/s | GFLOP/s (weights) | of its peak | of bf16 peak | "
        "with attention, of its peak |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    keys = [k for k in t if not k.startswith("peak/")]
    for key in keys:
        kind, *rest = key.split("/")
        name = rest[-1]
        flops = result["flops"]["score" if kind == "score" else f"train/{rest[0]}"]
        tokens = flops["tokens"]
        timing = t[key]
        median = statistics.median(timing.seconds)
        what = (
            f"scoring, {a['score_rows']} x {a['length']} tokens"
            if kind == "score"
            else f"training micro-step, {rest[0]} x {a['length']} tokens"
        )
        gflops = timing.gflops()
        with_attention = (flops["dense"] + flops["attention"]) / timing.best / 1e9
        lines.append(
            f"| {what} | {name} | {timing.best:.2f} ({median:.2f}) | {tokens / timing.best:,.0f} | {gflops:.0f} | "
            f"{gflops / peak[name]:.0%} | {gflops / peak['bf16']:.0%} | {with_attention / peak[name]:.0%} |"
        )
    lines.append("")
    for kind in [k for k in result["flops"] if k != "score"] + ["score"]:
        ratio = t[f"{kind}/float32"].best / t[f"{kind}/bf16"].best
        lines.append(f"- bf16 / float32 speed-up, {kind.replace('/', ', rows ')}: {ratio:.2f}x")
    if result["profiles"]:
        names = list(result["profiles"])
        lines += [
            "",
            f"Where a training micro-step's wall time goes ({result['profile rows']} x {a['length']} tokens, "
            "torch.profiler, one step each):",
            "",
            "| category | " + " | ".join(names) + " |",
            "|---|" + "---:|" * len(names),
        ]
        categories = sorted(
            {c for p in result["profiles"].values() for c in p if c != "wall (s)"},
            key=lambda c: -result["profiles"][names[-1]].get(c, 0.0),
        )
        for c in categories:
            lines.append(
                f"| {c} | " + " | ".join(f"{result['profiles'][n].get(c, 0.0):.0%}" for n in names) + " |"
            )
        lines.append(
            "| wall (s), profiled | "
            + " | ".join(f"{result['profiles'][n]['wall (s)']:.2f}" for n in names)
            + " |"
        )
    lines += ["", verdict(result, t, peak)]
    return "\n".join(lines)


def verdict(result: dict[str, Any], t: dict[str, Timings], peak: dict[str, float]) -> str:
    """Whether bf16 training reaches the goal, and what limits it where it does not."""
    rows = max(result["args"]["rows"], key=lambda r: t[f"train/{r}/bf16"].gflops())
    fraction = t[f"train/{rows}/bf16"].gflops() / peak["bf16"]
    head = f"bf16 training at best {fraction:.0%} of the measured bf16 peak ({rows} row(s) per micro-step); goal {GOAL:.0%}: "
    if fraction >= GOAL:
        return head + "met."
    profile = result["profiles"].get("bf16")
    if not profile:
        return head + "not met (run with --profile to see why)."
    limits = sorted(
        ((c, s) for c, s in profile.items() if c not in ("wall (s)", "matmul (layers)")),
        key=lambda cs: -cs[1],
    )[:3]
    named = ", ".join(f"{c} {s:.0%}" for c, s in limits)
    matmul = profile.get("matmul (layers)", 0.0)
    return head + f"not met. The layers' matmuls take {matmul:.0%} of a step; the rest goes to {named}."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--length", type=int, default=256, help="tokens per packed row (the quick recipe's 256)"
    )
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=[1, 4],
        help="packed rows per training micro-step (each measured)",
    )
    parser.add_argument("--score-rows", type=int, default=4, help="rows per scoring forward pass")
    parser.add_argument("--matmul-size", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds after one warm-up round")
    parser.add_argument(
        "--repeats", type=int, default=2, help="calls per measurement per round (best counts)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: every core we may use)"
    )
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="skip the profile")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = measure(args)
    print(report(result))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
