"""r/ChangeMyView threads (`changemyview_categories`, `changemyview_posts`; docs/tasks.md#real-sources, row
changemyview).

One pass over the threads keeps a uniform reservoir of 10,000 (Algorithm R with Python's `random`, seed 42, a
local generator), then filters and cleans them. The file is read from the data directory decompressed
(``threads.jsonl``) or as the Zenodo download (``threads.jsonl.bz2``), whichever is there.
"""

from __future__ import annotations

import bz2
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..episodes import Instance, InstanceGroup, rows_to_samples
from ..sourcekit.tables import check_text_file, parse_record
from ..sourcekit.values import number as number_of
from ..task import FetchedFiles, RemoteFile, Source, SourceFormatError, TaskSpec, episode_task, one_of

SOURCE = Source(
    "changemyview", "r/ChangeMyView threads", "URL", "https://zenodo.org/records/3778298", "see homepage",
    "Tan et al. 2016, Winning Arguments",
)  # fmt: skip

PLAIN = "changemyview/threads.jsonl"
COMPRESSED = "changemyview/threads.jsonl.bz2"
URL = "https://zenodo.org/records/3778298/files/threads.jsonl.bz2?download=1"
RESERVOIR = 10_000
MIN_COMMENTS = 5  # num_comments > 4
IGNORED = frozenset({"", "[deleted]", "[removed]"})
FOOTNOTE = re.compile(r"(?mi)^(?:>|\&gt;)\s*\*.*?This is a footnote.*?$\n?")
FIELDS = ("title", "selftext", "num_comments", "score", "comments")

#: The threads decompressed in the data directory, else the Zenodo download (the same rows).
FILES = one_of(
    [RemoteFile(PLAIN, where=f"{URL}, decompressed")],
    [
        RemoteFile(
            COMPRESSED,
            url=URL,
            where=URL,
            unpinned="a Zenodo record (3778298) is fixed, not a commit; its SHA-256 is not known here",
        )
    ],
)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """The non-blank lines with their numbers; an empty, binary, non-UTF-8 or broken bz2 file is a format error."""
    compressed = path.name.endswith(".bz2")
    seen = False
    try:
        check_text_file(path, opener=bz2.open if compressed else None)
        with (bz2.open if compressed else open)(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    seen = True
                    yield number, line
    except UnicodeDecodeError as err:
        raise SourceFormatError(
            path, "whole file", "*", f"not readable text (not UTF-8: {err.reason})"
        ) from err
    except (OSError, EOFError) as err:  # bz2: "Invalid data stream", a truncated stream
        raise SourceFormatError(path, "whole file", "*", f"not a readable bz2 file ({err})") from err
    if not seen:
        raise SourceFormatError(path, "whole file", "*", "no JSON records (only blank lines)")


def reservoir(path: Path, size: int = RESERVOIR, seed: int = 42) -> list[tuple[int, str]]:
    """A uniform sample of ``size`` lines in one pass (Algorithm R; 1-based positions as the reference)."""
    rnd = random.Random(seed)
    kept: list[tuple[int, str]] = []
    for idx, item in enumerate(_lines(path), start=1):
        if idx <= size:
            kept.append(item)
            continue
        j = rnd.randint(1, idx)
        if j <= size:
            kept[j - 1] = item
    return kept


def _usable(text: Any) -> bool:
    return isinstance(text, str) and text not in IGNORED


def threads(path: Path, files: FetchedFiles) -> list[dict[str, Any]]:
    """The sampled threads that pass the filters, with ``post``, ``title``, ``selftext`` and ``score``."""
    out = []
    for number, line in reservoir(path):
        thread = parse_record(path, number, line, FIELDS)
        selftext = FOOTNOTE.sub("", thread["selftext"]) if isinstance(thread["selftext"], str) else None
        if not (_usable(selftext) and _usable(thread["title"])):
            files.drop("threads with an empty, deleted or removed title or text")
            continue
        where = f"line {number}"
        if (
            number_of(path, where, "num_comments", thread["num_comments"], integer=True, low=0, strings=False)
            < MIN_COMMENTS
        ):
            files.drop("threads with at most 4 comments")
            continue
        comments = thread["comments"] if isinstance(thread["comments"], list) else []
        kept = [
            c
            for c in comments
            if isinstance(c, dict) and _usable(c.get("body")) and c.get("score") is not None
        ]
        if not kept:
            files.drop("threads without a usable comment")
            continue
        # upvotes - downvotes: an integer (text, NaN or 3.5 is a corrupt record)
        score = number_of(path, where, "score", thread["score"], integer=True, strings=False)
        title, text = thread["title"], selftext
        out.append({
            "post": f"{title}\n\n{text}".strip(),
            "title": title.strip(),
            "selftext": text.strip(),
            "score": str(score),
        })  # fmt: skip
    return out


POSTS = (
    ("post_from_title", "cmv_post_from_title", ["title"], ["selftext"], "The post that matches the title"),
    ("title_from_post", "cmv_title_from_post", ["selftext"], ["title"], "The title that matches the post"),
    (
        "score_from_post",
        "cmv_score_from_post",
        ["title", "selftext"],
        ["score"],
        "The score (upvotes - downvotes) on the post",
    ),
)


def _threads(files: FetchedFiles) -> list[dict[str, Any]]:
    _, path = files.first(PLAIN, COMPRESSED)
    return threads(path, files)


def category_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """Two pooled instances: the distinct posts and the distinct titles."""
    rows = _threads(files)
    posts = list(dict.fromkeys(r["post"] for r in rows))
    titles = list(dict.fromkeys(r["title"] for r in rows))
    return [
        Instance(key="posts", name="cmv_questions", descriptions=["Posts about which one might want to change their view"],
                 population=[(None, p) for p in posts]),
        Instance(key="titles", name="cmv_title", descriptions=["Post titles about which one might want to change their view"],
                 population=[(None, t) for t in titles]),
    ]  # fmt: skip


def post_groups(task: TaskSpec, files: FetchedFiles) -> list[InstanceGroup]:
    """One group per view of the posts (`POSTS`), each capped on its own."""
    rows = _threads(files)
    return [
        InstanceGroup(
            [
                Instance(
                    key=key,
                    name=name,
                    descriptions=[desc],
                    population=rows_to_samples(rows, given, generated),
                )
            ],
            task.params,
        )
        for key, name, given, generated, desc in POSTS
    ]


TASKS = (
    episode_task("changemyview_categories", SOURCE, side="train", kind="single_variable",
                 build=category_instances, files=FILES, n_per=-1, n_iter="~16"),
    episode_task("changemyview_posts", SOURCE, side="train", kind="conditional", build=post_groups,
                 files=FILES, seed=43, n_per=-1, n_iter="~16", max_total=500),
)  # fmt: skip
