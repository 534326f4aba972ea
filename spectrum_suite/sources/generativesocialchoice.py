"""Generative Social Choice survey data (docs/tasks.md#real-sources, row generativesocialchoice): one instance
per survey respondent of each survey file, for the multiple-choice-with-text questions and for the free-text
questions.

The two files reuse user ids (both have ``generation1``), so an instance key is ``<file stem>/<user_id>``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..episodes import Instance, rows_to_samples
from ..sourcekit.remote import github_file
from ..sourcekit.tables import read_csv
from ..sourcekit.values import check_column, default_descriptions, text_or_null
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "generativesocialchoice", "Generative Social Choice survey data", "GH",
    "https://github.com/generative-social-choice/survey_data", "see homepage",
    "Fish et al. 2023, Generative Social Choice",
)  # fmt: skip

REPO = "generative-social-choice/survey_data"
COMMIT = "3129df3d0f83a598bd5c59c25419b463078d763f"
FOLDER = "generativesocialchoice"
SURVEYS = {
    "data/abortion_survey.csv": "2cf428c656009b6f4b8057acf4f95faa58e3f3bcb3010f6f74d9cb1b48f0cee6",
    "data/chatbot_personalization_survey.csv": "234f1d879bf9e8399d6ee4a9a485e5fc8a3a1da9afa4aaccea784cb0f5ae8dde",
}
QUESTION_TYPES = ("reading", "multiple choice + text", "text")
COLUMNS = ("user_id", "question_type", "question_text", "json_choices", "choice", "text")


FILES = TaskFiles(tuple(github_file(FOLDER, REPO, COMMIT, rel, sha) for rel, sha in SURVEYS.items()))


def _strip(series: pd.Series) -> pd.Series:
    """Strip strings and leave missing values missing (never the text 'nan')."""
    return series.map(lambda v: v.strip() if isinstance(v, str) else v)


def survey_rows(path: Path, question_type: str, fetched: FetchedFiles) -> pd.DataFrame:
    """The rows of one question type, with ``text`` renamed to ``response_text`` and texts stripped."""
    frame = read_csv(path, COLUMNS, dtype={"user_id": str})
    unknown = ~frame["question_type"].isin(QUESTION_TYPES)
    if unknown.any():
        row = int(unknown.to_numpy().nonzero()[0][0])
        value = frame["question_type"].iloc[row]
        raise SourceFormatError(
            path, f"row {row + 2}", "question_type", f"unexpected {value!r}; expected one of {QUESTION_TYPES}"
        )
    missing_user = frame["user_id"].isna()
    if missing_user.any():
        row = int(missing_user.to_numpy().nonzero()[0][0])
        raise SourceFormatError(
            path, f"row {row + 2}", "user_id", "missing; every answer must name its respondent"
        )
    fetched.drop(
        "generativesocialchoice: reading step (no answer)", int((frame["question_type"] == "reading").sum())
    )
    other = (frame["question_type"] != question_type) & (frame["question_type"] != "reading")
    fetched.drop(f"generativesocialchoice: question type other than {question_type!r}", int(other.sum()))
    frame = frame[frame["question_type"] == question_type].rename(columns={"text": "response_text"})
    # the question (and a multiple-choice question's options) must be text; the answers may be missing (null,
    # or dropped and counted for the free-text task), but a present one is text
    required = ["question_text"] + (["json_choices"] if question_type == "multiple choice + text" else [])
    for column in required:
        check_column(path, frame, column, lambda v: isinstance(v, str) and bool(v.strip()), "text")
    for column in ("choice", "response_text"):
        check_column(path, frame, column, text_or_null, "text or nothing")
    for column in ("question_text", "response_text", "choice"):
        frame[column] = _strip(frame[column])
    return frame


def respondents(
    question_type: str,
    inputs: tuple[str, ...],
    outputs: tuple[str, ...],
    prefix: str,
    answered_only: bool = False,
):
    """A task over the rows of ``question_type``: one instance per (survey file, user), users in order of first
    appearance, all of their answers; with ``answered_only``, rows without a free-text answer are dropped."""

    def build(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
        descriptions = default_descriptions(inputs, outputs)
        out = []
        for rel in SURVEYS:
            frame = survey_rows(fetched.require(f"{FOLDER}/{rel}"), question_type, fetched)
            if answered_only:
                empty = frame["response_text"].isna() | (frame["response_text"] == "")
                fetched.drop("generativesocialchoice: free-text answer missing", int(empty.sum()))
                frame = frame[~empty]
            stem = rel.rsplit("/", 1)[-1].removesuffix(".csv")
            for user, rows in frame.groupby("user_id", sort=False):
                records = rows.to_dict("records")
                out.append(
                    Instance(
                        key=f"{stem}/{user}",
                        name=f"{prefix}/{stem}",
                        descriptions=descriptions,
                        population=rows_to_samples(records, inputs, outputs),
                        meta={"survey": stem, "user_id": str(user)},
                    )
                )
        return out

    return build


TASKS = (
    episode_task("generativesocialchoice_validation", SOURCE, side="train", kind="individual", files=FILES,
                 build=respondents("multiple choice + text", ("question_text", "json_choices"),
                                   ("choice", "response_text"), "gss-validation")),
    episode_task("generativesocialchoice_freetext", SOURCE, side="train", kind="individual", files=FILES,
                 build=respondents("text", ("question_text",), ("response_text",), "gss-freetext",
                                   answered_only=True)),
)  # fmt: skip
