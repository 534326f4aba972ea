"""The novacomet adapter on a fixture of the Hub Parquet export (columns premise, hypothesis)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spectrum_suite.episodes import as_groups, generate_episodes
from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import novacomet
from spectrum_suite.task import SourceFormatError, SourceUnavailable

FIXTURES = Path(__file__).parent / "fixtures"


def instances(name: str, root: Path = FIXTURES):
    task = get_task(name)
    return task, task.build(task, fetch_files(task.name, task.files, root, None))


def test_premises_are_unique_in_order_of_first_appearance() -> None:
    task, (inst,) = instances("novacomet_premise")
    assert [out for _, out in inst.population] == [
        "PersonX bakes bread",
        "A dog barks at night",
        "PersonX misses the bus",
    ]
    assert inst.name == "novacomet_premise"  # named after its own task (the reference swapped the names)
    (group,) = as_groups([inst], task.params)
    episodes = list(generate_episodes(group.instances, group.params))
    assert sum(len(ep.samples) for ep in episodes) == 3  # a partition: every premise exactly once


def test_hypotheses_are_a_json_list_per_sorted_premise() -> None:
    _, (inst,) = instances("novacomet_hypothesis")
    assert [premise for premise, _ in inst.population] == sorted(
        ["PersonX bakes bread", "A dog barks at night", "PersonX misses the bus"]
    )
    outputs = dict(inst.population)
    assert json.loads(outputs["A dog barks at night"]) == [
        "The neighbours wake up",
        "Someone is outside",
        "The dog is scared",
    ]
    assert inst.descriptions[1].startswith(
        "You will be given a premise. Generate a list of around 8-10 hypotheses"
    )
    (file,) = get_task("novacomet_hypothesis").files.files
    assert file.path == "novacomet/default/train" and file.hub.shards
    assert (file.hub.repo, file.hub.filename, file.hub.revision) == (
        "tsor13/novacomet",
        "default/train",
        "refs/convert/parquet",
    )


def test_every_shard_of_the_export_is_read_and_a_gap_is_named(tmp_path: Path) -> None:
    folder = tmp_path / novacomet.LOCAL
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"premise": ["P0"], "hypothesis": ["H0"]}), folder / "0000.parquet")
    pq.write_table(pa.table({"premise": ["P1", "P2"], "hypothesis": ["H1", "H2"]}), folder / "0001.parquet")
    _, (inst,) = instances("novacomet_premise", tmp_path)
    assert [out for _, out in inst.population] == ["P0", "P1", "P2"]  # shard 0000 alone gave one premise
    (folder / "0001.parquet").rename(folder / "0002.parquet")
    with pytest.raises(
        SourceUnavailable, match=r"needs the file '\S*novacomet/default/train/0001.parquet' \(missing"
    ):
        instances("novacomet_premise", tmp_path)


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    target = tmp_path / novacomet.LOCAL / "0000.parquet"
    target.parent.mkdir(parents=True)
    pq.write_table(pa.table({"premise": ["x"], "inference": ["y"]}), target)
    with pytest.raises(SourceFormatError, match=r"0000.parquet: schema: field 'hypothesis': column missing"):
        instances("novacomet_premise", tmp_path)
