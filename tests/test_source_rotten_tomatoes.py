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
