"""``python -m tuning.run`` refuses what would go silently wrong: options out of range (before the model loads
and before a folder is made), a diverged training, a resume with other options or data, files it did not write;
and it names what interrupted work left behind."""

from __future__ import annotations

import json
import math
import shlex
import subprocess
from pathlib import Path

import pytest
from safetensors.torch import load_file

from tests.test_run import TINY_ARGS, _save_tiny
from tests.tokenizer_fixtures import build_tokenizer
from tuning.run.cli import main as run_main
from tuning.run.folder import RunFolder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("tiny") / "tiny-chatml")


def _mark(run: Path) -> dict:
    return json.loads((run / ".spectrum_run.json").read_text())


def _argv(tiny: Path, root: Path, *extra: str, name: str = "r") -> list[str]:
    return ["--model", str(tiny), *TINY_ARGS, "--output-root", str(root), "--run-name", name, *extra]


def _one_line_error(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error:") and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--adam_beta1", "1.5"], "--adam_beta1 must be a number of at least 0 and below 1"),
        (["--adam_beta2", "1"], "--adam_beta2"),
        (["--adam_epsilon=-1"], "--adam_epsilon"),
        (["--label_smoothing_factor", "1"], "--label_smoothing_factor"),
        (["--warmup_steps", "2.5"], "--warmup_steps must be a whole number"),
        (["--seed=-1"], "--seed"),
        (["--per_device_train_batch_size", "0"], "--per_device_train_batch_size"),
        (["--weight_decay=-0.1"], "--weight_decay"),
        (["--num_train_epochs", "1e9"], "--num_train_epochs must be a positive number of at most 10000"),
        (
            ["--max_steps", "100000000000"],
            "--max_steps must be -1 (the epochs decide) or at least 1 and at most",
        ),
        (["--max_length", "1000000000"], "--max_length must be an integer of at least 2 and at most"),
        (["--per_device_train_batch_size", "100000000"], "--per_device_train_batch_size"),
        (
            ["--eval_top_k", "100000000000"],
            "--eval_top_k must be an integer of at least 0 and at most 1000000",
        ),
        (["--eval_k_window", "100000000"], "--eval_k_window"),
        (["--effective_batch", "3", "--per_device_train_batch_size", "4"], "not a multiple of"),
        (["--effective_batch", "4", "--gradient_accumulation_steps", "2"], "pass one"),
        (["--use_peft", "true", "--lora_r", "0"], "--lora_r"),
        (["--use_peft", "true", "--lora_dropout", "1"], "--lora_dropout"),
        (["--eval_configs", "no_such_config"], "unknown config 'no_such_config'"),
        (["--eval_configs", ""], "config or task names"),
        (["--eval_configs", "coinflip"], "no held-out test split"),
        (
            ["--eval_num_generations", "100000"],
            "--eval_num_generations must be an integer of at least 1 and at most",
        ),
        (["--eval_batch_size", "0"], "--eval_batch_size"),
        (["--eval_top_k=-3"], "--eval_top_k"),
        (["--data_dir", "/no/such/folder"], "does not exist"),
        (["--eval_start_format", "chat", "--model", "PLAIN"], "--eval_start_format"),
    ],
)
def test_options_out_of_range_fail_before_the_model_loads_and_leave_no_folder(
    tiny: Path, tmp_path: Path, capsys, extra: list[str], message: str
) -> None:
    if "PLAIN" in extra:  # a base model's tokenizer, without a chat template (the check needs no weights)
        build_tokenizer("plain").save_pretrained(tmp_path / "plain")
        extra = [str(tmp_path / "plain") if e == "PLAIN" else e for e in extra]
    root = tmp_path / "root"
    evaluation = [] if any(e.startswith("--eval") for e in extra) else ["--no-eval"]
    assert run_main(_argv(tiny, root, *evaluation, *extra)) == 2
    assert message in _one_line_error(capsys)
    assert not root.exists() or not any(root.iterdir())


def test_a_diverged_training_stops_and_is_never_saved_as_a_run(tiny: Path, tmp_path: Path, capsys) -> None:
    assert run_main(_argv(tiny, tmp_path, "--learning_rate", "1e8", "--no-eval", "--save-steps", "1")) == 1
    err = capsys.readouterr().err
    assert "training diverged at optimizer step" in err and "--learning_rate" in err
    run = tmp_path / "r"
    assert not (run / "model.safetensors").exists() and not (run / "README.md").exists()
    assert _mark(run)["state"] == "failed"
    for checkpoint in run.glob("checkpoint-*"):  # a checkpoint that was saved holds finite weights
        assert all(bool(t.isfinite().all()) for t in load_file(checkpoint / "model.safetensors").values())
    assert run_main(_argv(tiny, tmp_path, "--resume", "--no-eval")) == 2  # only with its own options


def test_a_diverged_overwrite_puts_the_previous_run_back(tiny: Path, tmp_path: Path) -> None:
    assert run_main(_argv(tiny, tmp_path, "--no-eval")) == 0
    card = (tmp_path / "r" / "README.md").read_text()
    assert run_main(_argv(tiny, tmp_path, "--no-eval", "--overwrite", "--learning_rate", "1e8")) == 1
    assert (tmp_path / "r" / "README.md").read_text() == card and _mark(tmp_path / "r")["state"] == "complete"


