"""How close training and scoring of the embedded model come to this machine's measured peak, float32 and bf16.

    python bench/hardware.py                  # SmolLM2-135M, the quick recipe's optimizer step of 4 x 256 tokens
    python bench/hardware.py --rounds 5 --length 512 --step-rows 8 --micro-rows 1 8 --json hardware.json

1. The achievable peak: an n x n matmul (``--matmul-size``) in float32 and in bf16 on every thread this process
   may use, the best of several calls.
2. A training optimizer step as `tuning.run` takes it: the embedded model (float32 weights), ``--step-rows``
   packed rows of ``--length`` tokens of real training episodes (the synthetic tasks of ``bench/gpu.py``, spectrum format) in micro-steps
   of ``--micro-rows`` rows (``per_device_train_batch_size``; gradient accumulation makes up the rest), each
   flattened padding-free by TRL's collator and run through TRL's fused LM head (log-probs without the full
   logits) and backward; then gradient clipping and the optimizer transformers' Trainer builds (fused AdamW). bf16
   is mixed precision as accelerate applies it with ``bf16=True``: the same float32 model under
   ``torch.autocast("cpu", torch.bfloat16)``.
3. Scoring as `tuning.eval` runs it: a forward pass over ``--score-rows`` rows of ``--length`` tokens, logits at
   every position, in float32 and with the weights in bf16 (``--dtype bfloat16``).

FLOPs are the usual model-FLOPs estimate: 6 per weight per token for training (2 forward, 4 backward), 2 for
scoring, where the LM head (the tied embedding matrix) counts at the positions it is applied to: in training on a
CPU, TRL's fused head projects every position but a row's last, labelled or not (on a GPU with Triton, only the
labelled ones); its recomputation of the logits in the backward pass is not counted, like activation
recomputation. Attention is reported separately: 4·layers·width·n² per episode of n tokens forward (full square,
not causal), three times that for training. Every figure is a fraction of the measured peak of the same
precision, and of the bf16 peak.

Load on a shared machine moves every timing: rounds alternate all measurements, and the best round of each is the
achievable figure (the median is printed beside it). A profile of one optimizer step per setting
(torch.profiler) attributes its wall time to the layers' matmuls, the LM head and loss, attention, the optimizer
and clipping, precision casts, other element-wise work and the Python/framework time between operators, and the
bench names what keeps bf16 training under the goal of 50% of the bf16 peak.
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
    fractions: list[float] = field(
        default_factory=list
    )  # of the peak measured just before and after, per round

    @property
    def best(self) -> float:
        return min(self.seconds)

    def gflops(self, seconds: float | None = None) -> float:
        return self.flops / (self.best if seconds is None else seconds) / 1e9


def best_of(call: Callable[[], None], calls: int) -> float:
    """The shortest of ``calls`` timed calls, in seconds."""
    best = float("inf")
    for _ in range(calls):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def matmul_timer(n: int, dtype: Any) -> tuple[Callable[[], None], float]:
    import torch

    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    return (lambda: a @ b), 2.0 * n**3


def packed_rows(tokenizer: Any, length: int, count: int) -> list[dict]:
    """The ``count`` fullest packed rows of ``length`` tokens of real training episodes, as `tuning.run` packs."""
    from bench.gpu import train_rows

    packed, _ = train_rows(tokenizer, length, episodes=4 * count)
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


def train_step(model: Any, optimizer: Any, micro_batches: list[dict], bf16: bool, fused: bool = True) -> None:
    """One optimizer step of the trainer's computation: per micro-batch the loss (TRL's fused head; with
    ``fused=False`` transformers' own loss over full logits), normalised by the step's labelled tokens as the
    trainer does under gradient accumulation, and backward; clipping; the update."""
    import torch

    labelled = sum(int((b["labels"][:, 1:] != -100).sum()) for b in micro_batches)
    for batch in micro_batches:
        inputs = {k: v for k, v in batch.items() if k != "episode_lengths"}
        with torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
            if fused:
                loss = -model(**inputs, use_cache=False, fused_lm_head=True).log_probs.sum() / max(
                    labelled, 1
                )
            else:
                loss = model(**inputs, use_cache=False, num_items_in_batch=max(labelled, 1)).loss
        loss.backward()
    with torch.profiler.record_function("clip_grad_norm"):
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def step_flops(model: Any, micro_batches: list[dict]) -> dict:
    """`model_flops` of an optimizer step, the LM head at every position but each row's last (TRL off Triton)."""
    total: dict[str, float] = {}
    for batch in micro_batches:
        ids = batch["input_ids"]
        flops = model_flops(
            model, ids.numel(), ids.shape[0] * (ids.shape[1] - 1), batch["episode_lengths"], 6
        )
        flops["labelled"] = int((batch["labels"][:, 1:] != -100).sum())
        for key, value in flops.items():
            total[key] = total.get(key, 0) + value
    total["labelled share"] = total["labelled"] / total["tokens"]
    return total


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
    rows_of_data = packed_rows(tokenizer, args.length, max(args.step_rows, args.score_rows))
    step_data = rows_of_data[: args.step_rows]
    for micro in args.micro_rows:
        batches = [micro_batch(tokenizer, step_data[i : i + micro]) for i in range(0, len(step_data), micro)]
        flops = flops_of[f"train/{micro}"] = step_flops(model, batches)
        for name in precisions:
            step = lambda b=batches, bf16=name == "bf16": train_step(model, optimizer, b, bf16)  # noqa: E731
            timers[f"train/{micro}/{name}"] = step, Timings(flops["dense"])
            if args.plain_head and micro == args.micro_rows[0]:
                plain = lambda b=batches, bf16=name == "bf16": train_step(model, optimizer, b, bf16, False)  # noqa: E731
                timers[f"plain/{micro}/{name}"] = plain, Timings(flops["dense"])
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
        for key, (call, timing) in timers.items():
            if key.startswith("peak/"):
                continue
            peak_call, peak = timers[f"peak/{key.rsplit('/', 1)[1]}"]
            before = best_of(peak_call, args.peak_repeats)
            seconds = best_of(call, args.repeats)
            after = best_of(peak_call, args.peak_repeats)
            if round_index:
                peak.seconds += [before, after]
                timing.seconds.append(seconds)
                timing.fractions.append(timing.flops / seconds / (peak.flops * (1 / before + 1 / after) / 2))
        print(f"round {round_index}/{args.rounds} done", file=sys.stderr, flush=True)

    profiles = {}
    if args.profile:
        for micro in args.micro_rows:
            for name in precisions:
                profiles[f"{name}, {micro} row(s) per micro-step"] = profile_step(
                    timers[f"train/{micro}/{name}"][0]
                )
    return {
        "load average (1 min) before, after": [load_before, os.getloadavg()[0]],
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "bf16 support": support.evidence,
        "bf16 native": support.native,
        "parameters": sum(p.numel() for p in model.parameters()),
        "timings": {k: vars(t) for k, (_, t) in timers.items()},
        "flops": flops_of,
        "profiles": profiles,
        "args": vars(args),
    }


