"""Folders our commands write (`spectrum_suite.folders`): marked, written aside and swapped in whole, never
written into when someone else's, leftovers of interrupted work tidied or named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.exit_codes import eval_main, small_eval
from tests.test_run import _save_tiny
from tuning.eval import EvalResults, write_run

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("tiny") / "tiny-chatml")


def _results(steer: bool) -> EvalResults:
    """A small results record: with a steerability section (so a steerability plot) or without."""
    from tuning.eval.results import SteerResults, SteerTask

    results = EvalResults(model="m", format="spectrum", dtype="float32", device="cpu", context_length=64,
                          configs=["flight"], skipped_tasks={}, options={})  # fmt: skip
    if steer:
        task = SteerTask(k=1, counts={"episodes": 2, "evaluated": 2}, metrics={"loss_geq_1": 1.0, "all_acc_geq_1": 0.25},
                         episode_ids=["a", "b"], outputs={"episode": [0, 0, 1, 1], "shots": [0, 1, 0, 1],
                                                          "loss": [1.0, 1.0, 2.0, 1.0], "all_acc": [0, 1, 0, 0]})  # fmt: skip
        results.steerability = SteerResults(tasks={"flight": task})
    return results


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# ---------------------------------------------------------------------------------------------------
# tuning.eval --out and compare --out


def test_eval_never_writes_into_a_folder_it_did_not_create(tiny: Path, tmp_path: Path, capsys) -> None:
    mine = tmp_path / "my_results"
    mine.mkdir()
    for name, text in (("report.md", "my report"), ("results.json", '{"mine": 1}'), ("figure.png", "png")):
        (mine / name).write_text(text)
    before = _snapshot(mine)
    argv = small_eval(tiny, mine, "--no-progress")
    assert eval_main(argv) == 2
    err = capsys.readouterr().err
    assert "did not write" in err and str(mine) in err and "Traceback" not in err
    assert _snapshot(mine) == before
    assert [p.name for p in tmp_path.iterdir()] == ["my_results"]  # nothing written beside it either


def test_eval_replaces_its_earlier_run_as_a_whole(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()  # an empty folder is fine
    write_run(_results(steer=True), out)
    assert (out / "steer_curves.png").is_file() and (out / ".spectrum_eval.json").is_file()
    write_run(_results(steer=False), out)
    assert not (out / "steer_curves.png").exists()  # no stale plot beside the new results
    assert EvalResults.load(out / "results.json").steerability is None
    assert not [p for p in tmp_path.iterdir() if p.name != "run"]  # no staging or backup left beside it


def test_eval_refuses_to_replace_its_folder_when_files_were_added_or_edited(tmp_path: Path) -> None:
    from spectrum_suite.folders import FolderError

    out = tmp_path / "run"
    write_run(_results(steer=True), out)
    (out / "notes.md").write_text("my notes")
    with pytest.raises(FolderError, match="notes.md"):
        write_run(_results(steer=False), out)
    assert (out / "notes.md").read_text() == "my notes" and (out / "steer_curves.png").is_file()
    (out / "notes.md").unlink()
    (out / "report.md").write_text("edited by hand")
    with pytest.raises(FolderError, match="report.md"):
        write_run(_results(steer=False), out)
    assert (out / "report.md").read_text() == "edited by hand"


def test_compare_never_writes_into_a_folder_it_did_not_create(tmp_path: Path, capsys) -> None:
    for name in ("a", "b"):
        write_run(_results(steer=True), tmp_path / name)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "compare.md").write_text("my comparison")
    argv = ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(mine)]
    assert eval_main(argv) == 2
    assert "did not write" in capsys.readouterr().err and (mine / "compare.md").read_text() == "my comparison"
    assert eval_main([*argv[:-1], str(tmp_path / "cmp")]) == 0
    assert eval_main([*argv[:-1], str(tmp_path / "cmp")]) == 0  # its own folder: replaced whole
    assert (tmp_path / "cmp" / "compare.md").is_file() and (
        tmp_path / "cmp" / ".spectrum_compare.json"
    ).is_file()
    assert eval_main([*argv[:-1], str(tmp_path / "a")]) == 2  # an evaluation run is not a comparison's folder


@pytest.mark.parametrize("where", ["a file in the way", "a dangling link", "a name too long"])
def test_eval_output_that_cannot_be_a_folder_is_refused_before_the_model_loads(
    tiny: Path, tmp_path: Path, capsys, where: str
) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    out = {"a file in the way": tmp_path / "file" / "out", "a dangling link": tmp_path / "link",
           "a name too long": tmp_path / ("x" * 300)}[where]  # fmt: skip
    assert (
        eval_main(["--model", str(tiny), "--configs", "urn", "--max-instances", "2", "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err and err.count("\n") == 1


# ---------------------------------------------------------------------------------------------------
# Interrupted writes


def _mark():
    from spectrum_suite.folders import Mark

    return Mark(".test_mark.json", "the test")


def test_a_failed_write_leaves_the_previous_version_and_nothing_else(tmp_path: Path) -> None:
    from spectrum_suite.folders import write_whole

    mark = _mark()
    target = tmp_path / "out"
    write_whole(target, mark, lambda folder: (folder / "a.txt").write_text("first"), "--out")

    def crash(folder: Path) -> None:
        (folder / "a.txt").write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_whole(target, mark, crash, "--out")
    assert (target / "a.txt").read_text() == "first" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_leftovers_of_a_killed_write_are_tidied_by_the_next_one(tmp_path: Path) -> None:
    from spectrum_suite.folders import STAGING, sibling, write_whole, writer

    mark = _mark()
    target = tmp_path / "out"
    write_whole(target, mark, lambda folder: (folder / "a.txt").write_text("first"), "--out")
    staging = sibling(target, STAGING)  # a write killed while it was writing
    mark.create(staging, **{**writer(), "pid": _dead_pid()})
    (staging / "a.txt").write_text("half")
    alive = sibling(target, STAGING)  # another process, still writing: left alone
    mark.create(alive, **{**writer(), "pid": os.getppid()})
    write_whole(target, mark, lambda folder: (folder / "a.txt").write_text("second"), "--out")
    assert not staging.exists() and alive.exists() and (target / "a.txt").read_text() == "second"
    # A swap killed between its two renames: the previous version is put back before anything else.
    aside = sibling(target, "replaced")
    target.rename(aside)
    with pytest.raises(RuntimeError):
        write_whole(target, mark, lambda folder: (_ for _ in ()).throw(RuntimeError("again")), "--out")
    assert (target / "a.txt").read_text() == "second" and not aside.exists()


def test_a_killed_export_leaves_staging_folders_the_next_export_cleans(tmp_path: Path) -> None:
    from spectrum_suite.folders import writer
    from spectrum_suite.hub import STAGING_MARK, STAGING_PREFIX, export

    out = export(tmp_path / "export", ["coinflip"])
    kept = _snapshot(out / "data" / "coinflip")
    # Killed after it moved coinflip aside and before it put the new one in place: coinflip is only in staging.
    staging = out / f"{STAGING_PREFIX}killed"
    STAGING_MARK.create(staging, **{**writer(), "pid": _dead_pid()})
    (out / "data" / "coinflip").rename(staging / "previous-coinflip")
    legacy = out / f"{STAGING_PREFIX}earlier"  # an earlier release's staging folder, without a mark
    (legacy / "data" / "cards").mkdir(parents=True)
    (legacy / "data" / "cards" / "train-00000-of-00001.parquet").write_bytes(b"PAR1")
    theirs = out / f"{STAGING_PREFIX}notes"  # not a staging folder's content: left alone
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    export(out, ["cards"])
    assert not staging.exists() and not legacy.exists() and (theirs / "notes.txt").read_text() == "mine"
    assert _snapshot(out / "data" / "coinflip") == kept  # put back, not lost
    assert sorted(json.loads((out / "spectrum_suite_export.json").read_text())["configs"]) == [
        "cards",
        "coinflip",
    ]


# ---------------------------------------------------------------------------------------------------
# tuning.weight_transfer --out


def test_weight_transfer_writes_a_folder_of_its_own_and_names_a_missing_model(
    tiny: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def transfer(base: Path, out: Path) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "tuning.weight_transfer", str(base), str(tiny), "--out", str(out)]
        return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)

    missing = transfer(tmp_path / "no-such-model", tmp_path / "out")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "no-such-model" in missing.stderr and "does not exist" in missing.stderr
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "model.safetensors").write_text("my weights")
    refused = transfer(tiny, mine)
    assert refused.returncode == 2 and "did not write" in refused.stderr
    assert (mine / "model.safetensors").read_text() == "my weights"
    assert transfer(tiny, tmp_path / "out").returncode == 0
    assert (tmp_path / "out" / "model.safetensors").is_file() and (
        tmp_path / "out" / ".spectrum_transfer.json"
    ).is_file()
