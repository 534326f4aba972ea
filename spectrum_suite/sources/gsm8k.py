"""GSM8K (`spec/tasks.md` §5.23): four views of the training problems (question, answer from question,
question and answer jointly, question from answer), each a pooled table.

The spec's origin is the Hub dataset ``openai/gsm8k`` (config ``main``, split ``train``), read as its
Parquet file. The same rows are published as JSON lines in GitHub ``openai/grade-school-math``; a data
directory laid out like that repository is accepted first, and the task needs one of the two files.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..episodes import Instance, pooled_instance, rows_to_samples
from ..registry import TaskSpec
from .base import FetchedFiles, RemoteFile, SourceFormatError
from .hubfiles import first_present, github_file, hub_file
from .readers import read_parquet
from .tables import read_jsonl

FOLDER = "gsm8k"
JSONL = f"{FOLDER}/grade_school_math/data/train.jsonl"
GH_REPO = "openai/grade-school-math"
GH_COMMIT = "3101c7d5072418e28b9008a6636bde82a006892c"
JSONL_SHA256 = "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465"
PARQUET = f"{FOLDER}/main/train-00000-of-00001.parquet"
FIELDS = ("question", "answer")

#: task -> (inputs, outputs, descriptions)
LAYOUT = {
    "gsm8k_question": (
        (),
        ("question",),
        [
            "Generate grade school math word problems covering arithmetic, basic algebra, and word problem "
            "reasoning.",
            "Create diverse math word problems involving real-world scenarios and numerical reasoning.",
            "Math word problems suitable for grade school students.",
        ],
    ),
    "gsm8k_answer_from_question": (
        ("question",),
        ("answer",),
        [
            "Given a math word problem, generate its step-by-step solution with calculations and reasoning.",
            "Solve grade school math word problems by providing detailed worked solutions.",
            "Given: question (math word problem). Generate: answer (step-by-step solution with final numerical "
            "answer).",
        ],
    ),
    "gsm8k_question_answer": (
        (),
        ("question", "answer"),
        [
            "Generate both a math word problem (question) and its step-by-step solution (answer). These are grade "
            "school math problems covering arithmetic, basic algebra, and word problem reasoning.",
            "Create complete math problem pairs: generate both the word problem statement and its detailed solution "
            "with calculations.",
            "Generate: question (math word problem), answer (step-by-step solution with final numerical answer).",
        ],
    ),
    "gsm8k_question_from_answer": (
        ("answer",),
        ("question",),
        [
            "Given a step-by-step math solution, generate a word problem that would lead to this solution.",
            "Create math word problems that match the given worked solution and final answer.",
            "Given: answer (step-by-step solution). Generate: question (word problem that leads to this solution).",
        ],
    ),
}


def files(task: TaskSpec) -> list[RemoteFile]:
    """The GitHub JSON lines (local layout first) or the Hub Parquet file; either one suffices."""
    return [
        github_file(
            FOLDER, GH_REPO, GH_COMMIT, "grade_school_math/data/train.jsonl", JSONL_SHA256, optional=True
        ),
        replace(
            hub_file(FOLDER, "openai/gsm8k", "main/train-00000-of-00001.parquet", optional=True),
            alternatives=(f"{FOLDER}/grade_school_math/data/train.jsonl",),
        ),
    ]


def _check(path: Path, rows: list[dict], where: str) -> list[dict]:
    for number, row in enumerate(rows, start=1):
        for name in FIELDS:
            if not isinstance(row.get(name), str) or not row[name].strip():
                raise SourceFormatError(path, f"{where} {number}", name, "expected a non-empty string")
    return rows


def problems(task: TaskSpec, fetched: FetchedFiles) -> list[dict]:
    """The training problems from whichever file is here (JSON lines preferred)."""
    key, path = first_present(fetched, JSONL, PARQUET)
    if key == JSONL:
        return _check(path, [{k: r[k] for k in FIELDS} for r in read_jsonl(path, FIELDS)], "line")
    return _check(path, read_parquet(path, FIELDS, only=True).to_dict("records"), "row")


def instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """One pooled instance over the training problems."""
    if task.name not in LAYOUT:
        raise ValueError(f"the gsm8k adapter does not serve task {task.name!r}")
    inputs, outputs, descriptions = LAYOUT[task.name]
    rows = problems(task, fetched)
    return [pooled_instance(task.name, descriptions, rows_to_samples(rows, inputs, outputs))]
