"""Collective Alignment adapter on fixtures of comparisons.jsonl and merged_comparisons_annotators.jsonl."""

from __future__ import annotations

import json

import pytest

from spectrum_suite.sources import collective_alignment as cal
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import FIXTURES, build, inputs, outputs


def test_annotators_sorted_with_their_assessments_only():
    built = build("collective_alignment_individual", FIXTURES)
    assert [i.key for i in built.instances] == ["annotator/annA", "annotator/annB", "annotator/annC"]
    raw = [json.loads(line) for line in (FIXTURES / cal.ASSESSMENTS).read_text().splitlines()]
    ann_b = {i.key: i for i in built.instances}["annotator/annB"]
    expected_prompts = [r["prompt_id"] for r in raw if r["annotator_id"] == "annB" and r["prompt_id"] != "p4"]
    assert len(ann_b.population) == len(expected_prompts) == 2
    assert built.fetched.dropped["assessments whose prompt is not among the comparisons read"] == 1
    assert built.fetched.dropped["assessments of annotators with fewer than 3"] == 1


def test_rows_join_prompt_and_assessment():
    built = build("collective_alignment_individual", FIXTURES)
    ann_a = built.instances[0]
    assert ann_a.descriptions[0].endswith(
        'Annotator demographics: {"age": "25-34", "country_of_residence": "Chile", "gender": "Male"}'
    )
    for ep in built.episodes:
        for x, y in zip(inputs(ep), outputs(ep), strict=True):
            given, answer = json.loads(x), json.loads(y)
            k = given["conversation"].split("?")[0].split()[-1]
            assert given["conversation"] == f"Question {k}?\nFollow {k}"  # user turns only
            assert given["response_c"] == f"Response C to {k}"
            assert list(answer) == cal.OUTPUTS
            assert answer["unacceptable_responses"] in ("", "C|D")


def test_malformed_prompt_is_named(tmp_path):
    (tmp_path / "collective_alignment").mkdir()
    lines = (FIXTURES / cal.COMPARISONS).read_text().splitlines()
    rec = json.loads(lines[1])
    rec["prompt"] = "just text"
    lines[1] = json.dumps(rec)
    (tmp_path / cal.COMPARISONS).write_text("\n".join(lines) + "\n")
    (tmp_path / cal.ASSESSMENTS).write_text((FIXTURES / cal.ASSESSMENTS).read_text())
    with pytest.raises(SourceFormatError, match=r"record 2: field 'prompt.messages'"):
        build("collective_alignment_individual", tmp_path, verify=False)


def write_both(tmp_path, file, line, change):
    """Both fixture files, record ``line`` (0-based) of ``file`` changed by ``change``."""
    (tmp_path / "collective_alignment").mkdir(exist_ok=True)
    for rel in (cal.COMPARISONS, cal.ASSESSMENTS):
        lines = (FIXTURES / rel).read_text().splitlines()
        if rel == file:
            rec = json.loads(lines[line])
            change(rec)
            lines[line] = json.dumps(rec)
        (tmp_path / rel).write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("file", "change", "field", "problem"),
    [
        (cal.COMPARISONS, lambda r: r["prompt"]["messages"][1].update(content=None),
         r"prompt.messages\[\].content", "expected text, got None"),  # was the turn "None"
        (cal.COMPARISONS, lambda r: r["responses"][2]["messages"][0].update(content=3),
         r"responses\[\].messages\[0\].content", "expected text, got 3"),
        (cal.COMPARISONS, lambda r: r["responses"][3].update(response_index="E"),
         r"responses\[\].response_index", "expected A-D, got 'E'"),  # was a response_e nobody reads
        (cal.ASSESSMENTS, lambda r: r.update(importance=float("nan")), "importance",
         "expected a finite number, got nan"),  # was JSON null
        (cal.ASSESSMENTS, lambda r: r.update(representativeness=True), "representativeness",
         "expected a number, got True"),
        (cal.ASSESSMENTS, lambda r: r["ranking_blocks"]["personal"][0].update(ranking=None),
         r"ranking_blocks.personal\[0\].ranking", "expected text, got None"),
        (cal.ASSESSMENTS, lambda r: r["demographics"].update(age=float("nan")), "demographics",
         "not JSON data"),  # was a bare NaN in the description's JSON
        (cal.ASSESSMENTS, lambda r: r.update(annotator_id=["annA"]), "annotator_id", "expected an id"),
    ],
)  # fmt: skip
def test_a_field_of_the_wrong_kind_names_the_record(tmp_path, file, change, field, problem):
    write_both(tmp_path, file, 0, change)
    with pytest.raises(
        SourceFormatError, match=rf"{file.split('/')[1]}: record 1: field '{field}': {problem}"
    ):
        build("collective_alignment_individual", tmp_path, verify=False)
