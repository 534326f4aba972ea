"""NovaCOMET (`spec/tasks.md` §5.3): ``novacomet_premise`` and ``novacomet_hypothesis`` (held out).

Premises are everyday events; each has several commonsense hypotheses. The premise task samples
premises; the hypothesis task maps a premise to the JSON list of its hypotheses. Rows are named after
their own task (the reference swapped the names, defects D10); the hypothesis descriptions still say
"separated by semicolons" although the output is a JSON list, because descriptions are data.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..episodes import Instance, rows_to_samples
from .base import FetchedFiles, RemoteFile, SourceFormatError
from .readers import hub_url, read_parquet

if TYPE_CHECKING:
    from ..registry import TaskSpec

REPO = "tsor13/novacomet"
# The train split as the Hub's Parquet export serves it (the repository's own file name is not pinned here).
HUB_PATH = "default/train/0000.parquet"
LOCAL = f"novacomet/{HUB_PATH}"
REVISION = "refs/convert/parquet"

PREMISE_DESCRIPTIONS = [
    "Generate an event.",
    "Events",
    "Generate a list of diverse events.",
    "Situations about which commonsense reasoning could be required.",
    "Single sentence events",
]
HYPOTHESIS_DESCRIPTIONS = [
    "Given a premise (or situation), generate a list of commonsense hypotheses separated by semicolons.",
    "You will be given a premise. Generate a list of around 8-10 hypotheses (or inferences) separated by semicolons.",
]


def files(task: TaskSpec) -> list[RemoteFile]:
    return [
        RemoteFile(LOCAL, hub_url(REPO, HUB_PATH, REVISION), None, f"https://huggingface.co/datasets/{REPO}")
    ]


def _pairs(fetched: FetchedFiles) -> list[tuple[str, str]]:
    path = fetched.require(LOCAL)
    frame = read_parquet(path, ["premise", "hypothesis"])
    missing = frame[["premise", "hypothesis"]].isna().any(axis=1)
    fetched.drop("NovaCOMET row without premise or hypothesis", int(missing.sum()))
    pairs = []
    for row, premise, hypothesis in frame.loc[~missing, ["premise", "hypothesis"]].itertuples(index=True):
        if not isinstance(premise, str) or not isinstance(hypothesis, str):
            raise SourceFormatError(
                path, f"row {row} (0-based)", "premise", "premise and hypothesis must be strings"
            )
        pairs.append((premise, hypothesis))
    return pairs


def instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    pairs = _pairs(fetched)
    if task.name == "novacomet_premise":
        premises = list(
            dict.fromkeys(premise for premise, _ in pairs)
        )  # unique, in order of first appearance
        return [Instance(key="pooled", name=task.name, descriptions=PREMISE_DESCRIPTIONS,
                         population=[(None, p) for p in premises])]  # fmt: skip
    if task.name == "novacomet_hypothesis":
        grouped: dict[str, list[str]] = {}
        for premise, hypothesis in pairs:
            grouped.setdefault(premise, []).append(hypothesis)
        records = [{"premise": p, "hypotheses": json.dumps(grouped[p])} for p in sorted(grouped)]
        return [Instance(key="pooled", name=task.name, descriptions=HYPOTHESIS_DESCRIPTIONS,
                         population=rows_to_samples(records, ["premise"], ["hypotheses"]))]  # fmt: skip
    raise KeyError(f"the novacomet adapter has no episode task {task.name!r}")
