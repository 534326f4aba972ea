"""The builder: per-task and group configs, splits by instance, determinism, unavailable tasks."""

import json
import math

import datasets
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spectrum_suite
from spectrum_suite import SpectrumSuite, TasksUnavailableError, UnknownNameError, load_dataset
from spectrum_suite.registry import GROUPS


def test_training_task_has_train_and_validation_split_by_instance():
    ds = load_dataset("coinflip")
    assert set(ds) == {"train", "validation"}
    train_ids, val_ids = set(ds["train"]["instance_id"]), set(ds["validation"]["instance_id"])
    assert train_ids and val_ids and not train_ids & val_ids
    assert len(train_ids) + len(val_ids) == 1000
    row = ds["train"][0]
    assert row["task"] == "coinflip" and row["source"] == "coinflip" and row["choices"] == ["Heads", "Tails"]
    roles = [m["role"] for m in row["messages"]]
    assert set(roles) <= {"description", "output"} and roles.count("output") == row["n"]
    assert row["include_description"] == (roles[0] == "description")
    assert "p" in json.loads(row["meta"])
    assert ds["train"].features == spectrum_suite.schema.EPISODE_FEATURES


def test_held_out_task_has_only_test():
    ds = load_dataset("flight")
    assert list(ds) == ["test"] and ds["test"].num_rows == 200


def test_builder_class_used_as_any_datasets_builder(tmp_path):
    builder = SpectrumSuite(config_name="cards", cache_dir=str(tmp_path))
    assert isinstance(builder, datasets.GeneratorBasedBuilder)
    builder.download_and_prepare()
    ds = builder.as_dataset(split="train")
    assert ds.num_rows == 100 and set(ds["n"]) == {52}
    assert any(p.suffix == ".arrow" for p in tmp_path.rglob("*"))


def test_same_seed_same_bytes_across_two_builds(tmp_path):
    first = load_dataset("numeric_dist", split="validation", cache_dir=str(tmp_path / "a"), max_instances=40)
    second = load_dataset("numeric_dist", split="validation", cache_dir=str(tmp_path / "b"), max_instances=40)
    assert first.num_rows > 0
    assert first.data.table.equals(second.data.table)


def test_group_is_the_union_and_no_held_out_text_reaches_train():
    ds = load_dataset("synthetic", max_instances=30)
    assert set(ds) == {"train", "validation", "test"}
    assert set(ds["test"]["task"]) == {"flight"}
    train_tasks = set(ds["train"]["task"]) | set(ds["validation"]["task"])
    assert train_tasks == set(GROUPS["synthetic"]) - {"flight"}
    held_out_texts = {m["content"] for ms in ds["test"]["messages"] for m in ms}
    train_texts = {m["content"] for ms in ds["train"]["messages"] for m in ms}
    assert not (held_out_texts & train_texts) - {"1", "2", "3"}


def test_config_overrides_are_honoured():
    ds = load_dataset("coinflip", split="train", description_prob=1.0, max_instances=20)
    assert all(ds["include_description"]) and len(set(ds["instance_id"])) <= 20
    never = load_dataset("coinflip", split="train", description_prob=0.0, max_instances=20)
    assert not any(never["include_description"])


def test_group_with_unavailable_tasks_fails_listing_them_unless_skipped():
    with pytest.raises(TasksUnavailableError) as err:
        load_dataset("test")
    message = str(err.value)
    assert "wvs_individual" in message and "habermas_question" in message and "skip_unavailable" in message
    ds = load_dataset("test", skip_unavailable=True)
    assert set(ds["test"]["task"]) == {"flight"}
    assert "Skipped (unavailable here)" in ds["test"].info.description
    assert "wvs_individual" in ds["test"].info.description


def test_missing_manual_file_names_task_file_and_where():
    with pytest.raises(TasksUnavailableError) as err:
        load_dataset("wvs_individual")
    message = str(err.value)
    assert "wvs_individual" in message and ".sav" in message and "worldvaluessurvey" in message


def test_alignment_and_coverage_rows():
    urn = load_dataset("urn", split="test")
    assert urn.num_rows == 1000 and urn.features == spectrum_suite.schema.ALIGNMENT_FEATURES
    for row in urn.select(range(50)):
        assert abs(sum(row["target_probs"]) - 1) < 1e-9 and len(row["candidates"]) == len(row["target_probs"])
    coverage = load_dataset("coverage", split="test")
    assert coverage.num_rows == 22 and all(len(e) == 3 for e in coverage["examples"])
    assert set(coverage["validator"]) == set(GROUPS["coverage"])


def test_unknown_config_and_split():
    with pytest.raises(UnknownNameError, match="did you mean 'numeric_dist'"):
        load_dataset("numeric_dst")
    with pytest.raises(ValueError, match="has no split 'test'"):
        load_dataset("coinflip", split="test")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_instances", -1),  # would have sliced off the last instance
        ("max_instances", 0),
        ("max_instances", 2.5),
        ("description_prob", 1.5),
        ("description_prob", float("nan")),
        ("permutations", 0),
        ("permutations", True),
        ("validation_fraction", 1.0),
        ("validation_fraction", -0.1),
        ("row_shuffle_seed", -1),
        ("verify_checksums", "no"),
    ],
)
def test_options_out_of_range_are_refused_before_any_work(option: str, value: object) -> None:
    with pytest.raises(ValueError, match=option):
        load_dataset("cards", **{option: value})


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    max_instances=st.none() | st.integers(min_value=1, max_value=40),
    description_prob=st.none() | st.floats(min_value=0.0, max_value=1.0),
    validation_fraction=st.floats(min_value=0.0, max_value=0.9),
    seed=st.integers(min_value=0, max_value=2**31),
)
def test_valid_options_build_what_they_say(
    max_instances, description_prob, validation_fraction, seed
) -> None:
    """Property: any valid options build; caps, description inclusion and the validation split hold exactly."""
    options = {"validation_fraction": validation_fraction, "row_shuffle_seed": seed}
    if max_instances is not None:
        options["max_instances"] = max_instances
    if description_prob is not None:
        options["description_prob"] = description_prob
    ds = load_dataset("coinflip", **options)
    rows = [row for split in ds.values() for row in split]
    instances = {row["instance_id"] for row in rows}
    assert len(instances) == (max_instances or 1000)
    if description_prob in (0.0, 1.0):
        assert {row["include_description"] for row in rows} == {bool(description_prob)}
    held = set(ds["validation"]["instance_id"]) if "validation" in ds else set()
    assert not held & set(ds["train"]["instance_id"])
    expected = (
        0
        if validation_fraction == 0 or len(instances) < 2
        else min(len(instances) - 1, math.ceil(validation_fraction * len(instances)))
    )
    assert len(held) == expected
    assert (
        load_dataset("coinflip", **options)["train"]["episode_id"] == ds["train"]["episode_id"]
    )  # deterministic
