"""python -m spectrum_suite: list, build, show, export, and its errors."""

import json
import subprocess
import sys

import pytest

from spectrum_suite.__main__ import main


def test_list_prints_every_task_with_filters(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "124 tasks" in out and "habermas_opinions" in out and "weekdays_any_format" in out
    assert main(["list", "--side", "test", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 16 + 8 + 22 and {r["side"] for r in rows} == {"test"}
    assert main(["list", "--available", "--row-family", "episodes"]) == 0
    out = capsys.readouterr().out
    assert "flight" in out and "wvs_individual" not in out


def test_list_available_with_shared_data(capsys, shared_data):
    assert main(["list", "--available", "--data-dir", str(shared_data), "--json"]) == 0
    names = {r["name"] for r in json.loads(capsys.readouterr().out)}
    assert {
        "polis_vote",
        "nytimes",
        "chemistry_esol",
        "gsm8k_question",
        "gpqa",
        "opinionqa_questions",
    } <= names
    assert "opinionqa_individual" not in names  # only the questions are here, none of the responses


def test_build_prints_a_summary(capsys):
    assert main(["build", "coinflip", "--max-instances", "30"]) == 0
    out = capsys.readouterr().out
    assert "coinflip (episodes)" in out and "train:" in out and "validation:" in out


def test_show_marks_scored_spans(capsys):
    assert main(["show", "coinflip", "-n", "2", "--family", "gemma"]) == 0
    out = capsys.readouterr().out
    assert out.count("=== coinflip/") == 2 and "____" in out and "<start_of_turn>output" in out


def test_errors_name_the_problem(capsys):
    assert main(["build", "coinflp"]) == 2
    assert "did you mean 'coinflip'" in capsys.readouterr().err
    assert main(["build", "wvs_individual"]) == 1
    assert "worldvaluessurvey" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["build", "cards", "--max-instances", "-1"], "max_instances must be an integer of at least 1"),
        (["build", "cards", "--description-prob", "1.5"], "description_prob must be a number"),
        (["build", "cards", "--validation-fraction", "1"], "validation_fraction must be a number"),
        (["build", "cards", "--data-dir", "/no/such/dir"], "/no/such/dir (data_dir) does not exist"),
        (["export", "cards", "--out", "/proc/version"], "is not a folder"),
    ],
)
def test_bad_options_are_one_line_errors_before_any_work(capsys, argv, message):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err and "Traceback" not in err


def test_module_entry_point_and_help():
    result = subprocess.run(
        [sys.executable, "-m", "spectrum_suite", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "export" in result.stdout and "push" in result.stdout


def test_export_cli_writes_loadable_layout(tmp_path, capsys):
    out = tmp_path / "spectrum_suite"
    assert main(["export", "--out", str(out), "cards"]) == 0
    assert (out / "data" / "cards" / "train-00000-of-00001.parquet").is_file()
    assert "exported to" in capsys.readouterr().out
