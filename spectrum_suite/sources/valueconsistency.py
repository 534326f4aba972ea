"""ValueConsistency (docs/tasks.md#real-sources, row valueconsistency): value-laden questions given
controversy, language and country.

Only original questions are used (``rephrase == False``); the pooled table maps the JSON of ``{controversial,
language, country}`` to the question text.
"""

from __future__ import annotations

from ..episodes import Instance, rows_to_samples
from ..sourcekit.remote import NO_COMMIT, hub_file
from ..sourcekit.tables import read_jsonl
from ..sourcekit.values import text
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "valueconsistency", "ValueConsistency", "HF", "https://huggingface.co/datasets/jlcmoore/ValueConsistency",
    "see homepage", "Moore et al. 2024, Are Large Language Models Consistent over Value-laden Questions?",
)  # fmt: skip

REPO = "jlcmoore/ValueConsistency"
HUB_PATH = "valueconsistency.jsonl"
LOCAL = f"valueconsistency/{HUB_PATH}"
INPUTS = ("controversial", "language", "country")
DESCRIPTIONS = [
    "Value-based questions.",
    "Value-based questions given whether the question is controversial, the language it is asked in, and the "
    "country it is for.",
]


FILES = TaskFiles((hub_file("valueconsistency", REPO, HUB_PATH, "main", unpinned=NO_COMMIT),))


def question_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """One pooled instance of the original questions."""
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
        where = f"line {number}"
        if not isinstance(record["controversial"], bool):
            raise SourceFormatError(
                path, where, "controversial", f"expected true or false, got {record['controversial']!r}"
            )
        for name in ("language", "country", "question"):  # null would be JSON null or the text "None"
            text(path, where, name, record[name])
        records.append(record)
    return [Instance(key="pooled", name="valueconsistency_questions", descriptions=DESCRIPTIONS,
                     population=rows_to_samples(records, INPUTS, ["question"]))]  # fmt: skip


TASKS = (
    episode_task("valueconsistency", SOURCE, side="train", kind="conditional", build=question_instances, files=FILES,
                 n_per=-1, n_iter="~64"),
)  # fmt: skip