def report(result: dict[str, Any]) -> str:
    """The tables and the verdict, in Markdown."""
    t = {k: Timings(**v) for k, v in result["timings"].items()}
    peak = {name: t[f"peak/{name}"].gflops() for name in ("float32", "bf16")}
    a = result["args"]
    lines = [
        f"CPU: {result['bf16 support']}; torch {result['torch']}, {result['threads']} threads; "
        f"embedded SmolLM2-135M ({result['parameters'] / 1e6:.1f}M weights); best of {a['rounds']} rounds "
        f"(median in brackets; fractions of the peak: the median over rounds of each measurement against the "
        f"peak measured just before and after it); load average {result['load average (1 min) before, after'][0]:.1f} before, "
        f"{result['load average (1 min) before, after'][1]:.1f} after",
        "",
        f"Peak ({a['matmul_size']}x{a['matmul_size']} matmul): float32 {peak['float32']:.0f} GFLOP/s, "
        f"bf16 {peak['bf16']:.0f} GFLOP/s ({peak['bf16'] / peak['float32']:.2f}x)",
        "",
        "| what | precision | s per call | tokens/s | GFLOP/s | of its peak | of bf16 peak | "
        "with attention, of its peak |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, timing in t.items():
        kind, *rest = key.split("/")
        if kind == "peak":
            continue
        flops = result["flops"]["score" if kind == "score" else f"train/{rest[0]}"]
        what = (
            f"scoring, {a['score_rows']} x {a['length']} tokens"
            if kind == "score"
            else f"training step, {a['step_rows']} x {a['length']} tokens in micro-steps of {rest[0]} row(s)"
            + (", transformers' loss over full logits" if kind == "plain" else "")
        )
        name, fraction = rest[-1], statistics.median(timing.fractions)
        attention = 1 + flops["attention"] / flops["dense"]
        lines.append(
            f"| {what} | {name} | {timing.best:.2f} ({statistics.median(timing.seconds):.2f}) | "
            f"{flops['tokens'] / timing.best:,.0f} | {timing.gflops():.0f} | {fraction:.0%} | "
            f"{fraction * peak[name] / peak['bf16']:.0%} | {fraction * attention:.0%} |"
        )
    lines.append("")
    for kind in result["flops"]:
        ratio = t[f"{kind}/float32"].best / t[f"{kind}/bf16"].best
        label = "scoring" if kind == "score" else f"training, micro-steps of {kind.split('/')[1]} row(s)"
        lines.append(f"- bf16 over float32 speed-up, {label}: {ratio:.2f}x")
    micro = a["micro_rows"]
    if a["plain_head"]:
        for name in ("float32", "bf16"):
            ratio = t[f"train/{micro[0]}/{name}"].best / t[f"plain/{micro[0]}/{name}"].best
            lines.append(f"- {name} training, transformers' loss over TRL's fused head: {ratio:.2f}x")
    if len(micro) > 1:
        for name in ("float32", "bf16"):
            ratio = t[f"train/{micro[0]}/{name}"].best / t[f"train/{micro[-1]}/{name}"].best
            lines.append(f"- {name} training, micro-steps of {micro[-1]} rows over {micro[0]}: {ratio:.2f}x")
    share = result["flops"][f"train/{micro[0]}"]["labelled share"]
    lines.append(f"- labelled tokens: {share:.0%} of the positions TRL's fused LM head projects in training")
    if result["profiles"]:
        names = list(result["profiles"])
        lines += [
            "",
            f"Where a training step's wall time goes ({a['step_rows']} x {a['length']} tokens, torch.profiler, "
            "one step each; profiling slows small operators):",
            "",
            "| category | " + " | ".join(names) + " |",
            "|---|" + "---:|" * len(names),
        ]
        categories = sorted(
            {c for p in result["profiles"].values() for c in p if c != "wall (s)"},
            key=lambda c: -max(p.get(c, 0.0) for p in result["profiles"].values()),
        )
        for c in categories:
            cells = " | ".join(f"{result['profiles'][n].get(c, 0.0):.0%}" for n in names)
            lines.append(f"| {c} | {cells} |")
        walls = " | ".join(f"{result['profiles'][n]['wall (s)']:.2f}" for n in names)
        lines.append(f"| wall (s), profiled | {walls} |")
    lines += ["", verdict(result, t)]
    return "\n".join(lines)


def verdict(result: dict[str, Any], t: dict[str, Timings]) -> str:
    """Whether bf16 training reaches the goal, and what limits it where it does not."""
    micro = max(result["args"]["micro_rows"], key=lambda r: statistics.median(t[f"train/{r}/bf16"].fractions))
    fraction = statistics.median(t[f"train/{micro}/bf16"].fractions)
    head = (
        f"bf16 training at best {fraction:.0%} of the measured bf16 peak (micro-steps of {micro} row(s)); "
        f"goal {GOAL:.0%}: "
    )
    if fraction >= GOAL:
        return head + "met."
    profile = result["profiles"].get(f"bf16, {micro} row(s) per micro-step")
    if not profile:
        return head + "not met (profile it, without --no-profile, to see why)."
    limits = sorted(
        ((c, s) for c, s in profile.items() if c not in ("wall (s)", "matmul (layers)")),
        key=lambda cs: -cs[1],
    )[:3]
    named = ", ".join(f"{c} {s:.0%}" for c, s in limits)
    return (
        head + f"not met. The layers' matmuls take {profile.get('matmul (layers)', 0.0):.0%} of a step; "
        f"the largest other shares: {named}."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--length", type=int, default=256, help="tokens per packed row (the quick recipe's 256)"
    )
    parser.add_argument(
        "--step-rows", type=int, default=4, help="packed rows per optimizer step (the quick recipe's 4)"
    )
    parser.add_argument(
        "--micro-rows", type=int, nargs="+", default=[1, 4],
        help="rows per micro-step (per_device_train_batch_size), each measured; the quick recipe's: 1",
    )  # fmt: skip
    parser.add_argument("--score-rows", type=int, default=4, help="rows per scoring forward pass")
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument(
        "--peak-repeats", type=int, default=3, help="matmul calls before and after each measurement"
    )
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds after one warm-up round")
    parser.add_argument(
        "--repeats", type=int, default=2, help="calls per measurement per round (best counts)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: every core we may use)"
    )
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="skip the profile")
    parser.add_argument(
        "--plain-head", action="store_true",
        help="also time the step with transformers' own loss over full logits instead of TRL's fused LM head",
    )  # fmt: skip
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
