"""Every alignment task's rows carry the `ordinal` flag that docs/evaluation.md's table gives it, and a scale's
candidates are in scale order."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from spectrum_suite.registry import list_tasks
from tests.adapter_run import FIXTURES, rows

REPO = Path(__file__).resolve().parents[1]
#: Where each task's files are in the tests: the fixtures, the shared real data, or generated in code.
SHARED = {"nytimes", "mpi"}


def documented() -> dict[str, bool]:
    """task -> ordinal, from the table in docs/evaluation.md#divergences."""
    text = (REPO / "docs" / "evaluation.md").read_text()
    found = re.findall(r"^\| `(\w+)` \| [^|]+ \| (true|false) \|$", text, re.M)
    return {task: flag == "true" for task, flag in found}


def test_the_table_names_every_alignment_task() -> None:
    assert sorted(documented()) == sorted(t.name for t in list_tasks(row_family="alignment"))


@pytest.mark.shared
@pytest.mark.parametrize("task", sorted(t.name for t in list_tasks(row_family="alignment")))
def test_rows_carry_the_documented_flag(task: str, shared_data: Path, tmp_path: Path) -> None:
    root = FIXTURES
    if task in SHARED:
        root = tmp_path
        for source in (FIXTURES, shared_data):
            for file in (source / task).rglob("*"):
                target = root / file.relative_to(source)
                if file.is_file() and not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(file, target)
    built = rows(task, root)
    assert built and {row["ordinal"] for row in built} == {documented()[task]}
    if documented()[task] and task != "rotten_tomatoes":  # numeric scales, listed from the low end up
        assert all(
            [float(c) for c in row["candidates"]] == sorted(float(c) for c in row["candidates"])
            for row in built
        )
