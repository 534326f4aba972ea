"""Diffuse distributions on the real prompt files: cleaning, sentence-boundary descriptions, sorted keys."""

from __future__ import annotations

import json

import pytest

from spectrum_suite.sources import diffuse_distributions as dd
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import build, link_tree, outputs


def test_one_instance_per_file_with_targets(shared_data):
    built = build("diffuse_distribution", shared_data)
    keys = [inst.key for inst in built.instances]
    assert keys == sorted(keys)
    assert len(keys) == 27 and "ficticious-people/ficticious-people.json" not in keys
    assert built.fetched.dropped["diffuse_distribution: prompt file with no targets"] == 1
    raw = json.loads(
        (shared_data / "diffuse_distributions/prompts/continent-countries/africa.json").read_text()
    )
    (africa,) = [i for i in built.instances if i.key == "continent-countries/africa.json"]
    assert [y for _, y in africa.population] == [t.strip("{}") for t in raw["targets"]]
    assert africa.descriptions == [
        "Output a random country in Africa, chosen completely at random, without replacement."
    ]


def test_ten_orderings_of_the_whole_target_list(shared_data):
    built = build("diffuse_distribution", shared_data)
    days = [ep for ep in built.episodes if ep.instance.key == "day-date/day-0.json"]
    assert len(days) == 10
    week = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert all(sorted(outputs(ep)) == sorted(week) for ep in days)
    assert len({tuple(outputs(ep)) for ep in days}) > 1


def test_cleaning_and_sentence_boundary():
    assert dd.clean_target("{Fatema Rahman}\n{Female}\u200b ") == "Fatema RahmanFemale"
    assert dd.describe("Pick a fruit, e.g. an apple, at random. Output it.") == (
        "Pick a fruit, e.g. an apple, at random, without replacement."
    )
    assert (
        dd.describe("Pick a number from 1.5 to 2.5.") == "Pick a number from 1.5 to 2.5, without replacement."
    )


def test_malformed_targets_name_file_and_field(shared_data, tmp_path):
    files = {
        f"diffuse_distributions/prompts/{rel}": shared_data / "diffuse_distributions/prompts" / rel
        for rel in dd.PROMPT_FILES
    }
    files.pop("diffuse_distributions/prompts/fruits/fruit-0.json")
    link_tree(files, tmp_path)
    bad = tmp_path / "diffuse_distributions/prompts/fruits/fruit-0.json"
    bad.write_text(json.dumps({"request": "Pick a fruit.", "targets": "Apple"}))
    with pytest.raises(
        SourceFormatError, match=r"fruit-0\.json: top level: field 'targets': expected a list"
    ):
        build("diffuse_distribution", tmp_path, verify=False)
