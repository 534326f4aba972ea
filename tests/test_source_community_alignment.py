"""Community Alignment adapter on a fixture of data/filtered_community_alignment.csv (published columns)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from spectrum_suite.sources import community_alignment as ca
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import FIXTURES, build

RAW = FIXTURES / ca.FILE


def test_initial_prompts_are_unique_per_language():
    built = build("community_alignment_initial_prompt", FIXTURES)
    raw = pd.read_csv(RAW)
    raw = raw[raw["first_turn_prompt"].notna()].drop_duplicates("first_turn_prompt")
    for inst in built.instances:
        lang = inst.key.split("/")[1]
        assert inst.descriptions == [
            f"Generate a prompt for a language model in the following language: {lang}."
        ]
        assert sorted(p for _, p in inst.population) == sorted(
            raw.loc[raw["assigned_lang"] == lang, "first_turn_prompt"]
        )
    assert built.fetched.dropped["rows without a first-turn prompt or preferred response"] == 1


def test_replies_belong_to_one_annotator_with_json_demographics():
    built = build("community_alignment_individual_reply", FIXTURES)
    raw = pd.read_csv(RAW)
    by_key = {i.key: i for i in built.instances}
    assert sorted(by_key) == ["annotator/ann1", "annotator/ann2", "annotator/ann3"]  # ann4 has one row
    ann3 = by_key["annotator/ann3"]
    demo = json.loads(ann3.descriptions[0].split("User demographics: ")[1])
    assert list(demo) == list(ca.DEMOGRAPHICS) and demo["age"] is None  # NaN -> null, not NaN
    mine = raw[
        (raw["annotator_id"] == "ann3") & raw["first_turn_prompt"].notna() & raw["second_turn_prompt"].notna()
    ]
    assert sorted(y for _, y in ann3.population) == sorted(mine["second_turn_prompt"])
    expected = {
        (
            row["first_turn_prompt"],
            row["first_turn_" + row["first_turn_preferred_response"]].replace("<|end_of_text|>", ""),
            row["second_turn_prompt"],
        )
        for row in mine.to_dict("records")
    }
    got = {(json.loads(x)["prompt"], json.loads(x)["model_response"], y) for x, y in ann3.population}
    assert got == expected
    assert built.fetched.dropped["rows without a second-turn prompt (reply)"] == 1


def test_preferences_and_responses():
    built = build("community_alignment_individual_preferences", FIXTURES)
    for inst in built.instances:
        assert len(inst.descriptions) == 2 and inst.descriptions[1] == ca.PREFERENCE
        for x, y in inst.population:
            assert list(json.loads(x)) == ["prompt", *ca.RESPONSES]
            assert json.loads(y)["preferred_response"] in ca.RESPONSES
            assert "<|end_of_text|>" not in x
    built = build("community_alignment_response", FIXTURES)
    raw = pd.read_csv(RAW)
    first = (
        raw[raw["first_turn_prompt"].notna()]
        .drop_duplicates("first_turn_prompt")
        .set_index("first_turn_prompt")
    )
    orders = set()
    for inst in built.instances:
        for x, y in inst.population:
            answers = json.loads(y)
            row = first.loc[x]
            assert sorted(answers) == sorted(
                row[f"first_turn_{r}"].replace("<|end_of_text|>", "") for r in ca.RESPONSES
            )
            orders.add(tuple(a[7] for a in answers))
    assert len(orders) > 1  # shuffled, not always in a-b-c-d order
    assert all(g.params.n_iter == 5 for g in built.groups)


def test_unexpected_preferred_response_is_named(tmp_path):
    target = tmp_path / ca.FILE
    target.parent.mkdir(parents=True)
    frame = pd.read_csv(RAW)
    frame.loc[3, "first_turn_preferred_response"] = "response_e"
    frame.to_csv(target, index=False)
    with pytest.raises(
        SourceFormatError,
        match=r"row 5: field 'first_turn_preferred_response': unexpected label 'response_e'",
    ):
        build("community_alignment_response", tmp_path, verify=False)


@pytest.mark.parametrize("column", ["annotator_id", "assigned_lang"])
def test_a_row_without_annotator_or_language_is_named(tmp_path, column):
    """Was silently left out of every per-annotator or per-language group (groupby drops NaN keys)."""
    target = tmp_path / ca.FILE
    target.parent.mkdir(parents=True)
    frame = pd.read_csv(RAW)
    frame.loc[2, column] = None
    frame.to_csv(target, index=False)
    with pytest.raises(
        SourceFormatError,
        match=rf"row 4: field '{column}': expected a value \(it keys the row's group\), got nan",
    ):
        build("community_alignment_individual_preferences", tmp_path, verify=False)


def test_a_response_that_is_not_text_is_named(tmp_path):
    target = tmp_path / ca.FILE
    target.parent.mkdir(parents=True)
    frame = pd.read_csv(RAW)
    frame["first_turn_response_b"] = 1.5  # a numeric column: a wrong file
    frame.to_csv(target, index=False)
    with pytest.raises(
        SourceFormatError, match=r"row 2: field 'first_turn_response_b': expected text or nothing, got 1.5"
    ):
        build("community_alignment_response", tmp_path, verify=False)
