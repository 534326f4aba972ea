"""Several processes give the numbers of one: real two-process launches (``accelerate launch``, gloo on the CPU).

`tuning.eval` on two processes writes the results of one process; `tuning.run` under DDP, with the gradient
accumulation that keeps the episodes per optimizer step, trains to the weights of one process and evaluates
the three arms on both processes; a two-process run killed after a checkpoint resumes to the losses of an
uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from safetensors.torch import load_file  # noqa: E402

from tests.test_run import _save_tiny  # noqa: E402
from tuning.run import folder  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
ONE = [sys.executable]


def _free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def launch_two() -> list[str]:
    """``accelerate launch`` on two processes, as docs/tuning.md runs it: its torchrun launcher (``--multi_gpu``),
    which on a machine without GPUs starts CPU processes joined by gloo (``--cpu`` would need MPI)."""
    return [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines",
            "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", _free_port()]  # fmt: skip


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("mp") / "tiny-chatml", context=4096)


def _run(launcher: list[str], module: str, *args: str, timeout: int = 300) -> str:
    done = subprocess.run([*launcher, "-m", module, *args], cwd=REPO, env=ENV, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _same(a, b, where: str = "") -> None:
    """Equal JSON values, floats to 1e-5 (the shares of a batch are padded differently)."""
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-5, abs=1e-6), where
    else:
        assert a == b, where


def _results(path: Path) -> dict:
    data = json.loads(path.read_text())
    assert data.pop("timings") and data.pop("num_processes") in (1, 2)
    return data


def test_evaluation_on_two_processes_writes_the_results_of_one(tiny: Path, tmp_path: Path) -> None:
    args = ["--model", str(tiny), "--configs", "flight", "urn", "rng_1_10", "--max-instances", "4",
            "--num-generations", "4", "--k", "2", "--no-progress"]  # fmt: skip
    _run(ONE, "tuning.eval", *args, "--out", str(tmp_path / "one"))
    _run(launch_two(), "tuning.eval", *args, "--out", str(tmp_path / "two"))
    one, two = _results(tmp_path / "one" / "results.json"), _results(tmp_path / "two" / "results.json")
    assert one["steerability"]["tasks"]["flight"]["counts"]["evaluated"] == 4  # every evaluation really ran
    assert len(one["coverage"]["settings"]["both"]["generations"]["rng_1_10"]) == 4
    _same(one, two)
    assert json.loads((tmp_path / "two" / "results.json").read_text())["num_processes"] == 2


TRAIN = ["--configs", "coinflip", "--max-train-episodes", "16", "--max-length", "96", "--effective-batch", "4",
         "--packing", "false", "--max-steps", "4", "--save-steps", "2", "--learning-rate", "1e-3", "--run-name", "r",
         "--eval-configs", "urn", "--eval-max-instances", "3", "--eval-num-generations", "2",
         "--start-kind", "instruct"]  # fmt: skip


def test_ddp_trains_to_the_weights_of_one_process_and_evaluates_on_both(tiny: Path, tmp_path: Path) -> None:
    _run(ONE, "tuning.run", "--model", str(tiny), *TRAIN, "--output-root", str(tmp_path / "one"))
    _run(launch_two(), "tuning.run", "--model", str(tiny), *TRAIN, "--output-root", str(tmp_path / "two"))
    one, two = tmp_path / "one" / "r", tmp_path / "two" / "r"
    accumulation = [json.loads((d / "run_args.json").read_text())["hyperparameters"]["gradient accumulation"]
                    for d in (one, two)]  # fmt: skip
    assert accumulation == [4, 2]  # 4 episodes per optimizer step either way
    losses = [[e["loss"] for e in json.loads((d / "checkpoint-4" / "trainer_state.json").read_text())["log_history"]
               if "loss" in e] for d in (one, two)]  # fmt: skip
    assert len(losses[0]) == 4 and losses[1] == pytest.approx(losses[0], rel=1e-5)
    base = load_file(tiny / "model.safetensors")
    a, b = load_file(one / "model.safetensors"), load_file(two / "model.safetensors")
    assert max((a[k] - base[k]).abs().max().item() for k in a) > 1e-4  # training moved the weights
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 1e-6
    for arm in ("start-chat", "start-spectrum", "tuned-spectrum"):
        _same(
            _results(one / "eval" / arm / "results.json"), _results(two / "eval" / arm / "results.json"), arm
        )
    assert list(json.loads((two / "before_after.json").read_text())["arms"]) == [
        "start (chat)", "start (spectrum)", "tuned (spectrum)",
    ]  # fmt: skip


def test_fsdp_config_on_cpus_runs_data_parallel_and_says_so(tiny: Path, tmp_path: Path) -> None:
    """The shipped FSDP config on a machine without GPUs: accelerate runs plain multi-CPU data parallelism, which
    ``tuning.run`` records and warns about, and which still trains to the weights of one process."""
    fsdp = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", "tuning/configs/fsdp.yaml",
            "--num_processes", "2", "--mixed_precision", "no", "--main_process_port", _free_port()]  # fmt: skip
    train = [*TRAIN, "--no-eval"]
    _run(ONE, "tuning.run", "--model", str(tiny), *train, "--output-root", str(tmp_path / "one"))
    done = subprocess.run([*fsdp, "-m", "tuning.run", "--model", str(tiny), *train, "--output-root",
                           str(tmp_path / "two")], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (done.stdout + done.stderr).count("asked for FSDP but accelerate runs MULTI_CPU") == 1  # main only
    record = json.loads((tmp_path / "two" / "r" / "run_args.json").read_text())["train_result"]
    assert record["parallelism"] == "MULTI_CPU on 2 process(es)"
    one = json.loads((tmp_path / "one" / "r" / "run_args.json").read_text())["train_result"]
    assert one["parallelism"] == "NO on 1 process(es)"
    a, b = (
        load_file(tmp_path / "one" / "r" / "model.safetensors"),
        load_file(tmp_path / "two" / "r" / "model.safetensors"),
    )
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 1e-6


def _launch(launcher: list[str], tiny: Path, root: Path, *extra: str) -> subprocess.Popen:
    argv = [*launcher, "-m", "tuning.run", "--model", str(tiny), "--configs", "coinflip", "--max-train-episodes",
            "64", "--max-length", "256", "--effective-batch", "2", "--packing", "false", "--max-steps", "30",
            "--save-steps", "2", "--output-root", str(root), "--run-name", "r", "--no-eval", *extra]  # fmt: skip
    return subprocess.Popen(argv, cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # fmt: skip


def _losses(run_dir: Path) -> dict[int, float]:
    state = json.loads((folder.complete_checkpoints(run_dir)[-1] / "trainer_state.json").read_text())
    return {e["step"]: e["loss"] for e in state["log_history"] if "loss" in e}


def test_a_killed_two_process_run_resumes_to_the_losses_of_an_uninterrupted_one(tmp_path: Path) -> None:
    tiny = _save_tiny(tmp_path / "slow-tiny", hidden=128, context=512)
    whole = _launch(ONE, tiny, tmp_path / "whole")
    assert whole.wait(timeout=300) == 0, whole.stdout.read()
    expected = _losses(tmp_path / "whole" / "r")
    assert max(expected) == 30

    victim = _launch(launch_two(), tiny, tmp_path / "cut")
    run_dir = tmp_path / "cut" / "r"
    deadline = time.time() + 240
    while time.time() < deadline and not folder.complete_checkpoints(run_dir) and victim.poll() is None:
        time.sleep(0.05)
    os.killpg(victim.pid, signal.SIGKILL)  # the launcher and both workers, mid-run
    victim.wait(timeout=30)
    assert folder.complete_checkpoints(run_dir), "no checkpoint was written before the kill"
    at_kill = max(_losses(run_dir))
    assert at_kill < 30, "the run finished before it could be killed"

    resumed = _launch(launch_two(), tiny, tmp_path / "cut", "--resume")
    log = resumed.communicate(timeout=300)[0]
    assert resumed.returncode == 0, log[-3000:]
    losses = _losses(run_dir)
    assert max(losses) == 30
    for step in (s for s in expected if s > at_kill):
        assert losses[step] == pytest.approx(expected[step], rel=1e-3), step


@pytest.mark.parametrize(("preset", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_entry_points_ask_openmp_to_wait_passively_unless_told(preset: str | None, expected: str) -> None:
    """Idle OpenMP threads must sleep (not spin) once torch loads under our CLIs; a user's own choice stays."""
    env = {k: v for k, v in ENV.items() if k != "OMP_WAIT_POLICY"}
    if preset:
        env["OMP_WAIT_POLICY"] = preset
    probe = "import tuning.eval.cli, os; print(os.environ['OMP_WAIT_POLICY'])"
    done = subprocess.run(ONE + ["-c", probe], env=env, capture_output=True, text=True, check=True, cwd=REPO)
    assert done.stdout.strip() == expected