def test_resume_refuses_other_options_and_a_run_that_does_not_exist(
    tiny: Path, tmp_path: Path, capsys
) -> None:
    assert run_main(_argv(tiny, tmp_path, "--resume", "--no-eval")) == 2
    assert "no run in" in _one_line_error(capsys) and not (tmp_path / "r").exists()
    assert run_main(_argv(tiny, tmp_path, "--no-eval")) == 0
    capsys.readouterr()
    for extra, named in ((["--learning_rate", "1e-3"], "--learning_rate: 5e-05 vs 0.001"),
                         (["--configs", "cards"], "--configs: ['coinflip'] vs ['cards']"),
                         (["--max-train-episodes", "8"], "--max_train_episodes: 16 vs 8"),
                         (["--adam_beta2", "0.9"], "--adam_beta2")):  # fmt: skip
        assert run_main(_argv(tiny, tmp_path, "--resume", "--no-eval", *extra)) == 2
        assert named in _one_line_error(capsys)
    assert (
        run_main(_argv(tiny, tmp_path, "--resume", "--no-eval", "--logging_steps", "2")) == 0
    )  # not training


def test_resume_of_a_finished_run_with_new_evaluation_options_evaluates_it(
    tiny: Path, tmp_path: Path
) -> None:
    assert run_main(_argv(tiny, tmp_path, "--no-eval")) == 0
    run = tmp_path / "r"
    weights = (run / "model.safetensors").read_bytes()
    evaluation = ["--eval-configs", "urn", "--eval-max-instances", "2", "--start-kind", "instruct"]
    assert run_main(_argv(tiny, tmp_path, "--resume", *evaluation)) == 0
    assert (run / "model.safetensors").read_bytes() == weights  # evaluated, not trained further
    arms = json.loads((run / "before_after.json").read_text())["arms"]
    assert len(arms) == 3 and "| tuned (spectrum) |" in (run / "README.md").read_text()
    results = run / "eval" / "tuned-spectrum" / "results.json"
    first = results.stat().st_mtime_ns
    assert run_main(_argv(tiny, tmp_path, "--resume", *evaluation)) == 0  # the same options: nothing to do
    assert results.stat().st_mtime_ns == first
    assert (
        run_main(
            _argv(tiny, tmp_path, "--resume", *evaluation[:2], "--eval-max-instances", "3", *evaluation[4:])
        )
        == 0
    )
    assert json.loads(results.read_text())["options"]["max_instances"] == 3
    from tuning.run.folder import RUN_MARK

    assert not RUN_MARK.foreign(run, ("checkpoint-*", "logs"))  # everything there is the run's own
    report = run / "eval" / "start-chat" / "report.md"
    report.write_text("my notes on the start model")
    assert run_main(_argv(tiny, tmp_path, "--resume", *evaluation)) == 2  # refused before evaluating anything
    assert report.read_text() == "my notes on the start model"


def _interrupted(tiny: Path, root: Path) -> Path:
    """A run with checkpoints 2 and 4 whose mark says it was still training (killed before the end)."""
    argv = _argv(tiny, root, "--no-eval", "--max-steps", "4", "--save-steps", "2", "--save_total_limit", "2")
    assert run_main(argv) == 0
    mark = _mark(root / "r")
    (root / "r" / ".spectrum_run.json").write_text(json.dumps({**mark, "state": "training"}))
    return root / "r"


def test_resume_falls_back_from_a_truncated_checkpoint_and_names_it(
    tiny: Path, tmp_path: Path, caplog
) -> None:
    run = _interrupted(tiny, tmp_path)
    weights = run / "checkpoint-4" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    resume = _argv(tiny, tmp_path, "--no-eval", "--max-steps", "4", "--save-steps", "2", "--save_total_limit", "2",
                   "--resume")  # fmt: skip
    assert run_main(resume) == 0
    assert str(weights) in caplog.text and "resuming from checkpoint-2 instead" in caplog.text
    record = json.loads((run / "run_args.json").read_text())["train_result"]
    assert record["resumed from"] == "checkpoint-2" and record["global step"] == 4
    history = json.loads((run / "checkpoint-4" / "trainer_state.json").read_text())["log_history"]
    losses = [e["loss"] for e in history if "loss" in e]
    assert len(losses) == 4 and record["train loss"] == pytest.approx(
        sum(losses) / 4, abs=1e-4
    )  # the whole run's


def test_resume_with_no_whole_checkpoint_names_the_broken_file(tiny: Path, tmp_path: Path, capsys) -> None:
    run = _interrupted(tiny, tmp_path)
    for checkpoint in run.glob("checkpoint-*"):
        (checkpoint / "optimizer.pt").write_bytes(b"PK\x03\x04 cut short")
    capsys.readouterr()
    assert run_main(_argv(tiny, tmp_path, "--no-eval", "--resume", "--max-steps", "4", "--save-steps", "2",
                          "--save_total_limit", "2")) == 2  # fmt: skip
    err = _one_line_error(capsys)
    assert "optimizer.pt is truncated or corrupt" in err and "--overwrite" in err


