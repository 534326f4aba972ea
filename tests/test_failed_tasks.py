"""A failed task never silently changes a headline: it is found before the model loads where it can be, the
report lists it, and the command fails unless the user opted to skip it (``--skip-failed-tasks``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import torch

from spectrum_suite.__main__ import main as suite_main
from tests.exit_codes import eval_main
from tests.test_lm import tiny_model
from tests.test_run import TINY_ARGS, _save_tiny
from tests.tokenizer_fixtures import make_tokenizer
from tuning.eval import EvalResults, evaluate_model
from tuning.run.cli import main as run_main


@pytest.fixture(autouse=True)
def no_word_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, with an empty download cache and no data directory: the validators' word lists are missing."""
    from metrics.coverage.validators import VALIDATORS

    monkeypatch.setenv("SPECTRUM_SUITE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SPECTRUM_SUITE_DATA", raising=False)
    for validator in VALIDATORS.values():
        if hasattr(validator, "clear"):
            validator.clear()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("tiny") / "tiny-chatml")


def test_a_coverage_task_without_its_word_list_fails_before_the_model_loads(
    tiny: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    started = time.perf_counter()
    argv = [
        "--model",
        str(tiny),
        "--configs",
        "car_brand",
        "rng_1_10",
        "--num-generations",
        "2",
        "--out",
        str(out),
    ]
    assert eval_main(argv) == 2
    err = capsys.readouterr().err
    assert "coverage/car_brand" in err and "validators_cars/1992.csv" in err and "--skip-failed-tasks" in err
    assert "rng_1_10" not in err and not out.exists() and time.perf_counter() - started < 30


def test_skipping_failed_tasks_lists_them_in_the_report_and_results(
    tiny: Path, tmp_path: Path, capsys, shared_data: Path
) -> None:
    out, alone, whole = tmp_path / "out", tmp_path / "alone", tmp_path / "whole"
    common = ["--model", str(tiny), "--num-generations", "2", "--no-progress"]
    assert (
        eval_main([*common, "--configs", "car_brand", "rng_1_10", "--skip-failed-tasks", "--out", str(out)])
        == 0
    )
    report = (out / "report.md").read_text()
    assert "failed and are not in the headline" in report and "`coverage/car_brand`" in report
    results = EvalResults.load(out / "results.json")
    assert list(results.failed_tasks) == ["coverage/car_brand"]
    assert eval_main([*common, "--configs", "rng_1_10", "--out", str(alone)]) == 0
    assert results.headline == EvalResults.load(alone / "results.json").headline  # the task is not in it
    both = ["--configs", "car_brand", "rng_1_10", "--data-dir", str(shared_data), "--out", str(whole)]
    assert eval_main([*common, *both]) == 0
    capsys.readouterr()
    assert eval_main(["compare", str(whole), str(out)]) == 2  # headlines over other tasks do not compare
    assert "only in the first: ['car_brand']" in capsys.readouterr().err


def test_a_harness_export_without_a_word_list_fails_unless_told_to_skip(tiny: Path, tmp_path: Path) -> None:
    from spectrum_suite.harness import export
    from tuning.eval.evaluation import FailedTasksError

    small = {"configs": ["car_brand", "rng_1_10"], "num_generations": 2, "progress": False}
    with pytest.raises(FailedTasksError, match="car_brand.*--skip-failed-tasks"):
        export(tmp_path / "tasks", str(tiny), "spectrum", **small)
    assert not (tmp_path / "tasks").exists()  # a harness group would have averaged over rng_1_10 alone
    done = export(tmp_path / "tasks", str(tiny), "spectrum", skip_failed_tasks=True, **small)
    assert [t.name for t in done.tasks] == ["spectrum_rng_1_10"] and list(done.failed) == ["car_brand"]
    assert "left out car_brand" in done.summary()


def test_list_does_not_show_a_task_without_its_word_list_as_ready(capsys, shared_data: Path) -> None:
    assert suite_main(["list", "--row-family", "coverage", "--json"]) == 0
    offline = {t["name"]: t["availability"] for t in json.loads(capsys.readouterr().out)}
    assert offline["car_brand"] == offline["element_names"] == "downloadable"
    assert offline["rng_1_10"] == "ready"
    assert suite_main(["list", "--row-family", "coverage", "--available", "--json"]) == 0
    assert "car_brand" not in {t["name"] for t in json.loads(capsys.readouterr().out)}
    assert suite_main(["list", "--row-family", "coverage", "--json", "--data-dir", str(shared_data)]) == 0
    assert {t["availability"] for t in json.loads(capsys.readouterr().out)} == {"ready"}


def test_a_task_that_fails_during_the_evaluation_fails_the_command(tmp_path: Path, capsys) -> None:
    short = _save_tiny(tmp_path / "short-context", context=200)  # no flight episode fits 200 tokens
    common = [
        "--model",
        str(short),
        "--configs",
        "flight",
        "urn",
        "--max-instances",
        "2",
        "--k",
        "2",
        "--no-progress",
    ]
    assert eval_main([*common, "--out", str(tmp_path / "a")]) == 1
    err = capsys.readouterr().err
    assert "steerability/flight" in err and "fits the model's context" in err
    assert "`steerability/flight`" in (tmp_path / "a" / "report.md").read_text()  # written, and listed
    assert eval_main([*common, "--skip-failed-tasks", "--out", str(tmp_path / "b")]) == 0


def test_non_finite_scores_fail_the_task_instead_of_vanishing_from_the_headline() -> None:
    tok = make_tokenizer("chatml")
    model = tiny_model(tok, context=4096)
    with torch.no_grad():
        model.lm_head.weight.fill_(
            3e38
        )  # finite weights whose logits overflow: the log-probabilities are NaN
    results = evaluate_model(model, tok, "spectrum", ["flight", "urn"], max_instances=2, k=2, progress=False)
    assert set(results.failed_tasks) == {"steerability/flight", "alignment/urn"}
    assert "non-finite" in results.failed_tasks["steerability/flight"]
    assert results.headline["steer/loss_geq_1"] is None


def test_a_model_with_nan_weights_is_refused_by_tuning_eval(tmp_path: Path, capsys) -> None:
    from transformers import AutoModelForCausalLM

    path = _save_tiny(tmp_path / "nan-model")
    model = AutoModelForCausalLM.from_pretrained(path)
    with torch.no_grad():
        model.model.layers[0].mlp.up_proj.weight[0, 0] = float("nan")
    model.save_pretrained(path)
    assert eval_main(["--model", str(path), "--configs", "urn", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "non-finite weights" in err and "up_proj" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_tuning_run_checks_its_evaluation_before_training_and_lists_failed_tasks(
    tiny: Path, tmp_path: Path, capsys
) -> None:
    argv = ["--model", str(tiny), *TINY_ARGS, "--output-root", str(tmp_path), "--run-name", "r",
            "--eval-configs", "car_brand", "urn", "--eval-max-instances", "2", "--eval-num-generations", "2",
            "--start-kind", "instruct"]  # fmt: skip
    assert run_main(argv) == 2  # before anything is trained
    assert "coverage/car_brand" in capsys.readouterr().err and not (tmp_path / "r").exists()
    assert run_main([*argv, "--eval-skip-failed-tasks"]) == 0
    card = (tmp_path / "r" / "README.md").read_text()
    assert "failed and are not in the headline" in card and "`coverage/car_brand`" in card
