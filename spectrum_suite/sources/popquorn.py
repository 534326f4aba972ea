"""POPQUORN (docs/tasks.md#real-sources, row popquorn): per-annotator rewriting/rating behaviour
(`popquorn_individual`) and the text pools of each sub-dataset (`popquorn_og_categorical`).

Four sub-datasets; the ones absent from the data directory (and not downloadable) are skipped with a log line,
and a task needs at least one. The reference gave every annotator the same seed, so every row had a
description and always the same variant (docs/deviations.md#seeding-independent-streams-per-instance); here
each annotator has its own streams.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..episodes import Instance, InstanceGroup, rows_to_samples
from ..sourcekit.remote import github_file
from ..sourcekit.tables import read_csv
from ..sourcekit.values import check_column, null, plain, text_or_null
from ..task import FetchedFiles, Source, SourceFormatError, TaskSpec, each_of, episode_task

SOURCE = Source(
    "popquorn", "POPQUORN", "GH", "https://github.com/Jiaxin-Pei/Potato-Prolific-Dataset", "see homepage",
    "Pei and Jurgens 2023, When Do Annotator Demographics Matter?",
)  # fmt: skip

REPO = "Jiaxin-Pei/Potato-Prolific-Dataset"
COMMIT = "dbb118c29b3d9bcce5aa172d8249ded9ece4df84"
FOLDER = "popquorn"
DEMOGRAPHICS = ("gender", "race", "age", "occupation", "education")
MIN_ROWS = 6  # "users with more than 5 rows"
MAX_USERS = 100

_EMAIL_BASE = (
    "The following are rewrites to make the email more polite and professional, all from the same individual."
)
_QA_BASE = (
    'Answer the question by copying the answer from the passage, or respond with "No answer" if the question is '
    "not answered in the passage.\nBased on the passage and the question, give first the ground truth answer, then "
    "the answer that the user gave, and finally the user's difficulty rating of the question. (1-5)"
)


@dataclass(frozen=True)
class Subtask:
    """One POPQUORN sub-dataset: its file, columns, user shuffle seed and description templates."""

    dataset: str
    sha256: str | None
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    shuffle_seed: int
    descriptions: tuple[str, ...]  # ``{demographics}`` is filled per user
    text_column: str  # the raw column of the texts pooled by popquorn_og_categorical
    rating: str | None = None  # a 1-5 rating column rendered as str(int(x))


SUBTASKS = (
    Subtask(
        "email_rewriting",
        "058f5e4bfaa0e80e2ca1a8c6ecd61635112c512bf06b7681f1fad4dca6f2ab90",
        ("original email",),
        ("revised email",),
        42,
        (
            "Your collegue is trying to draft an email and is asking for your help. Please help to rewrite the "
            "message to make it more polite and professional.",
            _EMAIL_BASE,
            _EMAIL_BASE + "\nIndividual demographics: {demographics}",
        ),
        "original email",
    ),
    Subtask(
        "offensiveness",
        "fb0589093d45da76bf4ef4d0abff679b540bdd5b17af5764913b3ccd0a069e1e",
        ("text_to_rate",),
        ("offensiveness",),
        43,
        (
            "Consider you read the above comment on Reddit, how offensive do you think it is? (1-5)",
            "The following is a message that a user read. Please rate the message on a scale of 1 to 5, where 1 is "
            "not offensive and 5 is very offensive.\nIndividual demographics: {demographics}",
        ),
        "text",
        rating="offensiveness",
    ),
    Subtask(
        "politeness_rating",
        None,
        ("text_to_rate",),
        ("politeness",),
        44,
        (
            'Consider you read this email from a colleague, how polite do you think it is? (1-5), where 1 is "Not '
            'polite at all" and 5 is "Very polite"',
            "The following is an email that a user read. Please rate the email on a scale of 1 to 5, where 1 is not "
            "polite and 5 is very polite.\nIndividual demographics: {demographics}",
        ),
        "text",
        rating="politeness",
    ),
    Subtask(
        "question_answering",
        None,
        ("passage", "question"),
        ("groundtruth", "answer", "difficulty"),
        45,
        (_QA_BASE + "\nIndividual demographics: {demographics}", _QA_BASE),
        "text",
        rating="difficulty",
    ),
)
BY_NAME = {s.dataset: s for s in SUBTASKS}


def _path(sub: Subtask) -> str:
    return f"{FOLDER}/dataset/{sub.dataset}/raw_data.csv"


#: The four raw_data.csv files, one group each: every one that is here is used (a task needs at least one).
FILES = each_of(
    *(
        [github_file(FOLDER, REPO, COMMIT, f"dataset/{sub.dataset}/raw_data.csv", sub.sha256)]
        for sub in SUBTASKS
    )
)


def _required_columns(sub: Subtask) -> list[str]:
    raw = {"text_to_rate": "text", "passage": "text"}
    cols = [raw.get(c, c) for c in sub.inputs + sub.outputs] + list(DEMOGRAPHICS)
    return cols if sub.dataset == "question_answering" else ["user_id", *cols]


def _rating(path: Path, frame: pd.DataFrame, column: str) -> pd.Series:
    """A 1-5 rating as str(int(x)); anything else is an error naming the row."""

    def convert(value: Any, row: int) -> str:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not number.is_integer() or not 1 <= number <= 5:
            raise SourceFormatError(path, f"row {row + 2}", column, f"expected a rating 1-5, got {value!r}")
        return str(int(number))

    # the frame keeps read_csv's RangeIndex, so index + 2 is the line in the file (after the header)
    return pd.Series([convert(v, int(i)) for i, v in frame[column].items()], index=frame.index)


def load(sub: Subtask, path: Path, fetched: FetchedFiles) -> pd.DataFrame:
    """The raw table with the reference's renames, stripping and rating rendering; a ``user`` column added
    (missing where the row names no user)."""
    frame = read_csv(path, _required_columns(sub))
    if sub.dataset == "question_answering":
        parts = [frame[c].astype(str) for c in DEMOGRAPHICS]
        frame["user"] = parts[0].str.cat(parts[1:], sep="_")
    else:
        frame["user"] = frame["user_id"].map(_user_key)
    frame = frame.rename(
        columns={"text": "passage" if sub.dataset == "question_answering" else "text_to_rate"}
    )
    single = {c for fields in (sub.inputs, sub.outputs) if len(fields) == 1 for c in fields}
    for column in sub.inputs + sub.outputs:
        if column != sub.rating:
            # a single text field must be there (it would be the text "nan"); one of several may be JSON null
            check = _present_text if column in single else text_or_null
            check_column(path, frame, column, check, "text" if column in single else "text or nothing")
            frame[column] = frame[column].map(lambda v: v.strip() if isinstance(v, str) else v)
    if sub.rating is not None:
        unrated = frame[sub.rating].isna()
        fetched.drop(f"popquorn {sub.dataset}: row without a {sub.rating} value", int(unrated.sum()))
        frame = frame[~unrated].copy()
        frame[sub.rating] = _rating(path, frame, sub.rating)
    return frame


def _present_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _user_key(value: Any) -> str | None:
    """A user id as text (ids are read as floats where some rows lack one); None when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def demographics(row: pd.Series) -> str:
    """str() of the user's demographics dict, as the descriptions show it; a missing answer is None, never
    ``nan``."""
    return str({k: None if null(row[k]) else plain(row[k]) for k in DEMOGRAPHICS})  # never np.float64(...)


