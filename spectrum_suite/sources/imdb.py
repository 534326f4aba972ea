"""IMDB reviews (`spec/tasks.md` §5.20): the pooled table review -> ``negative`` / ``positive``.

The description keeps the reference's wording ("Classify whether the following movie reviews as ..."),
which is data (quirk Q3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..episodes import Instance, rows_to_samples
from .base import FetchedFiles, RemoteFile, SourceFormatError
from .readers import hub_url, read_parquet

if TYPE_CHECKING:
    from ..registry import TaskSpec

REPO = "stanfordnlp/imdb"
HUB_PATH = "plain_text/train-00000-of-00001.parquet"
LOCAL = f"imdb/{HUB_PATH}"
RATINGS = {0: "negative", 1: "positive"}
DESCRIPTION = "Classify whether the following movie reviews as negative or positive."


def files(task: TaskSpec) -> list[RemoteFile]:
    return [RemoteFile(LOCAL, hub_url(REPO, HUB_PATH), None, f"https://huggingface.co/datasets/{REPO}")]


def instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    if task.name != "imdb":
        raise KeyError(f"the imdb adapter has no episode task {task.name!r}")
    path = fetched.require(LOCAL)
    frame = read_parquet(path, ["text", "label"])
    bad = ~frame["label"].isin(list(RATINGS))
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise SourceFormatError(
            path,
            f"row {row} (0-based)",
            "label",
            f"unexpected label {frame['label'].tolist()[row]!r}; expected 0 or 1",
        )
    records = [
        {"review": str(t), "rating": RATINGS[int(y)]}
        for t, y in zip(frame["text"], frame["label"], strict=True)
    ]
    return [Instance(key="pooled", name="imdb", descriptions=[DESCRIPTION], choices=task.choices,
                     population=rows_to_samples(records, ["review"], ["rating"]))]  # fmt: skip
