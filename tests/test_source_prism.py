"""PRISM adapter on fixtures of conversations.jsonl and survey.jsonl in the published schema."""

from __future__ import annotations

import json
import re

import pytest

from spectrum_suite.sources import prism
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import FIXTURES, build, inputs, outputs


def test_prompts_pair_the_type_description_with_the_stripped_prompt():
    built = build("prism_prompts", FIXTURES)
    pool = built.instances[0].population
    assert len(pool) == 7
    assert (prism.CONVERSATION_TYPES["values guided"], "Opening prompt number 1 about topic 3") in pool


def test_individual_prompts_hold_one_user_each_with_demographics():
    built = build("prism_prompts_individual", FIXTURES)
    by_key = {i.key: i for i in built.instances}
    assert sorted(by_key) == ["user/user0", "user/user1"]  # user2 has no survey row
    assert built.fetched.dropped["conversations of users without a survey row"] == 2
    assert {y for _, y in by_key["user/user0"].population} == {
        f"Opening prompt number {i} about topic {3 * i}" for i in (0, 3, 6)
    }
    assert by_key["user/user1"].descriptions[1] == (
        "Generate opening prompts for conversations given user demographics:\n\nAge: 55-64 years old; Gender: Male; "
        "Employment: Retired; Country: United States; Religion: Christian (all same individual)"
    )  # education is missing and left out
    assert all(g.params.max_total == 800 for g in built.groups)


def test_preferences_fill_the_demographics_and_score_the_four_responses():
    built = build("prism_individual_preferences", FIXTURES)
    (inst,) = built.instances  # user1 has one complete conversation (the other has 3 responses)
    assert inst.key == "user/user0"
    assert inst.descriptions[0].endswith(
        "User demographics: Age: 25-34 years old; Gender: Female; Education: University Bachelors Degree; "
        "Employment: Working full-time; Country: United Kingdom; Religion: No religion"
    )
    assert "{demographics}" not in inst.descriptions[0]
    ep = built.episodes[0]
    for x, y in zip(inputs(ep), outputs(ep), strict=True):
        given, answer = json.loads(x), json.loads(y)
        assert list(answer) == ["chosen_response", "score_a", "score_b", "score_c", "score_d"]
        assert [answer[f"score_{c}"] for c in "abcd"] == [80, 40, 60, 10]
        assert given["response_" + answer["chosen_response"]].startswith("Reply ")
    assert (
        built.fetched.dropped["conversations without four scored first-turn responses and a chosen one"] == 1
    )


def test_unknown_conversation_type_is_named(tmp_path):
    (tmp_path / "prism").mkdir()
    lines = (FIXTURES / prism.CONVERSATIONS).read_text().splitlines()
    rec = json.loads(lines[2])
    rec["conversation_type"] = "free chat"
    lines[2] = json.dumps(rec)
    (tmp_path / prism.CONVERSATIONS).write_text("\n".join(lines) + "\n")
    with pytest.raises(
        SourceFormatError, match=r"line 3: field 'conversation_type': unexpected label 'free chat'"
    ):
        build("prism_prompts", tmp_path, verify=False)


def write_prism(tmp_path, change, line=0):
    """Both fixture files, conversation record ``line`` changed by ``change``."""
    (tmp_path / "prism").mkdir(exist_ok=True)
    (tmp_path / prism.SURVEY).write_text((FIXTURES / prism.SURVEY).read_text())
    lines = (FIXTURES / prism.CONVERSATIONS).read_text().splitlines()
    rec = json.loads(lines[line])
    change(rec)
    lines[line] = json.dumps(rec)
    (tmp_path / prism.CONVERSATIONS).write_text("\n".join(lines) + "\n")


def first_reply(rec):
    return next(m for m in rec["conversation_history"] if m["role"] == "model")


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (
            lambda r: first_reply(r).update(score=55.5),
            "conversation_history[].score",
            "expected an integer, got 55.5",
        ),
        (
            lambda r: first_reply(r).update(score="80"),
            "conversation_history[].score",
            "expected a number, got '80'",
        ),
        (
            lambda r: first_reply(r).update(score=140),
            "conversation_history[].score",
            "expected a number in 0..100",
        ),
        (
            lambda r: first_reply(r).update(if_chosen="yes"),
            "conversation_history[].if_chosen",
            "expected true or false",
        ),
        (
            lambda r: first_reply(r).update(content=7),
            "conversation_history[].content",
            "expected text, got 7",
        ),
    ],
)
def test_a_first_turn_response_of_the_wrong_kind_names_the_line(tmp_path, change, field, problem):
    """Were a truncated score (55), a number parsed from text, any truthy chosen flag, and the text "7"."""
    write_prism(tmp_path, change)
    with pytest.raises(
        SourceFormatError, match=rf"conversations\.jsonl: line 1: field '{re.escape(field)}': {problem}"
    ):
        build("prism_individual_preferences", tmp_path, verify=False)


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (lambda r: r.update(opening_prompt=None), "opening_prompt", "expected text, got None"),  # was "None"
        (lambda r: r.update(user_id=["u", 1]), "user_id", r"expected a user id, got \['u', 1\]"),
    ],
)
def test_a_prompt_or_user_of_the_wrong_kind_names_the_line(tmp_path, change, field, problem):
    write_prism(tmp_path, change, line=2)
    with pytest.raises(SourceFormatError, match=rf"conversations\.jsonl: line 3: field '{field}': {problem}"):
        build("prism_prompts", tmp_path, verify=False)
