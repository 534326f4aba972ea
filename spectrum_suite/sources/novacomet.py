"""NovaCOMET (docs/tasks.md#real-sources, row novacomet): ``novacomet_premise`` and ``novacomet_hypothesis``
(held out).

Premises are everyday events; each has several commonsense hypotheses. The premise task samples premises; the
hypothesis task maps a premise to the JSON list of its hypotheses. Rows are named after their own task (the
reference swapped the names: docs/deviations.md#data-fixes-in-single-sources); the hypothesis descriptions
still say "separated by semicolons" although the output is a JSON list, because descriptions are data.
"""

from __future__ import annotations

import json

from ..episodes import Instance, rows_to_samples
from ..sourcekit.remote import NO_EXPORT_COMMIT, parquet_export
from ..sourcekit.tables import read_parquet
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "novacomet", "NovaCOMET (the Hub's Parquet export, refs/convert/parquet)", "HF",
    "https://huggingface.co/datasets/tsor13/novacomet", "see homepage",
    "West et al. 2023, NovaCOMET: Open Commonsense Foundation Models with Symbolic Knowledge Distillation",
)  # fmt: skip
REPO = "tsor13/novacomet"
# The train split as the Hub's Parquet export serves it: every NNNN.parquet shard of default/train.
FILE = parquet_export("novacomet", REPO, "default", "train", unpinned=NO_EXPORT_COMMIT)
LOCAL = FILE.path

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


FILES = TaskFiles((FILE,))


def _pairs(fetched: FetchedFiles) -> list[tuple[str, str]]:
    pairs = []
    for path in fetched.parts(LOCAL):
        frame = read_parquet(path, ["premise", "hypothesis"])
        missing = frame[["premise", "hypothesis"]].isna().any(axis=1)
        fetched.drop("NovaCOMET row without premise or hypothesis", int(missing.sum()))
        for row, premise, hypothesis in frame.loc[~missing, ["premise", "hypothesis"]].itertuples(index=True):
            if not isinstance(premise, str) or not isinstance(hypothesis, str):
                raise SourceFormatError(
                    path, f"row {row} (0-based)", "premise", "premise and hypothesis must be strings"
                )
            pairs.append((premise, hypothesis))
    return pairs


def premise_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """One pooled instance of the premises, unique, in order of first appearance."""
    premises = list(dict.fromkeys(premise for premise, _ in _pairs(fetched)))
    return [Instance(key="pooled", name=task.name, descriptions=PREMISE_DESCRIPTIONS,
                     population=[(None, p) for p in premises])]  # fmt: skip


def hypothesis_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """One pooled instance mapping each premise (sorted) to the JSON list of its hypotheses."""
    grouped: dict[str, list[str]] = {}
    for premise, hypothesis in _pairs(fetched):
        grouped.setdefault(premise, []).append(hypothesis)
    records = [{"premise": p, "hypotheses": json.dumps(grouped[p])} for p in sorted(grouped)]
    return [Instance(key="pooled", name=task.name, descriptions=HYPOTHESIS_DESCRIPTIONS,
                     population=rows_to_samples(records, ["premise"], ["hypotheses"]))]  # fmt: skip


TASKS = (
    episode_task("novacomet_hypothesis", SOURCE, side="test", kind="conditional", build=hypothesis_instances,
                 files=FILES, seed=43, n_per=-1, n_iter="~32"),
    episode_task("novacomet_premise", SOURCE, side="test", kind="single_variable", build=premise_instances,
                 files=FILES, n_per=-1, n_iter="~64"),
)  # fmt: skip
