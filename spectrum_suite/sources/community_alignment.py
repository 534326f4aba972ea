"""Community Alignment (four tasks; docs/tasks.md#real-sources, row community_alignment), from the first
10,000 rows of split ``filtered``.

The split is the repository's ``data/filtered_community_alignment.csv``. Demographics are the JSON of the
annotator's first row, with missing values as null (the reference wrote a bare NaN:
docs/deviations.md#episode-rows-and-text). Rows without a second-turn prompt are dropped from the reply task
and counted (the reference would have written the text "nan").
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pandas as pd

from ..episodes import Instance, render_fields, rows_to_samples
from ..sourcekit.remote import NO_COMMIT, hub_file
from ..sourcekit.tables import read_csv
from ..sourcekit.values import check_column, missing, text_or_null
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "community_alignment", "Community Alignment", "HF",
    "https://huggingface.co/datasets/facebook/community-alignment-dataset", "CC BY 4.0",
    "Meta FAIR 2025, Community Alignment dataset",
)  # fmt: skip
REPO = "facebook/community-alignment-dataset"
PATH = "data/filtered_community_alignment.csv"
FILE = f"community_alignment/{PATH}"
ROWS = 10_000
MIN_ROWS = 4
RESPONSES = ("response_a", "response_b", "response_c", "response_d")
DEMOGRAPHICS = {
    "age": "annotator_age", "gender": "annotator_gender", "education_level": "annotator_education_level",
    "annotator_political": "annotator_political", "ethnicity": "annotator_ethnicity", "country": "annotator_country",
}  # fmt: skip
COLUMNS = ("annotator_id", "assigned_lang", "first_turn_prompt", "first_turn_preferred_response", "first_turn_feedback",
           "second_turn_prompt", *(f"first_turn_{r}" for r in RESPONSES), *DEMOGRAPHICS.values())  # fmt: skip
PREFERENCE = "Given a prompt and a set of model responses, the user was tasked with selecting their most preferred response and an optional justification."
REPLY = "The following are user replies to a language model.\nUser demographics: "
RESPONSE = "You are a helpful assistant designed to help generate a list of 4 diverse responses for a user to consider."
FILES = TaskFiles((hub_file("community_alignment", REPO, PATH, "main", unpinned=NO_COMMIT),))


def load(path: Path, files: FetchedFiles) -> pd.DataFrame:
    """The first 10,000 rows that have a first-turn prompt and a preferred response."""
    frame = read_csv(path, COLUMNS, nrows=ROWS, low_memory=False)
    keep = ~frame["first_turn_prompt"].map(missing) & ~frame["first_turn_preferred_response"].map(missing)
    files.drop("rows without a first-turn prompt or preferred response", int((~keep).sum()))
    frame = frame[keep].copy()
    # the keys of instances: a row without its annotator or language would vanish from every group
    for column in ("annotator_id", "assigned_lang"):
        check_column(path, frame, column, lambda v: not missing(v), "a value (it keys the row's group)")
    for column in ("first_turn_prompt", *(f"first_turn_{r}" for r in RESPONSES), "first_turn_feedback",
                   "second_turn_prompt"):  # fmt: skip
        check_column(path, frame, column, text_or_null, "text or nothing")
    bad = ~frame["first_turn_preferred_response"].isin(RESPONSES)
    if bad.any():
        row = int(frame.index[bad][0])
        raise SourceFormatError(path, f"row {row + 2}", "first_turn_preferred_response",
                                f"unexpected label {frame.at[frame.index[bad][0], 'first_turn_preferred_response']!r}; expected one of {list(RESPONSES)}")  # fmt: skip
    for r in RESPONSES:
        frame[r] = frame[f"first_turn_{r}"].map(
            lambda v: v.replace("<|end_of_text|>", "") if isinstance(v, str) else v
        )
    frame["prompt"] = frame["first_turn_prompt"]
    return frame


def demographics(row: dict[str, Any]) -> str:
    return render_fields({k: row[v] for k, v in DEMOGRAPHICS.items()}, list(DEMOGRAPHICS))


def _per_language(frame: pd.DataFrame, files: FetchedFiles) -> pd.DataFrame:
    dup = frame.duplicated(subset=["first_turn_prompt"])
    files.drop("rows repeating a first-turn prompt", int(dup.sum()))
    return frame[~dup]


def _annotators(frame: pd.DataFrame, files: FetchedFiles) -> list[tuple[Any, list[dict[str, Any]]]]:
    sizes = frame.groupby("annotator_id", sort=False)["annotator_id"].transform("size")
    files.drop(f"rows of annotators with fewer than {MIN_ROWS} rows", int((sizes < MIN_ROWS).sum()))
    kept = frame[sizes >= MIN_ROWS]
    return [(aid, rows.to_dict("records")) for aid, rows in kept.groupby("annotator_id", sort=False)]


def prompt_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """One instance per language: its distinct first-turn prompts."""
    frame = _per_language(load(files.require(FILE), files), files)
    return [
        Instance(key=f"lang/{lang}", name="community_alignment_initial_prompt",
                 descriptions=[f"Generate a prompt for a language model in the following language: {lang}."],
                 population=[(None, p.strip()) for p in rows["first_turn_prompt"]])
        for lang, rows in frame.groupby("assigned_lang", sort=False)
    ]  # fmt: skip


def response_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """One instance per language: prompt -> its four responses, shuffled (Python's `random`, seed 42)."""
    frame = _per_language(load(files.require(FILE), files), files).copy()
    shuffler = random.Random(42)

    def shuffled(row: pd.Series) -> str:
        items = [row[r] for r in RESPONSES]
        shuffler.shuffle(items)
        return json.dumps([None if missing(v) and not isinstance(v, str) else v for v in items])

    frame["responses"] = frame.apply(shuffled, axis=1)
    return [
        Instance(key=f"lang/{lang}", name="community_alignment_response", descriptions=[RESPONSE],
                 population=rows_to_samples(rows.to_dict("records"), ["prompt"], ["responses"]))
        for lang, rows in frame.groupby("assigned_lang", sort=False)
    ]  # fmt: skip


def reply_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """One instance per annotator: (prompt, preferred response) -> their second-turn reply."""
    frame = load(files.require(FILE), files).copy()
    frame["model_response"] = [
        row[pref]
        for pref, row in zip(frame["first_turn_preferred_response"], frame.to_dict("records"), strict=True)
    ]
    frame["reply"] = frame["second_turn_prompt"]
    out = []
    for aid, rows in _annotators(frame, files):
        replies = [r for r in rows if not missing(r["reply"])]
        files.drop("rows without a second-turn prompt (reply)", len(rows) - len(replies))
        if replies:
            out.append(Instance(key=f"annotator/{aid}", name="community_alignment_reply",
                                descriptions=[REPLY + demographics(rows[0])],
                                population=rows_to_samples(replies, ["prompt", "model_response"], ["reply"])))  # fmt: skip
    return out


def preference_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """One instance per annotator: prompt and four responses -> preferred response and justification."""
    frame = load(files.require(FILE), files).copy()
    frame["preferred_response"] = frame["first_turn_preferred_response"]
    frame["justification"] = frame["first_turn_feedback"]
    return [
        Instance(key=f"annotator/{aid}", name="community_alignment_reply",
                 descriptions=[f"{PREFERENCE}\nUser demographics: {demographics(rows[0])}", PREFERENCE],
                 population=rows_to_samples(rows, ["prompt", *RESPONSES], ["preferred_response", "justification"]))
        for aid, rows in _annotators(frame, files)
    ]  # fmt: skip


TASKS = (
    episode_task("community_alignment_initial_prompt", SOURCE, side="train", kind="group", build=prompt_instances,
                 files=FILES, n_per=-1, n_iter="~32"),
    episode_task("community_alignment_individual_reply", SOURCE, side="train", kind="individual",
                 build=reply_instances, files=FILES, n_per=-1, n_iter="~25"),
    episode_task("community_alignment_individual_preferences", SOURCE, side="train", kind="individual",
                 build=preference_instances, files=FILES, n_per=-1, n_iter="~25"),
    episode_task("community_alignment_response", SOURCE, side="train", kind="group", build=response_instances,
                 files=FILES, n_per=-1, n_iter=5),
)  # fmt: skip
