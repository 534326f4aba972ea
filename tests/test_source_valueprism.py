"""The valueprism adapter (four training tasks) on a fixture of full/full.csv."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pandas as pd
import pytest

from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import valueprism
from spectrum_suite.task import SourceFormatError

FIXTURES = Path(__file__).parent / "fixtures"
RAW = pd.read_csv(FIXTURES / valueprism.LOCAL)


def run(name: str, root: Path = FIXTURES):
    task = get_task(name)
    fetched = fetch_files(task.name, task.files, root, None)
    return task.build(task, fetched), fetched


def test_situations_are_unique() -> None:
    (inst,), _ = run("valueprism_situation")
    assert [y for _, y in inst.population] == list(RAW["situation"].unique())


def test_vrd_output_is_the_repr_of_every_consideration_of_the_situation() -> None:
    (inst,), _ = run("valueprism_vrd")
    assert [x for x, _ in inst.population] == sorted(RAW["situation"].unique())
    for situation, output in inst.population[:3]:
        items = ast.literal_eval(output)
        assert all(list(item) == ["text", "vrd", "explanation", "valence"] for item in items)
        raw = RAW[RAW["situation"] == situation]
        assert sorted(i["text"] for i in items) == sorted(raw["text"])


def test_noncontextual_lists_unique_texts_per_kind() -> None:
    kinds, _ = run("valueprism_vrds_noncontextual")
    assert [k.key for k in kinds] == ["Value", "Right", "Duty"]
    assert sorted(y for _, y in kinds[0].population) == ["Autonomy", "Fairness", "Honesty"]
    assert sorted(y for _, y in kinds[2].population) == [f"Duty to help friend {i}" for i in range(4)]
    assert kinds[1].descriptions == ["Right (wrt moral reasoning)"]


def test_misc_keeps_values_named_ten_times_with_only_their_situations() -> None:
    values, fetched = run("valueprism_misc")
    assert sorted(v.meta["value"] for v in values) == ["Autonomy", "Honesty"]
    autonomy = next(v for v in values if v.meta["value"] == "Autonomy")
    assert sorted(y for _, y in autonomy.population) == sorted(
        RAW.loc[RAW["text"] == "Autonomy", "situation"]
    )
    assert autonomy.descriptions == ["Generate a situation relating to Autonomy."]
    assert fetched.dropped["ValuePrism Value row whose value is named fewer than 10 times (misc)"] == 3


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    target = tmp_path / valueprism.LOCAL
    target.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / valueprism.LOCAL, target)
    RAW.drop(columns=["valence"]).to_csv(target, index=False)
    with pytest.raises(SourceFormatError, match=r"full.csv: header: field 'valence': column missing"):
        run("valueprism_vrd", tmp_path)


def write_raw(tmp_path: Path, frame: pd.DataFrame) -> None:
    target = tmp_path / valueprism.LOCAL
    target.parent.mkdir(parents=True)
    frame.to_csv(target, index=False)


def test_a_missing_explanation_is_none_never_nan(tmp_path: Path) -> None:
    """The Python repr of the considerations said ``'explanation': nan``."""
    frame = RAW.copy()
    frame.loc[0, "explanation"] = None
    write_raw(tmp_path, frame)
    (inst,), _ = run("valueprism_vrd", tmp_path)
    situation = frame.loc[0, "situation"]
    considerations = ast.literal_eval(dict(inst.population)[situation])
    assert {c["text"]: c["explanation"] for c in considerations}[frame.loc[0, "text"]] is None
    assert not any(": nan" in y for _, y in inst.population)


def test_an_unknown_kind_names_the_row(tmp_path: Path) -> None:
    """Was a consideration of kind "Virtue" in the vrd lists."""
    frame = RAW.copy()
    frame.loc[3, "vrd"] = "Virtue"
    write_raw(tmp_path, frame)
    with pytest.raises(
        SourceFormatError,
        match=r"full.csv: row 5: field 'vrd': expected one of \('Value', 'Right', 'Duty'\) or nothing, got 'Virtue'",
    ):
        run("valueprism_vrd", tmp_path)
