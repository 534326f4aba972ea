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


def build(root: Path, verify: bool = True) -> list[dict]:
    """The rows built from ``root``; a test's edited copy of the pinned file is read with verification off."""
    fetched = fetch_files(TASK.name, TASK.files, root, None, verify)
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


def write_books(tmp_path: Path, books: dict) -> None:
    target = tmp_path / nytimes.LOCAL
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(books), encoding="utf-8")


def odes(**counts) -> dict:
    """A small book in the file's layout, with the given demographics' counts."""
    return {"MC_options": ["1: No", "2: Yes"], "genre": "Poetry", "summary": "Verses.\nAnswer:", **counts}


def test_answer_lines_are_removed_and_missing_demographics_counted(tmp_path: Path) -> None:
    write_books(tmp_path, {"Odes": odes(Democrat={"1: No": 1, "2: Yes": 1}, Male={"1: No": 3, "2: Yes": 1})})
    fetched = fetch_files(TASK.name, TASK.files, tmp_path, None, verify=False)
    rows = list(TASK.build(TASK, fetched))
    assert [r["instance_id"] for r in rows] == ["Odes/Democrat", "Odes/Male"]
    assert (
        rows[0]["input"]
        == "How likely are you to read this book?\nBook: Odes\nGenre: Poetry\nSummary: Verses.\nOptions:\n1: No\n2: Yes"
    )
    assert rows[0]["target_probs"] == [0.5, 0.5]
    assert rows[1]["target_probs"] == [0.75, 0.25]
    assert fetched.dropped["book without the demographic Republican"] == 1


@pytest.mark.parametrize(
    ("counts", "field", "problem"),
    [
        ({"1: No": 0, "2: Yes": 0}, "Democrat", "all counts are zero"),  # was a uniform target
        ({"1: No": -2, "2: Yes": 5}, r"Democrat.1: No", "expected a number in 0"),
        ({"1: No": float("nan"), "2: Yes": 5}, r"Democrat.1: No", "expected a finite number, got nan"),
        ({"1: No": "7", "2: Yes": 5}, r"Democrat.1: No", "expected a number, got '7'"),
        ({"1: No": True, "2: Yes": 5}, r"Democrat.1: No", "expected a number, got True"),
        ({"1: No": 2.5, "2: Yes": 5}, r"Democrat.1: No", "expected an integer, got 2.5"),
        ({"1: No": 1, "2: Yes": 5, "3: Maybe": 2}, r"Democrat.3: Maybe", "not in MC_options"),
    ],
)
def test_a_count_that_is_not_a_count_names_the_book_and_field(
    tmp_path: Path, counts: dict, field: str, problem: str
) -> None:
    write_books(tmp_path, {"Odes": odes(Democrat=counts)})
    with pytest.raises(
        SourceFormatError, match=rf"NYTIMES_proportions.json: book 'Odes': field '{field}': .*{problem}"
    ):
        build(tmp_path, verify=False)


def test_a_summary_that_is_not_text_and_repeated_options_are_named(tmp_path: Path) -> None:
    write_books(tmp_path, {"Odes": {**odes(Male={"1: No": 1}), "summary": None}})
    with pytest.raises(SourceFormatError, match=r"book 'Odes': field 'summary': expected text, got None"):
        build(tmp_path, verify=False)
    write_books(tmp_path, {"Odes": {**odes(Male={"1: No": 1}), "MC_options": ["1: No", "1: Yes"]}})
    with pytest.raises(SourceFormatError, match=r"book 'Odes': field 'MC_options': expected distinct"):
        build(tmp_path, verify=False)


def test_a_book_without_genre_names_the_file_book_and_field(tmp_path: Path, shared_data: Path) -> None:
    target = tmp_path / nytimes.LOCAL
    target.parent.mkdir(parents=True)
    raw = json.loads((shared_data / nytimes.LOCAL).read_text(encoding="utf-8"))
    title = next(iter(raw))
    del raw[title]["genre"]
    target.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(SourceFormatError, match=rf"NYTIMES_proportions.json: book '{title}': field 'genre'"):
        build(tmp_path, verify=False)


def test_files_pin_the_manifest_commit_and_checksum(tmp_path: Path) -> None:
    (file,) = TASK.files.files
    assert file.path == "nytimes/nytimes/NYTIMES_proportions.json"
    assert "36869b56b214b5ddce13dc234d62b4cbce3706cd" in file.url and file.sha256.startswith("854d0321")
    with pytest.raises(SourceUnavailable, match="nytimes/nytimes/NYTIMES_proportions.json"):
        build(tmp_path)
