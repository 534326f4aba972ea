"""Kumar toxicity adapter on a fixture in the published schema: stable rater ids, one rater per instance."""

from __future__ import annotations

import json

import pytest

from spectrum_suite.sources import hatespeech
from spectrum_suite.task import SourceFormatError, SourceUnavailable
from tests.adapter_run import FIXTURES, build, inputs, outputs

RAW = FIXTURES / hatespeech.FILE


def expected_raters() -> dict[str, set[tuple[str, str]]]:
    """(comment, score) pairs per rater, recomputed from the raw lines."""
    out: dict[str, set[tuple[str, str]]] = {}
    for line in RAW.read_text().splitlines():
        rec = json.loads(line)
        for rating in rec["ratings"]:
            traits = {k: v for k, v in rating.items() if k not in hatespeech.JUDGEMENTS}
            out.setdefault(json.dumps(traits, sort_keys=True), set()).add(
                (rec["comment"], str(rating["toxic_score"]))
            )
    return out


def test_each_instance_is_one_rater_with_only_their_ratings():
    built = build("hatespeech_individual", FIXTURES)
    expected = expected_raters()
    assert len(built.instances) == len(expected) == 3
    got = sorted(sorted(inst.population) for inst in built.instances)
    assert got == sorted(sorted(pairs) for pairs in expected.values())
    for ep in built.episodes:
        pairs = set(zip(inputs(ep), outputs(ep), strict=True))
        assert pairs <= set(ep.instance.population)
        assert set(outputs(ep)) <= set(hatespeech.SCORES)
    assert all(inst.descriptions == [hatespeech.DESCRIPTION] for inst in built.instances)


def test_rater_id_is_a_stable_digest_of_the_traits_not_of_the_judgements():
    rating = {"toxic_score": 3, "is_insult": True, "gender": "Male", "race": ["White"]}
    same_rater = {"toxic_score": 0, "is_insult": False, "race": ["White"], "gender": "Male"}
    assert hatespeech.rater_id(rating) == hatespeech.rater_id(same_rater)
    assert hatespeech.rater_id(rating) != hatespeech.rater_id({**rating, "gender": "Female"})
    assert (
        hatespeech.rater_id(rating) == "e942bdd0f48cfc25"
    )  # SHA-1 of the sorted pairs: the same in every process


def test_bad_score_names_the_record_and_field(tmp_path):
    target = tmp_path / hatespeech.FILE
    target.parent.mkdir(parents=True)
    lines = RAW.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["ratings"][0]["toxic_score"] = 7
    lines[1] = json.dumps(rec)
    target.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceFormatError, match=r"record 2 .*toxic_score.*integer 0-4"):
        build("hatespeech_individual", tmp_path, verify=False)


def test_missing_permission_file_says_where_to_ask(tmp_path):
    with pytest.raises(SourceUnavailable, match="Deepak Kumar"):
        build("hatespeech_individual", tmp_path, verify=False)
