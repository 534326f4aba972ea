"""The 22 diversity/validity tasks: one row each, with the exact description, examples and budget."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task, list_tasks
from spectrum_suite.sources import coverage_tasks

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "tasks.md"


def row_of(name: str) -> dict:
    task = get_task(name)
    (row,) = list(task.build(task, fetch_files(name, task.files, None)))
    return row


def spec_table() -> dict[str, tuple[str, tuple[str, ...], int]]:
    """Section 8's table of the spec, read from the markdown: name -> (description, examples, budget)."""
    text = SPEC.read_text(encoding="utf-8")
    section = text[text.index("## 8. Diversity/validity") : text.index("## 9.")]
    table = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not re.fullmatch(r"[a-z0-9_]+", cells[0]) or cells[0] == "task":
            continue
        (description,) = re.findall(r"`([^`]*)`", cells[2])
        table[cells[0]] = (description, tuple(re.findall(r"`([^`]*)`", cells[3])), int(cells[4]))
    return table


def test_the_22_tasks() -> None:
    assert len(coverage_tasks.COVERAGE_TASKS) == 22
    assert [t.name for t in list_tasks(row_family="coverage")] == list(coverage_tasks.COVERAGE_TASKS)


@pytest.mark.parametrize("name", list(coverage_tasks.COVERAGE_TASKS))
def test_row(name: str) -> None:
    row = row_of(name)
    assert set(row) == {"task", "description", "examples", "validator", "max_new_tokens"}
    assert row["task"] == row["validator"] == name
    assert isinstance(row["description"], str) and row["description"]
    assert isinstance(row["examples"], list) and len(row["examples"]) == 3
    assert all(isinstance(e, str) and e for e in row["examples"])
    assert isinstance(row["max_new_tokens"], int) and 4 <= row["max_new_tokens"] <= 40


def test_rows_match_the_spec_table() -> None:
    if not SPEC.is_file():
        pytest.skip(f"{SPEC} is not here")
    table = spec_table()
    assert len(table) == 22
    for name, (description, examples, budget) in table.items():
        row = row_of(name)
        assert (row["description"], tuple(row["examples"]), row["max_new_tokens"]) == (
            description,
            examples,
            budget,
        )


def test_some_rows_verbatim() -> None:
    """A few entries whose punctuation matters, written out (holds without the spec file too)."""
    assert row_of("us_phone_numbers")["examples"] == ["(210) 346-0967", "646 562-1938", "800-895-0522"]
    assert row_of("weekdays_abbreviated")["examples"] == ["Thu", "Wed.", "SUN"]
    assert row_of("basic_emails")["description"] == "Email address"
    assert row_of("professional_emails")["max_new_tokens"] == 40
    assert row_of("claude_gerunds") == {
        "task": "claude_gerunds",
        "description": "Generate an English gerund ending in -ing.",
        "examples": ["Schlepping", "Hoisting", "Thinking"],
        "validator": "claude_gerunds",
        "max_new_tokens": 4,
    }
    assert row_of("color_normal_ex")["description"] == row_of("color_interesting_ex")["description"]
