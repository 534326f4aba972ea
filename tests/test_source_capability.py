"""Capability adapters on Parquet fixtures in each Hub dataset's schema (struct and list columns included)."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spectrum_suite.registry import get_task
from spectrum_suite.sources import capability
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import FIXTURES, build, inputs, outputs


def pool(name: str) -> dict[str, str]:
    return dict(build(name, FIXTURES, episodes=False).instances[0].population)


def test_prompts_and_answers_of_each_benchmark():
    assert pool("mmlu")["Question: 2 + 2 = ?\nA. 3\nB. 4\nC. 5\nD. 22"] == "B"
    hs = pool("hellaswag")
    assert (
        hs[
            "Activity: Roof shingle removal\nContext: A man is sitting on a roof. he\nChoose the option that best completes the "
            "description:\nA. is using wrap to wrap a pair of skis.\nB. is ripping level tiles off.\nC. is holding a rubik's cube."
            "\nD. starts pulling up roofing on a roof."
        ]
        == "D"
    )
    assert any(
        p.startswith("Context: A woman stands in a kitchen. she\n") for p in hs
    )  # ctx empty -> ctx_a + ctx_b
    wg = pool("winogrande")
    assert wg["Sentence: The trophy does not fit in the suitcase because _____ is too big.\nWhich option correctly fills "
              "in the blank?\nA. trophy\nB. suitcase"] == "A"  # fmt: skip
    assert pool("arc")["Question: Which of these is a renewable resource?\n1. coal\n2. wind\n3. oil"] == "2"
    assert pool("truthful_qa")["Question: Can you see the Great Wall from space?\nA. Yes, easily\nB. No, not with the "
                               "naked eye\nC. Only at night\nD. Yes, from the Moon"] == "B"  # fmt: skip


def test_drop_answers_and_counts():
    built = build("drop", FIXTURES)
    assert dict(built.instances[0].population) == {
        "Passage: The Bears beat the Lions 24-10.\nQuestion: Who won the game?": "Bears",
        "Passage: The Bears beat the Lions 24-10.\nQuestion: How many points did the Lions score?": "10",
    }
    assert built.fetched.dropped["questions without a gold answer"] == 1
    assert (
        capability.drop_answer(
            {"answers_spans": {"spans": []}, "date": {"day": "3", "month": "May", "year": ""}}
        )
        == "May-3"
    )


def test_episode_shapes_follow_the_registry():
    mmlu = build("mmlu", FIXTURES)
    assert len(mmlu.episodes) == 1000 and all(len(outputs(e)) == 3 for e in mmlu.episodes)
    arc = build("arc", FIXTURES)
    assert sorted(outputs(arc.episodes[0])) == ["2", "C"] and len(inputs(arc.episodes[0])) == 2


def test_hub_files_at_commits_and_export_splits_as_shard_folders():
    (hs,) = get_task("hellaswag").files.files
    assert hs.hub.repo == "Rowan/hellaswag" and hs.hub.filename == "data/validation-00000-of-00001.parquet"
    assert hs.pinned and hs.sha256 and hs.path == "hellaswag/data/validation-00000-of-00001.parquet"
    (mm,) = get_task("mmlu").files.files
    assert mm.url == (
        "https://huggingface.co/datasets/cais/mmlu/resolve/c30699e8356da336a370243923dbaf21066bb9fe/"
        "all/test-00000-of-00001.parquet"
    )
    (dr,) = get_task("drop").files.files
    assert (
        dr.hub.shards and dr.hub.revision == "refs/convert/parquet" and dr.path == "drop/default/validation"
    )
    assert not dr.pinned and "Parquet export" in dr.unpinned


def test_out_of_range_label_is_named(tmp_path):
    rel = "truthful_qa/multiple_choice/validation/0000.parquet"
    (tmp_path / rel).parent.mkdir(parents=True)
    table = pq.read_table(FIXTURES / rel)
    table = table.set_column(table.schema.get_field_index("label"), "label", pa.array([1, 9], pa.int32()))
    pq.write_table(table, tmp_path / rel)
    with pytest.raises(
        SourceFormatError, match=r"row 1: field 'label': expected an answer index in 0..3, got 9"
    ):
        build("truthful_qa", tmp_path, verify=False)
    shutil.rmtree(tmp_path / "truthful_qa")
    with pytest.raises(Exception, match="truthful_qa_mc"):
        build("truthful_qa", tmp_path, verify=False)


def with_column(tmp_path, rel, column, values):
    (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
    table = pq.read_table(FIXTURES / rel)
    table = table.set_column(table.schema.get_field_index(column), column, pa.array(values))
    pq.write_table(table, tmp_path / rel)


@pytest.mark.parametrize(
    ("task", "rel", "column", "values", "field", "problem"),
    [
        ("mmlu", "mmlu/all/test-00000-of-00001.parquet", "question", [None, "q", "q"], "question",
         "expected text, got (None|nan)"),  # was "Question: None"
        ("mmlu", "mmlu/all/test-00000-of-00001.parquet", "choices", [["a", None], ["a", "b"], ["a", "b"]],
         r"choices\[1\]", "expected text, got None"),
        ("mmlu", "mmlu/all/test-00000-of-00001.parquet", "answer", [1.7, 0.0, 1.0], "answer",
         r"expected an answer index in 0..\d, got 1.7"),  # was int(1.7) = 1: option B
        ("winogrande", "winogrande/winogrande_xl/validation-00000-of-00001.parquet", "option2", [None, "b"], "option2",
         "expected text, got (None|nan)"),
        ("drop", "drop/default/validation/0000.parquet", "passage", [None, "p", "p"], "passage",
         "expected text, got (None|nan)"),  # was "Passage: None"
    ],
)  # fmt: skip
def test_a_value_of_the_wrong_kind_names_the_row(tmp_path, task, rel, column, values, field, problem):
    with_column(tmp_path, rel, column, values)
    with pytest.raises(SourceFormatError, match=rf"(0000|00001)\.parquet: row 0: field '{field}': {problem}"):
        build(task, tmp_path, verify=False)
