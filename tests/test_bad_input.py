"""Bad input on the command line ends in one clear line and exit code 2, before any model is loaded: never a
traceback, never a misleading message, never a silent wrong answer (`tuning.eval`, `spectrum_suite`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from spectrum_suite.__main__ import main as suite_main
from tests.exit_codes import eval_main, small_eval
from tests.test_lm import tiny_model
from tests.test_run import _save_tiny
from tests.tokenizer_fixtures import make_tokenizer
from tuning.eval import evaluate_model, write_run
from tuning.eval.cli import parse


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("tiny") / "tiny-chatml")


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The results.json of a run that scored flight with at most 3 episodes (for --k-from)."""
    tok = make_tokenizer("chatml")
    results = evaluate_model(tiny_model(tok, context=8192), tok, "spectrum", ["flight"], max_instances=3, k=2,
                             progress=False)  # fmt: skip
    out = tmp_path_factory.mktemp("earlier") / "run"
    write_run(results, out)
    return out


def _error(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    line = err.splitlines()[-1]
    assert "error" in line
    return line


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--num-generations", "1000000"],
            "num_generations must be an integer of at least 1 and at most 10000",
        ),
        (["--threads", "100000"], "threads must be an integer of at least 1 and at most"),
        (["--batch-size", "100000"], "batch_size must be an integer of at least 1 and at most 4096"),
        (["--seed=-1"], "seed must be an integer of at least 0"),
        (["--k", "5000"], "k must be at most k_window"),
        (["--top-k=-2"], "top_k must be an integer of at least 0"),
        (["--top-k", "100000000000"], "top_k must be an integer of at least 0 and at most 1000000"),
        (
            ["--min-episodes-for-k2", "10000000000"],
            "min_episodes_for_k2 must be an integer of at least 1 and at",
        ),
        (
            ["--max-concurrency", "100000"],
            "max_concurrency must be an integer of at least 1 and at most 4096",
        ),
        (["--device", "bogus"], "'bogus' is not a device"),
        (["--device", "cuda"], "no CUDA device"),
        (["--device", "cpu:7"], "cpu"),
        (["--configs", "coinflip"], "no held-out test split"),
        (["--configs", ""], "config or task names"),
        (["--configs", "fligth"], "did you mean 'flight'"),
        (["--data-dir", "/no/such/folder"], "/no/such/folder (data_dir) does not exist"),
        (["--out", "/dev/null/out"], "--out"),
        (["--k-tokenizer", ""], "k_tokenizer must name a tokenizer"),
    ],
)
def test_eval_options_out_of_range_are_one_line_before_the_model_loads(
    tiny: Path, tmp_path: Path, capsys, extra: list[str], message: str
) -> None:
    import torch

    if "cuda" in extra and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    argv = small_eval(tiny, tmp_path / "out", *extra)
    started = time.perf_counter()
    assert eval_main(argv) == 2
    line = _error(capsys)
    assert message in line and "test split" not in line.replace("no held-out test split: its tasks", "")
    assert time.perf_counter() - started < 60 and not (tmp_path / "out").exists()


def test_k_from_must_name_a_results_file_that_covers_every_task(
    tiny: Path, tmp_path: Path, earlier: Path, capsys, shared_data: Path
) -> None:
    common = ["--model", str(tiny), "--out", str(tmp_path / "out"), "--data-dir", str(shared_data)]
    assert eval_main([*common, "--configs", "flight", "--k-from", str(earlier)]) == 2
    err = _error(capsys)
    assert "is a folder" in err and str(earlier / "results.json") in err and "does not exist" not in err
    results = str(earlier / "results.json")
    assert eval_main([*common, "--configs", "flight", "chemistry_esol", "--k-from", results]) == 2
    err = _error(capsys)
    assert "no k and episodes for chemistry_esol" in err and "flight" not in err.split("for ")[1]
    assert eval_main([*common, "--configs", "flight", "--k-from", results, "--max-instances", "50"]) == 2
    assert "--max-instances 3" in _error(capsys)
    _, opts, _ = parse([*common, "--configs", "flight", "--k-from", results])
    assert opts.max_instances == 3  # taken from the run whose episodes are reused
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--tokenizer", "/no/such/model"], "/no/such/model does not exist"),
        (["--k-from", "EARLIER"], "is a folder"),
        (["--num-generations", "100000000"], "num_generations must be an integer of at least 1 and at most"),
        (["--top-k", "100000000000"], "top_k must be an integer"),
        (["--data-dir", "/no/such/folder"], "/no/such/folder (data_dir) does not exist"),
        (["--out", "/dev/null/tasks"], "--out /dev/null/tasks"),
        (["nope"], "unknown config 'nope'"),
    ],
)
def test_harness_export_bad_input_is_one_line_and_exit_2(
    tiny: Path, tmp_path: Path, earlier: Path, capsys, extra: list[str], message: str
) -> None:
    config, extra = ("nope", []) if extra == ["nope"] else ("flight", extra)
    extra = [str(earlier) if e == "EARLIER" else e for e in extra]
    argv = ["harness", config, "--tokenizer", str(tiny), "--out", str(tmp_path / "tasks"), *extra]
    try:
        code = suite_main(argv)
    except SystemExit as exit_info:  # argparse's own usage errors
        code = exit_info.code
    assert code == 2
    assert message in _error(capsys) and not (tmp_path / "tasks").exists()


def test_harness_export_takes_the_episode_cap_of_the_run_it_takes_k_from(
    tiny: Path, tmp_path: Path, earlier: Path, capsys
) -> None:
    long = _save_tiny(tmp_path / "long", context=8192)  # flight's episodes fit, as for the earlier run
    argv = ["harness", "flight", "--tokenizer", str(long), "--k-from", str(earlier / "results.json")]
    assert suite_main([*argv, "--out", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    manifest = json.loads((tmp_path / "a" / "spectrum_suite_harness.json").read_text())
    assert manifest["options"]["max_instances"] == 3 and manifest["tasks"]["spectrum_flight"]["k"] == 2
    assert suite_main([*argv, "--out", str(tmp_path / "b"), "--max-instances", "50"]) == 2
    assert "--max-instances 3" in _error(capsys)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "coinflip", "-n", "-2"], "argument -n"),
        (["show", "coinflip", "-n", "0"], "argument -n"),
        (["show", "coinflip", "--tokenizer", "/no/such/tokenizer"], "--tokenizer /no/such/tokenizer"),
        (["show", "coinflip", "--format", "chat"], "pass --tokenizer"),
        (["show", "coinflip", "--data-dir", "/no/such/folder"], "/no/such/folder"),
        (["build", "coinflip", "--data-dir", "/no/such/folder"], "does not exist"),
        (["list", "--data-dir", "/no/such/folder"], "does not exist"),
        (["export", "coinflip", "--data-dir", "/no/such/folder"], "does not exist"),
        (["build", "coinflip", "--max-instances", "0"], "--max-instances"),
        (["build", "coinflip", "--description-prob", "2"], "--description-prob"),
        (["build", "coinflip", "--validation-fraction", "1"], "--validation-fraction"),
        (["push", "coinflip", "--repo-id", "no-org"], "ORG/NAME"),
        (["export", "coinflip", "--out", "/dev/null/export"], "--out /dev/null/export"),
    ],
)
def test_spectrum_suite_bad_input_is_one_line_and_exit_2(argv: list[str], message: str, capsys) -> None:
    try:
        code = suite_main(argv)
    except SystemExit as exit_info:  # argparse's own usage errors
        code = exit_info.code
    assert code == 2
    assert message in _error(capsys)
