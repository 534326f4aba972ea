"""The valueconsistency adapter on a fixture of valueconsistency.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import valueconsistency
from spectrum_suite.task import SourceFormatError

FIXTURES = Path(__file__).parent / "fixtures"
TASK = get_task("valueconsistency")


def run(root: Path = FIXTURES):
    fetched = fetch_files(TASK.name, TASK.files, root, None)
    return TASK.build(TASK, fetched), fetched


def test_original_questions_given_controversy_language_and_country() -> None:
    (inst,), fetched = run()
    raw = [
        json.loads(line)
        for line in (FIXTURES / valueconsistency.LOCAL).read_text(encoding="utf-8").splitlines()
    ]
    originals = [r for r in raw if not r["rephrase"]]
    assert [y for _, y in inst.population] == [r["question"] for r in originals]
    assert inst.population[0][0] == '{"controversial": true, "language": "english", "country": "us"}'
    assert (
        inst.population[2][1] == "年上の人を敬うべきですか？"
    )  # a single field keeps raw Unicode (docs/deviations.md#non-ascii-escaping-in-json-only)
    assert fetched.dropped["ValueConsistency rephrased question"] == 1


def test_a_line_without_rephrase_names_the_line(tmp_path: Path) -> None:
    target = tmp_path / valueconsistency.LOCAL
    target.parent.mkdir(parents=True)
    lines = (FIXTURES / valueconsistency.LOCAL).read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[2])
    del broken["rephrase"]
    lines[2] = json.dumps(broken)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(
        SourceFormatError, match=r"valueconsistency.jsonl: line 3: field 'rephrase': field missing"
    ):
        run(tmp_path)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("question", None, "expected text, got None"),  # was the question "None"
        ("country", 3, "expected text, got 3"),  # was JSON 3
        ("controversial", "yes", "expected true or false, got 'yes'"),  # was JSON "yes"
    ],
)
def test_a_field_of_the_wrong_kind_names_the_line(tmp_path: Path, field, value, problem) -> None:
    target = tmp_path / valueconsistency.LOCAL
    target.parent.mkdir(parents=True)
    lines = (FIXTURES / valueconsistency.LOCAL).read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[2])
    broken[field] = value
    lines[2] = json.dumps(broken)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(
        SourceFormatError, match=rf"valueconsistency.jsonl: line 3: field '{field}': {problem}"
    ):
        run(tmp_path)
