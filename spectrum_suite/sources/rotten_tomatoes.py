"""Rotten Tomatoes movies 1970-2024 (alignment task ``rotten_tomatoes``, `spec/tasks.md` §7).

One item per (movie, critics or audience) with a percentage score: the target is [score, 100 - score] / 100
over ``Good`` / ``Bad``. The table is a manual download.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from ..fetch import FetchedFiles
from ..task import RemoteFile, Source, TaskFiles, TaskSpec, alignment_task
from .tables import read_csv

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


def movie_rows(task: TaskSpec, fetched: FetchedFiles) -> Iterator[dict[str, Any]]:
    """One row per (movie, critic or audience) with a percentage score: [score, 100 - score] / 100."""
    # Read every column as text: a score is a digit string once its "%" is removed, never a float.
    frame = read_csv(fetched.require(PATH), COLUMNS, dtype=str, keep_default_na=False)
    for index, record in enumerate(frame.to_dict("records")):
        title, release = record["title"], record["release_date"]
        text = f"Movie: {title}" + (f"\nRelease Date: {release}" if _present(release) else "")
        for who in ("critic", "audience"):
            raw = record[f"{who}_score"]
            if not _present(raw):
                fetched.drop(f"{who} score missing")
                continue
            score = str(raw).replace("%", "")
            if not score.isdigit():
                fetched.drop(f"{who} score not a percentage")
                continue
            if int(score) > 100:
                fetched.drop(f"{who} score above 100%")
                continue
            good = int(score) / 100.0
            yield {
                "task": task.name,
                "instance_id": f"{index}/{who}",
                "description": DESCRIPTIONS[who],
                "input": text,
                "candidates": ["Good", "Bad"],
                "target_probs": [good, 1.0 - good],
                "output_name": task.output_name,
            }


TASKS = (
    alignment_task("rotten_tomatoes", SOURCE, output_name="Movie Rating (Good or Bad)", build=movie_rows,
                   files=FILES),
)  # fmt: skip
