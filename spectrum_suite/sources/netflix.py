"""Netflix Prize (`netflix_individual_ratings`, `netflix_individual_views`; docs/tasks.md#real-sources, row
netflix).

Manual Kaggle download. Rating files are read in chunks with pandas (a ``{movie_id}:`` header line starts each
movie's block); titles are split on the first two commas only, so titles with commas survive (the reference's
3-field parse dropped them: docs/deviations.md#data-fixes-in-single-sources). 2000 customers with at least 10
ratings are drawn from a seeded stream; nothing is cached between runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ..episodes import Instance, rng_for
from ..sourcekit.tables import check_text_file
from ..task import FetchedFiles, RemoteFile, Source, SourceFormatError, TaskSpec, each_of, episode_task

SOURCE = Source(
    "netflix", "Netflix Prize", "MAN", "https://www.kaggle.com/datasets/netflix-inc/netflix-prize-data",
    "Netflix Prize terms", "Bennett and Lanning 2007, The Netflix Prize",
)  # fmt: skip
WHERE = "https://www.kaggle.com/datasets/netflix-inc/netflix-prize-data (Kaggle account; unzip into <data_dir>/netflix/)"
TITLES = "netflix/movie_titles.csv"
RATINGS = tuple(f"netflix/combined_data_{i}.txt" for i in (1, 2, 3))
MIN_RATINGS = 10
CUSTOMERS = 2000
RATING_DESCRIPTIONS = ("Movie ratings (1-5 stars) for a specific user.", "Movie ratings for a specific user.")
VIEW_DESCRIPTIONS = ("Movie titles watched by a single user.", "Movies a single user has seen and rated.")

#: One group per ratings file, each with the titles: every ratings file that is here is read.
FILES = each_of(*([RemoteFile(TITLES, where=WHERE), RemoteFile(p, where=WHERE)] for p in RATINGS))


def read_titles(path: Path) -> dict[int, str]:
    """movie_id -> title; each line is ``id,year,title`` where the title may itself hold commas. An empty file,
    a line without three fields, an empty title or a movie id given twice is a format error."""
    check_text_file(path)
    titles = {}
    with open(path, encoding="latin-1") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line:
                continue
            parts = line.split(",", 2)
            if len(parts) != 3 or not parts[0].strip().isdigit():
                raise SourceFormatError(
                    path, f"line {number}", "movie_id,year,title", f"expected three fields, got {line!r}"
                )
            if not parts[2].strip():
                raise SourceFormatError(path, f"line {number}", "title", "empty title")
            movie = int(parts[0])
            if movie in titles:
                raise SourceFormatError(path, f"line {number}", "movie_id", f"movie {movie} listed twice")
            titles[movie] = parts[2]
    return titles


def read_ratings(path: Path, chunksize: int = 2_000_000) -> pd.DataFrame:
    """(movie_id, customer_id, rating) of one ``combined_data_N.txt``.

    A line is a movie header ``<id>:`` or ``customer,rating,date``; a line that is neither (a missing or
    non-integer rating, a header without its colon, a customer id that is not a number), ratings before the
    first header, and an empty or binary file are format errors naming the line.
    """
    check_text_file(path)
    parts = []
    movie: float = np.nan
    reader = pd.read_csv(path, header=None, names=["customer_id", "rating", "date"], usecols=[0, 1],
                         dtype=str, keep_default_na=False, chunksize=chunksize)  # fmt: skip
    offset = 0
    try:
        for chunk in reader:
            header = chunk["rating"] == ""
            ids = chunk["customer_id"]
            movies = pd.to_numeric(
                ids.str.removesuffix(":").where(header & ids.str.endswith(":")), errors="coerce"
            )
            if (header & movies.isna()).any():
                row = int(np.flatnonzero(header & movies.isna())[0])
                raise SourceFormatError(
                    path, f"line {offset + row + 1}", "movie_id",
                    f"expected '<id>:' or 'customer,rating,date', got {chunk['customer_id'].iloc[row]!r}",
                )  # fmt: skip
            movies.iloc[0] = movies.iloc[0] if header.iloc[0] else movie
            movies = movies.ffill()
            if movies.isna().any():
                raise SourceFormatError(
                    path, f"line {offset + 1}", "movie_id", "ratings before the first '<id>:' line"
                )
            body = ~header
            customers = pd.to_numeric(chunk.loc[body, "customer_id"], errors="coerce")
            ratings = chunk.loc[body, "rating"]
            bad = customers.isna() | ~ratings.isin(["1", "2", "3", "4", "5"])
            if bad.any():
                row = int(np.flatnonzero(body)[np.flatnonzero(bad.to_numpy())[0]])
                raise SourceFormatError(
                    path, f"line {offset + row + 1}", "customer_id,rating", "expected an id and a rating 1-5"
                )
            parts.append(pd.DataFrame({"movie_id": movies[body].astype("int32"), "customer_id": customers.astype("int64"),
                                       "rating": ratings.astype("int8")}))  # fmt: skip
            movie = float(movies.iloc[-1])
            offset += len(chunk)
    except UnicodeDecodeError as err:
        raise SourceFormatError(path, "whole file", "*", f"not readable text ({err.reason})") from err
    except pd.errors.ParserError as err:
        raise SourceFormatError(path, "parsing", "*", str(err)) from err
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["movie_id", "customer_id", "rating"])
    )


def sample(files: FetchedFiles, seed: int = 42) -> pd.DataFrame:
    """Ratings of the 2000 sampled customers, with titles, in sampled-customer order."""
    titles = read_titles(files.require(TITLES))
    frames = [read_ratings(path) for _, path in files.present(list(RATINGS))]
    ratings = pd.concat(frames, ignore_index=True)
    known = ratings["movie_id"].isin(list(titles))
    files.drop("ratings of movies without a title", int((~known).sum()))
    ratings = ratings[known]
    counts = ratings["customer_id"].value_counts()
    eligible = np.sort(counts.index[counts >= MIN_RATINGS].to_numpy())
    files.drop(f"customers with fewer than {MIN_RATINGS} ratings", int((counts < MIN_RATINGS).sum()))
    take = min(CUSTOMERS, len(eligible))
    chosen = rng_for(seed, "customers").choice(eligible, size=take, replace=False)
    ratings = ratings[ratings["customer_id"].isin(chosen)].copy()
    ratings["title"] = ratings["movie_id"].map(titles)
    ratings["order"] = ratings["customer_id"].map({c: i for i, c in enumerate(chosen.tolist())})
    return ratings.sort_values(["order", "movie_id"], kind="stable")


def customers(files: FetchedFiles) -> Iterator[tuple[int, pd.DataFrame]]:
    """(customer id, their rows with titles) of every sampled customer, in sampled order."""
    ratings = sample(files)
    for _customer, rows in ratings.groupby("order", sort=True):
        yield int(rows["customer_id"].iloc[0]), rows


def rating_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """One instance per sampled customer: movie title -> their rating."""
    return [
        Instance(key=f"customer/{cid}", name="netflix_individual_ratings", descriptions=list(RATING_DESCRIPTIONS),
                 population=[(t, str(int(r))) for t, r in zip(rows["title"], rows["rating"], strict=True)],
                 meta={"customer_id": cid}, choices=task.choices)
        for cid, rows in customers(files)
    ]  # fmt: skip


def view_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """One instance per sampled customer: the titles they rated."""
    return [
        Instance(key=f"customer/{cid}", name=f"netflix_user_{cid}_views", descriptions=list(VIEW_DESCRIPTIONS),
                 population=[(None, t) for t in rows["title"]], meta={"customer_id": cid}, choices=None)
        for cid, rows in customers(files)
    ]  # fmt: skip


TASKS = (
    episode_task("netflix_individual_ratings", SOURCE, side="train", kind="individual", build=rating_instances,
                 files=FILES, choices=("1", "2", "3", "4", "5"), n_iter="~64", max_instances=1000),
    episode_task("netflix_individual_views", SOURCE, side="train", kind="individual", build=view_instances,
                 files=FILES, seed=43, n_iter="~64"),
)  # fmt: skip
