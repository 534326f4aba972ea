"""The issuebench adapter on a two-shard fixture of the prompts_full split."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spectrum_suite.episodes import generate_episodes
from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import issuebench
from spectrum_suite.task import SourceFormatError, SourceUnavailable

FIXTURES = Path(__file__).parent / "fixtures"
TASK = get_task("issuebench")


def test_unique_topics_and_templates_across_both_shards() -> None:
    fetched = fetch_files(TASK.name, TASK.files, FIXTURES, None)
    topics, templates = TASK.build(TASK, fetched)
    raw = [
        row
        for shard in issuebench.SHARDS
        for row in pq.read_table(FIXTURES / "issuebench" / shard).to_pylist()
    ]
    assert [y for _, y in topics.population] == list(dict.fromkeys(r["topic_text"] for r in raw))
    assert [y for _, y in templates.population] == list(dict.fromkeys(r["template_text"] for r in raw))
    assert templates.descriptions[0].endswith("The topic should be in the template as X.")
    episodes = list(generate_episodes([topics, templates], TASK.params))
    assert len(episodes) == 4  # n_per 2 for each list
    assert all(sorted(ep.samples) == sorted(ep.instance.population) for ep in episodes)


def test_both_shards_are_required(tmp_path: Path) -> None:
    (tmp_path / "issuebench/prompts").mkdir(parents=True)
    shard = issuebench.SHARDS[0]
    (tmp_path / "issuebench" / shard).write_bytes((FIXTURES / "issuebench" / shard).read_bytes())
    with pytest.raises(SourceUnavailable, match="prompts_full-00001-of-00002.parquet"):
        fetch_files(TASK.name, TASK.files, tmp_path, None)


def test_a_topic_that_is_not_text_names_the_row(tmp_path: Path) -> None:
    """A numeric topic column (a wrong file) was written as the topic "3"."""
    (tmp_path / "issuebench/prompts").mkdir(parents=True)
    for i, shard in enumerate(issuebench.SHARDS):
        table = pq.read_table(FIXTURES / "issuebench" / shard)
        if i == 1:
            column = table.schema.get_field_index("topic_text")
            table = table.set_column(column, "topic_text", pa.array(range(table.num_rows), pa.int64()))
        pq.write_table(table, tmp_path / "issuebench" / shard)
    with pytest.raises(
        SourceFormatError,
        match=r"00001-of-00002\.parquet: row 0 \(0-based\): field 'topic_text': expected text, got 0",
    ):
        TASK.build(TASK, fetch_files(TASK.name, TASK.files, tmp_path, None))
