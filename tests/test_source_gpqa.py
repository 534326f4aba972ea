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
    from_zip = build("gpqa", tmp_path, episodes=False).instances[0].population
    assert from_zip == build("gpqa", FIXTURES, episodes=False).instances[0].population
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(gpqa.MEMBER, pd.read_csv(RAW).drop(columns=["Correct Answer"]).to_csv(index=False))
    with pytest.raises(
        SourceFormatError, match=r"dataset.zip:dataset/gpqa_main.csv: header: field 'Correct Answer'"
    ):
        build("gpqa", tmp_path)
