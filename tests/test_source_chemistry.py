"""BO-ICL chemistry tables: exact field rendering, partition of every row, bad numbers named."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from spectrum_suite.task import SourceFormatError
from tests.adapter_run import build, inputs, outputs

ESOL = "chemistry/paper/dataset/data/esol_iupac.csv"
OCM = "chemistry/paper/dataset/data/train_data_num_feats.csv"


def test_esol_renders_the_four_identifiers_and_the_measured_value(shared_data):
    built = build("chemistry_esol", shared_data)
    (inst,) = built.instances
    assert len(inst.population) == len(pd.read_csv(shared_data / ESOL)) == 927
    assert inst.descriptions == [
        "Predict the measured log(solubility:mol/L) from SMILES, SELFIES, InChI, IUPAC"
    ]
    pairs = dict(inst.population)
    key = next(x for x in pairs if json.loads(x)["SMILES"] == "ClCC(Cl)(Cl)Cl")
    assert list(json.loads(key)) == ["SMILES", "SELFIES", "InChI", "IUPAC"]
    assert json.loads(key)["IUPAC"] == "1,1,1,2-tetrachloroethane"
    assert pairs[key] == "-2.18"
    # partition into chunks of 15 with 5 orderings each: every row appears exactly 5 times
    seen = [y for ep in built.episodes for y in inputs(ep)]
    assert len(seen) == 5 * 927 and all(len(outputs(ep)) <= 15 for ep in built.episodes)


def test_oxidative_prompt_to_yield(shared_data):
    built = build("chemistry_oxidative", shared_data)
    (inst,) = built.instances
    raw = pd.read_csv(shared_data / OCM)
    assert sorted(float(y) for _, y in inst.population) == sorted(raw["C2_yield"].tolist())
    assert sorted(x for x, _ in inst.population) == sorted(raw["prompt"].tolist())
    assert sum(len(outputs(ep)) for ep in built.episodes) == len(raw)


def test_a_non_numeric_yield_names_file_row_and_field(tmp_path):
    path = tmp_path / OCM
    path.parent.mkdir(parents=True)
    path.write_text("prompt,C2_yield\nTo synthesize A,1.5\nTo synthesize B,high\n")
    with pytest.raises(
        SourceFormatError,
        match=r"train_data_num_feats\.csv: row 3: field 'C2_yield': expected a finite number, got 'high'",
    ):
        build("chemistry_oxidative", tmp_path, verify=False)


def test_an_infinite_yield_names_file_row_and_field(tmp_path):
    """Was the output "inf"."""
    path = tmp_path / OCM
    path.parent.mkdir(parents=True)
    path.write_text("prompt,C2_yield\nTo synthesize A,1.5\nTo synthesize B,inf\n")
    with pytest.raises(
        SourceFormatError,
        match=r"train_data_num_feats\.csv: row 3: field 'C2_yield': expected a finite number, got inf",
    ):
        build("chemistry_oxidative", tmp_path, verify=False)


def test_a_missing_single_input_names_file_row_and_field(tmp_path):
    """Was the input text "nan"; with several inputs a missing one stays JSON null (the IUPAC names)."""
    path = tmp_path / OCM
    path.parent.mkdir(parents=True)
    path.write_text("prompt,C2_yield\nTo synthesize A,1.5\n,2.5\n")
    with pytest.raises(
        SourceFormatError, match=r"train_data_num_feats\.csv: row 3: field 'prompt': expected text, got nan"
    ):
        build("chemistry_oxidative", tmp_path, verify=False)
