"""Titanic from Kaggle's CSV: the column mapping, null for missing values (not a bare NaN), bad labels named."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from spectrum_suite.task import SourceFormatError
from tests.adapter_run import build, inputs, outputs

CSV = "titanic/titanic.csv"


def test_all_variables_maps_kaggle_columns(shared_data):
    built = build("titanic_all_variables", shared_data)
    (inst,) = built.instances
    assert len(inst.population) == 891
    records = [json.loads(y) for _, y in inst.population]
    assert list(records[0]) == [
        "has_survived",
        "passenger_class",
        "is_male",
        "age",
        "sibsp",
        "parch",
        "fare",
        "embarked",
    ]
    braund = {
        "has_survived": "0",
        "passenger_class": 3,
        "is_male": True,
        "age": 22.0,
        "sibsp": 1,
        "parch": 0,
        "fare": 7.25,
        "embarked": "S",
    }
    assert braund in records
    raw = pd.read_csv(shared_data / CSV)
    assert sum(r["age"] is None for r in records) == int(raw["Age"].isna().sum()) > 0
    assert sum(r["embarked"] is None for r in records) == int(raw["Embarked"].isna().sum())
    assert not any("NaN" in y for _, y in inst.population)
    assert sum(r["has_survived"] == "1" for r in records) == int(raw["Survived"].sum())


def test_survival_prediction_fields(shared_data):
    built = build("titanic_survival_prediction", shared_data)
    episode = built.episodes[0]
    assert set(outputs(episode)) <= {"0", "1"}
    assert list(json.loads(inputs(episode)[0])) == [
        "passenger_class",
        "is_male",
        "age",
        "sibsp",
        "parch",
        "fare",
        "embarked",
    ]
    assert sum(len(outputs(ep)) for ep in built.episodes) == 891  # n_per = -1: every passenger once


def test_an_unknown_sex_names_file_row_and_field(tmp_path):
    path = tmp_path / CSV
    path.parent.mkdir(parents=True)
    path.write_text(
        "PassengerId,Survived,Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked\n"
        '1,0,3,"Braund, Mr. Owen Harris",male,22,1,0,A/5 21171,7.25,,S\n'
        '2,1,1,"Doe, Jane",unknown,38,1,0,PC 17599,71.2833,C85,C\n'
    )
    with pytest.raises(
        SourceFormatError, match=r"titanic\.csv: row 3: field 'Sex': unexpected label 'unknown'"
    ):
        build("titanic_all_variables", tmp_path, verify=False)


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("Age", "-4", "expected a non-negative number, got -4"),
        ("Age", "inf", "expected a non-negative number, got inf"),
        ("SibSp", "1.5", "expected a non-negative integer, got 1.5"),
        ("Parch", "-1", "expected a non-negative integer, got -1"),
        ("Fare", "-7.25", "expected a non-negative number, got -7.25"),
        ("Embarked", "X", r"expected a port \('C', 'Q', 'S'\) or nothing, got 'X'"),
    ],
)
def test_a_value_no_passenger_has_names_file_row_and_field(tmp_path, column, value, problem):
    path = tmp_path / CSV
    path.parent.mkdir(parents=True)
    row = {"PassengerId": "2", "Survived": "1", "Pclass": "1", "Name": '"Doe, Jane"', "Sex": "female", "Age": "38",
           "SibSp": "1", "Parch": "0", "Ticket": "PC 17599", "Fare": "71.2833", "Cabin": "C85", "Embarked": "C"}  # fmt: skip
    row[column] = value
    path.write_text(
        "PassengerId,Survived,Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked\n"
        '1,0,3,"Braund, Mr. Owen Harris",male,22,1,0,A/5 21171,7.25,,S\n' + ",".join(row.values()) + "\n"
    )
    with pytest.raises(SourceFormatError, match=rf"titanic\.csv: row 3: field '{column}': {problem}"):
        build("titanic_all_variables", tmp_path, verify=False)
