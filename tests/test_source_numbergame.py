"""The numbergame adapter (two episode tasks and the alignment task) on a fixture of numbergame_data.csv."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import numbergame
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import build

FIXTURES = Path(__file__).parent / "fixtures"


def run(name: str, root: Path = FIXTURES):
    task = get_task(name)
    if task.row_family == "alignment":
        fetched = fetch_files(task.name, task.files, root, None)
        return list(task.build(task, fetched)), fetched
    built = build(name, root)
    return built.episodes, built.fetched


def test_each_participant_episode_holds_only_their_answers() -> None:
    episodes, fetched = run("numbergame_individual")
    raw = pd.read_csv(FIXTURES / numbergame.PATH).dropna()
    assert len(episodes) == raw["id"].nunique() == 10
    for episode in episodes:
        person = int(episode.instance.key.split("/")[1])
        mine = raw[raw["id"] == person]
        expected = sorted(
            (
                f'{{"given_numbers": "{", ".join(s.split("_"))}", "target_number": "{t}"}}',
                "Yes" if r else "No",
            )
            for s, t, r in zip(mine["set"], mine["target"], mine["rating"], strict=True)
        )
        assert sorted(episode.samples) == expected
        assert episode.instance.choices == ("Yes", "No")
        assert episode.instance.descriptions[0] == (
            "The following are given: given_numbers, target_number. You must generate target_belongs_to_set."
        )
    assert fetched.dropped["number game row missing one of set, target, rating, id"] == 1


def test_percentages_use_python_round_half_to_even() -> None:
    episodes, fetched = run("numbergame_perc")
    (episode,) = episodes
    outputs = dict(episode.samples)
    assert outputs['{"given_numbers": "16, 8, 2, 64", "target_number": "32"}'] == "70%"
    assert outputs['{"given_numbers": "3, 9, 27", "target_number": "81"}'] == "40%"
    assert outputs['{"given_numbers": "60, 80, 10, 30", "target_number": "55"}'] == "12%"  # round(12.5) == 12
    assert outputs['{"given_numbers": "16, 8, 2, 64", "target_number": "17"}'] == "0%"
    assert fetched.dropped["number game duplicate (set, target) row"] == 20


def test_alignment_targets_are_the_yes_share_of_groups_with_nine_answers() -> None:
    rows, fetched = run("numbergame")
    by_id = {r["instance_id"]: r for r in rows}
    assert sorted(by_id) == ["16_8_2_64/32", "3_9_27/81"]
    assert by_id["16_8_2_64/32"]["input"] == "Example set: 16, 8, 2, 64\nTarget number: 32"
    assert by_id["16_8_2_64/32"]["target_probs"] == pytest.approx([0.7, 0.3])
    assert by_id["3_9_27/81"]["target_probs"] == pytest.approx([0.4, 0.6])
    assert by_id["3_9_27/81"]["candidates"] == ["Yes", "No"]
    assert by_id["3_9_27/81"]["output_name"] == "Target Number Membership (Yes/No)"
    assert fetched.dropped["number game answer to a (set, target) with fewer than 9 answers"] == 3


def test_a_non_numeric_rating_names_the_row(tmp_path: Path) -> None:
    target = tmp_path / numbergame.PATH
    target.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / numbergame.PATH, target)
    frame = pd.read_csv(target).astype({"rating": object})
    frame.loc[4, "rating"] = "maybe"
    frame.to_csv(target, index=False)
    with pytest.raises(
        SourceFormatError, match=r"numbergame_data.csv: row 6: field 'rating': expected 0 or 1, got 'maybe'"
    ):
        run("numbergame_individual", tmp_path)


def corrupt(tmp_path: Path, column: str, value: object, row: int = 4) -> None:
    target = tmp_path / numbergame.PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.read_csv(FIXTURES / numbergame.PATH).astype({column: object})
    frame.loc[row, column] = value
    frame.to_csv(target, index=False)


@pytest.mark.parametrize("name", ["numbergame_individual", "numbergame_perc", "numbergame"])
@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("set", "16_x_2", r"expected integers joined by '_', got '16_x_2'"),  # was the text "16, x, 2"
        ("target", "thirty", r"expected a number, got 'thirty'"),
        ("target", 32.5, r"expected an integer, got 32.5"),
    ],
)
def test_a_set_or_target_that_is_not_integers_names_the_row(tmp_path, name, column, value, problem) -> None:
    corrupt(tmp_path, column, value, row=0)
    with pytest.raises(SourceFormatError, match=rf"numbergame_data.csv: row 2: field '{column}': {problem}"):
        run(name, tmp_path)


def test_an_infinite_rating_names_the_row(tmp_path: Path) -> None:
    """Was counted and dropped as a rating other than 0 or 1."""
    corrupt(tmp_path, "rating", "inf")
    with pytest.raises(
        SourceFormatError, match=r"numbergame_data.csv: row 6: field 'rating': expected 0 or 1, got inf"
    ):
        run("numbergame", tmp_path)
