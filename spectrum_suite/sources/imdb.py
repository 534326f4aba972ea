"""IMDB reviews (docs/tasks.md#real-sources, row imdb): the pooled table review -> ``negative`` /
``positive``.

The description keeps the reference's wording ("Classify whether the following movie reviews as ..."), which
is data (docs/deviations.md#description-typos-kept-verbatim).
"""

from __future__ import annotations

from ..episodes import Instance, rows_to_samples
from ..sourcekit.remote import hub_file
from ..sourcekit.tables import read_parquet
from ..sourcekit.values import text
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "imdb", "IMDB reviews", "HF", "https://huggingface.co/datasets/stanfordnlp/imdb", "see homepage",
    "Maas et al. 2011, Learning Word Vectors for Sentiment Analysis",
)  # fmt: skip
REPO = "stanfordnlp/imdb"
HUB_PATH = "plain_text/train-00000-of-00001.parquet"
LOCAL = f"imdb/{HUB_PATH}"
RATINGS = {0: "negative", 1: "positive"}
DESCRIPTION = "Classify whether the following movie reviews as negative or positive."
FILES = TaskFiles((hub_file("imdb", REPO, HUB_PATH, "e6281661ce1c48d982bc483cf8a173c1bbeb5d31"),))


def instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
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
        {"review": text(path, f"row {row} (0-based)", "text", t), "rating": RATINGS[int(y)]}
        for row, (t, y) in enumerate(zip(frame["text"], frame["label"], strict=True))
    ]
    return [Instance(key="pooled", name="imdb", descriptions=[DESCRIPTION], choices=task.choices,
                     population=rows_to_samples(records, ["review"], ["rating"]))]  # fmt: skip


TASKS = (
    episode_task("imdb", SOURCE, side="train", kind="conditional", build=instances, files=FILES,
                 choices=("negative", "positive"), n_per=200, n_iter="~128"),
)  # fmt: skip
