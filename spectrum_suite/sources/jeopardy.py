"""Jeopardy! clues (`jeopardy_question_generation`, `jeopardy_answer_prediction`; `spec/tasks.md` §5.26).

The CSV is a manual download (a Google Drive file). Its column names carry a leading space, which is stripped.
Only the two regular rounds are kept and clues that hold a link are dropped; every drop is counted.
"""

from __future__ import annotations

import re

from ..episodes import Instance, rows_to_samples
from ..registry import TaskSpec
from .base import FetchedFiles, RemoteFile, SourceFormatError
from .hubfiles import missing
from .tables import read_csv

FILE = "jeopardy/JEOPARDY_CSV.csv"
WHERE = (
    "https://drive.google.com/file/d/0BwT5wj_P7BKXUl9tOUJWYzVvUjA/view?resourcekey=0-uFrn8bQkUfSCvJlmtKGCdQ "
    "(JEOPARDY_CSV.csv, 216,930 clues)"
)
COLUMNS = ("Round", "Category", "Question", "Answer")
ROUNDS = ("Jeopardy!", "Double Jeopardy!")
TASKS = {
    "jeopardy_question_generation": ((), ("Question",), (
        "Generate Jeopardy-style questions (clues). These are factual statements that describe something, and contestants must identify what is being described.",
        "Create trivia clues in the style of Jeopardy. The clues should be informative statements about people, places, things, or concepts.",
        "Generate: Question (Jeopardy clue as a factual statement).",
    )),
    "jeopardy_answer_prediction": (("Question",), ("Answer",), (
        "Given a Jeopardy question (clue), predict the correct answer. The answer should be the specific person, place, thing, or concept that the clue describes.",
        "Solve Jeopardy clues by providing the answer that fits the given statement. Use only the information provided in the clue.",
        "Given: Question (Jeopardy clue statement). Generate: Answer (correct response to the clue).",
    )),
}  # fmt: skip


def files(task: TaskSpec) -> list[RemoteFile]:
    return [RemoteFile(FILE, where=WHERE)]


def instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    path = files.require(FILE)
    frame = read_csv(path, (), dtype=str, keep_default_na=False, na_values=[""])
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in COLUMNS:
        if column not in frame.columns:
            raise SourceFormatError(path, "header", column, f"column missing; have {list(frame.columns)}")
    rows = []
    for rec in frame.to_dict("records"):
        if rec["Round"] not in ROUNDS:
            files.drop("clues outside the Jeopardy! and Double Jeopardy! rounds")
        elif any(missing(rec[c]) for c in ("Question", "Answer", "Category")):
            files.drop("clues missing Question, Answer or Category")
        elif re.search("href", rec["Question"], flags=re.IGNORECASE):
            files.drop("clues whose Question holds a link (href)")
        else:
            rows.append(rec)
    inputs, outputs, descriptions = TASKS[task.name]
    return [
        Instance(
            key="pooled",
            name=task.name,
            descriptions=list(descriptions),
            population=rows_to_samples(rows, inputs, outputs),
        )
    ]
