"""GPU benchmark: our training step and our scoring on a randomly initialised ~1B Llama, no download needed.

    python bench/gpu.py                 # on a CUDA machine: about 1.1B parameters, bf16, packed 1024-token rows
    python bench/gpu.py --smoke         # a tiny model on any device, to check the script runs

Everything comes from this repository and its installed packages: the embedded SmolLM2 tokenizer (49,152
tokens), Spectrum Suite's synthetic training tasks (spectrum format, cut to ``--max-length``, packed best-fit
decreasing into padding-free rows exactly as `tuning.run` packs them) and TRL's `SFTTrainer` with our settings
(bf16, padding-free rows, loss on our labels only). Printed: training tokens/s after warm-up, the model FLOP
utilisation against the device's peak bf16 throughput (6·N·tokens plus the attention term, the usual estimate),
peak GPU memory, and the speed-up of prefix-shared candidate scoring (`tuning.lm.LM.score_candidates`) over
scoring every prompt + candidate from scratch (`bench.baselines.full_candidate_scores`) on the ``states`` and
``urn`` alignment rows, with the largest log-probability difference. It is sized to run in under 5 minutes.

    python bench/gpu.py --vllm-python /path/to/venv/bin/python   # adds the served backend's line

With ``--vllm-python`` (the interpreter of an environment where vLLM is installed) the same random model is saved,
served by vLLM on this GPU in bf16, and the same alignment rows are scored through it (`tuning.lm.ServedLM`, 16
requests in flight) against the in-process scoring: rows/s of each and the largest log-probability difference.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # first: this folder's metrics.py must not shadow the metrics package

#: Dense bf16 peak of common training GPUs, TFLOP/s (vendor figures, no sparsity).
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 125.0, "RTX 4090": 165.0}


def peak_tflops(device_name: str) -> float | None:
    return next((v for k, v in PEAK_TFLOPS.items() if k in device_name), None)


def model_config(vocab: int, smoke: bool) -> Any:
    """A TinyLlama-shaped ~1.1B Llama (or a tiny one for ``--smoke``, heads of 32: vLLM's smallest)."""
    from transformers import LlamaConfig

    if smoke:
        return LlamaConfig(vocab_size=vocab, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096)  # fmt: skip
    return LlamaConfig(vocab_size=vocab, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                       num_attention_heads=32, num_key_value_heads=4, max_position_embeddings=4096)  # fmt: skip


def train_rows(tokenizer: Any, max_length: int, episodes: int) -> Any:
    """Packed rows of synthetic Spectrum Suite episodes, as `tuning.run` builds them."""
    from spectrum_suite.formats import Format
    from tuning.run.data import build_train_dataset, load_episodes
    from tuning.run.packing import pack

    rows, _ = load_episodes(["coinflip", "cards", "numeric_dist"], "train")
    data = build_train_dataset(
        rows, Format("spectrum", tokenizer), max_length=max_length, max_episodes=episodes
    )
    packed, stats = pack(data.dataset, max_length)
    return packed, stats


def bench_training(
    model: Any, tokenizer: Any, rows: Any, batch: int, steps: int, out: Path
) -> dict[str, float]:
    """Tokens/s of `SFTTrainer` steps after two warm-up steps (bf16 on CUDA, padding-free packed rows)."""
    import torch
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    marks: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            marks.append(time.perf_counter())

    cuda = torch.cuda.is_available()
    args = SFTConfig(
        output_dir=str(out), per_device_train_batch_size=batch, max_steps=steps + 2, learning_rate=1e-5,
        bf16=cuda, use_cpu=not cuda, padding_free=True, max_length=None, packing=False, report_to=[],
        save_strategy="no", logging_steps=1000, activation_checkpointing=False, dataloader_num_workers=0,
    )  # fmt: skip
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=rows, processing_class=tokenizer, callbacks=[Clock()]
    )
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    seconds = marks[-1] - marks[1]
    per_row = sum(sum(lengths) for lengths in rows["seq_lengths"]) / len(
        rows
    )  # rows are drawn in random order
    tokens = per_row * batch * (len(marks) - 2)
    return {"tokens_per_s": tokens / seconds, "seconds": seconds, "tokens": tokens,
            "peak_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")}  # fmt: skip


def alignment_items(tokenizer: Any) -> list[Any]:
    """The states row and 64 urn rows, encoded for candidate scoring in the spectrum format."""
    import spectrum_suite
    from spectrum_suite.formats import Format
    from tuning.eval.alignment import prompt_for
    from tuning.sequences import encode_candidates

    rows = list(spectrum_suite.load_dataset("states", split="test"))
    rows += list(spectrum_suite.load_dataset("urn", split="test").select(range(64)))
    spectrum = Format("spectrum", tokenizer)
    return [encode_candidates(tokenizer, prompt_for(r, spectrum), r["candidates"]) for r in rows]


