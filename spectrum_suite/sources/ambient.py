"""AmbiEnt (docs/tasks.md#real-sources, row ambient): six tasks on ambiguity in natural language inference,
from the three JSON-lines files of GitHub ``alisawuffles/ambient``. All pooled tasks are one instance; the
linguist task has one instance per linguist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..episodes import Instance, pooled_instance, rows_to_samples
from ..sourcekit.remote import github_file
from ..sourcekit.tables import read_jsonl
from ..sourcekit.values import text
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "ambient", "AmbiEnt", "GH", "https://github.com/alisawuffles/ambient", "CC BY 4.0",
    "Liu et al. 2023, We're Afraid Language Models Aren't Modeling Ambiguity",
)  # fmt: skip
REPO = "alisawuffles/ambient"
COMMIT = "1fcb43effda068f3047d46b6f9ff0e50e0ee1c1b"
FOLDER = "ambient"
FULL = "AmbiEnt/ambient_full.jsonl"
LINGUIST = "AmbiEnt/linguist_annotations.jsonl"
CROWD = "AmbiEnt/analysis/crowdworker_annotations.jsonl"
SHA256 = {
    FULL: "f7eb1644d1d59be3bb498eb5c861f7a2664439e348c436f04b7c942d9d3cee50",
    LINGUIST: "c2b794e3755bde82656a755e9464c71925b827895dc5b62eae6766f340d306dd",
    CROWD: "55b994228a59c026835473e053abe97726a08a1dcd6db08605a6e1493638bbc2",
}
LABELS = ("entailment", "neutral", "contradiction")
GOLD_QUESTIONS = ("q0_gold", "q1_gold", "q2_gold", "q3_gold")

#: The descriptions of each task.
PREMISE_HYPOTHESIS = [
    "Generate ambiguous premise and hypothesis pairs for natural language inference tasks. These pairs contain "
    "linguistic ambiguities that can lead to multiple valid interpretations.",
    "Create premise-hypothesis pairs where the premise contains ambiguity that affects the entailment "
    "relationship with the hypothesis.",
    "Generate: premise (ambiguous statement), hypothesis (statement to evaluate against premise). Natural "
    "language inference with ambiguity.",
]
AMBIGUITY_DETECTION = [
    "Given a premise and hypothesis pair, determine whether the premise is ambiguous and whether the hypothesis "
    "is ambiguous. Answer with 'True' or 'False' for each.",
    "Analyze premise-hypothesis pairs to detect linguistic ambiguity in either statement.",
    "Given: premise, hypothesis. Generate: premise_ambiguous_str (True/False), hypothesis_ambiguous_str "
    "(True/False). Ambiguity detection task.",
]
DISAMBIGUATION = [
    "Given an ambiguous premise-hypothesis pair and a target entailment label, rewrite the premise and/or "
    "hypothesis to remove ambiguity and achieve the target label.",
    "Disambiguate premise-hypothesis pairs by rewriting them to clearly express a specific entailment "
    "relationship (entailment, neutral, or contradiction).",
    "Given: original_premise (ambiguous), original_hypothesis, target_label (entailment/neutral/contradiction). "
    "Generate: disambiguated_premise, disambiguated_hypothesis (unambiguous versions).",
]
LINGUIST_ANNOTATIONS = [
    "Given a premise-hypothesis pair, predict the entailment annotation that this specific linguist would "
    "provide (entailment, neutral, contradiction, or combinations like 'entailment|neutral').",
    "Predict individual linguist annotations for natural language inference tasks based on premise-hypothesis "
    "pairs.",
    "Given: premise, hypothesis. Generate: annotation (entailment judgment by this individual linguist).",
]
INTERPRETATION_LABELS = [
    "Given a premise-hypothesis pair with an ambiguous sentence and a specific interpretation of that "
    "ambiguity, predict the entailment label (entailment, neutral, or contradiction).",
    "Predict entailment labels based on specific interpretations of ambiguous premise-hypothesis pairs.",
    "Given: premise, hypothesis, ambiguous_sent (which sentence is ambiguous), interpretation (specific "
    "meaning). Generate: entailment_label (entailment/neutral/contradiction).",
]
ANNOTATION_DISTRIBUTIONS = [
    "Given an ambiguous premise-hypothesis pair, predict the distribution of entailment labels that human "
    "annotators would provide. Format as counts and proportions for each label type.",
    "Predict how human annotators would distribute their judgments across entailment, neutral, and "
    "contradiction labels for ambiguous premise-hypothesis pairs.",
    "Given: premise, hypothesis, ambiguous_sent (which is ambiguous). Generate: label_distribution (annotator "
    "consensus patterns).",
]


def _bool(path: Path, line: int, record: dict, name: str) -> bool:
    value = record[name]
    if not isinstance(value, bool):
        raise SourceFormatError(path, f"line {line}", name, f"expected true or false, got {value!r}")
    return value


def _label(path: Path, where: str, name: str, value: Any) -> str:
    if value not in LABELS:
        raise SourceFormatError(
            path, where, name, f"unexpected label {value!r}; expected one of {list(LABELS)}"
        )
    return value


#: Fields that hold a sentence wherever they occur: anything but a non-empty string is a corrupt file.
TEXTS = ("premise", "hypothesis", "ambiguous_sent")


def _numbered(path: Path, fields: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    """Records with their line numbers (blank lines are skipped by the reader, so count them here); the
    sentence fields among ``fields`` are checked to be text."""
    records = read_jsonl(path, fields)
    with open(path, encoding="utf-8") as handle:
        lines = [n for n, line in enumerate(handle, start=1) if line.strip()]
    for n, record in zip(lines, records, strict=True):
        for name in fields:
            if name in TEXTS:
                text(path, f"line {n}", name, record[name])
        yield n, record


def premise_hypothesis(path: Path, fetched: FetchedFiles) -> list[dict]:
    return [
        {"premise": r["premise"], "hypothesis": r["hypothesis"]}
        for _, r in _numbered(path, ("premise", "hypothesis"))
    ]


def ambiguity(path: Path, fetched: FetchedFiles) -> list[dict]:
    fields = ("premise", "hypothesis", "premise_ambiguous", "hypothesis_ambiguous")
    return [
        {
            "premise": r["premise"],
            "hypothesis": r["hypothesis"],
            "premise_ambiguous": _bool(path, n, r, "premise_ambiguous"),
            "hypothesis_ambiguous": _bool(path, n, r, "hypothesis_ambiguous"),
        }
        for n, r in _numbered(path, fields)
    ]


def disambiguation(path: Path, fetched: FetchedFiles) -> list[dict]:
    rows = []
    for n, r in _numbered(path, ("premise", "hypothesis", "disambiguations")):
        if not isinstance(r["disambiguations"], list):
            raise SourceFormatError(path, f"line {n}", "disambiguations", "expected a list")
        for i, d in enumerate(r["disambiguations"]):
            if not isinstance(d, dict) or not {"premise", "hypothesis", "label"} <= d.keys():
                raise SourceFormatError(
                    path, f"line {n}", f"disambiguations[{i}]", "expected premise, hypothesis, label"
                )
            rows.append(
                {
                    "original_premise": r["premise"],
                    "original_hypothesis": r["hypothesis"],
                    "target_label": _label(path, f"line {n}", f"disambiguations[{i}].label", d["label"]),
                    "disambiguated_premise": text(
                        path, f"line {n}", f"disambiguations[{i}].premise", d["premise"]
                    ),
                    "disambiguated_hypothesis": text(
                        path, f"line {n}", f"disambiguations[{i}].hypothesis", d["hypothesis"]
                    ),
                }
            )
    return rows


def linguist_rows(path: Path) -> list[dict]:
    """One row per (item, linguist): ``worker_ids[i]`` paired with ``annotations[i]``."""
    rows = []
    for n, r in _numbered(path, ("worker_ids", "annotations", "premise", "hypothesis")):
        workers, notes = r["worker_ids"], r["annotations"]
        if not isinstance(workers, list) or not isinstance(notes, list) or len(workers) != len(notes):
            raise SourceFormatError(path, f"line {n}", "annotations", "expected a list as long as worker_ids")
        for i, (worker, note) in enumerate(zip(workers, notes, strict=True)):
            text(path, f"line {n}", f"worker_ids[{i}]", worker)
            for part in text(path, f"line {n}", f"annotations[{i}]", note).split("|"):
                _label(path, f"line {n}", "annotations", part)
            rows.append(
                {
                    "worker_id": str(worker),
                    "premise": r["premise"],
                    "hypothesis": r["hypothesis"],
                    "annotation": note,
                }
            )
    return rows


def interpretations(path: Path, fetched: FetchedFiles) -> list[dict]:
    rows = []
    fields = ("premise", "hypothesis", "ambiguous_sent", "interpretations", "labels")
    for n, r in _numbered(path, fields):
        meanings, labels = r["interpretations"], r["labels"]
        if not isinstance(meanings, list) or not isinstance(labels, list) or len(meanings) != len(labels):
            raise SourceFormatError(path, f"line {n}", "labels", "expected a list as long as interpretations")
        for i, (meaning, label) in enumerate(zip(meanings, labels, strict=True)):
            if label is None:
                fetched.drop("ambient_interpretation_labels: interpretation without a label", 1)
                continue
            rows.append(
                {
                    "premise": r["premise"],
                    "hypothesis": r["hypothesis"],
                    "ambiguous_sent": r["ambiguous_sent"],
                    "interpretation": text(path, f"line {n}", f"interpretations[{i}]", meaning),
                    "entailment_label": _label(path, f"line {n}", f"labels[{i}]", label),
                }
            )
    return rows


def label_distribution(labels: list[str]) -> dict[str, Any]:
    """Counts as "k/n" and percentages rounded to 4 places, per label in the fixed label order."""
    total = len(labels)
    out: dict[str, Any] = {}
    for label in LABELS:
        count = labels.count(label)
        out[f"{label}_fraction"] = f"{count}/{total}"
        out[f"{label}_percentage"] = round(100 * count / total, 4)
    return out


def distributions(path: Path, fetched: FetchedFiles) -> list[dict]:
    rows = []
    for n, r in _numbered(path, ("premise", "hypothesis", "ambiguous_sent")):
        pooled = []
        for question in GOLD_QUESTIONS:
            answers = r.get(question) or []
            if not isinstance(answers, list):
                raise SourceFormatError(path, f"line {n}", question, "expected a list of labels")
            pooled += [_label(path, f"line {n}", question, a) for a in answers if a is not None]
        if not pooled:
            fetched.drop("ambient_annotation_distributions: item with no gold label", 1)
            continue
        rows.append(
            {
                "premise": r["premise"],
                "hypothesis": r["hypothesis"],
                "ambiguous_sent": r["ambiguous_sent"],
                "label_distribution": label_distribution(pooled),
            }
        )
    return rows


def ambient_file(rel: str) -> TaskFiles:
    """The one JSON-lines file a task reads (pinned by its SHA-256)."""
    return TaskFiles((github_file(FOLDER, REPO, COMMIT, rel, SHA256[rel]),))


def pooled(
    rel: str,
    rows: Callable[[Path, FetchedFiles], list[dict]],
    inputs: Sequence[str],
    outputs: Sequence[str],
    descriptions: list[str],
):
    """A task over one pooled instance of the rows ``rows`` makes of the file ``rel``."""

    def build(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
        path = fetched.require(f"{FOLDER}/{rel}")
        samples = rows_to_samples(rows(path, fetched), inputs, outputs)
        return [pooled_instance(task.name, descriptions, samples)]

    return build


def linguist_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """One instance per linguist, in order of first appearance."""
    path = fetched.require(f"{FOLDER}/{LINGUIST}")
    by_worker: dict[str, list[dict]] = {}
    for row in linguist_rows(path):
        by_worker.setdefault(row["worker_id"], []).append(row)
    return [
        Instance(
            key=f"linguist/{worker}",
            name=task.name,
            descriptions=LINGUIST_ANNOTATIONS,
            population=rows_to_samples(rows, ("premise", "hypothesis"), ("annotation",)),
            meta={"worker_id": worker},
        )
        for worker, rows in by_worker.items()
    ]


def _pooled(name: str, kind: str, rel: str, rows, inputs, outputs, descriptions, **params) -> TaskSpec:
    return episode_task(name, SOURCE, side="train", kind=kind, files=ambient_file(rel),
                        build=pooled(rel, rows, inputs, outputs, descriptions), n_iter="~64", **params)  # fmt: skip


TASKS = (
    _pooled("ambient_premise_hypothesis", "joint", FULL, premise_hypothesis, (), ("premise", "hypothesis"),
            PREMISE_HYPOTHESIS, n_per=50),
    _pooled("ambient_ambiguity_detection", "conditional", FULL, ambiguity, ("premise", "hypothesis"),
            ("premise_ambiguous", "hypothesis_ambiguous"), AMBIGUITY_DETECTION, seed=43, n_per=50),
    _pooled("ambient_disambiguation", "conditional", FULL, disambiguation,
            ("original_premise", "original_hypothesis", "target_label"),
            ("disambiguated_premise", "disambiguated_hypothesis"), DISAMBIGUATION, seed=44, n_per=50),
    episode_task("ambient_linguist_annotations", SOURCE, side="train", kind="individual", build=linguist_instances,
                 files=ambient_file(LINGUIST), seed=45, n_per=2, n_iter="~64"),
    _pooled("ambient_interpretation_labels", "conditional", CROWD, interpretations,
            ("premise", "hypothesis", "ambiguous_sent", "interpretation"), ("entailment_label",),
            INTERPRETATION_LABELS, choices=LABELS, seed=46, n_per=50),
    _pooled("ambient_annotation_distributions", "conditional", CROWD, distributions,
            ("premise", "hypothesis", "ambiguous_sent"), ("label_distribution",), ANNOTATION_DISTRIBUTIONS,
            seed=47, n_per=50),
)  # fmt: skip
