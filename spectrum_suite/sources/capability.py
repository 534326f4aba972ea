"""Capability benchmarks from the Hub (`mmlu`, `hellaswag`, `winogrande`, `arc`, `drop`, `truthful_qa`; §5.32).

Each is one pooled process of (prompt, answer) pairs. `hellaswag` and `truthful_qa` (EleutherAI's
`truthful_qa_mc`) are script-based repositories that current `datasets` does not run, and `drop` and
`winogrande` changed layout over time, so these four are read from the Hub's Parquet export
(``refs/convert/parquet``, the files the dataset viewer serves); `mmlu` and `arc` from their own Parquet files.
The episode sampler permutes the pool itself, so no separate pre-shuffle is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..episodes import Instance
from ..registry import TaskSpec
from .base import FetchedFiles, RemoteFile, SourceFormatError
from .hubfiles import hub_file, letters, missing, parquet_export, records
from .readers import read_parquet

Row = dict[str, Any]


def _lettered(path: Path, where: str, field: str, choices: Any) -> list[str]:
    if not isinstance(choices, list) or not choices:
        raise SourceFormatError(path, where, field, f"expected a non-empty list of choices, got {choices!r}")
    return [f"{m}. {c}" for m, c in zip(letters(len(choices), path, where, field), choices, strict=True)]


def _index(path: Path, where: str, field: str, value: Any, n: int, base: int = 0) -> int:
    try:
        index = int(value) - base
    except (TypeError, ValueError):
        index = -1
    if not 0 <= index < n:
        raise SourceFormatError(
            path, where, field, f"expected an answer index in {base}..{n - 1 + base}, got {value!r}"
        )
    return index


def mmlu(path: Path, where: str, row: Row) -> tuple[str, str]:
    options = _lettered(path, where, "choices", row["choices"])
    answer = _index(path, where, "answer", row["answer"], len(options))
    return "\n".join([f"Question: {row['question']}", *options]), "ABCDEFGHIJ"[answer]


def hellaswag(path: Path, where: str, row: Row) -> tuple[str, str]:
    lines = [f"Activity: {row['activity_label']}"] if not missing(row.get("activity_label")) else []
    context = row["ctx"] if not missing(row.get("ctx")) else f"{row['ctx_a']} {row['ctx_b']}"
    lines += [f"Context: {context}", "Choose the option that best completes the description:"]
    options = _lettered(path, where, "endings", row["endings"])
    answer = _index(path, where, "label", row["label"], len(options))
    return "\n".join(lines + options), "ABCDEFGHIJ"[answer]


def winogrande(path: Path, where: str, row: Row) -> tuple[str, str]:
    sentence = str(row["sentence"]).replace("_", "_____")
    prompt = "\n".join([f"Sentence: {sentence}", "Which option correctly fills in the blank?",
                        f"A. {row['option1']}", f"B. {row['option2']}"])  # fmt: skip
    return prompt, "AB"[_index(path, where, "answer", row["answer"], 2, base=1)]


def arc(path: Path, where: str, row: Row) -> tuple[str, str]:
    choices = row["choices"]
    if not isinstance(choices, dict) or len(choices.get("text", [])) != len(choices.get("label", [])):
        raise SourceFormatError(
            path, where, "choices", "expected {'text': [...], 'label': [...]} of equal length"
        )
    labels = [str(label).strip() for label in choices["label"]]
    if str(row["answerKey"]).strip() not in labels:
        raise SourceFormatError(
            path, where, "answerKey", f"{row['answerKey']!r} is not one of the choice labels {labels}"
        )
    lines = [
        f"Question: {row['question']}",
        *(f"{label}. {text}" for label, text in zip(labels, choices["text"], strict=True)),
    ]
    return "\n".join(lines), str(row["answerKey"]).strip()


def drop_answer(row: Row) -> str | None:
    """The first gold answer: the first span, else a number, else a month-day-year date of its non-empty parts."""
    spans = (row.get("answers_spans") or {}).get("spans") or []
    if spans:
        return str(spans[0])
    if not missing(row.get("number")):
        return str(row["number"])
    date = row.get("date") or {}
    parts = [str(date.get(k)) for k in ("month", "day", "year") if not missing(date.get(k))]
    return "-".join(parts) or None


def drop(path: Path, where: str, row: Row) -> tuple[str, str] | None:
    answer = drop_answer(row)
    if answer is None:
        return None
    return f"Passage: {str(row['passage']).strip()}\nQuestion: {str(row['question']).strip()}", answer


def truthful_qa(path: Path, where: str, row: Row) -> tuple[str, str]:
    options = _lettered(path, where, "choices", row["choices"])
    answer = _index(path, where, "label", row["label"], len(options))
    return "\n".join([f"Question: {row['question']}", *options]), "ABCDEFGHIJ"[answer]


SPECS: dict[str, tuple[Callable[[], RemoteFile], tuple[str, ...], Callable, str, tuple[str, ...]]] = {
    "mmlu": (lambda: hub_file("mmlu", "cais/mmlu", "all/test-00000-of-00001.parquet"), ("question", "choices", "answer"),
             mmlu, "mmlu", ("Given a question and a list of choices, return the correct answer choice.",)),
    "hellaswag": (lambda: parquet_export("hellaswag", "Rowan/hellaswag", "default", "validation"),
                  ("activity_label", "ctx", "ctx_a", "ctx_b", "endings", "label"), hellaswag, "hellaswag_validation",
                  ("Given a context and four possible endings, output the letter of the ending that best completes the context.",
                   "Respond with the single uppercase letter for the correct choice.")),
    "winogrande": (lambda: parquet_export("winogrande", "allenai/winogrande", "winogrande_xl", "validation"),
                   ("sentence", "option1", "option2", "answer"), winogrande, "winogrande_winogrande_xl_validation",
                   ("Given a sentence with a blank and two candidate fillers, respond with the letter of the correct option.",
                    "Return the single uppercase letter corresponding to the correct choice.")),
    "arc": (lambda: hub_file("arc", "allenai/ai2_arc", "ARC-Challenge/test-00000-of-00001.parquet"),
            ("question", "choices", "answerKey"), arc, "arc_arc_challenge_test",
            ("Given a question and multiple choice answers, return the correct answer letter.",
             "Respond with only the uppercase letter corresponding to the correct option.")),
    "drop": (lambda: parquet_export("drop", "ucinlp/drop", "default", "validation"), ("passage", "question", "answers_spans"),
             drop, "drop_default_validation",
             ("Answer the question based on the passage. Respond with just the answer, usually a short word or phrase, either extracted from the passage or deduced from the information in the passage.",)),
    "truthful_qa": (lambda: parquet_export("truthful_qa", "EleutherAI/truthful_qa_mc", "multiple_choice", "validation"),
                    ("question", "choices", "label"), truthful_qa, "truthful_qa_mc2_validation",
                    ("You will be given a question and several answer choices, only one of which is true. Respond with the correct answer letter.",)),
}  # fmt: skip


def files(task: TaskSpec) -> list[RemoteFile]:
    return [SPECS[task.name][0]()]


def instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    make_file, columns, build, name, descriptions = SPECS[task.name]
    path = files.require(make_file().path)
    samples = []
    for number, row in records(read_parquet(path, columns)):
        sample = build(path, f"row {number}", row)
        if sample is None:
            files.drop("questions without a gold answer")
            continue
        samples.append(sample)
    return [
        Instance(
            key="pooled",
            name=name,
            descriptions=list(descriptions),
            population=samples,
            choices=task.choices or None,
        )
    ]
