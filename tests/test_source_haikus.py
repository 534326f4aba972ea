"""Haikus adapter on a fixture of haikurnn's haikus.csv: three subtasks, per-corpus instances."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from spectrum_suite.sources import haikus
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import FIXTURES, build, inputs, outputs

RAW = FIXTURES / haikus.FILE


def test_three_subtasks_with_their_seeds_and_caps():
    built = build("haikus", FIXTURES)
    assert [g.params.seed for g in built.groups] == [42, 43, 44]
    assert all(g.params.max_total == 200 and g.params.n_iter == 64 for g in built.groups)
    raw = pd.read_csv(RAW, dtype=str)
    sources = list(dict.fromkeys(raw["source"]))
    assert [i.key for i in built.groups[0].instances] == [f"syllables/{s}" for s in sources]


def test_corpus_instances_hold_only_their_corpus_and_first_syllable_counts():
    built = build("haikus", FIXTURES)
    raw = pd.read_csv(RAW, dtype=str)
    sballas = {i.key: i for i in built.instances}["syllables/sballas"]
    expected = {
        (f"{int(a.split(',')[0])}, {b}, {c}", f"{x}\n{y}\n{z}")
        for a, b, c, x, y, z, s in zip(
            raw["0_syllables"],
            raw["1_syllables"],
            raw["2_syllables"],
            raw["0"],
            raw["1"],
            raw["2"],
            raw["source"],
            strict=True,
        )
        if s == "sballas"
    }
    assert set(sballas.population) == expected
    assert ("6, 9, 4", "the light of a candle\nis transferred to another candle\nspring twilight") in expected


def test_include_word_is_a_word_of_the_poem():
    built = build("haikus", FIXTURES)
    for ep in built.episodes:
        if ep.instance.key.startswith("include_word/"):
            for x, poem in zip(inputs(ep), outputs(ep), strict=True):
                given = json.loads(x)
                assert list(given) == ["include_word", "syllables"] and given["include_word"] in poem.split()
    pooled = {i.key: i for i in built.instances}["poems"]
    assert len(pooled.population) == 6 and pooled.descriptions == ["haikus."]


def test_bad_syllable_field_is_named(tmp_path):
    target = tmp_path / haikus.FILE
    target.parent.mkdir(parents=True)
    frame = pd.read_csv(RAW, dtype=str)
    frame.loc[2, "1_syllables"] = "six"
    frame.to_csv(target, index=False)
    with pytest.raises(SourceFormatError, match=r"row 4: field '1_syllables'"):
        build("haikus", tmp_path, verify=False)


def test_two_builds_give_the_same_episodes():
    first = [ep.messages() for ep in build("haikus", FIXTURES).episodes]
    assert first == [ep.messages() for ep in build("haikus", FIXTURES).episodes]


@pytest.mark.parametrize(
    ("value", "problem"),
    [("NaN", "expected a finite number, got nan"), ("-3", "expected a number in 0..inf, got -3"),
     ("2.5", "expected an integer, got 2.5")],
)  # fmt: skip
def test_a_syllable_count_that_is_not_a_count_is_named(tmp_path, value, problem):
    """Were the counts "nan", "-3" and "2.5" in the episode's input."""
    target = tmp_path / haikus.FILE
    target.parent.mkdir(parents=True)
    frame = pd.read_csv(RAW, dtype=str)
    frame.loc[2, "1_syllables"] = value
    frame.to_csv(target, index=False)
    with pytest.raises(SourceFormatError, match=rf"row 4: field '1_syllables': {problem}"):
        build("haikus", tmp_path, verify=False)
