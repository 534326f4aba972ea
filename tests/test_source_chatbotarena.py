"""The chatbotarena adapter (three held-out tasks) on a fixture of the Hub Parquet file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import chatbotarena
from spectrum_suite.task import SourceFormatError

FIXTURES = Path(__file__).parent / "fixtures"
RAW = pq.read_table(FIXTURES / chatbotarena.LOCAL).to_pylist()


def run(name: str, root: Path = FIXTURES):
    task = get_task(name)
    # the fixtures have the real schema, not the real bytes
    fetched = fetch_files(task.name, task.files, root, None, verify=False)
    return task.build(task, fetched), fetched


def test_judges_with_few_battles_are_dropped_and_prompts_stripped() -> None:
    judges, fetched = run("chatbotarena_prompts")
    assert sorted(inst.key for inst in judges) == ["judge/j1", "judge/j2"]
    assert fetched.dropped["Chatbot Arena battle of a judge with fewer than 4 battles"] == 2
    j1 = next(inst for inst in judges if inst.key == "judge/j1")
    expected = [b["conversation_a"][0]["content"].strip() for b in RAW if b["judge"] == "j1"]
    assert [out for _, out in j1.population] == expected
    assert j1.descriptions == ["Language model prompt"]


def test_preferences_map_winners_and_keep_to_one_judge() -> None:
    judges, _ = run("chatbotarena_individual_prefs")
    j1 = judges[0]
    assert j1.key == "judge/j1"
    assert [out for _, out in j1.population] == ["a", "b", "tie", "bothbad", "a"]
    given = json.loads(j1.population[0][0])
    assert given == {"opening_prompt": "Prompt 0 from j1: explain something.", "model_a_response": "Answer by gpt-4 to 0",
                     "model_b_response": "Answer by claude-v1 to 0"}  # fmt: skip
    assert all(
        json.loads(x)["opening_prompt"].endswith(f"from {j1.meta['judge']}: explain something.")
        for x, _ in j1.population
    )
    assert j1.descriptions[0].endswith("with one of the following options: ['a' 'b' 'tie' 'bothbad']")


def test_every_model_gets_its_a_rows_then_its_b_rows() -> None:
    models, _ = run("chatbotarena_assistant")
    assert [inst.key for inst in models] == [
        "model/claude-v1",
        "model/gpt-4",
        "model/koala-13b",
        "model/vicuna-13b",
    ]
    koala = models[2]  # only ever model B: kept (the reference skipped it)
    assert sorted(y for _, y in koala.population) == ["Answer by koala-13b to 3", "Answer by koala-13b to 7"]
    gpt4 = models[1]
    kept = [b for b in RAW if b["judge"] != "j3"]
    n_a = sum(b["model_a"] == "gpt-4" for b in kept)
    assert len(gpt4.population) == n_a + sum(b["model_b"] == "gpt-4" for b in kept)
    as_a = {
        f"Answer by gpt-4 to {n}" for n, b in enumerate(RAW) if b["judge"] != "j3" and b["model_a"] == "gpt-4"
    }
    assert {y for _, y in gpt4.population[:n_a]} == as_a  # A rows first, then B rows
    assert not as_a & {y for _, y in gpt4.population[n_a:]}
    assert gpt4.descriptions[1].endswith("\nModel: gpt-4")


def test_an_unknown_winner_names_the_row(tmp_path: Path) -> None:
    target = tmp_path / chatbotarena.LOCAL
    target.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / chatbotarena.LOCAL, target)
    table = pq.read_table(target)
    winners = table.column("winner").to_pylist()
    winners[1] = "model_c"
    pq.write_table(
        table.set_column(table.schema.get_field_index("winner"), "winner", pa.array(winners)), target
    )
    with pytest.raises(
        SourceFormatError, match=r"row 1 \(0-based\): field 'winner': unexpected label 'model_c'"
    ):
        run("chatbotarena_individual_prefs", tmp_path)


def with_rows(tmp_path: Path, change) -> None:
    """The fixture with its rows changed by ``change`` (a function of the list of row dicts)."""
    target = tmp_path / chatbotarena.LOCAL
    target.parent.mkdir(parents=True)
    table = pq.read_table(FIXTURES / chatbotarena.LOCAL)
    rows = table.to_pylist()
    change(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), target)


def test_a_message_without_text_names_the_row(tmp_path: Path) -> None:
    """Was the response text "None"."""
    with_rows(tmp_path, lambda rows: rows[1]["conversation_b"][1].update(content=None))
    with pytest.raises(
        SourceFormatError,
        match=r"row 1 \(0-based\): field 'conversation_b\[1\].content': expected text, got None",
    ):
        run("chatbotarena_assistant", tmp_path)


@pytest.mark.parametrize("column", ["judge", "model_a"])
def test_a_battle_without_judge_or_model_names_the_row(tmp_path: Path, column: str) -> None:
    """A missing judge was dropped as a judge with few battles; a missing model became the model "None"."""
    with_rows(tmp_path, lambda rows: rows[2].update({column: None}))
    with pytest.raises(
        SourceFormatError, match=rf"row 2 \(0-based\): field '{column}': expected a name, got (None|nan)"
    ):
        run("chatbotarena_assistant", tmp_path)