def user_instances(sub: Subtask, frame: pd.DataFrame, fetched: FetchedFiles) -> list[Instance]:
    """The first 100 users with more than 5 rows, after shuffling the user list with the subtask's seed."""
    no_user = frame["user"].isna()
    fetched.drop(f"popquorn {sub.dataset}: row without user_id", int(no_user.sum()))
    frame = frame[~no_user]
    counts = frame.groupby("user", sort=False).size()
    eligible = pd.Series(counts[counts >= MIN_ROWS].index)
    fetched.drop(
        f"popquorn {sub.dataset}: rows of users with 5 rows or fewer", int(counts[counts < MIN_ROWS].sum())
    )
    chosen = list(eligible.sample(frac=1, random_state=sub.shuffle_seed))[:MAX_USERS]
    out = []
    for user in chosen:
        rows = frame[frame["user"] == user]
        demo = demographics(rows.iloc[0])
        out.append(
            Instance(
                key=f"{sub.dataset}/{user}",
                name=f"popquorn_{sub.dataset}",
                descriptions=[d.format(demographics=demo) for d in sub.descriptions],
                population=rows_to_samples(rows.to_dict("records"), sub.inputs, sub.outputs),
                meta={"subtask": sub.dataset, "user": str(user)},
            )
        )
    return out


def text_pool(sub: Subtask, frame: pd.DataFrame) -> Instance:
    """The sub-dataset's unique stripped texts, in order of first appearance."""
    column = "original email" if sub.dataset == "email_rewriting" else sub.inputs[0]
    texts = [t for t in dict.fromkeys(frame[column].dropna().astype(str)) if t]
    return Instance(
        key=sub.dataset,
        name=f"popquorn_{sub.dataset}_texts",
        descriptions=[f"Data to use as samples for this task: {sub.dataset}"],
        population=[(None, t) for t in texts],
        meta={"subtask": sub.dataset},
    )


def per_subdataset(make: Callable[[Subtask, pd.DataFrame, FetchedFiles], list[Instance]]):
    """A task with one group per sub-dataset present, its instances made by ``make``."""

    def build(task: TaskSpec, fetched: FetchedFiles) -> list[InstanceGroup]:
        groups = []
        by_path = {_path(sub): sub for sub in SUBTASKS}
        for key, path in fetched.present(list(by_path)):
            sub = by_path[key]
            frame = load(sub, path, fetched)
            groups.append(InstanceGroup(make(sub, frame, fetched), task.params))
        return groups

    return build


def text_pools(sub: Subtask, frame: pd.DataFrame, fetched: FetchedFiles) -> list[Instance]:
    """The sub-dataset's one text pool."""
    return [text_pool(sub, frame)]


TASKS = (
    episode_task("popquorn_individual", SOURCE, side="train", kind="individual", files=FILES,
                 build=per_subdataset(user_instances)),
    episode_task("popquorn_og_categorical", SOURCE, side="train", kind="single_variable", files=FILES,
                 build=per_subdataset(text_pools), n_per=20, n_iter="~128"),
)  # fmt: skip
