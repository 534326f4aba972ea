"""Training throughput: packed padding-free rows against padded batches, measured in the same run.

    python bench/train.py                       # tiny random model + the embedded SmolLM2-135M, CPU
    SPECTRUM_SUITE_DATA=../shared/data python bench/train.py --max-length 512

Both modes train on the same tokenised Spectrum Suite episodes (the ``train`` split, spectrum format,
truncated to ``--max-length``) with TRL's own collator, the one SFTTrainer uses: *padded* batches of
``--batch`` episodes, right-padded to the longest (one episode per row, the paper's layout), against *packed*
rows, best-fit-decreasing into ``max_length`` slots and flattened padding-free with per-episode position ids
(`tuning.run` with packing). Each step is forward + backward + AdamW, and the two modes alternate step by
step, so a change in CPU load (other processes) hits both alike. Reported per model and mode: real
(non-padding) tokens per second, the non-padding share of the token slots the model computes on, and the
packed/padded ratio. The goals are at least 95 % non-padding and at least 1.5x the tokens/s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # first: this folder's metrics.py must not shadow the metrics package


def tiny_model(tokenizer: Any) -> Any:
    """A random 4-layer Llama over the tokenizer's vocabulary: cheap enough that data layout dominates."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=128, intermediate_size=512, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=True,
    )  # fmt: skip
    return LlamaForCausalLM(config)


def batches(rows: list[dict], mode: str, batch: int, collator: Any) -> list[dict]:
    """Collated micro-batches: ``batch`` episodes per padded batch, or one packed row per packed batch."""
    size = batch if mode == "padded" else 1
    return [collator(rows[i : i + size]) for i in range(0, len(rows) - size + 1, size)]


def train_step(model: Any, optimizer: Any, batch: dict) -> float:
    """One forward + backward + AdamW step on a collated batch; returns the seconds it took."""
    import torch

    started = time.perf_counter()
    out = model(**{k: v for k, v in batch.items() if k != "labels"}, use_cache=False)
    logits = out.logits[:, :-1].float()
    target = batch["labels"][:, 1:]
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return time.perf_counter() - started


def real_tokens(batch: dict) -> int:
    """Non-padding tokens: the attention mask's ones, or every token of a padding-free batch."""
    mask = batch.get("attention_mask")
    return int(mask.sum()) if mask is not None else batch["input_ids"].numel()


def bench_model(
    name: str, model: Any, rows: list[dict], packed: list[dict], args: argparse.Namespace
) -> dict:
    """Padded and packed micro-batches, alternated step by step so that both modes see the same CPU load."""
    import torch
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    pad_id = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    data = {
        "padded": batches(rows, "padded", args.batch, DataCollatorForLanguageModeling(pad_token_id=pad_id)),
        "packed": batches(
            packed, "packed", 1, DataCollatorForLanguageModeling(pad_token_id=pad_id, padding_free=True)
        ),
    }
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    model.train()
    totals = {mode: {"seconds": 0.0, "real": 0, "slots": 0, "steps": 0} for mode in data}
    for step in range(1 + args.steps):  # step 0 warms up both modes and is not counted
        for mode, batch_list in data.items():
            batch = batch_list[step % len(batch_list)]
            seconds = train_step(model, optimizer, batch)
            if step:
                total = totals[mode]
                total["seconds"] += seconds
                total["real"] += real_tokens(batch)
                total["slots"] += batch["input_ids"].numel()
                total["steps"] += 1
    result: dict[str, Any] = {"model": name}
    for mode, total in totals.items():
        result[mode] = {
            "tokens_per_s": total["real"] / total["seconds"],
            "non_padding": total["real"] / total["slots"],
            "tokens_per_step": total["real"] / total["steps"],
        }
    result["speedup"] = result["packed"]["tokens_per_s"] / result["padded"]["tokens_per_s"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--batch", type=int, default=4, help="episodes per padded batch")
    parser.add_argument("--steps", type=int, default=4, help="measured micro-batches per mode")
    parser.add_argument("--episodes", type=int, default=256, help="episodes sampled from the train split")
    parser.add_argument("--models", nargs="+", default=["tiny", "smollm2-135m-instruct"])
    parser.add_argument("--data-dir", help="data directory (else $SPECTRUM_SUITE_DATA)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    import random

    import torch

    from spectrum_suite.formats import Format
    from tuning.loading import load_model_and_tokenizer
    from tuning.run.data import build_train_dataset, load_episodes
    from tuning.run.packing import pack

    torch.manual_seed(0)
    _, tokenizer = load_model_and_tokenizer("smollm2-135m-instruct", dtype="float32", device="cpu")
    episodes, skipped = load_episodes(["train"], data_dir=args.data_dir, skip_unavailable=True)
    data = build_train_dataset(
        episodes, Format("spectrum", tokenizer), max_length=args.max_length, max_episodes=args.episodes
    )
    rows = [{"input_ids": r["input_ids"], "labels": r["labels"]} for r in data.dataset]
    random.Random(42).shuffle(rows)  # the trainer's random sampler: padded batches mix lengths
    packed_ds, stats = pack(data.dataset, args.max_length)
    packed = [
        {"input_ids": r["input_ids"], "labels": r["labels"], "seq_lengths": r["seq_lengths"]}
        for r in packed_ds
    ]
    lengths = [len(r["input_ids"]) for r in rows]
    print(f"{len(rows)} episodes from {len(data.counts)} tasks ({len(skipped)} skipped), max_length {args.max_length}: "
          f"median {statistics.median(lengths):.0f} tokens, {sum(x >= args.max_length for x in lengths)} at the cap; "
          f"packed into {stats.rows} rows ({stats.episodes_per_row:.2f} episodes/row, fill {stats.fill:.1%})")  # fmt: skip
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    results = []
    for name in args.models:
        if name == "tiny":
            model = tiny_model(tokenizer)
            model.config.pad_token_id = tokenizer.pad_token_id
        else:
            model, _ = load_model_and_tokenizer(name, dtype="float32", device="cpu")
        results.append(bench_model(name, model, rows, packed, args))
        del model
    print()
    print("| model | mode | tokens/s | non-padding | tokens/step |")
    print("|---|---|---:|---:|---:|")
    for r in results:
        for mode in ("padded", "packed"):
            m = r[mode]
            print(
                f"| {r['model']} | {mode} | {m['tokens_per_s']:.0f} | {m['non_padding']:.1%} | {m['tokens_per_step']:.0f} |"
            )
        print(f"| {r['model']} | packed / padded | **{r['speedup']:.2f}x** | | |")
    if args.json:
        Path(args.json).write_text(json.dumps({"episodes": len(rows), "max_length": args.max_length,
                                               "pack_fill": stats.fill, "results": results}, indent=2) + "\n")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
