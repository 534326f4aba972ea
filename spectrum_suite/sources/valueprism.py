"""ValuePrism (docs/tasks.md#real-sources, row valueprism): four training tasks over situations and their
values, rights and duties.

Each CSV row is one moral consideration (``text``, of kind ``vrd`` = Value / Right / Duty, with an
``explanation`` and a ``valence``) of a ``situation``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from ..episodes import Instance, rng_for, rows_to_samples
from ..sourcekit.remote import NO_COMMIT, hub_file
from ..sourcekit.tables import read_csv
from ..sourcekit.values import check_column, null, text_or_null
from ..task import FetchedFiles, Source, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "valueprism", "ValuePrism", "HF", "https://huggingface.co/datasets/allenai/ValuePrism",
    "AI2 ImpACT license (medium risk)", "Sorensen et al. 2024, Value Kaleidoscope",
)  # fmt: skip

REPO = "allenai/ValuePrism"
HUB_PATH = "full/full.csv"
LOCAL = f"valueprism/{HUB_PATH}"
WHERE = f"https://huggingface.co/datasets/{REPO} (gated: accept the AI2 ImpACT license, then `hf auth login`)"
COLUMNS = ("situation", "vrd", "text", "explanation", "valence")
VRD_KINDS = ("Value", "Right", "Duty")
MIN_VALUE_COUNT = 10
MAX_VALUES = 400

VRD_DESCRIPTION = (
    "You will be given a situation and be asked to do moral reasoning over it. For each situation, you will output "
    "a list of dictionaries, each containing the following keys:\n-text: A relevant moral consideration or factor.\n"
    "-vrd: Whether the consideration is a value, a right, or a duty.\n-explanation: A short explanation of why the "
    "consideration is relevant to the situation.\n-valence: The valence of the consideration (Supports, Opposes, or "
    "Neutral). It should ideally contain at least 3-8 moral considerations."
)


FILES = TaskFiles(
    (hub_file("valueprism", REPO, HUB_PATH, "main", gated=True, unpinned=NO_COMMIT, where=WHERE),)
)


def _load(fetched: FetchedFiles) -> pd.DataFrame:
    """The rows with a situation (the others counted and dropped); every present field is text, a present kind
    one of Value, Right, Duty."""
    path = fetched.require(LOCAL)
    frame = read_csv(path, COLUMNS)
    for column in COLUMNS:
        check_column(path, frame, column, text_or_null, "text or nothing")
    check_column(path, frame, "vrd", lambda v: null(v) or v in VRD_KINDS, f"one of {VRD_KINDS} or nothing")
    missing = frame["situation"].isna()
    fetched.drop("ValuePrism row without a situation", int(missing.sum()))
    return frame[~missing].reset_index(drop=True)


def situation_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """The unique situations, in order of first appearance, as one pool."""
    frame = _load(fetched)
    situations = list(dict.fromkeys(frame["situation"].astype(str)))
    return [Instance(key="pooled", name=task.name, population=[(None, s) for s in situations],
                     descriptions=["Generate a situation.", "Situations to do moral reasoning over"])]  # fmt: skip


def vrd_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """Per situation (sorted): the Python repr of its considerations as dicts, in seeded-shuffle order."""
    frame = _load(fetched)
    shuffled = frame.sample(frac=1, random_state=task.params.seed).reset_index(drop=True)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in shuffled.to_dict("records"):
        # a missing field is None in the Python repr, never nan
        item = {
            key: None if null(row[key]) else row[key] for key in ("text", "vrd", "explanation", "valence")
        }
        grouped.setdefault(str(row["situation"]), []).append(item)
    records = [{"situation": s, "output": str(grouped[s])} for s in sorted(grouped)]
    return [Instance(key="pooled", name=task.name, descriptions=[VRD_DESCRIPTION],
                     population=rows_to_samples(records, ["situation"], ["output"]))]  # fmt: skip


def noncontextual_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """Unique texts of each kind, shuffled by one seeded generator shared across the three kinds."""
    frame = _load(fetched)
    rng = rng_for(task.params.seed, "vrd shuffle")
    out = []
    for kind in VRD_KINDS:
        texts = [str(t) for t in dict.fromkeys(frame.loc[frame["vrd"] == kind, "text"].dropna())]
        texts = [texts[i] for i in rng.permutation(len(texts))]
        out.append(Instance(key=kind, name=f"valueprism_vrds_{kind}", population=[(None, t) for t in texts],
                            descriptions=[f"{kind} (wrt moral reasoning)"]))  # fmt: skip
    return [inst for inst in out if inst.population]


def misc_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """Values named at least 10 times, seeded shuffle, first 400: situations that involve each value."""
    frame = _load(fetched)
    counts = Counter(str(t) for t in frame.loc[frame["vrd"] == "Value", "text"].dropna())
    frequent = sorted((v for v, c in counts.items() if c >= MIN_VALUE_COUNT), key=lambda v: (-counts[v], v))
    rare = sum(c for c in counts.values() if c < MIN_VALUE_COUNT)
    fetched.drop(f"ValuePrism Value row whose value is named fewer than {MIN_VALUE_COUNT} times (misc)", rare)
    order = rng_for(task.params.seed, "value shuffle").permutation(len(frequent))
    chosen = [frequent[i] for i in order][:MAX_VALUES]
    situations_of: dict[str, dict[str, None]] = {}
    for text, situation in zip(frame["text"].astype(str), frame["situation"].astype(str), strict=True):
        situations_of.setdefault(text, {})[situation] = None  # unique, in order of first appearance
    out = []
    for value in chosen:
        out.append(
            Instance(
                key=f"value/{value}",
                name=f"valueprism_misc_{value}",
                descriptions=[f"Generate a situation relating to {value}."],
                population=[(None, s) for s in situations_of[value]],
                meta={"value": value},
            )
        )
    return out


def _task(name: str, kind: str, build, **params) -> TaskSpec:
    return episode_task(name, SOURCE, side="train", kind=kind, build=build, files=FILES, **params)


TASKS = (
    _task("valueprism_situation", "single_variable", situation_instances, n_per=-1, n_iter="~256"),
    _task("valueprism_vrd", "conditional", vrd_instances, n_per=-1, n_iter="~32", max_total=500),
    _task(
        "valueprism_vrds_noncontextual", "single_variable", noncontextual_instances, n_per=-1, n_iter="~256"
    ),
    _task("valueprism_misc", "single_variable", misc_instances, n_iter="~32"),
)
