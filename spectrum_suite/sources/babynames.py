"""US SSA baby names (`babynames`): 500 top-K name lists, one SV-IID process each (docs/tasks.md#real-sources,
row babynames).

The configurations are drawn exactly as the reference draws them, each from its own legacy `RandomState`
seeded 42 + i (a local generator, not the global one), so the 500 (sex, strategy, K, timespan) tuples match
the reference's. Year files have no header and every line is a name: all lines are read (the reference read
them with header=0 and lost each year's first name, its top girl name:
docs/deviations.md#data-fixes-in-single-sources).
"""

from __future__ import annotations

import io
import zipfile
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..episodes import Instance
from ..sourcekit.values import number
from ..task import FetchedFiles, RemoteFile, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "babynames", "US SSA baby names", "URL", "https://www.ssa.gov/oact/babynames/limits.html",
    "public domain (US government)", "US Social Security Administration, Popular Baby Names",
)  # fmt: skip

FILE = "babynames/names.zip"
URL = "https://www.ssa.gov/oact/babynames/names.zip"
YEARS = tuple(range(1880, 2024))
TIMESPANS: tuple[str | int, ...] = ("all", *range(2023, 1879, -1))
SEXES = ("balanced", "M", "F")
STRATEGIES = ("uniform", "population")
TOP_K = (10, 100, 1000, 5000)
CONFIGURATIONS = 500


FILES = TaskFiles(
    (
        RemoteFile(
            FILE,
            url=URL,
            where=f"{URL} (the national data, names.zip)",
            unpinned="the SSA replaces names.zip every year at the same address",
        ),
    )
)


def configuration(i: int) -> dict:
    """Configuration i: sex, strategy, K and timespan from `RandomState(42 + i)`, in the reference's order."""
    rs = np.random.RandomState(42 + i)
    sex = SEXES[rs.randint(0, 3)]
    strategy = STRATEGIES[rs.randint(0, 2)]
    top_k = TOP_K[rs.randint(0, 4)]
    rs.uniform()  # drawn and unused by the reference; kept so that the timespan draw matches
    weights = np.arange(len(TIMESPANS), 0, -1, dtype=float)
    timespan = TIMESPANS[rs.choice(len(TIMESPANS), p=weights / weights.sum())]
    return {"sex": sex, "sampling_strategy": strategy, "top_k": top_k, "timespan": timespan}


def read_years(path: Path) -> dict[int, pd.DataFrame]:
    """Every ``yobYYYY.txt`` of the zip as (name, sex, count), all lines (the files have no header)."""
    out = {}
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise SourceFormatError(path, "whole file", "*", "not a zip archive") from err
    with archive:
        for year in YEARS:
            member = f"yob{year}.txt"
            if member not in archive.namelist():
                continue
            where = f"{path}:{member}"
            try:
                raw = archive.read(member).decode("utf-8")
            except UnicodeDecodeError as err:
                raise SourceFormatError(
                    where, "whole file", "*", f"not readable text ({err.reason})"
                ) from err
            if not raw.strip():
                raise SourceFormatError(where, "whole file", "*", "file is empty")
            try:
                frame = pd.read_csv(
                    io.StringIO(raw),
                    header=None,
                    names=["name", "sex", "count"],
                    dtype={"name": str, "sex": str},
                )
            except pd.errors.ParserError as err:
                raise SourceFormatError(where, "parsing", "*", str(err)) from err
            bad_sex = ~frame["sex"].isin(["M", "F"])
            if bad_sex.any():
                row = int(bad_sex.to_numpy().nonzero()[0][0])
                raise SourceFormatError(
                    where, f"line {row + 1}", "sex", f"expected M or F, got {frame['sex'].iloc[row]!r}"
                )
            bad_name = ~frame["name"].map(lambda v: isinstance(v, str) and bool(v.strip()))
            if bad_name.any():
                row = int(bad_name.to_numpy().nonzero()[0][0])
                raise SourceFormatError(
                    where, f"line {row + 1}", "name", "expected name,sex,count with a name"
                )
            # a count of babies: a positive integer (the SSA lists names given at least 5 times)
            counts = pd.to_numeric(frame["count"], errors="coerce")
            bad_count = ~(np.isfinite(counts) & (counts >= 1) & (counts % 1 == 0))
            if bad_count.any():
                row = int(bad_count.to_numpy().nonzero()[0][0])
                value = frame["count"].iloc[row]
                number(where, f"line {row + 1}", "count", value, integer=True, low=1)
                raise SourceFormatError(where, f"line {row + 1}", "count", f"expected a count, got {value!r}")
            frame["count"] = counts.astype("int64")
            out[year] = frame
    return out


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """Names by count, descending; ties by name, so that the order does not depend on file order."""
    return table.sort_values(["count", "name"], ascending=[False, True], kind="stable")


