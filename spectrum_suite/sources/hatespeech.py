"""Kumar et al. toxicity perspectives (`hatespeech_individual`): one process per rater
(docs/tasks.md#real-sources, row hatespeech).

The file with worker hashes is shared by the authors on request, so it is read from the data directory only. A
rater is the set of demographic answers attached to a rating; its id is a SHA-1 of the sorted (field, value)
pairs, stable across processes (the reference's salted `hash()` was not:
docs/deviations.md#stable-identities-and-order).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..episodes import Instance, Sample
from ..sourcekit.tables import read_jsonl
from ..task import FetchedFiles, RemoteFile, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "hatespeech", "Kumar et al. toxicity perspectives", "PERM", "https://data.esrg.stanford.edu/study/toxicity-perspectives",
    "by permission of the authors", "Kumar et al. 2021, Designing Toxic Content Classification for a Diversity of Perspectives",
)  # fmt: skip

FILE = "hatespeech/classified_data_final_w_worker_hash.json"
WHERE = (
    "the authors (Deepak Kumar, https://data.esrg.stanford.edu/study/toxicity-perspectives): ask for "
    "classified_data_final_w_worker_hash.json, the version with worker hashes"
)
#: Rating fields that are judgements of the comment, not traits of the rater.
JUDGEMENTS = frozenset({
    "toxic_score", "is_profane", "is_threat", "is_identity_attack", "is_insult", "is_sexual_harassment",
    "fine_to_see_online", "remove_from_online",
})  # fmt: skip
DESCRIPTION = "Given a comment, predict the toxicity score from 0 to 4 (0 is not toxic, 4 is very toxic)."
SCORES = ("0", "1", "2", "3", "4")


FILES = TaskFiles((RemoteFile(FILE, where=WHERE),))


def rater_id(rating: dict[str, Any]) -> str:
    """A stable digest of the rater's (field, value) pairs."""
    pairs = sorted((k, v) for k, v in rating.items() if k not in JUDGEMENTS)
    text = json.dumps(pairs, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _score(value: Any, path, where: str) -> str:
    """The toxicity score as text, one of 0..4."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SourceFormatError(path, where, "toxic_score", f"expected an integer 0-4, got {value!r}")
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if text not in SCORES:
        raise SourceFormatError(path, where, "toxic_score", f"expected an integer 0-4, got {value!r}")
    return text


def rater_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """One instance per rater, in order of first appearance, with every comment they scored."""
    path = files.require(FILE)
    raters: dict[str, list[Sample]] = {}
    for number, record in enumerate(read_jsonl(path, ("comment_id", "comment", "ratings")), start=1):
        where = f"record {number} (comment_id {record['comment_id']})"
        if not isinstance(record["ratings"], list):
            raise SourceFormatError(path, where, "ratings", "expected a list of ratings")
        comment = record["comment"]
        if not isinstance(comment, str) or not comment.strip():
            files.drop("comment missing or empty", len(record["ratings"]))
            continue
        for rating in record["ratings"]:
            if not isinstance(rating, dict) or "toxic_score" not in rating:
                raise SourceFormatError(path, where, "ratings[].toxic_score", "field missing")
            raters.setdefault(rater_id(rating), []).append(
                (comment, _score(rating["toxic_score"], path, where))
            )
    return [
        Instance(
            key=f"rater/{rid}",
            name="hatespeech_individual",
            descriptions=[DESCRIPTION],
            population=samples,
            meta={"rater_id": rid},
            choices=task.choices,
        )
        for rid, samples in raters.items()
    ]


TASKS = (
    episode_task("hatespeech_individual", SOURCE, side="train", kind="individual", build=rater_instances, files=FILES,
                 choices=SCORES, n_iter="~128", max_instances=1000),
)  # fmt: skip
