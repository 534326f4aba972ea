"""The rotten_tomatoes alignment adapter on a fixture in the manual file's layout and columns."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import rotten_tomatoes
from spectrum_suite.task import SourceFormatError, SourceUnavailable

TASK = get_task("rotten_tomatoes")
FIXTURES = Path(__file__).parent / "fixtures"


def build(root: Path) -> tuple[list[dict], object]:
    fetched = fetch_files(TASK.name, TASK.files, root, None)
    return list(TASK.build(TASK, fetched)), fetched


def test_scores_become_good_bad_distributions() -> None:
    rows, fetched = build(FIXTURES)
    by_id = {r["instance_id"]: r for r in rows}
    assert sorted(by_id) == ["0/audience", "0/critic", "1/critic", "2/audience", "3/audience", "3/critic"]
    assert by_id["0/critic"]["input"] == "Movie: The Quiet Harbour\nRelease Date: 2001-05-04"
    assert by_id["0/critic"]["target_probs"] == pytest.approx([0.85, 0.15])
    assert by_id["0/audience"]["description"].startswith("You recently watched the following movies.")
    assert by_id["1/critic"]["input"] == "Movie: Night Train to Lisbon Road"
    assert by_id["3/audience"]["target_probs"] == [0.0, 1.0] and by_id["3/critic"]["target_probs"] == [
        1.0,
        0.0,
    ]
    assert all(r["candidates"] == ["Good", "Bad"] for r in rows)
    assert fetched.dropped == {"audience score missing": 1, "critic score not a percentage": 1}


def test_missing_file_and_missing_column(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="rotten_tomatoes_data_1970_2024/movie_info.csv"):
        build(tmp_path)
    target = tmp_path / rotten_tomatoes.PATH
    target.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / rotten_tomatoes.PATH, target)
    pd.read_csv(target).drop(columns=["audience_score"]).to_csv(target, index=False)
    with pytest.raises(
        SourceFormatError, match=r"movie_info.csv: header: field 'audience_score': column missing"
    ):
        build(tmp_path)


def write_movies(tmp_path: Path, *lines: str) -> None:
    target = tmp_path / rotten_tomatoes.PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("title,release_date,critic_score,audience_score\n" + "\n".join(lines) + "\n")


@pytest.mark.parametrize("score", ["85.5%", "-3%", "120%", "8 5%", "٣٠%"])
def test_a_score_with_digits_that_is_not_a_percentage_names_the_row(tmp_path: Path, score: str) -> None:
    """Were dropped as "not a percentage" (or "above 100%"); a number in the wrong form is a corrupt file."""
    write_movies(tmp_path, "The Quiet Harbour,2001-05-04,85%,90%", f"Loud Summer,1975-06-20,40%,{score}")
    with pytest.raises(
        SourceFormatError,
        match=r"movie_info.csv: row 3: field 'audience_score': expected a percentage 0%..100%",
    ):
        build(tmp_path)


def test_markers_without_digits_are_counted_drops(tmp_path: Path) -> None:
    write_movies(tmp_path, "The Quiet Harbour,2001-05-04,N/A,--", "Loud Summer,1975-06-20,40%,")
    rows, fetched = build(tmp_path)
    assert [r["instance_id"] for r in rows] == ["1/critic"]
    assert fetched.dropped == {
        "critic score not a percentage": 1,
        "audience score not a percentage": 1,
        "audience score missing": 1,
    }


def test_a_movie_without_a_title_names_the_row(tmp_path: Path) -> None:
    """Was the input ``Movie: ``."""
    write_movies(tmp_path, "The Quiet Harbour,2001-05-04,85%,90%", ",1975-06-20,40%,50%")
    with pytest.raises(SourceFormatError, match=r"movie_info.csv: row 3: field 'title': expected text"):
        build(tmp_path)
