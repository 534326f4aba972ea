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
        build("collective_alignment_individual", tmp_path)
