"""Training speed on a shared CPU: how much one competing CPU-bound process slows a training step.

    python bench/threads.py                 # SmolLM2-135M-shaped random Llama, 4 x 256 tokens per step
    python bench/threads.py --steps 5 --hidden 256

Each setting runs in a fresh process (OpenMP reads its settings once), with and without one busy-looping
competitor: torch threads = every core this process may use (what `tuning.distributed.cpu_threads` gives a
single process) or one, and OpenMP's default (spinning) or passive wait policy. A step is forward + backward +
AdamW; the figure is the median step time after a warm-up step. Reported per setting: quiet and busy seconds per
step and the slowdown busy/quiet, plus every setting's busy time against the quiet time of the policy
``tuning.run`` and ``tuning.eval`` apply (the goal: at most 2.5x with one competitor).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # first: this folder's metrics.py must not shadow the metrics package

#: The step timed in a child process: argv = threads, steps, hidden size.
STEP = r"""
import json, statistics, sys, time
import torch
from transformers import LlamaConfig, LlamaForCausalLM
threads, steps, hidden = (int(a) for a in sys.argv[1:4])
torch.set_num_threads(threads)
torch.manual_seed(0)
config = LlamaConfig(vocab_size=49152, hidden_size=hidden, intermediate_size=int(hidden * 8 / 3), num_hidden_layers=6,
                     num_attention_heads=hidden // 64, num_key_value_heads=max(1, hidden // 192))
model = LlamaForCausalLM(config)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
ids = torch.randint(0, 49152, (4, 256))
times = []
for _ in range(steps + 1):
    start = time.perf_counter()
    model(input_ids=ids, labels=ids).loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    times.append(time.perf_counter() - start)
print(json.dumps(statistics.median(times[1:])))
"""


def timed(threads: int, wait_policy: str | None, busy: bool, steps: int, hidden: int) -> float:
    """Median seconds per step of one fresh process, with one busy-looping competitor when ``busy``."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    if wait_policy:
        env["OMP_WAIT_POLICY"] = wait_policy
    competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        done = subprocess.run([sys.executable, "-c", STEP, str(threads), str(steps), str(hidden)], env=env,
                              capture_output=True, text=True, check=True, timeout=1800)  # fmt: skip
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()
    return float(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    from tuning.distributed import OMP_WAIT_POLICY, cpu_threads

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=4, help="timed steps per setting (after one warm-up step)")
    p.add_argument("--hidden", type=int, default=576, help="hidden size (576: SmolLM2-135M's)")
    args = p.parse_args()
    cores = cpu_threads()
    settings = {
        f"{cores} threads, spinning wait": (cores, None),
        f"{cores} threads, passive wait (tuning.run, tuning.eval)": (cores, OMP_WAIT_POLICY),
        "1 thread, spinning wait": (1, None),
        "1 thread, passive wait": (1, OMP_WAIT_POLICY),
    }
    policy = f"{cores} threads, passive wait (tuning.run, tuning.eval)"
    rows = {}
    for name, (threads, wait) in settings.items():
        quiet = timed(threads, wait, False, args.steps, args.hidden)
        busy = timed(threads, wait, True, args.steps, args.hidden)
        rows[name] = (quiet, busy)
        print(
            f"{name}: quiet {quiet:.2f} s/step, busy {busy:.2f} s/step, slowdown {busy / quiet:.2f}x",
            flush=True,
        )
    base = rows[policy][0]
    print(f"\nbusy time against the quiet time of {policy} ({base:.2f} s/step):")
    for name, (_, busy) in rows.items():
        print(f"  {name}: {busy / base:.2f}x")
    print(f"goal: at most 2.5x with one competitor; the policy's slowdown is {rows[policy][1] / base:.2f}x")
    print(
        f"median over settings of the quiet times: {statistics.median(q for q, _ in rows.values()):.2f} s/step"
    )


if __name__ == "__main__":
    main()
