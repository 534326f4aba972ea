"""GSM8K (docs/tasks.md#real-sources, row gsm8k): four views of the training problems (question, answer from
question, question and answer jointly, question from answer), each a pooled table.

The paper's origin is the Hub dataset ``openai/gsm8k`` (config ``main``, split ``train``), read as its Parquet
file. The same rows are published as JSON lines in GitHub ``openai/grade-school-math``; a data directory laid
out like that repository is accepted first, and the task needs one of the two files.
"""

from __future__ import annotations

from pathlib import Path

from ..episodes import Instance, pooled_instance, rows_to_samples
from ..sourcekit.remote import github_file, hub_file
from ..sourcekit.tables import read_jsonl, read_parquet
from ..task import FetchedFiles, Source, SourceFormatError, TaskSpec, episode_task, one_of

SOURCE = Source(
    "gsm8k", "GSM8K", "HF", "https://huggingface.co/datasets/openai/gsm8k", "MIT",
    "Cobbe et al. 2021, Training Verifiers to Solve Math Word Problems",
)  # fmt: skip
FOLDER = "gsm8k"
JSONL = f"{FOLDER}/grade_school_math/data/train.jsonl"
GH_REPO = "openai/grade-school-math"
GH_COMMIT = "3101c7d5072418e28b9008a6636bde82a006892c"
JSONL_SHA256 = "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465"
PARQUET = f"{FOLDER}/main/train-00000-of-00001.parquet"
FIELDS = ("question", "answer")

FILES = one_of(
    [github_file(FOLDER, GH_REPO, GH_COMMIT, "grade_school_math/data/train.jsonl", JSONL_SHA256)],
    [
        hub_file(
            FOLDER,
            "openai/gsm8k",
            "main/train-00000-of-00001.parquet",
            "740312add88f781978c0658806c59bc2815b9866",
        )
    ],
)


def _check(path: Path, rows: list[dict], where: str) -> list[dict]:
    for number, row in enumerate(rows, start=1):
        for name in FIELDS:
            if not isinstance(row.get(name), str) or not row[name].strip():
                raise SourceFormatError(path, f"{where} {number}", name, "expected a non-empty string")
    return rows


def problems(fetched: FetchedFiles) -> list[dict]:
    """The training problems from whichever file is here (JSON lines preferred)."""
    key, path = fetched.first(JSONL, PARQUET)
    if key == JSONL:
        return _check(path, [{k: r[k] for k in FIELDS} for r in read_jsonl(path, FIELDS)], "line")
    return _check(path, read_parquet(path, FIELDS, only=True).to_dict("records"), "row")


def view(inputs: tuple[str, ...], outputs: tuple[str, ...], descriptions: list[str]):
    """A task over one pooled instance of the problems, given ``inputs`` and generating ``outputs``."""

    def build(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
        samples = rows_to_samples(problems(fetched), inputs, outputs)
        return [pooled_instance(task.name, descriptions, samples)]

    return build


def _task(name: str, kind: str, build, seed: int) -> TaskSpec:
    return episode_task(name, SOURCE, side="train", kind=kind, build=build, files=FILES, seed=seed,
                        n_per=50, n_iter="~64")  # fmt: skip


TASKS = (
    _task("gsm8k_question", "joint", seed=42, build=view((), ("question",), [
        "Generate grade school math word problems covering arithmetic, basic algebra, and word problem reasoning.",
        "Create diverse math word problems involving real-world scenarios and numerical reasoning.",
        "Math word problems suitable for grade school students.",
    ])),
    _task("gsm8k_answer_from_question", "conditional", seed=43, build=view(("question",), ("answer",), [
        "Given a math word problem, generate its step-by-step solution with calculations and reasoning.",
        "Solve grade school math word problems by providing detailed worked solutions.",
        "Given: question (math word problem). Generate: answer (step-by-step solution with final numerical "
        "answer).",
    ])),
    _task("gsm8k_question_answer", "joint", seed=44, build=view((), ("question", "answer"), [
        "Generate both a math word problem (question) and its step-by-step solution (answer). These are grade "
        "school math problems covering arithmetic, basic algebra, and word problem reasoning.",
        "Create complete math problem pairs: generate both the word problem statement and its detailed solution "
        "with calculations.",
        "Generate: question (math word problem), answer (step-by-step solution with final numerical answer).",
    ])),
    _task("gsm8k_question_from_answer", "conditional", seed=45, build=view(("answer",), ("question",), [
        "Given a step-by-step math solution, generate a word problem that would lead to this solution.",
        "Create math word problems that match the given worked solution and final answer.",
        "Given: answer (step-by-step solution). Generate: question (word problem that leads to this solution).",
    ])),
)  # fmt: skip