def name_list(
    totals: pd.DataFrame, sex: str, strategy: str, top_k: int
) -> tuple[list[str], list[float] | None]:
    """The top-K list of one configuration and its sampling probabilities (None: uniform)."""
    if sex == "balanced":
        parts = [_ranked(totals[totals["sex"] == s]).head(top_k // 2) for s in ("M", "F")]
        parts = [p for p in parts if len(p)]
        names = [n for p in parts for n in p["name"]]
        if strategy == "uniform":
            return names, None
        probs = [c / p["count"].sum() / len(parts) for p in parts for c in p["count"]]
        return names, probs
    chosen = _ranked(totals[totals["sex"] == sex]).head(top_k)
    names = chosen["name"].tolist()
    if strategy == "uniform":
        return names, None
    return names, (chosen["count"] / chosen["count"].sum()).tolist()


def description(config: dict) -> str:
    sex_text = {"M": "boy ", "F": "girl ", "balanced": ""}[config["sex"]]
    ts = config["timespan"]
    year_text = f"from {YEARS[0]} - {YEARS[-1]}" if ts == "all" else f"in {ts}"
    k = config["top_k"]
    if config["sampling_strategy"] == "population":
        return (
            f"The following are drawn randomly from among the top {k} baby {sex_text}names in the US {year_text}, "
            "proportional to their population frequency."
        )
    return f"The following are drawn from the list of top {k} baby {sex_text}names in the US {year_text}"


def name_list_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """One instance per configuration (up to ``max_instances``): its top-K name list."""
    path = files.require(FILE)
    years = read_years(path)
    for year in YEARS:
        if year not in years:
            files.missing.append(f"{FILE}:yob{year}.txt")

    @cache
    def totals(timespan: str | int) -> pd.DataFrame | None:
        if timespan == "all":
            frames = list(years.values())
            return (
                pd.concat(frames).groupby(["name", "sex"], as_index=False)["count"].sum() if frames else None
            )
        return years.get(timespan)

    count = (
        CONFIGURATIONS
        if task.params.max_instances is None
        else min(CONFIGURATIONS, task.params.max_instances)
    )
    out = []
    for i in range(count):
        config = configuration(i)
        table = totals(config["timespan"])
        if table is None:
            files.drop("configurations whose year file is absent")
            continue
        names, probs = name_list(table, config["sex"], config["sampling_strategy"], config["top_k"])
        if not names:
            files.drop("configurations with an empty name list")
            continue
        label = f"babynames_top_k={config['top_k']}_ts={config['timespan']}_sex={config['sex']}_sampling_strat={config['sampling_strategy']}"
        out.append(
            Instance(
                key=f"config/{i}",
                name=label,
                descriptions=[description(config)],
                population=[(None, n) for n in names],
                probs=probs,
                meta=config,
            )
        )
    return out


TASKS = (
    episode_task("babynames", SOURCE, side="train", kind="single_variable", build=name_list_instances, files=FILES,
                 n_iter=5000, max_instances=500),
)  # fmt: skip
