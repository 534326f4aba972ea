"""GPQA adapter on a gpqa_main.csv fixture (extracted layout) and on a zip holding it."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from spectrum_suite.sources import gpqa
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import FIXTURES, build

RAW = FIXTURES / gpqa.CSV


def test_choices_are_permuted_by_one_generator_and_the_letter_points_at_the_correct_answer():
    built = build("gpqa", FIXTURES, episodes=False)
    pool = built.instances[0].population
    raw = pd.read_csv(RAW)
    rng = np.random.default_rng(42)
    for (prompt, letter), row in zip(pool, raw.to_dict("records"), strict=True):
        lines = prompt.split("\n")
        assert lines[0] == f"Question: {row['Question']}"  # no Subject line: gpqa_main has no such column
        options = {line[0]: line[3:] for line in lines[1:]}
        assert options[letter] == row["Correct Answer"].strip()
        wrong = [
            str(row[f"Incorrect Answer {i}"]).strip()
            for i in (1, 2, 3)
            if isinstance(row[f"Incorrect Answer {i}"], str) and row[f"Incorrect Answer {i}"].strip()
        ]
        choices = wrong + [row["Correct Answer"].strip()]
        order = rng.permutation(len(choices))
        assert list(options.values()) == [choices[i] for i in order]
    assert len(pool[2][0].split("\n")) == 4  # the empty third wrong answer is skipped


def test_reads_the_zip_and_names_a_missing_column(tmp_path):
    target = tmp_path / gpqa.ZIP
    target.parent.mkdir(parents=True)
    with zipfile.ZipFile(target, "w") as archive:
        archive.write(RAW, gpqa.MEMBER)
    from_zip = build("gpqa", tmp_path, episodes=False, verify=False).instances[0].population
    assert from_zip == build("gpqa", FIXTURES, episodes=False).instances[0].population
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(gpqa.MEMBER, pd.read_csv(RAW).drop(columns=["Correct Answer"]).to_csv(index=False))
    with pytest.raises(
        SourceFormatError, match=r"dataset.zip:dataset/gpqa_main.csv: header: field 'Correct Answer'"
    ):
        build("gpqa", tmp_path, verify=False)


@pytest.mark.parametrize(
    ("member", "problem"),
    [
        (b"", "file is empty"),  # was a pandas EmptyDataError traceback
        (b"Question,Correct Answer,Incorrect Answer 1\n", r"no data rows"),
        (
            "Question,Correct Answer,Incorrect Answer 1\nCaf\u00e9?,a,b\n".encode("latin-1"),
            "not readable text",
        ),
    ],
)
def test_an_empty_or_unreadable_member_is_named(tmp_path, member, problem):
    target = tmp_path / gpqa.ZIP
    target.parent.mkdir(parents=True)
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(gpqa.MEMBER, member)
    with pytest.raises(
        SourceFormatError, match=rf"dataset.zip:dataset/gpqa_main.csv: whole file: field '\*': {problem}"
    ):
        build("gpqa", tmp_path, verify=False)


def test_a_question_that_is_not_text_is_named(tmp_path):
    """A numeric Question column (a wrong file) was written as "Question: 42"."""
    target = tmp_path / gpqa.CSV
    target.parent.mkdir(parents=True)
    frame = pd.read_csv(RAW)
    frame["Question"] = range(len(frame))
    frame.to_csv(target, index=False)
    with pytest.raises(
        SourceFormatError, match=r"gpqa_main.csv: row 2: field 'Question': expected text, got 0"
    ):
        build("gpqa", tmp_path, verify=False)
