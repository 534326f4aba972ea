"""The mpi alignment adapter: real questions file from ../shared/data, human responses from the fixture."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import mpi
from spectrum_suite.task import SourceFormatError, SourceUnavailable

TASK = get_task("mpi")
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def data_dir(tmp_path: Path, shared_data: Path) -> Path:
    """The data directory as a user lays it out: the GitHub questions file plus the manual responses file."""
    for rel, root in ((mpi.QUESTIONS, shared_data), (mpi.RESPONSES, FIXTURES)):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / rel, tmp_path / rel)
    return tmp_path


def build(root: Path) -> tuple[list[dict], object]:
    fetched = fetch_files(TASK.name, TASK.files, root, None)
    return list(TASK.build(TASK, fetched)), fetched


def test_items_use_the_real_statements_and_recomputed_targets(data_dir: Path) -> None:
    rows, fetched = build(data_dir)
    assert [r["instance_id"] for r in rows] == [f"I{k}" for k in range(1, 121)]
    first = rows[0]
    assert first["input"] == (
        "Statement: You worry about things\nOptions:\n0: Strongly disagree\n1: Disagree\n2: Slightly disagree\n"
        "3: Slightly agree\n4: Agree\n5: Strongly agree"
    )
    assert first["description"].startswith("You are a random survey respondent. Rate your agreement")
    # I1 holds 5, 5, 0, 3, a gap and an out-of-range 9: the 9 is dropped before counting (docs/deviations.md#alignment-targets).
    assert first["target_probs"] == pytest.approx([0.25, 0, 0, 0.25, 0, 0.5])
    assert fetched.dropped["MPI answer outside 0..5"] == 1
    questions = pd.read_csv(data_dir / mpi.QUESTIONS, sep="\t")
    responses = pd.read_csv(data_dir / mpi.RESPONSES)
    for k in (2, 60, 120):
        counts = responses[f"I{k}"].dropna().value_counts()
        expected = [counts.get(v, 0) / counts.sum() for v in range(6)]
        assert rows[k - 1]["target_probs"] == pytest.approx(expected)
        assert rows[k - 1]["input"].startswith(
            "Statement: You " + questions["text"].iloc[k - 1].lower() + "\n"
        )
    assert all(sum(r["target_probs"]) == pytest.approx(1.0) for r in rows)


def test_missing_responses_file_says_where_to_get_it(tmp_path: Path, shared_data: Path) -> None:
    (tmp_path / mpi.QUESTIONS).parent.mkdir(parents=True)
    shutil.copy(shared_data / mpi.QUESTIONS, tmp_path / mpi.QUESTIONS)
    with pytest.raises(
        SourceUnavailable, match=r"'mpi/mpi_human_resp.csv' \(not in the data directory\).*drive.google"
    ):
        build(tmp_path)


def test_a_non_numeric_answer_names_the_row_and_item(data_dir: Path) -> None:
    responses = pd.read_csv(data_dir / mpi.RESPONSES)
    responses["I3"] = responses["I3"].astype(object)
    responses.loc[2, "I3"] = "often"
    responses.to_csv(data_dir / mpi.RESPONSES, index=False)
    with pytest.raises(
        SourceFormatError, match=r"mpi_human_resp.csv: row 4: field 'I3': expected a rating 0..5"
    ):
        build(data_dir)


def test_an_item_without_an_answer_in_range_has_no_target(data_dir: Path) -> None:
    """Was a uniform target; an item nobody answered on the scale cannot be a distribution."""
    responses = pd.read_csv(data_dir / mpi.RESPONSES)
    responses["I7"] = 9
    responses.to_csv(data_dir / mpi.RESPONSES, index=False)
    with pytest.raises(
        SourceFormatError, match=r"mpi_human_resp.csv: all rows: field 'I7': no answer in 0..5: no target"
    ):
        build(data_dir)


@pytest.mark.parametrize("value", [2.5, float("inf")])
def test_a_fractional_or_infinite_answer_names_the_row(data_dir: Path, value: float) -> None:
    """Was counted and dropped as an answer outside 0..5; a rating is an integer."""
    responses = pd.read_csv(data_dir / mpi.RESPONSES).astype({"I5": float})
    responses.loc[1, "I5"] = value
    responses.to_csv(data_dir / mpi.RESPONSES, index=False)
    with pytest.raises(
        SourceFormatError,
        match=rf"mpi_human_resp.csv: row 3: field 'I5': expected a rating 0..5, got {value}",
    ):
        build(data_dir)


def test_a_statement_that_is_not_text_names_the_row(data_dir: Path) -> None:
    """Was the input ``Statement: You nan``."""
    questions = pd.read_csv(data_dir / mpi.QUESTIONS, sep="\t")
    questions.loc[3, "text"] = None
    questions.to_csv(data_dir / mpi.QUESTIONS, sep="\t", index=False)
    fetched = fetch_files(TASK.name, TASK.files, data_dir, None, verify=False)
    with pytest.raises(
        SourceFormatError, match=r"mpi_questions.csv: row 5: field 'text': expected text, got nan"
    ):
        list(TASK.build(TASK, fetched))
