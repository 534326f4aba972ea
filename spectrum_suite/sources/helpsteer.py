"""HelpSteer2 with synthetic users (docs/tasks.md#helpsteer-users): ``helpsteer``, semi-synthetic preferences.

Each prompt's first two responses form a pair with their five attribute scores. A synthetic user is a
random weight vector over the attributes; they prefer the response with the larger weighted score. One
episode per user holds 40 of their judgements; the weights can appear in the description.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..episodes import Instance, rng_for, rows_to_samples
from ..sourcekit.remote import hub_file
from ..sourcekit.tables import read_jsonl_gz
from ..sourcekit.values import is_number, text
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "helpsteer", "HelpSteer2", "HF", "https://huggingface.co/datasets/nvidia/HelpSteer2", "CC BY 4.0",
    "Wang et al. 2024, HelpSteer2",
)  # fmt: skip

REPO = "nvidia/HelpSteer2"
HUB_PATH = "train.jsonl.gz"
LOCAL = f"helpsteer/{HUB_PATH}"
ATTRIBUTES = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")
# Complexity and verbosity may be weighted negatively.
WEIGHT_SHIFT = np.array([0.05, 0.05, 0.05, 0.5, 0.5])
USERS = 500
PAIRS_PER_USER = 40
INPUTS = ("prompt", "response1", "response2")

GIVEN = "The following are given: prompt, response1, response2. You must generate the winner."
INDIVIDUAL = (
    "The following are ratings from the same individual, who was asked to judge two language model outputs written "
    "by someone else. Generate the winner."
)


FILES = TaskFiles((hub_file("helpsteer", REPO, HUB_PATH, "990b2711a36180dd19d9c94b8627844866f8982a"),))


def _score(path: Path, where: str, name: str, value: Any) -> float:
    if not is_number(value, integer=True, low=0, high=4, strings=False):
        raise SourceFormatError(path, where, name, f"expected a number 0-4, got {value!r}")
    return float(value)


def response_pairs(fetched: FetchedFiles) -> pd.DataFrame:
    """Per unique prompt (order of first appearance): its first two responses and their attribute vectors."""
    path = fetched.require(LOCAL)
    by_prompt: dict[str, list[tuple[str, list[float]]]] = {}
    for line, record in enumerate(read_jsonl_gz(path, ("prompt", "response", *ATTRIBUTES)), start=1):
        where = f"line {line}"
        # HelpSteer2 scores each attribute 0-4 (a Likert scale): a string, NaN or another number is a corrupt file
        scores = [_score(path, where, name, record[name]) for name in ATTRIBUTES]
        prompt = text(path, where, "prompt", record["prompt"])
        by_prompt.setdefault(prompt, []).append(
            (text(path, where, "response", record["response"], empty=True), scores)
        )
    rows = []
    for prompt, responses in by_prompt.items():
        if len(responses) < 2:
            fetched.drop("HelpSteer2 prompt with fewer than two responses")
            continue
        fetched.drop("HelpSteer2 response beyond the first two of its prompt", len(responses) - 2)
        (r1, a1), (r2, a2) = responses[:2]
        rows.append({"prompt": prompt, "response1": r1, "response2": r2, "a1": a1, "a2": a2})
    return pd.DataFrame.from_records(rows, columns=["prompt", "response1", "response2", "a1", "a2"])


def user_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """One instance per synthetic user: 40 response pairs judged by their weights."""
    pairs = response_pairs(fetched)
    seed = task.params.seed
    users = task.params.max_instances or USERS
    weights = rng_for(seed, "user weights").random((users, len(ATTRIBUTES))) - WEIGHT_SHIFT
    take = min(PAIRS_PER_USER, len(pairs))
    out = []
    for i, w in enumerate(weights):
        chosen = pairs.sample(n=take, replace=False, random_state=seed + i)
        records = [
            {"prompt": r["prompt"], "response1": r["response1"], "response2": r["response2"],
             "winner": "1" if float(np.dot(w, r["a1"])) > float(np.dot(w, r["a2"])) else "2"}
            for r in chosen.to_dict("records")
        ]  # fmt: skip
        shown = {name: float(np.round(v, 2)) for name, v in zip(ATTRIBUTES, w, strict=True)}
        out.append(
            Instance(
                key=f"user/{i}",
                name="helpsteer",
                # "descriptionities" is a typo of the reference, kept as data
                # (docs/deviations.md#description-typos-kept-verbatim).
                descriptions=[GIVEN, INDIVIDUAL, f"{INDIVIDUAL}\nUser descriptionities: {shown}"],
                population=rows_to_samples(records, INPUTS, ["winner"]),
                meta={"weights": shown},
                choices=task.choices,
            )
        )
    return out


TASKS = (
    episode_task("helpsteer", SOURCE, side="train", kind="individual", build=user_instances, files=FILES,
                 choices=("1", "2"), n_iter=40, max_instances=500),
)  # fmt: skip
