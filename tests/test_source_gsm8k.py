"""GSM8K: the GitHub JSON lines (shared data layout) or the Hub Parquet file, four views of the rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from spectrum_suite.sources import gsm8k
from spectrum_suite.task import SourceFormatError, SourceUnavailable
from tests.adapter_run import build, inputs, outputs


def test_four_views_of_the_training_problems(shared_data):
    first = json.loads((shared_data / "gsm8k/grade_school_math/data/train.jsonl").open().readline())
    joint = build("gsm8k_question_answer", shared_data)
    (inst,) = joint.instances
    assert len(inst.population) == 7473
    assert (None, json.dumps({"question": first["question"], "answer": first["answer"]})) in inst.population
    assert joint.fetched.paths[gsm8k.JSONL] is not None and joint.fetched.paths[gsm8k.PARQUET] is None
    assert joint.fetched.missing == []  # the JSON lines suffice: the Parquet copy is not needed, nor logged
    assert len(joint.episodes) == 50
    backwards = build("gsm8k_question_from_answer", shared_data)
    assert (first["answer"], first["question"]) in backwards.instances[0].population
    forwards = build("gsm8k_answer_from_question", shared_data)
    episode = forwards.episodes[0]
    assert all(y.split("#### ")[-1].strip() for y in outputs(episode)) and len(inputs(episode)) == len(
        outputs(episode)
    )
    assert (
        build("gsm8k_question", shared_data).instances[0].descriptions[2]
        == "Math word problems suitable for grade school students."
    )


def test_hub_parquet_when_the_jsonl_is_absent(tmp_path):
    path = tmp_path / gsm8k.PARQUET
    path.parent.mkdir(parents=True)
    pd.DataFrame({"question": ["What is 2 + 3?", "Tom has 4 apples and eats 1. How many are left?"],
                  "answer": ["2 + 3 = <<2+3=5>>5\n#### 5", "4 - 1 = <<4-1=3>>3\n#### 3"]}).to_parquet(path)  # fmt: skip
    built = build("gsm8k_answer_from_question", tmp_path, verify=False)
    assert sorted(built.instances[0].population) == [
        ("Tom has 4 apples and eats 1. How many are left?", "4 - 1 = <<4-1=3>>3\n#### 3"),
        ("What is 2 + 3?", "2 + 3 = <<2+3=5>>5\n#### 5"),
    ]


def test_neither_file_and_a_bad_line(tmp_path):
    with pytest.raises(SourceUnavailable, match="gsm8k"):
        build("gsm8k_question", tmp_path, verify=False)
    path = tmp_path / gsm8k.JSONL
    path.parent.mkdir(parents=True)
    path.write_text(
        '{"question": "What is 1 + 1?", "answer": "#### 2"}\n{"question": "Where is the answer?"}\n'
    )
    with pytest.raises(SourceFormatError, match=r"train\.jsonl: line 2: field 'answer': field missing"):
        build("gsm8k_question", tmp_path, verify=False)
