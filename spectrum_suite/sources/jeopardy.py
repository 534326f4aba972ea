"""Jeopardy! clues (`jeopardy_question_generation`, `jeopardy_answer_prediction`; docs/tasks.md#real-sources,
row jeopardy).

The CSV is a manual download (a Google Drive file). Its column names carry a leading space, which is stripped.
Only the two regular rounds are kept and clues that hold a link are dropped; every drop is counted.
"""

from __future__ import annotations

import re

from ..episodes import Instance, rows_to_samples
from ..sourcekit.tables import read_csv
from ..sourcekit.values import missing
from ..task import FetchedFiles, RemoteFile, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "jeopardy", "Jeopardy! questions", "MAN", "https://www.reddit.com/r/datasets/comments/1uyd0t/", "see homepage",
    "Jeopardy! archive (J! Archive)",
)  # fmt: skip

FILE = "jeopardy/JEOPARDY_CSV.csv"
WHERE = (
    "https://drive.google.com/file/d/0BwT5wj_P7BKXUl9tOUJWYzVvUjA/view?resourcekey=0-uFrn8bQkUfSCvJlmtKGCdQ "
    "(JEOPARDY_CSV.csv, 216,930 clues)"
)
COLUMNS = ("Round", "Category", "Question", "Answer")
ROUNDS = ("Jeopardy!", "Double Jeopardy!")
QUESTION_DESCRIPTIONS = (
    "Generate Jeopardy-style questions (clues). These are factual statements that describe something, and contestants must identify what is being described.",
    "Create trivia clues in the style of Jeopardy. The clues should be informative statements about people, places, things, or concepts.",
    "Generate: Question (Jeopardy clue as a factual statement).",
)
ANSWER_DESCRIPTIONS = (
    "Given a Jeopardy question (clue), predict the correct answer. The answer should be the specific person, place, thing, or concept that the clue describes.",
    "Solve Jeopardy clues by providing the answer that fits the given statement. Use only the information provided in the clue.",
    "Given: Question (Jeopardy clue statement). Generate: Answer (correct response to the clue).",
)
FILES = TaskFiles((RemoteFile(FILE, where=WHERE),))


def clues(files: FetchedFiles) -> list[dict[str, str]]:
    """The kept clues (regular rounds, no missing field, no link), with the column names stripped."""
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
    return rows


def table(inputs: tuple[str, ...], outputs: tuple[str, ...], descriptions: tuple[str, ...]):
    """A task over one pooled instance of the clues, given ``inputs`` and generating ``outputs``."""

    def build(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
        rows = clues(files)
        return [
            Instance(
                key="pooled",
                name=task.name,
                descriptions=list(descriptions),
                population=rows_to_samples(rows, inputs, outputs),
            )
        ]

    return build


TASKS = (
    episode_task("jeopardy_question_generation", SOURCE, side="train", kind="joint", files=FILES,
                 build=table((), ("Question",), QUESTION_DESCRIPTIONS), n_per=-1, n_iter="~64", max_total=1000),
    episode_task("jeopardy_answer_prediction", SOURCE, side="train", kind="conditional", files=FILES,
                 build=table(("Question",), ("Answer",), ANSWER_DESCRIPTIONS), seed=43, n_per=-1, n_iter="~64",
                 max_total=1000),
)  # fmt: skip
