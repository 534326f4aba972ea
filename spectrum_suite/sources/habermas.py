"""Habermas Machine (docs/tasks.md#real-sources, row habermas): four held-out episode tasks and the alignment
task ``habermas``.

UK residents rated position statements on a 7-point agreement scale and wrote short opinions. The episode
tasks read the ratings and the round-survey opinions (two Parquet files on Google Cloud Storage); the
alignment task turns each question's ratings into a distribution over the scale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..episodes import Instance, rows_to_samples
from ..sourcekit.tables import read_parquet
from ..sourcekit.values import check_column, group_in_order, text_or_null
from ..task import RemoteFile, Source, SourceFormatError, TaskFiles, TaskSpec, alignment_task, episode_task

if TYPE_CHECKING:
    from ..task import FetchedFiles

SOURCE = Source(
    "habermas", "Habermas Machine", "URL", "https://github.com/google-deepmind/habermas_machine", "CC BY 4.0",
    "Tessler et al. 2024, AI can help humans find common ground in democratic deliberation",
)  # fmt: skip
#: The 7-point agreement scale, in order.
AGREE7 = (
    "Strongly Agree",
    "Agree",
    "Somewhat Agree",
    "Neutral",
    "Somewhat Disagree",
    "Disagree",
    "Strongly Disagree",
)
GCS = "https://storage.googleapis.com/habermas_machine/datasets"
RATINGS = "habermas/hm_all_position_statement_ratings.parquet"
SURVEY = "habermas/hm_all_round_survey_responses.parquet"
WHERE = "https://github.com/google-deepmind/habermas_machine (datasets on Google Cloud Storage)"

LIKERT = AGREE7  # Strongly Agree -> 1 ... Strongly Disagree -> 7 in the alignment task
RAW_LABELS = {
    "STRONGLY_AGREE": "Strongly Agree",
    "AGREE": "Agree",
    "SOMEWHAT_AGREE": "Somewhat Agree",
    "NEUTRAL": "Neutral",
    "SOMEWHAT_DISAGREE": "Somewhat Disagree",
    "DISAGREE": "Disagree",
    "STRONGLY_DISAGREE": "Strongly Disagree",
}
MOCK = "MOCK"
KEEP = ("question.text", "question.affirming_statement", "question.negating_statement", "ratings.agreement",
        "question.id", "worker_id")  # fmt: skip
MIN_RATINGS = 6

QUESTION_DESCRIPTIONS = [
    "Generate a question.",
    "Questions",
    "Generate a list of diverse questions.",
    "Generate questions that could be posed to UK residents.",
    "Questions about UK politics",
]
INDIVIDUAL_DESCRIPTIONS = [
    "UK resident responses. They were given a question and a statement, asked to express their opinion in 2-3 "
    "sentences (opinion.text) and their level of agreement with it on a 7-point scale (ratings.agreement).",
    "UK resident responses.\nGiven:\n-question.text: A question to respond to.\n-statement: A statement to respond "
    "to.\nOutputs:\n-opinion.text: 2-3 sentences\n-ratings.agreement: Strongly Agree; Agree; Somewhat Agree; "
    "Neutral; Somewhat Disagree; Disagree; Strongly Disagree",
]
CATEGORICAL_DESCRIPTIONS = [
    "Given a question and a statement, predict the level of agreement with it on a 7-point scale.\nOptions: "
    "Strongly Agree; Agree; Somewhat Agree; Neutral; Somewhat Disagree; Disagree; Strongly Disagree"
]
OPINION_DESCRIPTIONS = [
    "The following are opinions of UK residents. (list of 2-3 sentence opinions)",
    "Opinions from representative sample of UK residents.",
    "Opinions",
]
ALIGNMENT_DESCRIPTION = (
    "You are a randomly selected UK resident. You will be given a question and two statements, A and B. Rate which "
    "statement you most agree with on a likert scale from 1 to 7:\n1: Strongly Agree with A\n2: Agree with A\n"
    "3: Somewhat Agree with A\n4: Neutral\n5: Somewhat Agree with B\n6: Agree with B\n7: Strongly Agree with B"
)
INDIVIDUAL_SHUFFLE_SEED = 44
MAX_OPINIONS = 10


#: Google Cloud Storage objects, which have no commit; their SHA-256 is not known here.
UNVERSIONED = "a Cloud Storage object without versions"
RATINGS_FILE = RemoteFile(
    RATINGS, f"{GCS}/hm_all_position_statement_ratings.parquet", None, WHERE, unpinned=UNVERSIONED
)
SURVEY_FILE = RemoteFile(
    SURVEY, f"{GCS}/hm_all_round_survey_responses.parquet", None, WHERE, unpinned=UNVERSIONED
)
#: The episode tasks read the ratings and the opinions; the alignment task only the ratings.
EPISODE_FILES = TaskFiles((RATINGS_FILE, SURVEY_FILE))
ALIGNMENT_FILES = TaskFiles((RATINGS_FILE,))


def _raw_label(value: Any) -> str | None:
    """The label inside ``['AGREE']`` (a one-element list or its string form); None when missing."""
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(value)
        return None if not items else str(items[0]) if len(items) == 1 else str(items)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value).replace("['", "").replace("']", "")


def _labels(path: Any, frame: pd.DataFrame, fetched: FetchedFiles) -> pd.DataFrame:
    """Map ``ratings.agreement`` to the seven labels; MOCK and missing ratings are dropped (counted)."""
    raw = [_raw_label(v) for v in frame["ratings.agreement"].tolist()]
    keep, labels = [], []
    for row, label in zip(frame.index, raw, strict=True):
        if label is None or label == MOCK:
            fetched.drop("Habermas rating missing" if label is None else "Habermas MOCK rating")
            keep.append(False)
            continue
        if label not in RAW_LABELS:
            raise SourceFormatError(path, f"row {row} (0-based)", "ratings.agreement",
                                    f"unexpected label {label!r}; expected MOCK or one of {sorted(RAW_LABELS)}")  # fmt: skip
        keep.append(True)
        labels.append(RAW_LABELS[label])
    kept = frame[np.array(keep, dtype=bool)].copy()
    kept["ratings.agreement"] = labels
    return kept


def _zero_based(label: Any) -> str:
    return f"row {label} (0-based)"


def _check_texts(path: Any, frame: pd.DataFrame, columns: list[str]) -> None:
    """Every present value of these columns must be text (a number or list there is a wrong file)."""
    for column in columns:
        check_column(path, frame, column, text_or_null, "text", _zero_based)


def load_responses(fetched: FetchedFiles) -> pd.DataFrame:
    """The loader of the episode tasks (docs/tasks.md#real-sources, row habermas): labelled ratings joined with
    each worker's opinion on the question."""
    path = fetched.require(RATINGS)
    frame = _labels(path, read_parquet(path, KEEP), fetched)[list(KEEP)]
    no_worker = frame["worker_id"].isna()
    fetched.drop("Habermas rating without worker_id", int(no_worker.sum()))
    frame = frame[~no_worker]
    _check_texts(path, frame, ["question.text", "question.affirming_statement"])
    survey_path = fetched.require(SURVEY)
    survey = read_parquet(survey_path, ["worker_id", "question.id", "opinion.text"])[
        ["worker_id", "question.id", "opinion.text"]
    ]
    _check_texts(survey_path, survey, ["opinion.text"])
    merged = frame.merge(survey, on=["worker_id", "question.id"], how="left")
    unique = merged.drop_duplicates(subset=["worker_id", "question.id"], keep="first")
    fetched.drop("Habermas duplicate (worker, question)", len(merged) - len(unique))
    complete = unique.dropna()
    fetched.drop(
        "Habermas response with a missing field (often no opinion text)", len(unique) - len(complete)
    )
    return complete.reset_index(drop=True)


def question_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """One pooled instance of the sorted unique questions."""
    questions = sorted(load_responses(fetched)["question.text"].astype(str).unique())
    return [Instance(key="pooled", name="habermas_question", descriptions=QUESTION_DESCRIPTIONS,
                     population=[(None, q) for q in questions])]  # fmt: skip


def individuals(
    outputs: list[str], descriptions: list[str], choices: tuple[str, ...] | None
) -> Callable[[TaskSpec, FetchedFiles], list[Instance]]:
    """A per-worker task generating ``outputs`` for (question, statement); ``choices`` for a categorical one."""

    def build(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
        return _individuals(load_responses(fetched), outputs, task.name, descriptions, choices)

    return build


def _individuals(
    frame: pd.DataFrame,
    outputs: list[str],
    name: str,
    descriptions: list[str],
    choices: tuple[str, ...] | None,
) -> list[Instance]:
    """One instance per worker, workers in order of first appearance after the seeded shuffle."""
    shuffled = frame.sample(frac=1, random_state=INDIVIDUAL_SHUFFLE_SEED).reset_index(drop=True)
    shuffled = shuffled.rename(columns={"question.affirming_statement": "statement"})
    records = shuffled.to_dict("records")
    return [
        Instance(
            key=f"worker/{worker}",
            name=name,
            descriptions=descriptions,
            population=rows_to_samples(rows, ["question.text", "statement"], outputs),
            meta={"worker_id": str(worker)},
            choices=choices,
        )
        for worker, rows in group_in_order(records, "worker_id").items()
    ]


def opinion_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """One pooled instance: each question (sorted) -> the Python repr of its first 10 opinions."""
    frame = load_responses(fetched)
    records = []
    for question, group in frame.groupby("question.text", sort=True):
        opinions = [str(o) for o in group["opinion.text"].tolist()[:MAX_OPINIONS]]
        if not opinions:
            fetched.drop("Habermas question without opinions")
            continue
        # a Python repr, the paper's text (docs/deviations.md#python-reprs-in-single-fields)
        records.append({"question": question, "opinions": str(opinions)})
    return [Instance(key="pooled", name="habermas_opinions", descriptions=OPINION_DESCRIPTIONS,
                     population=rows_to_samples(records, ["question"], ["opinions"]))]  # fmt: skip


ALIGNMENT_COLUMNS = KEEP + ("metadata.provenance", "ratings.metadata.participant_id")
GROUP_KEYS = ["question.id", "question.text", "question.affirming_statement", "question.negating_statement"]


def alignment_rows(task: TaskSpec, fetched: FetchedFiles) -> Iterator[dict[str, Any]]:
    """Per question with at least 6 citizen ratings: the shares of the 7 labels, A-agreement first."""
    path = fetched.require(RATINGS)
    frame = read_parquet(path, ALIGNMENT_COLUMNS)
    citizens = frame[frame["metadata.provenance"] == "HUMAN_CITIZEN"]
    fetched.drop("Habermas rating not by a HUMAN_CITIZEN", len(frame) - len(citizens))
    unique = citizens.drop_duplicates(subset=["question.id", "ratings.metadata.participant_id"])
    fetched.drop("Habermas duplicate (question, participant) rating", len(citizens) - len(unique))
    with_worker = unique[unique["worker_id"].notna()]
    fetched.drop("Habermas rating without worker_id", len(unique) - len(with_worker))
    labelled = _labels(path, with_worker, fetched)
    needed = ["question.affirming_statement", "question.text"]
    complete = labelled.dropna(subset=needed)
    fetched.drop("Habermas rating without question text or statement", len(labelled) - len(complete))
    _check_texts(path, complete, GROUP_KEYS[1:])
    grouped = complete.groupby(GROUP_KEYS, sort=True, dropna=True)
    fetched.drop(
        "Habermas rating whose question has a missing key", len(complete) - int(grouped.size().sum())
    )
    seen: dict[str, int] = {}
    for (question_id, text, affirming, negating), group in grouped:
        counts = group["ratings.agreement"].value_counts()
        total = int(counts.sum())
        if total < MIN_RATINGS:
            fetched.drop(f"Habermas rating of a question with fewer than {MIN_RATINGS} ratings", total)
            continue
        seen[str(question_id)] = seen.get(str(question_id), 0) + 1
        repeat = seen[str(question_id)]
        yield {
            "task": task.name,
            "instance_id": str(question_id) if repeat == 1 else f"{question_id}#{repeat}",
            "cluster": str(question_id),  # the texts of one question id, should it have several
            "description": ALIGNMENT_DESCRIPTION,
            "input": f"Question: {text}\nA: {affirming}\nB: {negating}",
            "candidates": [str(i) for i in range(1, len(LIKERT) + 1)],
            "target_probs": [int(counts.get(label, 0)) / total for label in LIKERT],
            "output_name": task.output_name,
            "ordinal": True,  # the answers 1..7 are a Likert scale (docs/evaluation.md#divergences)
        }


TASKS = (
    episode_task("habermas_question", SOURCE, side="test", kind="single_variable", build=question_instances,
                 files=EPISODE_FILES, n_per=-1, n_iter="~32"),
    episode_task("habermas_individual", SOURCE, side="test", kind="individual",
                 build=individuals(["ratings.agreement", "opinion.text"], INDIVIDUAL_DESCRIPTIONS, None),
                 files=EPISODE_FILES, n_iter="~32", max_instances=2000),
    episode_task("habermas_individual_categorical", SOURCE, side="test", kind="individual",
                 build=individuals(["ratings.agreement"], CATEGORICAL_DESCRIPTIONS, LIKERT),
                 files=EPISODE_FILES, choices=AGREE7, seed=43, n_iter="~32", max_instances=2000),
    episode_task("habermas_opinions", SOURCE, side="test", kind="conditional", build=opinion_instances,
                 files=EPISODE_FILES, n_per=-1, n_iter="~8"),
    alignment_task("habermas", SOURCE, output_name="Answer (Likert 1-7)", build=alignment_rows,
                   files=ALIGNMENT_FILES),
)  # fmt: skip
