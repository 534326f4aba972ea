"""Titanic passengers (docs/tasks.md#real-sources, row titanic): the joint table of all passenger variables,
and survival given the others.

The paper's Hub dataset ``mstz/titanic`` is script-based and no longer loads with current ``datasets``; we
read Kaggle's ``titanic.csv`` (the same 891 training passengers) from GitHub ``datasciencedojo/datasets`` at a
pinned commit and map its columns to the paper's field names: passenger_class = Pclass, is_male = (Sex ==
"male"), age = Age, sibsp = SibSp, parch = Parch, fare = Fare, embarked = Embarked, has_survived =
str(Survived) ("0"/"1", the integer form of mstz's no/yes ClassLabel:
docs/deviations.md#titanic-survival-as-0-and-1). Missing ages and ports are JSON null, never the reference's
bare NaN (docs/deviations.md#episode-rows-and-text).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from ..episodes import Instance, pooled_instance, rows_to_samples
from ..sourcekit.remote import github_file
from ..sourcekit.tables import check_labels, read_csv
from ..sourcekit.values import check_column, is_number, null, plain
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "titanic",
    "Titanic passengers (Kaggle's train.csv from GitHub datasciencedojo/datasets; the paper's Hub mstz/titanic is "
    "script-based and no longer loads)",
    "GH", "https://github.com/datasciencedojo/datasets", "CC0", "Kaggle, Titanic - Machine Learning from Disaster",
)  # fmt: skip

REPO = "datasciencedojo/datasets"
COMMIT = "f0ccab6a7ceafdff780052166fb6fab3311398eb"
FOLDER = "titanic"
FILE = "titanic.csv"
SHA256 = "4a437fde05fe5264e1701a7387ac6fb75393772ba38bb2c9c566405af5af4bd7"
KAGGLE_COLUMNS = ("Survived", "Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked")
PORTS = ("C", "Q", "S")  # Cherbourg, Queenstown, Southampton
GIVEN = ("passenger_class", "is_male", "age", "sibsp", "parch", "fare", "embarked")

ALL_VARIABLES_DESCRIPTIONS = [
    "Generate complete passenger information for the Titanic dataset, including survival status, passenger "
    "class, demographics, and travel details.",
    "Create realistic Titanic passenger profiles with all relevant attributes including whether they survived "
    "the disaster.",
    "Generate: has_survived (survival outcome), passenger_class (1st/2nd/3rd class), is_male (gender), age, "
    "sibsp (siblings/spouses aboard), parch (parents/children aboard), fare (ticket price), embarked (port of "
    "embarkation).",
]
SURVIVAL_DESCRIPTIONS = [
    "Given passenger information including class, demographics, family size, and travel details, predict "
    "whether the passenger survived the Titanic disaster.",
    "Predict Titanic passenger survival based on socioeconomic status, demographics, and family connections.",
    "Given: passenger_class (1st/2nd/3rd class), is_male (gender), age, sibsp (siblings/spouses), parch "
    "(parents/children), fare (ticket price), embarked (port). Generate: has_survived (survival status).",
]
FILES = TaskFiles((github_file(FOLDER, REPO, COMMIT, FILE, SHA256),))


def _number(value: Any) -> Any:
    """A Python number, or None for a missing one."""
    value = plain(value)
    return None if isinstance(value, float) and math.isnan(value) else value


def passengers(path: Path) -> list[dict[str, Any]]:
    """Kaggle rows under the paper's field names (see the module docstring for the mapping)."""
    frame = read_csv(path, KAGGLE_COLUMNS)
    check_labels(path, frame, "Survived", (0, 1))
    check_labels(path, frame, "Pclass", (1, 2, 3))
    check_labels(path, frame, "Sex", ("male", "female"))
    # A missing value is JSON null; a present one must be a finite, non-negative number (counts integral).
    for column, integer in (("Age", False), ("SibSp", True), ("Parch", True), ("Fare", False)):
        expected = "a non-negative integer" if integer else "a non-negative number"
        check_column(
            path, frame, column, lambda v, i=integer: null(v) or is_number(v, integer=i, low=0), expected
        )
    for column in ("Age", "SibSp", "Parch", "Fare"):
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise SourceFormatError(
                path, "column", column, f"expected numbers, got dtype {frame[column].dtype}"
            )
    check_column(path, frame, "Embarked", lambda v: null(v) or v in PORTS, f"a port {PORTS} or nothing")
    return [
        {
            "has_survived": str(int(row["Survived"])),
            "passenger_class": int(row["Pclass"]),
            "is_male": row["Sex"] == "male",
            "age": _number(row["Age"]),
            "sibsp": _number(row["SibSp"]),
            "parch": _number(row["Parch"]),
            "fare": _number(row["Fare"]),
            "embarked": None if null(row["Embarked"]) else row["Embarked"],
        }
        for row in frame.to_dict("records")
    ]


def table(inputs: tuple[str, ...], outputs: tuple[str, ...], descriptions: list[str]):
    """A task over one pooled instance of all passengers, given ``inputs`` and generating ``outputs``."""

    def build(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
        rows = passengers(fetched.require(f"{FOLDER}/{FILE}"))
        return [pooled_instance(task.name, descriptions, rows_to_samples(rows, inputs, outputs))]

    return build


TASKS = (
    episode_task("titanic_all_variables", SOURCE, side="train", kind="joint", files=FILES,
                 build=table((), ("has_survived", *GIVEN), ALL_VARIABLES_DESCRIPTIONS), n_per=-1, n_iter="~64"),
    episode_task("titanic_survival_prediction", SOURCE, side="train", kind="conditional", files=FILES,
                 build=table(GIVEN, ("has_survived",), SURVIVAL_DESCRIPTIONS), seed=43, n_per=-1, n_iter="~64"),
)  # fmt: skip
