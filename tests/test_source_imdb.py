"""The imdb adapter on a fixture of plain_text/train-00000-of-00001.parquet."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spectrum_suite.episodes import generate_episodes
from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import imdb
from spectrum_suite.task import SourceFormatError

FIXTURES = Path(__file__).parent / "fixtures"
TASK = get_task("imdb")


def test_reviews_map_to_negative_or_positive() -> None:
    (inst,) = TASK.build(TASK, fetch_files(TASK.name, TASK.files, FIXTURES, None))
    raw = pq.read_table(FIXTURES / imdb.LOCAL).to_pylist()
    assert inst.population == [(r["text"], "positive" if r["label"] == 1 else "negative") for r in raw]
    assert inst.descriptions == ["Classify whether the following movie reviews as negative or positive."]
    assert len(list(generate_episodes([inst], TASK.params))) == 200


def test_an_unexpected_label_names_the_row(tmp_path: Path) -> None:
    target = tmp_path / imdb.LOCAL
    target.parent.mkdir(parents=True)
    pq.write_table(pa.table({"text": ["fine", "odd"], "label": pa.array([1, 2], pa.int64())}), target)
    with pytest.raises(SourceFormatError, match=r"row 1 \(0-based\): field 'label': unexpected label 2"):
        TASK.build(TASK, fetch_files(TASK.name, TASK.files, tmp_path, None))


def test_a_review_that_is_not_text_names_the_row(tmp_path: Path) -> None:
    """Was the review "None"."""
    target = tmp_path / imdb.LOCAL
    target.parent.mkdir(parents=True)
    pq.write_table(pa.table({"text": ["fine", None], "label": pa.array([1, 0], pa.int64())}), target)
    with pytest.raises(
        SourceFormatError, match=r"row 1 \(0-based\): field 'text': expected text, got (None|nan)"
    ):
        TASK.build(TASK, fetch_files(TASK.name, TASK.files, tmp_path, None))
