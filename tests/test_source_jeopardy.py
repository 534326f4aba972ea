"""Jeopardy adapter on a JEOPARDY_CSV.csv fixture (column names with a leading space, as published)."""

from __future__ import annotations

import pandas as pd
import pytest

from spectrum_suite.sources import jeopardy
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import FIXTURES, build, inputs, outputs


def test_rounds_links_and_missing_fields_are_filtered_and_counted():
    built = build("jeopardy_answer_prediction", FIXTURES)
    pool = built.instances[0].population
    assert set(pool) == {
        (
            "For the last 8 years of his life, Galileo was under house arrest for espousing this man's theory",
            "Copernicus",
        ),
        ("No. 2: 1912 Olympian; football star at Carlisle Indian School", "Jim Thorpe"),
        ("Signer of the Dec. of Indep., framer of the Constitution of Mass.", "John Adams"),
    }
    dropped = built.fetched.dropped
    assert dropped["clues outside the Jeopardy! and Double Jeopardy! rounds"] == 1
    assert dropped["clues whose Question holds a link (href)"] == 1
    assert dropped["clues missing Question, Answer or Category"] == 1
    ep = built.episodes[0]
    assert set(zip(inputs(ep), outputs(ep), strict=True)) == set(pool)


def test_question_generation_is_joint_with_its_descriptions():
    built = build("jeopardy_question_generation", FIXTURES)
    inst = built.instances[0]
    assert all(x is None for x, _ in inst.population) and len(inst.population) == 3
    assert list(inst.descriptions) == list(jeopardy.QUESTION_DESCRIPTIONS)
    assert built.groups[0].params.max_total == 1000


def test_missing_column_is_named(tmp_path):
    target = tmp_path / jeopardy.FILE
    target.parent.mkdir(parents=True)
    pd.read_csv(FIXTURES / jeopardy.FILE).drop(columns=[" Answer"]).to_csv(target, index=False)
    with pytest.raises(SourceFormatError, match=r"header: field 'Answer': column missing"):
        build("jeopardy_answer_prediction", tmp_path, verify=False)
