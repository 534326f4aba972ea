"""The habermas adapter (four episode tasks and the alignment task) on fixture Parquet files in the GCS schema."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import habermas
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import build

FIXTURES = Path(__file__).parent / "fixtures"


def fetch(name: str, root: Path = FIXTURES):
    task = get_task(name)
    return task, fetch_files(task.name, task.files, root, None)


def episodes_of(name: str):
    built = build(name, FIXTURES)
    return built.episodes, built.fetched


def test_loader_joins_opinions_and_counts_every_drop() -> None:
    _, fetched = fetch("habermas_question")
    frame = habermas.load_responses(fetched)
    # q1: w1..w7 (w1's second rating dropped); q2: w1, w2 (w3 MOCK, w4 wrote no opinion); w9 wrote none.
    assert sorted(zip(frame["question.id"], frame["worker_id"], strict=True)) == sorted(
        [("q1", f"w{i}") for i in range(1, 8)] + [("q2", "w1"), ("q2", "w2")]
    )
    assert set(frame["ratings.agreement"]) <= set(habermas.LIKERT)
    assert fetched.dropped == {
        "Habermas MOCK rating": 1,
        "Habermas rating without worker_id": 1,
        "Habermas duplicate (worker, question)": 1,
        "Habermas response with a missing field (often no opinion text)": 2,
    }


def test_question_task_lists_the_sorted_unique_questions() -> None:
    (episode,), _ = episodes_of("habermas_question")
    assert sorted(text for _, text in episode.samples) == [
        "Should public transport be free?",
        "Should the voting age be lowered to 16?",
    ]
    assert episode.instance.descriptions[-1] == "Questions about UK politics"


def test_individual_episodes_hold_only_that_workers_rows() -> None:
    episodes, _ = episodes_of("habermas_individual")
    ratings = pq.read_table(FIXTURES / habermas.RATINGS).to_pylist()
    survey = {
        (r["worker_id"], r["question.id"]): r["opinion.text"]
        for r in pq.read_table(FIXTURES / habermas.SURVEY).to_pylist()
    }
    assert {ep.instance.key for ep in episodes} == {f"worker/w{i}" for i in range(1, 8)}
    for episode in episodes:
        worker = episode.instance.meta["worker_id"]
        for given, output in episode.samples:
            question = json.loads(given)["question.text"]
            answer = json.loads(output)
            qid = "q1" if "voting" in question else "q2"
            assert answer["opinion.text"] == survey[(worker, qid)]
            firsts = [r for r in ratings if r["worker_id"] == worker and r["question.id"] == qid]
            assert answer["ratings.agreement"] == habermas.RAW_LABELS[firsts[0]["ratings.agreement"][0]]
            assert list(answer) == ["ratings.agreement", "opinion.text"]
    w1 = next(ep for ep in episodes if ep.instance.key == "worker/w1")
    assert len(w1.samples) == 2  # its duplicate q1 rating (DISAGREE) is dropped, the first kept
    assert (
        json.loads(
            dict((json.loads(i)["question.text"], o) for i, o in w1.samples)[
                "Should the voting age be lowered to 16?"
            ]
        )["ratings.agreement"]
        == "Strongly Agree"
    )


def test_categorical_task_outputs_only_the_seven_labels() -> None:
    episodes, _ = episodes_of("habermas_individual_categorical")
    assert all(output in habermas.LIKERT for ep in episodes for _, output in ep.samples)
    assert all(ep.instance.choices == habermas.LIKERT for ep in episodes)
    assert get_task("habermas_individual_categorical").params.seed == 43


def test_opinions_task_is_a_python_repr_list_per_question() -> None:
    (episode,), _ = episodes_of("habermas_opinions")
    outputs = dict(episode.samples)
    q1 = ast.literal_eval(outputs["Should the voting age be lowered to 16?"])
    assert len(q1) == 7 and q1[0] == "Opinion of w1 on q1: it depends on the details."
    assert len(ast.literal_eval(outputs["Should public transport be free?"])) == 2


def test_alignment_distribution_is_recomputed_from_citizen_ratings() -> None:
    task, fetched = fetch("habermas")
    assert [f.path for f in task.files.files] == [habermas.RATINGS]
    (row,) = list(task.build(task, fetched))
    assert row["instance_id"] == "q1"
    assert row["input"] == (
        "Question: Should the voting age be lowered to 16?\nA: The voting age should be lowered to 16.\n"
        "B: The voting age should not be lowered to 16."
    )
    assert row["candidates"] == ["1", "2", "3", "4", "5", "6", "7"]
    # q1 citizens: STRONGLY_AGREE, AGREE x2, NEUTRAL, DISAGREE, SOMEWHAT_AGREE, STRONGLY_DISAGREE (+ a dropped duplicate)
    assert row["target_probs"] == pytest.approx([1 / 7, 2 / 7, 1 / 7, 1 / 7, 0, 1 / 7, 1 / 7])
    assert row["description"].endswith("6: Agree with B\n7: Strongly Agree with B")
    assert fetched.dropped["Habermas rating not by a HUMAN_CITIZEN"] == 1
    assert fetched.dropped["Habermas rating of a question with fewer than 6 ratings"] == 3


def test_an_unknown_agreement_label_names_the_row(tmp_path: Path) -> None:
    for rel in (habermas.RATINGS, habermas.SURVEY):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / rel, tmp_path / rel)
    table = pq.read_table(tmp_path / habermas.RATINGS)
    labels = table.column("ratings.agreement").to_pylist()
    labels[3] = ["SORT_OF"]
    table = table.set_column(
        table.schema.get_field_index("ratings.agreement"), "ratings.agreement", pa.array(labels)
    )
    pq.write_table(table, tmp_path / habermas.RATINGS)
    task, fetched = fetch("habermas_individual", tmp_path)
    with pytest.raises(
        SourceFormatError,
        match=r"hm_all_position_statement_ratings.parquet: row 3 \(0-based\): field 'ratings.agreement': unexpected label 'SORT_OF'",
    ):
        task.build(task, fetched)


def replace_column(path: Path, column: str, values: list) -> None:
    table = pq.read_table(path)
    table = table.set_column(table.schema.get_field_index(column), column, pa.array(values))
    pq.write_table(table, path)


@pytest.mark.parametrize(
    ("rel", "column", "name"),
    [
        (habermas.RATINGS, "question.text", "habermas_question"),
        (habermas.RATINGS, "question.affirming_statement", "habermas_individual"),
        (habermas.SURVEY, "opinion.text", "habermas_opinions"),
        (habermas.RATINGS, "question.negating_statement", "habermas"),
    ],
)
def test_a_text_field_holding_a_number_names_the_row(
    tmp_path: Path, rel: str, column: str, name: str
) -> None:
    """Were written into the text as "3.5" (a numeric column of a wrong file)."""
    for each in (habermas.RATINGS, habermas.SURVEY):
        (tmp_path / each).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / each, tmp_path / each)
    count = pq.read_table(tmp_path / rel).num_rows
    replace_column(tmp_path / rel, column, [3.5] * count)
    task, fetched = fetch(name, tmp_path)
    with pytest.raises(
        SourceFormatError,
        match=rf"{Path(rel).name}: row 0 \(0-based\): field '{column}': expected text, got 3.5",
    ):
        list(task.build(task, fetched))