def bench_scoring(model: Any, tokenizer: Any, repeats: int) -> dict[str, float]:
    """Prefix-shared against from-scratch candidate scoring on the states and urn rows (spectrum format)."""
    from bench.baselines import full_candidate_scores
    from tuning.lm import LM

    lm = LM(model, tokenizer, progress=False)
    items = alignment_items(tokenizer)
    timings = {}
    for name, run in (("shared", lambda: lm.score_candidates(items, batch_size=64)),
                      ("full", lambda: full_candidate_scores(lm, items, batch_size=64))):  # fmt: skip
        result = run()
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            result = run()
            best = min(best, time.perf_counter() - started)
        timings[name] = (best, result)
    diff = max(abs(a - b) for ra, rb in zip(timings["shared"][1], timings["full"][1], strict=True)
               for a, b in zip(ra, rb, strict=True))  # fmt: skip
    return {"shared_s": timings["shared"][0], "full_s": timings["full"][0],
            "speedup": timings["full"][0] / timings["shared"][0], "max_logprob_diff": diff}  # fmt: skip


def bench_served(
    model: Any, tokenizer: Any, vllm_python: str, folder: Path, repeats: int
) -> dict[str, float]:
    """Candidate scoring through vLLM serving the same model on this device, against in process (rows/s)."""
    from bench.scoring import interleaved_best
    from tests.servers.vllm_server import start_vllm
    from tuning.lm import LM, ServedLM

    model.save_pretrained(folder / "model")
    tokenizer.save_pretrained(folder / "model")
    cuda = next(model.parameters()).is_cuda
    options = (
        ("--dtype", "bfloat16", "--gpu-memory-utilization", "0.5")
        if cuda
        else ("--dtype", "float32", "--enforce-eager")
    )
    server = start_vllm(
        folder / "model", folder / "vllm.log", python=vllm_python, name="bench-model", options=options
    )
    try:
        served = ServedLM.connect(
            server.base_url, "bench-model", tokenizer=tokenizer, max_concurrency=16, progress=False
        )
        local = LM(model, tokenizer, progress=False)
        items = alignment_items(tokenizer)
        (t_local, a), (t_served, b) = interleaved_best(
            [lambda: local.score_candidates(items, batch_size=64), lambda: served.score_candidates(items)],
            repeats,
        )
    finally:
        server.stop()
    diff = max(abs(x - y) for ra, rb in zip(a, b, strict=True) for x, y in zip(ra, rb, strict=True))
    return {"local_rows_s": len(items) / t_local, "served_rows_s": len(items) / t_served, "max_logprob_diff": diff,
            "engine": served.describe()["engine_version"]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    import tempfile

    import torch
    from transformers import LlamaForCausalLM

    from tuning.loading import load_tokenizer

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny model on any device (checks the script)")
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=8, help="packed rows per step")
    parser.add_argument("--steps", type=int, default=12, help="timed steps after two warm-up steps")
    parser.add_argument(
        "--vllm-python",
        default=None,
        help="python of an environment with vLLM: adds the served backend's line",
    )
    args = parser.parse_args(argv)
    cuda = torch.cuda.is_available()
    if not cuda and not args.smoke:
        print("bench/gpu.py measures a GPU: no CUDA device here (use --smoke to check the script on a CPU)")
        return 2
    started = time.perf_counter()
    tokenizer = load_tokenizer("smollm2-135m-instruct")
    torch.manual_seed(0)
    model = LlamaForCausalLM(model_config(len(tokenizer), args.smoke))
    if cuda:
        model = model.to("cuda", dtype=torch.bfloat16)
    params = sum(p.numel() for p in model.parameters())
    config = model.config
    rows, stats = train_rows(tokenizer, args.max_length, episodes=(args.steps + 2) * args.batch * 4)
    with tempfile.TemporaryDirectory() as out:
        train = bench_training(model, tokenizer, rows, args.batch, args.steps, Path(out))
    flops_per_token = 6 * params + 12 * config.num_hidden_layers * config.hidden_size * args.max_length
    device = torch.cuda.get_device_name() if cuda else "cpu"
    peak = peak_tflops(device) if cuda else None
    mfu = train["tokens_per_s"] * flops_per_token / (peak * 1e12) if peak else float("nan")
    model.eval()
    scoring = bench_scoring(model, tokenizer, repeats=2 if args.smoke else 3)
    served = None
    if args.vllm_python:
        with tempfile.TemporaryDirectory() as out:
            served = bench_served(
                model, tokenizer, args.vllm_python, Path(out), repeats=2 if args.smoke else 3
            )
    print(f"device: {device}; model: {params / 1e9:.2f}B parameters, {config.num_hidden_layers} layers, "
          f"bf16={cuda}; packed rows: {stats.rows} of {args.max_length} tokens ({stats.fill:.1%} filled)")  # fmt: skip
    print("| what | figure |\n|---|---|")
    print(
        f"| training tokens/s (batch {args.batch} x {args.max_length}, {args.steps} steps) | {train['tokens_per_s']:,.0f} |"
    )
    print(f"| MFU (vs {peak} TFLOP/s bf16 peak) | {mfu:.1%} |")
    print(f"| peak GPU memory | {train['peak_memory_gib']:.1f} GiB |")
    print(
        f"| candidate scoring: shared {scoring['shared_s']:.2f} s vs full {scoring['full_s']:.2f} s | "
        f"{scoring['speedup']:.1f}x, max log-prob diff {scoring['max_logprob_diff']:.1e} |"
    )
    if served is not None:
        print(
            f"| candidate scoring served by vLLM {served['engine']} (16 in flight) vs in process | "
            f"{served['served_rows_s']:.1f} vs {served['local_rows_s']:.1f} rows/s, max log-prob diff "
            f"{served['max_logprob_diff']:.1e} |"
        )
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
