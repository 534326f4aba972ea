"""ChangeMyView adapter on a threads.jsonl fixture: reservoir, footnotes, filters, both tasks."""

from __future__ import annotations

import bz2
import json

import pytest

from spectrum_suite.sources import changemyview
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import FIXTURES, build, inputs, outputs


def test_reservoir_keeps_the_first_lines_then_replaces_uniformly(tmp_path):
    path = tmp_path / "lines.jsonl"
    path.write_text("".join(f'{{"i": {i}}}\n' for i in range(50)))
    small = changemyview.reservoir(path, size=10)
    assert len(small) == 10 and len({n for n, _ in small}) == 10
    assert changemyview.reservoir(path, size=100) == [(i + 1, f'{{"i": {i}}}\n') for i in range(50)]
    assert small == changemyview.reservoir(path, size=10)  # seeded


def test_filters_and_footnote_removal_with_counts():
    built = build("changemyview_categories", FIXTURES)
    posts, titles = built.instances
    assert [t for _, t in titles.population] == [
        "CMV: Cities should ban cars downtown", "CMV: Tipping should be abolished", "CMV: Public libraries deserve more funding"]  # fmt: skip
    assert (
        posts.population[0][1]
        == "CMV: Cities should ban cars downtown\n\nCars make the centre loud and dangerous."
    )
    dropped = built.fetched.dropped
    assert dropped["threads with an empty, deleted or removed title or text"] == 1
    assert (
        dropped["threads with at most 4 comments"] == 1 and dropped["threads without a usable comment"] == 1
    )


def test_posts_task_has_three_capped_subtasks_and_reads_bz2(tmp_path):
    target = tmp_path / changemyview.COMPRESSED
    target.parent.mkdir(parents=True)
    target.write_bytes(bz2.compress((FIXTURES / changemyview.PLAIN).read_bytes()))
    built = build("changemyview_posts", tmp_path, verify=False)
    assert [g.instances[0].key for g in built.groups] == [
        "post_from_title",
        "title_from_post",
        "score_from_post",
    ]
    assert all(g.params.seed == 43 and g.params.max_total == 500 for g in built.groups)
    score = next(ep for ep in built.episodes if ep.instance.key == "score_from_post")
    pairs = dict(zip(inputs(score), outputs(score), strict=True))
    key = json.dumps(
        {"title": "CMV: Tipping should be abolished", "selftext": "Wages should be set by employers."}
    )
    assert pairs[key] == "-3"


def test_bad_json_line_is_named(tmp_path):
    target = tmp_path / changemyview.PLAIN
    target.parent.mkdir(parents=True)
    target.write_text((FIXTURES / changemyview.PLAIN).read_text() + "{not json\n")
    with pytest.raises(SourceFormatError, match=r"threads.jsonl: line 7: field '\*': not valid JSON"):
        build("changemyview_posts", tmp_path, verify=False)


def threads_with(tmp_path, field, value):
    """The fixture with the first thread's ``field`` set to ``value`` (written as JSON, NaN included)."""
    target = tmp_path / changemyview.PLAIN
    target.parent.mkdir(parents=True)
    lines = (FIXTURES / changemyview.PLAIN).read_text().splitlines()
    record = json.loads(lines[0])
    record[field] = value
    lines[0] = json.dumps(record)
    target.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("score", float("nan"), "expected a finite number, got nan"),  # was a ValueError traceback
        ("score", 3.5, "expected an integer, got 3.5"),  # was "3"
        ("score", "40", "expected a number, got '40'"),
        ("num_comments", "12", "expected a number, got '12'"),  # was dropped as "at most 4 comments"
        ("num_comments", -1, "expected a number in 0..inf, got -1"),
    ],
)
def test_a_count_that_is_not_an_integer_names_the_line(tmp_path, field, value, problem):
    threads_with(tmp_path, field, value)
    with pytest.raises(SourceFormatError, match=rf"threads.jsonl: line 1: field '{field}': {problem}"):
        build("changemyview_posts", tmp_path, verify=False)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (changemyview.PLAIN, b"", "file is empty"),  # was two empty pools
        (changemyview.PLAIN, b"\n\n", "file is empty"),
        (changemyview.PLAIN, bytes(range(256)), "not readable text"),
        (changemyview.COMPRESSED, b"not bz2 at all", "not a readable bz2 file"),
        (changemyview.COMPRESSED, bz2.compress(b"\n"), "file is empty"),
    ],
)
def test_an_empty_or_unreadable_file_is_named(tmp_path, name, content, problem):
    target = tmp_path / name
    target.parent.mkdir(parents=True)
    target.write_bytes(content)
    with pytest.raises(SourceFormatError, match=rf"{name.split('/')[1]}: whole file: field '\*': {problem}"):
        build("changemyview_categories", tmp_path, verify=False)
