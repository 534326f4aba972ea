"""LeWiDi 2025 (docs/tasks.md#real-sources, row lewidi): per-annotator sarcasm (CSC), irony (MP), paraphrase
(Paraphrase) and NLI (VariErrNLI) judgements, from the train split and the annotators' metadata.

The Paraphrase and VariErrNLI train files and every metadata file are published in GitHub
``Le-Wi-Di/le-wi-di.github.io`` (pinned commit); the CSC and MP train files are not, so those two tasks need
them in the data directory (from the Codabench competition) and otherwise fail with the missing-file message.
Their dev files are deliberately not used in place of train: dev is the competition's evaluation data, and
substituting it would silently change what the task is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..episodes import Instance, rows_to_samples
from ..sourcekit.remote import github_file
from ..sourcekit.tables import read_json
from ..sourcekit.values import missing, number, text
from ..task import FetchedFiles, RemoteFile, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "lewidi", "LeWiDi 2025", "MAN", "https://www.codabench.org/competitions/7192/", "see homepage",
    "Leonardelli et al. 2025, LeWiDi-2025",
)  # fmt: skip
REPO = "Le-Wi-Di/le-wi-di.github.io"
COMMIT = "45d7b06e4c36b59472d6bdf9281f7f1e395eb0e0"
FOLDER = "lewidi"
ROOT = "LeWiDi_3-2025"
CODABENCH = "https://www.codabench.org/competitions/7192/"
NLI_LABELS = ("entailment", "neutral", "contradiction")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")

SHA256 = {
    "CSC/CSC_annotators_meta.json": "06a4b494e6cbb7f4b5636efd7f6174316c3311ab870988bcedbfa4fd3cfac4bd",
    "MP/MP_annotators_meta.json": "8b0e310e21246884847f36d0e5c54de22e6031c11fd7e5e2447cdd884619ea3e",
    "Paraphrase/Paraphrase_annotators_meta.json": "a5d56635ea516288e26e162cd5599db95b3fa89dad24fee4f6d5a37ec125a0e4",
    "Paraphrase/Paraphrase_train.json": "2ec98bad361732dbb568e4acea339edbbd747299fbd716e99812e4f14042bc53",
    "VariErrNLI/VariErrNLI_annotators_meta.json": "3cd41a2a8cad537788b5bdf46b2c9dac3731142a6a9704484b60275fa0b2dc66",
    "VariErrNLI/VariErrNLI_train.json": "466a507dec72eb118d528e52aa5a905cb23a4e5acaf7af02062938ea958d1a0d",
}

_PAR = (
    "Given a pair of questions from Quora Question Pairs (QQP), assign a Likert scale score from -5 to 5 indicating "
    "how strongly the questions are paraphrases of one another"
)
_NLI = "Given a premise and hypothesis from MNLI corpus, assign one or more labels from "


@dataclass(frozen=True)
class Layout:
    """One task: its dataset, input and output fields, and its description template."""

    dataset: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    description: str  # ``{demographics}`` is filled per annotator


CSC = Layout(
    "CSC",
    ("context", "response", "lang"),
    ("sarcasm_rating",),
    "Given a conversational context and response, rate how sarcastic the response is on a 1-6 scale.\n"
    "Annotator demographics: {demographics}",
)
MP = Layout(
    "MP",
    ("post", "reply", "source", "level", "language_variety", "lang"),
    ("irony_rating",),
    "Given a post-reply pair from social media (Twitter/Reddit), determine whether the reply is ironic given the "
    "post. Context includes platform source, reply depth level, language variety, and language code. Binary "
    "irony detection task.\nAnnotator demographics: {demographics}",
)
PARAPHRASE = Layout(
    "Paraphrase",
    ("question1", "question2", "lang"),
    ("paraphrase_rating", "explanation"),
    _PAR + ", and provide a short explanation for your score.\nAnnotator demographics: {demographics}",
)
PARAPHRASE_CATEGORICAL = Layout(
    "Paraphrase",
    ("question1", "question2", "lang"),
    ("paraphrase_rating",),
    _PAR + ".\nAnnotator demographics: {demographics}",
)
NLI = Layout(
    "VariErrNLI",
    ("context", "statement", "lang"),
    ("nli_label", "explanation"),
    _NLI
    + "{Entailment, Neutral, Contradiction} indicating the logical relationship between them, and provide "
    "an explanation for your reasoning.\nAnnotator demographics: {demographics}",
)
NLI_CATEGORICAL = Layout(
    "VariErrNLI",
    ("context", "statement", "lang"),
    ("nli_label",),
    _NLI + "{entailment, neutral, contradiction} indicating the logical relationship between them.\n"
    "Annotator demographics: {demographics}",
)


def _rel(dataset: str, kind: str) -> str:
    return f"{dataset}/{dataset}_{kind}.json"


def dataset_files(dataset: str) -> TaskFiles:
    """The dataset's train file and annotator metadata (GitHub where published, else manual)."""
    out = []
    for kind in ("train", "annotators_meta"):
        rel = _rel(dataset, kind)
        if rel in SHA256:
            out.append(github_file(FOLDER, REPO, COMMIT, f"{ROOT}/{rel}", SHA256[rel]))
            continue
        where = f"{CODABENCH} (LeWiDi 2025 data, the {dataset} train split: {dataset}_train.json)"
        out.append(RemoteFile(path=f"{FOLDER}/{ROOT}/{rel}", url=None, where=where))
    return TaskFiles(tuple(out))


