"""Haikus of docmarionum1/haikurnn (`haikus`; docs/tasks.md#real-sources, row haikus): three subtasks with
their own seeds.

1. per source corpus, syllable counts -> poem (seed 42); 2. per corpus, a word the poem must contain plus the
syllable counts -> poem (seed 43); 3. the pool of unique poems (seed 44). Each subtask is capped at 200
episodes. The included word is drawn per poem from its own stream, not from a shared global RNG
(docs/deviations.md#seeding-independent-streams-per-instance).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from ..episodes import Instance, InstanceGroup, render_fields, rng_for
from ..sourcekit.remote import github_file
from ..sourcekit.tables import read_csv
from ..sourcekit.values import missing, number
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "haikus", "haikurnn", "GH", "https://github.com/docmarionum1/haikurnn", "see homepage", "docmarionum1/haikurnn",
)  # fmt: skip

REPO = "docmarionum1/haikurnn"
#: master at the time of writing; no public record of the file's SHA-256 could be read.
COMMIT = "082f0e0708a721d405accd597bed418c7e09a25a"
PATH = "input/poems/haikus.csv"
FILE = f"haikus/{PATH}"
COLUMNS = ("0", "1", "2", "0_syllables", "1_syllables", "2_syllables", "source")
SUBTASK_TOTAL = 200
SEEDS = {"syllables": 42, "include_word": 43, "poems": 44}


FILES = TaskFiles((github_file("haikus", REPO, COMMIT, PATH),))


def _first_count(path: Path, row: int, column: str, value: Any) -> int:
    """The first element of a syllable field, read as the list ``[ {field} ]``."""
    try:
        parsed = json.loads(f"[{value}]")
    except json.JSONDecodeError as err:
        raise SourceFormatError(
            path, f"row {row + 2}", column, f"expected syllable counts like '5' or '5,6', got {value!r}"
        ) from err
    if not parsed or not isinstance(parsed[0], (int, float)):
        raise SourceFormatError(
            path, f"row {row + 2}", column, f"expected syllable counts like '5' or '5,6', got {value!r}"
        )
    # a syllable count: a non-negative integer (JSON also reads NaN, -3 and 2.5, which no line has)
    return number(path, f"row {row + 2}", column, parsed[0], integer=True, low=0)


def load(path: Path, files: FetchedFiles) -> list[dict[str, Any]]:
    """Rows with ``poem``, ``syllables`` and ``source``; rows with a missing line are counted and dropped."""
    frame = read_csv(path, COLUMNS, dtype=str, keep_default_na=False, na_values=[""])
    rows = []
    for i, rec in enumerate(frame.to_dict("records")):
        if any(missing(rec[c]) for c in COLUMNS):
            files.drop("haikus with a missing line, syllable count or source")
            continue
        counts = [_first_count(path, i, f"{n}_syllables", rec[f"{n}_syllables"]) for n in range(3)]
        rows.append({
            "poem": f"{rec['0']}\n{rec['1']}\n{rec['2']}",
            "syllables": ", ".join(str(c) for c in counts),
            "source": rec["source"],
            "row": i,
        })  # fmt: skip
    return rows


def subtask_groups(task: TaskSpec, files: FetchedFiles) -> list[InstanceGroup]:
    """The three subtasks as groups, each with its own seed and a cap of 200 episodes."""
    rows = load(files.require(FILE), files)
    for row in rows:
        words = row["poem"].split()
        row["include_word"] = words[
            int(rng_for(SEEDS["include_word"], "include_word", row["row"]).integers(len(words)))
        ]
    corpora: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        corpora.setdefault(row["source"], []).append(row)

    def group(subtask: str, instances: list[Instance]) -> InstanceGroup:
        return InstanceGroup(
            instances, dataclasses.replace(task.params, seed=SEEDS[subtask], max_total=SUBTASK_TOTAL)
        )

    syllables = [
        Instance(
            key=f"syllables/{source}",
            name="haikus-syllables",
            descriptions=["haikus.\npoem ~ syllables"],
            population=[(r["syllables"], r["poem"]) for r in members],
            meta={"source": source},
        )
        for source, members in corpora.items()
    ]
    include_word = [
        Instance(
            key=f"include_word/{source}",
            name="haikus-includeword",
            descriptions=["haikus.\npoem ~ include_word, syllables"],
            population=[(render_fields(r, ["include_word", "syllables"]), r["poem"]) for r in members],
            meta={"source": source},
        )
        for source, members in corpora.items()
    ]
    poems = list(dict.fromkeys(r["poem"] for r in rows))
    pooled = Instance(
        key="poems", name="haikus-egn", descriptions=["haikus."], population=[(None, p) for p in poems]
    )
    return [group("syllables", syllables), group("include_word", include_word), group("poems", [pooled])]


TASKS = (
    episode_task("haikus", SOURCE, side="train", kind="individual", build=subtask_groups, files=FILES, n_per=-1,
                 n_iter=64),
)  # fmt: skip
