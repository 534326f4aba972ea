"""OpinionQA adapter on a fixture of two waves in the published layout (info.csv, responses.csv)."""

from __future__ import annotations

import ast
import shutil

import pandas as pd
import pytest

from spectrum_suite.sources import opinionqa
from spectrum_suite.task import SourceFormatError, SourceUnavailable
from tests.adapter_run import FIXTURES, build, inputs, outputs

W26 = FIXTURES / "opinionqa/human_resp/American_Trends_Panel_W26"


def test_each_respondent_holds_exactly_their_answers_as_letters():
    built = build("opinionqa_individual", FIXTURES)
    info = pd.read_csv(W26 / "info.csv")
    resp = pd.read_csv(W26 / "responses.csv")
    by_key = {inst.key: inst for inst in built.instances}
    assert len(by_key) == 10  # 6 respondents per wave, one per wave answered nothing listed
    inst = by_key["American_Trends_Panel_W26_2"]
    expected = set()
    for key, question, refs in zip(info["key"], info["question"], info["references"], strict=True):
        options = ast.literal_eval(refs)
        answer = resp.at[2, key]
        text = question + "\n" + "\n".join(f"{'ABCDE'[i]}: {o}" for i, o in enumerate(options))
        expected.add((text, "ABCDE"[options.index(answer)]))
    assert set(inst.population) == expected
    ep = next(e for e in built.episodes if e.instance.key == inst.key)
    assert set(zip(inputs(ep), outputs(ep), strict=True)) == expected  # all answers, n_iter = all
    assert built.fetched.dropped["respondent answered no question with a listed option"] == 2


def test_metadata_description_is_a_python_dict_of_kept_attributes():
    built = build("opinionqa_individual", FIXTURES)
    for inst in built.instances:
        first, second = inst.descriptions
        assert first == "The following are survey responses for a single individual."
        meta = ast.literal_eval(second.removeprefix("Survey responses from the following individual: "))
        assert set(meta) <= set(opinionqa.DEMOGRAPHICS)
    kept = [len(ast.literal_eval(i.descriptions[1].split(": ", 1)[1])) for i in built.instances]
    assert min(kept) < len(opinionqa.DEMOGRAPHICS)  # keys are dropped with probability 0.3


def test_questions_task_and_partial_waves_are_logged():
    built = build("opinionqa_questions", FIXTURES)
    assert [i.key for i in built.instances] == ["W26", "W27"]
    assert (
        len(built.instances[0].population) == 2 and built.episodes[0].n
        if hasattr(built.episodes[0], "n")
        else True
    )
    assert len(built.fetched.missing) == len(opinionqa.PEW_SURVEY_LIST) - 2
    assert all(o.startswith(("How safe", "Compared with")) for o in outputs(built.episodes[0]))


def test_bad_references_literal_is_named(tmp_path):
    shutil.copytree(FIXTURES / "opinionqa", tmp_path / "opinionqa")
    info = tmp_path / "opinionqa/human_resp/American_Trends_Panel_W27/info.csv"
    frame = pd.read_csv(info)
    frame.loc[0, "references"] = "['A lot', 'A little'"
    frame.to_csv(info, index=False)
    with pytest.raises(SourceFormatError, match=r"W27/info.csv: row 2: field 'references'"):
        build("opinionqa_questions", tmp_path, verify=False)


def test_no_wave_at_all_is_unavailable(tmp_path):
    with pytest.raises(SourceUnavailable, match="opinionqa"):
        build("opinionqa_questions", tmp_path, verify=False)


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("question", None, "field 'question': expected text, got nan"),  # was "nan" before the options
        (
            "references",
            "['A lot', None, 'Refused']",
            "field 'references': expected text, got None",
        ),  # "B: None"
        ("key", None, "field 'key': expected text, got nan"),
    ],
)
def test_a_question_field_that_is_not_text_is_named(tmp_path, column, value, problem):
    shutil.copytree(FIXTURES / "opinionqa", tmp_path / "opinionqa")
    info = tmp_path / "opinionqa/human_resp/American_Trends_Panel_W27/info.csv"
    frame = pd.read_csv(info)
    frame.loc[0, column] = value
    frame.to_csv(info, index=False)
    with pytest.raises(SourceFormatError, match=rf"W27/info.csv: row 2: {problem}"):
        build("opinionqa_questions", tmp_path, verify=False)


def test_a_missing_demographic_is_none_never_nan(tmp_path):
    """The description's dict said ``'AGE': nan`` for a respondent without an age."""
    shutil.copytree(FIXTURES / "opinionqa", tmp_path / "opinionqa")
    for wave in ("W26", "W27"):
        responses = tmp_path / f"opinionqa/human_resp/American_Trends_Panel_{wave}/responses.csv"
        frame = pd.read_csv(responses)
        frame["AGE"] = None
        frame.to_csv(responses, index=False)
    built = build("opinionqa_individual", tmp_path, episodes=False, verify=False)
    metas = [ast.literal_eval(i.descriptions[1].split(": ", 1)[1]) for i in built.instances]
    assert any("AGE" in m for m in metas)
    assert all(m.get("AGE", None) is None for m in metas)
