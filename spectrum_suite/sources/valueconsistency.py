"""ValueConsistency (`spec/tasks.md` §5.14): value-laden questions given controversy, language and country.

Only original questions are used (``rephrase == False``); the pooled table maps the JSON of
``{controversial, language, country}`` to the question text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..episodes import Instance, rows_to_samples
from .base import FetchedFiles, RemoteFile, SourceFormatError
from .readers import hub_url
from .tables import read_jsonl

if TYPE_CHECKING:
    from ..registry import TaskSpec

REPO = "jlcmoore/ValueConsistency"
HUB_PATH = "valueconsistency.jsonl"
LOCAL = f"valueconsistency/{HUB_PATH}"
INPUTS = ("controversial", "language", "country")
DESCRIPTIONS = [
    "Value-based questions.",
    "Value-based questions given whether the question is controversial, the language it is asked in, and the "
    "country it is for.",
]


def files(task: TaskSpec) -> list[RemoteFile]:
    return [RemoteFile(LOCAL, hub_url(REPO, HUB_PATH), None, f"https://huggingface.co/datasets/{REPO}")]


def instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    if task.name != "valueconsistency":
        raise KeyError(f"the valueconsistency adapter has no episode task {task.name!r}")
    path = fetched.require(LOCAL)
    records = []
    for number, record in enumerate(read_jsonl(path, (*INPUTS, "question", "rephrase")), start=1):
        if not isinstance(record["rephrase"], bool):
            raise SourceFormatError(
                path, f"line {number}", "rephrase", f"expected true or false, got {record['rephrase']!r}"
            )
        if record["rephrase"]:
            fetched.drop("ValueConsistency rephrased question")
            continue
        records.append(record)
    return [Instance(key="pooled", name="valueconsistency_questions", descriptions=DESCRIPTIONS,
                     population=rows_to_samples(records, INPUTS, ["question"]))]  # fmt: skip
