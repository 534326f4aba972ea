"""The nytimes alignment adapter on the real NYTIMES_proportions.json of ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import nytimes
from spectrum_suite.task import SourceFormatError, SourceUnavailable

TASK = get_task("nytimes")


def build(root: Path) -> list[dict]:
    fetched = fetch_files(TASK.name, TASK.files, root, None)
    return list(TASK.build(TASK, fetched))


def test_real_file_targets_match_the_raw_counts(shared_data: Path) -> None:
    rows = build(shared_data)
    raw = json.loads((shared_data / nytimes.LOCAL).read_text(encoding="utf-8"))
    assert len(rows) == 4 * len(raw) == 940
    first = rows[0]
    assert first["instance_id"] == "The Bee Sting By Paul Murray/Democrat"
    assert first["description"] == "You are a random survey respondent. Respondent demographic: Democrat"
    assert first["input"].startswith(
        "How likely are you to read this book?\nBook: The Bee Sting By Paul Murray\nGenre: Fiction\n"
    )
    assert first["input"].endswith(
        "\nOptions:\n1: Very unlikely\n2: Somewhat unlikely\n3: Somewhat likely\n4: Very likely"
    )
    assert first["candidates"] == ["1", "2", "3", "4"]
    assert first["target_probs"] == pytest.approx([9 / 20, 6 / 20, 3 / 20, 2 / 20])
    by_id = {row["instance_id"]: row for row in rows}
    for title, book in list(raw.items())[::37]:
        for demographic in nytimes.DEMOGRAPHICS:
            counts = [book[demographic][option] for option in book["MC_options"]]
            assert by_id[f"{title}/{demographic}"]["target_probs"] == pytest.approx(
                [c / sum(counts) for c in counts]
            )
    for row in rows:
        assert sum(row["target_probs"]) == pytest.approx(1.0)
        assert "Answer:" not in row["input"].split("\n")
        assert row["output_name"] == "Reading Likelihood (1, 2, 3, 4)"


def test_answer_lines_are_removed_and_zero_counts_are_uniform(tmp_path: Path) -> None:
    book = {"MC_options": ["1: No", "2: Yes"], "genre": "Poetry", "summary": "Verses.\nAnswer:",
            "Democrat": {"1: No": 0, "2: Yes": 0}, "Male": {"1: No": 3, "2: Yes": 1}}  # fmt: skip
    target = tmp_path / nytimes.LOCAL
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps({"Odes": book}), encoding="utf-8")
    fetched = fetch_files(TASK.name, TASK.files, tmp_path, None)
    rows = list(TASK.build(TASK, fetched))
    assert [r["instance_id"] for r in rows] == ["Odes/Democrat", "Odes/Male"]
    assert (
        rows[0]["input"]
        == "How likely are you to read this book?\nBook: Odes\nGenre: Poetry\nSummary: Verses.\nOptions:\n1: No\n2: Yes"
    )
    assert rows[0]["target_probs"] == [0.5, 0.5]
    assert rows[1]["target_probs"] == [0.75, 0.25]
    assert fetched.dropped["book without the demographic Republican"] == 1


def test_a_book_without_genre_names_the_file_book_and_field(tmp_path: Path, shared_data: Path) -> None:
    target = tmp_path / nytimes.LOCAL
    target.parent.mkdir(parents=True)
    raw = json.loads((shared_data / nytimes.LOCAL).read_text(encoding="utf-8"))
    title = next(iter(raw))
    del raw[title]["genre"]
    target.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(SourceFormatError, match=rf"NYTIMES_proportions.json: book '{title}': field 'genre'"):
        build(tmp_path)


def test_files_pin_the_manifest_commit_and_checksum(tmp_path: Path) -> None:
    (file,) = TASK.files.files
    assert file.path == "nytimes/nytimes/NYTIMES_proportions.json"
    assert "36869b56b214b5ddce13dc234d62b4cbce3706cd" in file.url and file.sha256.startswith("854d0321")
    with pytest.raises(SourceUnavailable, match="nytimes/nytimes/NYTIMES_proportions.json"):
        build(tmp_path)