def test_overwrite_never_deletes_a_file_it_did_not_write(tiny: Path, tmp_path: Path, capsys) -> None:
    assert run_main(_argv(tiny, tmp_path, "--no-eval")) == 0
    run = tmp_path / "r"
    (run / "notes.txt").write_text("mine")
    assert run_main(_argv(tiny, tmp_path, "--no-eval", "--overwrite")) == 2
    assert "notes.txt" in _one_line_error(capsys) and (run / "notes.txt").read_text() == "mine"
    (run / "notes.txt").unlink()
    with (run / "README.md").open("a") as card:
        card.write("\nMy edits.\n")
    assert run_main(_argv(tiny, tmp_path, "--no-eval", "--overwrite")) == 2
    assert "README.md" in _one_line_error(capsys) and "My edits." in (run / "README.md").read_text()
    assert (
        run_main(_argv(tiny, tmp_path, "--no-eval")) == 2
    )  # a finished run is not silently rewritten either
    assert "already holds a run" in _one_line_error(capsys)


def test_a_killed_overwrite_leaves_a_backup_every_later_run_names(tiny: Path, tmp_path: Path, caplog) -> None:
    assert run_main(_argv(tiny, tmp_path, "--no-eval")) == 0
    run = tmp_path / "r"
    card = (run / "README.md").read_text()
    RunFolder(run).start(
        overwrite=True, resume=False, arguments={}
    )  # killed right after: the new run is empty
    (backup,) = tmp_path.glob(".r.replaced-*")
    assert run_main(_argv(tiny, tmp_path, "--no-eval", "--resume")) == 0  # continues the new run ...
    assert str(backup) in caplog.text and "To restore it: mv" in caplog.text  # ... naming the old one
    command = caplog.text.split("To restore it: ")[1].splitlines()[0]
    subprocess.run(command, shell=True, check=True)
    assert (run / "README.md").read_text() == card and not backup.exists()
    assert (
        shlex.split(command)[1] == str(run) and (tmp_path / "r.interrupted" / "model.safetensors").is_file()
    )


def test_the_recorded_effective_batch_is_the_one_applied(tiny: Path, tmp_path: Path) -> None:
    argv = _argv(tiny, tmp_path, "--no-eval", "--packing", "false", "--effective-batch", "4",
                 "--per_device_train_batch_size", "2")  # fmt: skip
    assert run_main(argv) == 0
    hyper = json.loads((tmp_path / "r" / "run_args.json").read_text())["hyperparameters"]
    assert hyper["effective batch (episodes/step)"] == 4 and hyper["gradient accumulation"] == 2
    argv = ["--model", str(tiny), "--configs", "coinflip", "--max-train-episodes", "12", "--max-length", "96",
            "--output-root", str(tmp_path), "--run-name", "g", "--no-eval", "--packing", "false",
            "--gradient_accumulation_steps", "3", "--per_device_train_batch_size", "2"]  # fmt: skip
    assert run_main(argv) == 0
    hyper = json.loads((tmp_path / "g" / "run_args.json").read_text())["hyperparameters"]
    assert hyper["effective batch (episodes/step)"] == 6 and hyper["optimizer steps"] == 2


@pytest.mark.parametrize("case", ["a dangling link", "300 characters", "an output root that is a file"])
def test_run_folders_that_cannot_be_made_are_one_line_errors(
    tiny: Path, tmp_path: Path, capsys, case: str
) -> None:
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "a-file").write_text("x")
    root, name = {"a dangling link": (tmp_path, "dangling"), "300 characters": (tmp_path, "x" * 300),
                  "an output root that is a file": (tmp_path / "a-file" / "runs", "r")}[case]  # fmt: skip
    assert run_main(_argv(tiny, root, "--no-eval", name=name)) == 2
    _one_line_error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "dangling"]


def test_the_train_loss_is_the_mean_over_every_logged_step() -> None:
    from tuning.run.divergence import mean_logged_loss

    history = [
        {"step": 1, "loss": 4.0},
        {"step": 3, "loss": 1.0},
        {"step": 3, "train_loss": 9.0},
        {"step": 4, "loss": 2.0},
    ]
    assert mean_logged_loss(history) == pytest.approx((4.0 + 2 * 1.0 + 2.0) / 4)
    assert mean_logged_loss([]) is None and not math.isnan(mean_logged_loss(history))


def test_episodes_longer_than_the_models_positions_are_refused_before_a_folder_is_made(
    tmp_path: Path, capsys
) -> None:
    short = _save_tiny(tmp_path / "short", context=64)
    assert run_main(_argv(short, tmp_path / "root", "--no-eval")) == 2  # episodes cut to 96 tokens
    assert "longer than the 64 positions of the model; pass --max_length 64" in _one_line_error(capsys)
    assert not (tmp_path / "root").exists()
