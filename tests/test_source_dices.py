"""DICES adapter on fixtures of both files (990 and 350) in the published column layout."""

from __future__ import annotations

import ast
import json
import shutil

import pandas as pd
import pytest

from spectrum_suite.sources import dices
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import FIXTURES, build, inputs, outputs

F990 = FIXTURES / "dices" / dices.SETS["990"][0]


def test_one_instance_per_rater_and_file_with_only_their_rows():
    built = build("dices", FIXTURES)
    assert sorted(i.key for i in built.instances) == ["350/a1", "990/297", "990/298"]
    raw = pd.read_csv(F990)
    rater = {i.key: i for i in built.instances}["990/298"]
    mine = raw[raw["rater_id"] == 298]
    expected = {
        (json.dumps({"context": c, "response": r}), q)
        for c, r, q in zip(mine["context"], mine["response"], mine["Q_overall"], strict=True)
    }
    assert set(rater.population) == expected
    for ep in built.episodes:
        assert set(zip(inputs(ep), outputs(ep), strict=True)) <= set(ep.instance.population)


def test_demographics_variant_names_the_first_row():
    built = build("dices", FIXTURES)
    rater = {i.key: i for i in built.instances}["350/a1"]
    assert rater.descriptions[0] == dices.DESCRIPTION
    demo = ast.literal_eval(rater.descriptions[1].split("\nRater demographics: ")[1])
    assert demo == {"rater_gender": "Woman", "rater_race": "LatinX, Latino, Hispanic or Spanish Origin",
                    "rater_raw_race": "Hispanic", "rater_age": "gen z", "rater_education": "College degree or higher"}  # fmt: skip


def test_partial_folder_builds_and_bad_label_fails(tmp_path):
    (tmp_path / "dices/990").mkdir(parents=True)
    shutil.copy(F990, tmp_path / "dices/990" / F990.name)
    built = build("dices", tmp_path, verify=False)
    assert [i.key.split("/")[0] for i in built.instances] == ["990", "990"]
    assert built.fetched.missing == ["dices/" + dices.SETS["350"][0]]
    frame = pd.read_csv(F990)
    frame.loc[4, "Q_overall"] = "Maybe"
    frame.to_csv(tmp_path / "dices/990" / F990.name, index=False)
    with pytest.raises(SourceFormatError, match=r"row 6: field 'Q_overall': unexpected label 'Maybe'"):
        build("dices", tmp_path, verify=False)


def write_990(tmp_path, column, value, row=2):
    (tmp_path / "dices/990").mkdir(parents=True, exist_ok=True)
    frame = pd.read_csv(F990).astype({column: object})
    frame.loc[row, column] = value
    frame.to_csv(tmp_path / "dices/990" / F990.name, index=False)


@pytest.mark.parametrize("column", ["context", "response"])
def test_a_missing_conversation_names_the_row(tmp_path, column):
    """Was JSON null in the episode's input."""
    write_990(tmp_path, column, None)
    with pytest.raises(
        SourceFormatError, match=rf"_990\.csv: row 4: field '{column}': expected text, got nan"
    ):
        build("dices", tmp_path, verify=False)


def test_a_rating_without_rater_names_the_row(tmp_path):
    """Was a KeyError traceback (the rater list held nan, the groups did not)."""
    write_990(tmp_path, "rater_id", None)
    with pytest.raises(
        SourceFormatError, match=r"_990\.csv: row 4: field 'rater_id': expected a rater id, got nan"
    ):
        build("dices", tmp_path, verify=False)


def test_a_missing_demographic_is_none_never_nan(tmp_path):
    frame = pd.read_csv(F990)
    frame["rater_age"] = None
    (tmp_path / "dices/990").mkdir(parents=True)
    frame.to_csv(tmp_path / "dices/990" / F990.name, index=False)
    built = build("dices", tmp_path, episodes=False, verify=False)
    for rater in built.instances:
        demo = ast.literal_eval(rater.descriptions[1].split("\nRater demographics: ")[1])
        assert demo["rater_age"] is None and demo["rater_gender"] in ("Man", "Woman")
