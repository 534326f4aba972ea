"""BARE adapter on fixtures of the six sample-data files: four modes each, seeds task seed + 1..4."""

from __future__ import annotations

import json

import pytest

from spectrum_suite.registry import get_task
from spectrum_suite.sources import bare
from spectrum_suite.task import SourceFormatError, SourceUnavailable
from tests.adapter_run import FIXTURES, build, inputs, outputs

MODES = {
    "bare_gsm8k": bare.GSM8K_MODES,
    "bare_enron": bare.ENRON_MODES,
    "bare_hotpot": bare.HOTPOT_MODES,
    "bare_lcb": bare.LCB_MODES,
    "newsgroups": bare.NEWSGROUPS_MODES,
    "pubmed": bare.PUBMED_MODES,
}


def test_every_task_is_tested():
    assert sorted(t.name for t in bare.TASKS) == sorted(MODES)


@pytest.mark.parametrize("name", sorted(MODES))
def test_four_modes_with_own_seeds(name):
    built = build(name, FIXTURES)
    base = get_task(name).params.seed
    assert [g.params.seed for g in built.groups] == [base + 1, base + 2, base + 3, base + 4]
    assert [g.instances[0].name for g in built.groups] == [m[0] for m in MODES[name]]
    for group, (_, given, generated, descriptions) in zip(built.groups, MODES[name], strict=True):
        assert list(group.instances[0].descriptions) == list(descriptions) and len(descriptions) == 3
        assert len(group.instances[0].population) == 7
        if given:
            assert all(x is not None for x, _ in group.instances[0].population)
        if len(generated) > 1:
            assert all(list(json.loads(y)) == generated for _, y in group.instances[0].population)


def test_files_are_manual_in_the_release_layout_and_the_message_says_whom_to_ask(tmp_path):
    """pgasawa/BARE holds no generated data at any commit: the files come from the authors."""
    (file,) = get_task("bare_lcb").files.files
    assert file.path == "bare/bare/sample_generated_data/lcb/lcb_gpt_4o_refine_70b_base_n=1000.jsonl"
    assert file.manual and file.url is None
    with pytest.raises(SourceUnavailable) as info:
        build("bare_lcb", tmp_path)
    message = str(info.value)
    assert "the BARE authors" in message and "lcb_gpt_4o_refine_70b_base_n=1000.jsonl" in message
    assert f"<data_dir>/{file.path}" in message and "not in the data directory" in message


def test_enron_spam_is_stringified_in_every_mode():
    built = build("bare_enron", FIXTURES)
    joint = built.groups[0].instances[0]
    assert {json.loads(y)["spam"] for _, y in joint.population} == {"True", "False"}
    from_email = next(ep for ep in built.episodes if ep.instance.key == "enron_spam_from_email")
    assert set(outputs(from_email)) <= {"True", "False"} and all(
        x.startswith("Subject:") for x in inputs(from_email)
    )


def test_missing_field_names_the_line(tmp_path):
    rel = f"bare/{bare.ROOT}/{bare.NEWSGROUPS}"
    target = tmp_path / rel
    target.parent.mkdir(parents=True)
    target.write_text((FIXTURES / rel).read_text() + json.dumps({"message": "no group"}) + "\n")
    with pytest.raises(SourceFormatError, match=r"line 8: field 'newsgroup': field missing"):
        build("newsgroups", tmp_path, verify=False)


@pytest.mark.parametrize(
    ("task", "release", "record", "field", "problem"),
    [
        (
            "newsgroups",
            bare.NEWSGROUPS,
            {"newsgroup": None, "message": "m"},
            "newsgroup",
            "expected text, got None",
        ),
        ("bare_gsm8k", bare.GSM8K, {"question": "q", "answer": 42}, "answer", "expected text, got 42"),
        (
            "bare_enron",
            bare.ENRON,
            {"spam": "yes", "email": "e"},
            "spam",
            "expected true or false, got 'yes'",
        ),
    ],
)
def test_a_field_of_the_wrong_kind_names_the_record(tmp_path, task, release, record, field, problem):
    """Were the texts "None", "42" and "yes" in the episodes."""
    rel = f"bare/{bare.ROOT}/{release}"
    target = tmp_path / rel
    target.parent.mkdir(parents=True)
    lines = (FIXTURES / rel).read_text().splitlines()
    target.write_text("\n".join(lines[:2] + [json.dumps(record)] + lines[2:]) + "\n")
    with pytest.raises(SourceFormatError, match=rf"record 3: field '{field}': {problem}"):
        build(task, tmp_path, verify=False)
