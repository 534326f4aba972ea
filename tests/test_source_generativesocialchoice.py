"""Generative Social Choice surveys: one instance per (file, user), exact fields and default descriptions."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from spectrum_suite.task import SourceFormatError
from tests.adapter_run import build, inputs, link_tree, outputs

FILES = ("data/abortion_survey.csv", "data/chatbot_personalization_survey.csv")


def test_validation_rows_of_one_user(shared_data):
    built = build("generativesocialchoice_validation", shared_data)
    keys = [inst.key for inst in built.instances]
    assert len(keys) == len(set(keys))
    assert {"abortion_survey/generation1", "chatbot_personalization_survey/generation1"} <= set(keys)
    raw = pd.read_csv(shared_data / "generativesocialchoice" / FILES[0], dtype={"user_id": str})
    mine = raw[(raw["user_id"] == "generation1") & (raw["question_type"] == "multiple choice + text")]
    (episode,) = [ep for ep in built.episodes if ep.instance.key == "abortion_survey/generation1"]
    got = sorted(
        (json.loads(x)["question_text"], json.loads(y)["choice"])
        for x, y in zip(inputs(episode), outputs(episode), strict=True)
    )
    assert got == sorted(zip(mine["question_text"].str.strip(), mine["choice"].str.strip(), strict=True))
    first = json.loads(outputs(episode)[0])
    assert list(first) == ["choice", "response_text"]
    assert episode.instance.descriptions[0] == (
        "The following are given: question_text, json_choices. You must generate choice, response_text."
    )
    assert built.fetched.dropped["generativesocialchoice: reading step (no answer)"] == int(
        sum(
            (pd.read_csv(shared_data / "generativesocialchoice" / f)["question_type"] == "reading").sum()
            for f in FILES
        )
    )


def test_freetext_drops_missing_answers_and_counts_them(shared_data):
    built = build("generativesocialchoice_freetext", shared_data)
    total = 0
    for f in FILES:
        raw = pd.read_csv(shared_data / "generativesocialchoice" / f)
        text = raw[raw["question_type"] == "text"]
        total += int(text["text"].notna().sum())
    assert sum(len(inst.population) for inst in built.instances) == total
    assert built.fetched.dropped["generativesocialchoice: free-text answer missing"] > 0
    assert built.instances[0].descriptions[1] == "Given: question_text. Generate: response_text."
    assert all(y == y.strip() and y for inst in built.instances for _, y in inst.population)


def test_unexpected_question_type_names_file_row_and_field(shared_data, tmp_path):
    link_tree(
        {f"generativesocialchoice/{FILES[1]}": shared_data / "generativesocialchoice" / FILES[1]}, tmp_path
    )
    bad = tmp_path / "generativesocialchoice" / FILES[0]
    bad.write_text(
        "user_id,step,question_type,question_text,button_label,json_choices,choice,choice_numeric,text,answer_date,sample_type\n"
        "u1,1,text,How do you feel?,,,,,Fine.,2024-08-08,generation\n"
        "u1,2,ranking,Rank these,,,,,,2024-08-08,generation\n"
    )
    with pytest.raises(
        SourceFormatError, match=r"abortion_survey\.csv: row 3: field 'question_type': unexpected 'ranking'"
    ):
        build("generativesocialchoice_freetext", tmp_path, verify=False)


HEADER = "user_id,step,question_type,question_text,button_label,json_choices,choice,choice_numeric,text,answer_date,sample_type\n"


@pytest.mark.parametrize(
    ("task", "rows", "field", "problem"),
    [
        ("generativesocialchoice_freetext", "u1,1,text,,,,,,Fine.,2024-08-08,generation\n", "question_text",
         "expected text, got nan"),  # was the input text "nan"
        ("generativesocialchoice_validation", 'u1,1,multiple choice + text,Agree?,,,Yes,1,Because.,2024-08-08,g\n',
         "json_choices", "expected text, got nan"),  # was JSON null
    ],
)  # fmt: skip
def test_a_question_without_text_names_file_row_and_field(shared_data, tmp_path, task, rows, field, problem):
    link_tree(
        {f"generativesocialchoice/{FILES[1]}": shared_data / "generativesocialchoice" / FILES[1]}, tmp_path
    )
    (tmp_path / "generativesocialchoice" / FILES[0]).write_text(HEADER + rows)
    with pytest.raises(SourceFormatError, match=rf"abortion_survey\.csv: row 2: field '{field}': {problem}"):
        build(task, tmp_path, verify=False)
