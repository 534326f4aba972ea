"""`bench/gpu.py` runs end to end: the real training step, packing and scoring, on a tiny model on the CPU.

The GPU figures themselves need a CUDA machine; this checks the script a GPU user will run does not break.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "bench/gpu.py", *args], cwd=REPO, env=ENV, capture_output=True,
                          text=True, timeout=900)  # fmt: skip


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU refusal and smoke path")
def test_refuses_to_measure_a_gpu_on_a_cpu() -> None:
    done = _bench()
    assert done.returncode == 2 and "no CUDA device" in done.stdout


@pytest.mark.slow
def test_smoke_run_prints_every_figure() -> None:
    done = _bench("--smoke", "--steps", "2", "--batch", "2", "--max-length", "256")
    assert done.returncode == 0, done.stderr[-2000:]
    tokens = re.search(r"training tokens/s .*\| ([\d,]+) \|", done.stdout)
    assert tokens and int(tokens.group(1).replace(",", "")) > 0, done.stdout
    scoring = re.search(r"\| ([\d.]+)x, max log-prob diff ([\d.e+-]+) \|", done.stdout)
    assert scoring and float(scoring.group(1)) > 0 and float(scoring.group(2)) < 1e-3, done.stdout
