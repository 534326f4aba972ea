"""Capability benchmarks from the Hub (`mmlu`, `hellaswag`, `winogrande`, `arc`, `drop`, `truthful_qa`;
docs/tasks.md#real-sources, row capability).

Each is one pooled process of (prompt, answer) pairs. `hellaswag` and `truthful_qa` (EleutherAI's
`truthful_qa_mc`) are script-based repositories that current `datasets` does not run, and `drop` and
`winogrande` changed layout over time. `hellaswag` and `winogrande` now hold Parquet files of their own, read
at a pinned commit like `mmlu` and `arc`; `drop` and `truthful_qa` are read from every shard of the Hub's
Parquet export (``refs/convert/parquet``, the files the dataset viewer serves). The episode sampler permutes
the pool itself, so no separate pre-shuffle is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..episodes import Instance
from ..sourcekit.remote import NO_EXPORT_COMMIT, hub_file, parquet_export
from ..sourcekit.tables import read_parquet
from ..sourcekit.values import is_number, letters, missing, number, records, text
from ..task import FetchedFiles, RemoteFile, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

MMLU = Source(
    "mmlu", "MMLU", "HF", "https://huggingface.co/datasets/cais/mmlu", "MIT",
    "Hendrycks et al. 2021, Measuring Massive Multitask Language Understanding",
)  # fmt: skip
HELLASWAG = Source(
    "hellaswag", "HellaSwag", "HF",
    "https://huggingface.co/datasets/Rowan/hellaswag", "MIT", "Zellers et al. 2019, HellaSwag",
)  # fmt: skip
WINOGRANDE = Source(
    "winogrande", "WinoGrande", "HF",
    "https://huggingface.co/datasets/allenai/winogrande", "CC BY 4.0", "Sakaguchi et al. 2020, WinoGrande",
)  # fmt: skip
ARC = Source(
    "arc", "ARC Challenge", "HF", "https://huggingface.co/datasets/allenai/ai2_arc", "CC BY-SA 4.0",
    "Clark et al. 2018, Think you have Solved Question Answering?",
)  # fmt: skip
DROP = Source(
    "drop", "DROP (script-based on the Hub: its Parquet export, refs/convert/parquet)", "HF",
    "https://huggingface.co/datasets/ucinlp/drop", "CC BY-SA 4.0", "Dua et al. 2019, DROP",
)  # fmt: skip
TRUTHFUL_QA = Source(
    "truthful_qa", "TruthfulQA (multiple choice; script-based on the Hub: its Parquet export, refs/convert/parquet)",
    "HF", "https://huggingface.co/datasets/EleutherAI/truthful_qa_mc", "Apache-2.0", "Lin et al. 2022, TruthfulQA",
)  # fmt: skip

_MC4 = ("A", "B", "C", "D")

Row = dict[str, Any]
#: A benchmark row -> (prompt, answer), or None when the row has no gold answer.
Convert = Callable[[Path, str, Row], tuple[str, str] | None]


def _lettered(path: Path, where: str, field: str, choices: Any) -> list[str]:
    if not isinstance(choices, list) or not choices:
        raise SourceFormatError(path, where, field, f"expected a non-empty list of choices, got {choices!r}")
    marks = letters(len(choices), path, where, field)
    return [
        f"{m}. {text(path, where, f'{field}[{i}]', c, empty=True)}"
        for i, (m, c) in enumerate(zip(marks, choices, strict=True))
    ]


def _text(path: Path, where: str, row: Row, field: str) -> str:
    """A question, sentence or passage of the row: a non-empty string (never "None" or "nan")."""
    return text(path, where, field, row[field])


def _index(path: Path, where: str, field: str, value: Any, n: int, base: int = 0) -> int:
    index = int(number("", "", "", value, integer=True)) - base if is_number(value, integer=True) else -1
    if not 0 <= index < n:
        raise SourceFormatError(
            path, where, field, f"expected an answer index in {base}..{n - 1 + base}, got {value!r}"
        )
    return index


def mmlu(path: Path, where: str, row: Row) -> tuple[str, str]:
    options = _lettered(path, where, "choices", row["choices"])
    answer = _index(path, where, "answer", row["answer"], len(options))
    return "\n".join([f"Question: {_text(path, where, row, 'question')}", *options]), "ABCDEFGHIJ"[answer]


def hellaswag(path: Path, where: str, row: Row) -> tuple[str, str]:
    if not missing(row.get("activity_label")):
        lines = [f"Activity: {_text(path, where, row, 'activity_label')}"]
    else:
        lines = []
    if not missing(row.get("ctx")):
        context = _text(path, where, row, "ctx")
    else:
        context = f"{_text(path, where, row, 'ctx_a')} {text(path, where, 'ctx_b', row['ctx_b'], empty=True)}"
    lines += [f"Context: {context}", "Choose the option that best completes the description:"]
    options = _lettered(path, where, "endings", row["endings"])
    answer = _index(path, where, "label", row["label"], len(options))
    return "\n".join(lines + options), "ABCDEFGHIJ"[answer]


def winogrande(path: Path, where: str, row: Row) -> tuple[str, str]:
    sentence = _text(path, where, row, "sentence").replace("_", "_____")
    prompt = "\n".join([f"Sentence: {sentence}", "Which option correctly fills in the blank?",
                        f"A. {_text(path, where, row, 'option1')}", f"B. {_text(path, where, row, 'option2')}"])  # fmt: skip
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
    texts = [text(path, where, f"choices.text[{i}]", t, empty=True) for i, t in enumerate(choices["text"])]
    lines = [
        f"Question: {_text(path, where, row, 'question')}",
        *(f"{label}. {t}" for label, t in zip(labels, texts, strict=True)),
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
    passage, question = (
        _text(path, where, row, "passage").strip(),
        _text(path, where, row, "question").strip(),
    )
    return f"Passage: {passage}\nQuestion: {question}", answer


def truthful_qa(path: Path, where: str, row: Row) -> tuple[str, str]:
    options = _lettered(path, where, "choices", row["choices"])
    answer = _index(path, where, "label", row["label"], len(options))
    return "\n".join([f"Question: {_text(path, where, row, 'question')}", *options]), "ABCDEFGHIJ"[answer]


def benchmark(
    file: RemoteFile, columns: tuple[str, ...], convert: Convert, name: str, descriptions: Sequence[str]
) -> Callable[[TaskSpec, FetchedFiles], list[Instance]]:
    """One pooled instance ``name`` of the (prompt, answer) pairs ``convert`` makes of ``file``'s rows."""

    def build(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
        samples = []
        for path in files.parts(file.path):
            for index, row in records(read_parquet(path, columns)):
                sample = convert(path, f"row {index}", row)
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

    return build


def _task(
    name: str,
    source: Source,
    file: RemoteFile,
    columns: tuple[str, ...],
    convert: Convert,
    instance_name: str,
    descriptions: Sequence[str],
    **params: Any,
) -> TaskSpec:
    return episode_task(name, source, side="capability", kind="capability", files=TaskFiles((file,)),
                        build=benchmark(file, columns, convert, instance_name, descriptions), **params)  # fmt: skip


#: Revisions and SHA-256 digests as public records of these exact files give them (other projects' pinned
#: downloads); no commit of the Parquet export branch (drop, truthful_qa) could be learned.
MMLU_FILE = hub_file(
    "mmlu",
    "cais/mmlu",
    "all/test-00000-of-00001.parquet",
    "c30699e8356da336a370243923dbaf21066bb9fe",
    sha256="74a41822ce7d3def56e1682f958469c04642a5336a5ce912fa375fdb90fb25d7",
)
HELLASWAG_FILE = hub_file(
    "hellaswag",
    "Rowan/hellaswag",
    "data/validation-00000-of-00001.parquet",
    "218ec52e09a7e7462a5400043bb9a69a41d06b76",
    sha256="899813071e1e95efafec90f856e1987d2150fa4d020fc005df6962c259f660cd",
)
WINOGRANDE_FILE = hub_file(
    "winogrande",
    "allenai/winogrande",
    "winogrande_xl/validation-00000-of-00001.parquet",
    "01e74176c63542e6b0bcb004dcdea22d94fb67b5",
)
ARC_FILE = hub_file(
    "arc",
    "allenai/ai2_arc",
    "ARC-Challenge/test-00000-of-00001.parquet",
    "210d026faf9955653af8916fad021475a3f00453",
    sha256="62f03257e737aed263f55c6abf87c7bb0028a44a6bdd2a26eb1279eb42c1d1e9",
)
DROP_FILE = parquet_export("drop", "ucinlp/drop", "default", "validation", unpinned=NO_EXPORT_COMMIT)
TRUTHFUL_QA_FILE = parquet_export(
    "truthful_qa", "EleutherAI/truthful_qa_mc", "multiple_choice", "validation", unpinned=NO_EXPORT_COMMIT
)

TASKS = (
    _task("mmlu", MMLU, MMLU_FILE,
          ("question", "choices", "answer"), mmlu, "mmlu",
          ("Given a question and a list of choices, return the correct answer choice.",),
          choices=_MC4, n_per=1000, n_iter=20),
    _task("hellaswag", HELLASWAG, HELLASWAG_FILE,
          ("activity_label", "ctx", "ctx_a", "ctx_b", "endings", "label"), hellaswag, "hellaswag_validation",
          ("Given a context and four possible endings, output the letter of the ending that best completes the context.",
           "Respond with the single uppercase letter for the correct choice."),
          choices=_MC4, n_per=-1, n_iter=20),
    _task("winogrande", WINOGRANDE, WINOGRANDE_FILE,
          ("sentence", "option1", "option2", "answer"), winogrande, "winogrande_winogrande_xl_validation",
          ("Given a sentence with a blank and two candidate fillers, respond with the letter of the correct option.",
           "Return the single uppercase letter corresponding to the correct choice."),
          choices=("A", "B"), n_per=-1, n_iter=10),
    _task("arc", ARC, ARC_FILE,
          ("question", "choices", "answerKey"), arc, "arc_arc_challenge_test",
          ("Given a question and multiple choice answers, return the correct answer letter.",
           "Respond with only the uppercase letter corresponding to the correct option."),
          n_per=-1, n_iter=10),
    _task("drop", DROP, DROP_FILE,
          ("passage", "question", "answers_spans"), drop, "drop_default_validation",
          ("Answer the question based on the passage. Respond with just the answer, usually a short word or phrase, either extracted from the passage or deduced from the information in the passage.",),
          n_per=-1, n_iter=10),
    _task("truthful_qa", TRUTHFUL_QA, TRUTHFUL_QA_FILE,
          ("question", "choices", "label"), truthful_qa, "truthful_qa_mc2_validation",
          ("You will be given a question and several answer choices, only one of which is true. Respond with the correct answer letter.",),
          n_per=-1, n_iter=10),
)  # fmt: skip
