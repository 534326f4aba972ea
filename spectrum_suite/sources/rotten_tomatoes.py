"""Rotten Tomatoes movies 1970-2024 (alignment task ``rotten_tomatoes``; docs/tasks.md#real-sources, row
rotten_tomatoes, and #alignment-tasks).

One item per (movie, critics or audience) with a percentage score: the target is [score, 100 - score] / 100
over ``Good`` / ``Bad``. The table is a manual download.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from ..sourcekit.tables import read_csv
from ..sourcekit.values import text
from ..task import FetchedFiles, RemoteFile, Source, SourceFormatError, TaskFiles, TaskSpec, alignment_task

SOURCE = Source(
    "rotten_tomatoes", "Rotten Tomatoes movies 1970-2024", "MAN",
    "https://www.kaggle.com/datasets/andrezaza/clapper-massive-rotten-tomatoes-movies-and-reviews", "see homepage",
    "Rotten Tomatoes movie info",
)  # fmt: skip
PATH = "rotten_tomatoes/rotten_tomatoes_data_1970_2024/movie_info.csv"
WHERE = (
    "the Google Drive archive https://drive.google.com/file/d/12IpMErb4j83h5gGTdTpv0WZOf5ceY7b3/view "
    "(Rotten Tomatoes movies 1970-2024; extract rotten_tomatoes_data_1970_2024/movie_info.csv)"
)
COLUMNS = ("title", "release_date", "critic_score", "audience_score")
DESCRIPTIONS = {
    "critic": 'You are a movie critic. Given a movie, you are asked to simply rate it as "Good" or "Bad".',
    "audience": 'You recently watched the following movies. Given a movie, you are asked to simply rate it as "Good" or "Bad".',
}


FILES = TaskFiles((RemoteFile(PATH, None, None, WHERE),))


def _present(value: Any) -> bool:
    return not (value is None or (isinstance(value, float) and pd.isna(value)) or value == "")


def _score(path: Any, row: int, column: str, raw: str) -> int | None:
    """A percentage score ``0%``..``100%`` as an int; None for a marker without digits (``N/A``, ``--``), which
    the source has for unscored movies. A value with digits that is not such a percentage (``85.5%``, ``-3%``,
    ``120%``) is a corrupt file."""
    score = raw.strip().removesuffix("%")
    if not any(c.isdigit() for c in score):
        return None
    if not (score.isascii() and score.isdigit()) or int(score) > 100:
        raise SourceFormatError(
            path, f"row {row + 2}", column, f"expected a percentage 0%..100%, got {raw!r}"
        )
    return int(score)


def movie_rows(task: TaskSpec, fetched: FetchedFiles) -> Iterator[dict[str, Any]]:
    """One row per (movie, critic or audience) with a percentage score: [score, 100 - score] / 100."""
    path = fetched.require(PATH)
    # Read every column as text: a score is a digit string once its "%" is removed, never a float.
    frame = read_csv(path, COLUMNS, dtype=str, keep_default_na=False)
    for index, record in enumerate(frame.to_dict("records")):
        title, release = text(path, f"row {index + 2}", "title", record["title"]), record["release_date"]
        prompt = f"Movie: {title}" + (f"\nRelease Date: {release}" if _present(release) else "")
        for who in ("critic", "audience"):
            raw = record[f"{who}_score"]
            if not _present(raw):
                fetched.drop(f"{who} score missing")
                continue
            score = _score(path, index, f"{who}_score", raw)
            if score is None:
                fetched.drop(f"{who} score not a percentage")
                continue
            yield {
                "task": task.name,
                "instance_id": f"{index}/{who}",
                "cluster": str(index),  # one movie, scored by critics and by the audience
                "description": DESCRIPTIONS[who],
                "input": prompt,
                "candidates": ["Good", "Bad"],
                "target_probs": [score / 100.0, 1.0 - score / 100.0],
                "output_name": task.output_name,
                "ordinal": True,  # Good/Bad is a two-point rating (docs/evaluation.md#divergences)
            }


TASKS = (
    alignment_task("rotten_tomatoes", SOURCE, output_name="Movie Rating (Good or Bad)", build=movie_rows,
                   files=FILES),
)  # fmt: skip