def read_meta(path: Path) -> dict[str, Any]:
    """Annotator metadata, repaired of the trailing commas some releases have before '}' or ']'."""
    text = _TRAILING_COMMA.sub(r"\1", path.read_text(encoding="utf-8"))
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as err:
        raise SourceFormatError(path, f"line {err.lineno}", "*", f"not valid JSON ({err.msg})") from err
    if not isinstance(meta, dict) or not all(isinstance(v, dict) for v in meta.values()):
        raise SourceFormatError(
            path, "top level", "*", "expected an object of annotator id -> object of fields"
        )
    return meta


def demographics(dataset: str, annotator: str, meta: dict[str, Any]) -> str:
    """``field: value`` for every non-empty metadata field, then ``annotator_id: {id}``, joined by '; '.

    MP's metadata is keyed by the bare number (``Ann12`` -> ``12``); Paraphrase's string also starts with
    the id, as in the reference.
    """
    key = annotator.removeprefix("Ann") if dataset == "MP" else annotator
    fields = meta.get(key) or {}
    parts = [f"{name}: {value}" for name, value in fields.items() if not missing(value)]
    text = "; ".join([*parts, f"annotator_id: {annotator}"])
    return f"annotator_id: {annotator}; {text}" if dataset == "Paraphrase" else text


def _value(path: Path, item: str, field: str, value: Any, allowed: tuple[str, ...]) -> str:
    if str(value) not in allowed:
        raise SourceFormatError(
            path, f"item {item}", field, f"unexpected value {value!r}; expected one of {list(allowed)}"
        )
    return str(value)


def _nli(path: Path, item: str, field: str, value: Any) -> str:
    if not isinstance(value, str) or not all(part.strip() in NLI_LABELS for part in value.split(",")):
        raise SourceFormatError(
            path, f"item {item}", field, f"expected labels from {list(NLI_LABELS)}, got {value!r}"
        )
    return value


def _explanation(path: Path, item: str, record: dict, position: int) -> str:
    notes = (record.get("other_info") or {}).get("explanations")
    if not isinstance(notes, list) or position >= len(notes):
        raise SourceFormatError(
            path, f"item {item}", "other_info.explanations", f"no explanation at position {position}"
        )
    return text(
        path, f"item {item}", f"other_info.explanations[{position}]", notes[position], empty=True
    ).strip()


def _text(path: Path, item: str, record: dict, name: str) -> Any:
    texts = record.get("text")
    if not isinstance(texts, dict) or name not in texts:
        raise SourceFormatError(path, f"item {item}", f"text.{name}", "field missing")
    return text(path, f"item {item}", f"text.{name}", texts[name], empty=True)


def _other(path: Path, item: str, record: dict, name: str) -> Any:
    other = record.get("other_info")
    if not isinstance(other, dict) or name not in other:
        raise SourceFormatError(path, f"item {item}", f"other_info.{name}", "field missing")
    return other[name]


def _other_text(path: Path, item: str, record: dict, name: str) -> str:
    return text(path, f"item {item}", f"other_info.{name}", _other(path, item, record, name))


