"""Benchmark: build the `synthetic` group from scratch and report throughput.

    python bench/build.py [--config synthetic]

Prints episodes/s, MB/s, wall time and peak memory of a full build (generation + Arrow writing into a fresh
cache), and, measured in the same run as the baseline, the time to only generate the same episodes in memory,
so the ratio shows what the `datasets` machinery costs on top. Goal: `synthetic` under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

from spectrum_suite.builder import PreparedTask, SpectrumSuiteConfig, load_dataset, prepare_tasks

GOAL_SECONDS = 60.0


def generate_only(config: str) -> tuple[int, float]:
    """Baseline: every episode generated in memory, nothing written."""
    start = time.perf_counter()
    located, _ = prepare_tasks(config, None, None)
    options = SpectrumSuiteConfig(name=config)
    count = 0
    for task, fetched in located:
        item = PreparedTask.build(task, fetched, options)
        count += sum(len(item.rows(split, options)) for split in item.splits)
    return count, time.perf_counter() - start


def full_build(config: str) -> tuple[int, int, float]:
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        dataset = load_dataset(config, cache_dir=cache)
        seconds = time.perf_counter() - start
        rows = sum(split.num_rows for split in dataset.values())
        size = sum(split.data.nbytes for split in dataset.values())
    return rows, size, seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="synthetic")
    args = parser.parse_args()
    base_rows, base_seconds = generate_only(args.config)
    rows, size, seconds = full_build(args.config)
    assert rows == base_rows, f"build wrote {rows} rows, generation made {base_rows}"
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"config: {args.config}")
    print(f"episodes: {rows}  data: {size / 1e6:.1f} MB")
    print(f"generation only (baseline): {base_seconds:.1f} s, {base_rows / base_seconds:.0f} episodes/s")
    print(f"full build: {seconds:.1f} s, {rows / seconds:.0f} episodes/s, {size / 1e6 / seconds:.1f} MB/s")
    print(f"ratio full build / generation only: {seconds / base_seconds:.2f}x")
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")
    verdict = "meets" if seconds < GOAL_SECONDS else "MISSES"
    print(f"goal: under {GOAL_SECONDS:.0f} s -> {verdict} ({seconds / GOAL_SECONDS:.2f} of the budget)")


if __name__ == "__main__":
    main()
