"""Every alignment task declares which rows belong together (`cluster`), so that intervals resample them together.

global_oqa asks one question in many countries, nytimes has every book rated by four demographics,
rotten_tomatoes scores a movie by critics and by the audience, numbergame asks about many targets of one example
set: such rows share a cluster. Rows of independent items (urn, mpi, states) are their own cluster.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from spectrum_suite import load_dataset
from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task

FIXTURES = Path(__file__).parent / "fixtures"


def rows(name: str, root: Path) -> list[dict]:
    task = get_task(name)
    return list(task.build(task, fetch_files(task.name, task.files, root, None)))


@pytest.mark.parametrize(
    ("task", "cluster_of", "shared"),
    [
        ("global_oqa", lambda r: r["instance_id"].split("/")[0], True),  # question{row}/{country}
        ("rotten_tomatoes", lambda r: r["instance_id"].split("/")[0], True),  # {movie row}/{critic|audience}
        ("numbergame", lambda r: r["instance_id"].rsplit("/", 1)[0], False),  # {set}/{target}
        ("habermas", lambda r: r["instance_id"].split("#")[0], False),  # {question id}[#{repeat}]
    ],
)
def test_clustered_tasks_group_the_rows_of_one_item(task, cluster_of, shared) -> None:
    built = rows(task, FIXTURES)
    assert built and all(r["cluster"] == cluster_of(r) for r in built)
    if shared:  # the fixture has an item with several rows (numbergame's and habermas's have none)
        assert max(Counter(r["cluster"] for r in built).values()) >= 2


def test_nytimes_clusters_are_books_of_four_demographics(shared_data: Path) -> None:
    sizes = Counter(r["cluster"] for r in rows("nytimes", shared_data))
    assert len(sizes) == 235 and set(sizes.values()) == {4}


def test_independent_rows_are_their_own_cluster_in_the_built_dataset() -> None:
    """A task whose rows declare no cluster gets the row's own id from the builder (the dataset column is
    always filled)."""
    built = load_dataset("urn", split="test")
    assert "cluster" in built.features
    assert built["cluster"] == built["instance_id"]