def annotation_row(
    dataset: str, path: Path, item: str, record: dict, annotator: str, position: int
) -> dict[str, Any]:
    """Every field the dataset's two tasks use, for one (item, annotator at position) pair."""
    value = record["annotations"][annotator]
    if "lang" not in record:
        raise SourceFormatError(path, f"item {item}", "lang", "field missing")
    row: dict[str, Any] = {"lang": text(path, f"item {item}", "lang", record["lang"])}
    if dataset == "CSC":
        row |= {
            "context": _text(path, item, record, "context"),
            "response": _text(path, item, record, "response"),
        }
        row["sarcasm_rating"] = _value(
            path, item, f"annotations.{annotator}", value, ("1", "2", "3", "4", "5", "6")
        )
    elif dataset == "MP":
        row |= {"post": _text(path, item, record, "post"), "reply": _text(path, item, record, "reply")}
        level = _other(path, item, record, "level")  # a reply depth, 1.0, 2.0, ... in the release
        number(path, f"item {item}", "other_info.level", level, integer=True, low=0, strings=False)
        row |= {"source": _other_text(path, item, record, "source"), "level": str(level)}
        row["language_variety"] = _other_text(path, item, record, "language_variety")
        row["irony_rating"] = _value(path, item, f"annotations.{annotator}", value, ("0", "1"))
    elif dataset == "Paraphrase":
        row |= {
            "question1": _text(path, item, record, "Question1"),
            "question2": _text(path, item, record, "Question2"),
        }
        rating = _value(path, item, f"annotations.{annotator}", value, tuple(str(i) for i in range(-5, 6)))
        row |= {"paraphrase_rating": int(rating), "explanation": _explanation(path, item, record, position)}
    else:
        row |= {
            "context": _text(path, item, record, "context"),
            "statement": _text(path, item, record, "statement"),
        }
        row |= {"nli_label": _nli(path, item, f"annotations.{annotator}", value)}
        row["explanation"] = _explanation(path, item, record, position)
    return row


def rows_by_annotator(dataset: str, path: Path, fetched: FetchedFiles) -> dict[str, list[dict[str, Any]]]:
    """One row per (item, entry of its ``annotators`` list that has an annotation); annotators in order of
    first appearance. A repeated id (VariErrNLI multi-label) gives one row per position, rows that differ only in
    the explanation, as in the paper (docs/deviations.md#repeated-varierrnli-annotators)."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise SourceFormatError(path, "top level", "*", "expected an object of item id -> item")
    out: dict[str, list[dict[str, Any]]] = {}
    for item, record in data.items():
        if not isinstance(record, dict) or not isinstance(record.get("annotations"), dict):
            raise SourceFormatError(
                path, f"item {item}", "annotations", "expected an object of annotator -> value"
            )
        if not isinstance(record.get("annotators"), str):
            raise SourceFormatError(
                path, f"item {item}", "annotators", "expected comma-separated annotator ids"
            )
        for position, annotator in enumerate(a.strip() for a in record["annotators"].split(",")):
            if annotator not in record["annotations"]:
                fetched.drop(f"lewidi {dataset}: listed annotator without an annotation", 1)
                continue
            out.setdefault(annotator, []).append(
                annotation_row(dataset, path, item, record, annotator, position)
            )
    return out


def annotators(layout: Layout):
    """A task with one instance per annotator of ``layout``'s train split, described with their demographics."""

    def build(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
        train = fetched.require(f"{FOLDER}/{ROOT}/{_rel(layout.dataset, 'train')}")
        meta = read_meta(fetched.require(f"{FOLDER}/{ROOT}/{_rel(layout.dataset, 'annotators_meta')}"))
        out = []
        for annotator, rows in rows_by_annotator(layout.dataset, train, fetched).items():
            demo = demographics(layout.dataset, annotator, meta)
            out.append(
                Instance(
                    key=f"{layout.dataset}/{annotator}",
                    name=annotator,
                    descriptions=[layout.description.replace("{demographics}", demo)],
                    population=rows_to_samples(rows, layout.inputs, layout.outputs),
                    meta={"dataset": layout.dataset, "annotator": annotator},
                )
            )
        return out

    return build


def _task(name: str, layout: Layout, **params) -> TaskSpec:
    return episode_task(name, SOURCE, side="train", kind="individual", build=annotators(layout),
                        files=dataset_files(layout.dataset), seed=43, **params)  # fmt: skip


TASKS = (
    _task("lewidi_csc_sarcasm_detection_individual", CSC, choices=("1", "2", "3", "4", "5", "6"), n_iter=1000),
    _task("lewidi_mp_irony_detection_individual", MP, choices=("0", "1"), n_iter=1000),
    _task("lewidi_par_paraphrase_detection_individual", PARAPHRASE, n_per=-1, n_iter=20),
    _task("lewidi_par_paraphrase_detection_individual_categorical", PARAPHRASE_CATEGORICAL,
          choices=tuple(str(i) for i in range(-5, 6)), n_per=-1, n_iter=20),
    _task("lewidi_varierrnli_nli_detection_individual", NLI, n_per=-1, n_iter=30),
    _task("lewidi_varierrnli_nli_detection_individual_categorical", NLI_CATEGORICAL, n_per=-1, n_iter=30),
)  # fmt: skip
