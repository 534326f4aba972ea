"""IssueBench (docs/tasks.md#real-sources, row issuebench): the unique political topics and the unique prompt
templates.

The ``prompts`` config's ``prompts_full`` split (2.5 M prompts in two Parquet shards) crosses every template
with every topic; only its ``topic_text`` and ``template_text`` columns are read.
"""

from __future__ import annotations

import pandas as pd

from ..episodes import Instance
from ..sourcekit.remote import NO_COMMIT, hub_file
from ..sourcekit.tables import read_parquet
from ..sourcekit.values import check_column, text_or_null
from ..task import FetchedFiles, Source, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "issuebench", "IssueBench", "HF", "https://huggingface.co/datasets/Paul/IssueBench", "CC BY 4.0",
    "Röttger et al. 2025, IssueBench",
)  # fmt: skip

REPO = "Paul/IssueBench"
SHARDS = tuple(f"prompts/prompts_full-{i:05d}-of-00002.parquet" for i in range(2))
COLUMNS = ("topic_text", "template_text")
DESCRIPTIONS = {
    "topics": "Topics relating to politics",
    "templates": "Templates to use for a language model benchmark about bias on a topic. The topic should be in "
    "the template as X.",
}


WHERE = f"https://huggingface.co/datasets/{REPO} (config prompts, split prompts_full)"
FILES = TaskFiles(
    tuple(hub_file("issuebench", REPO, shard, "main", unpinned=NO_COMMIT, where=WHERE) for shard in SHARDS)
)


def topic_template_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """Two instances: the unique topics and the unique templates of both shards."""
    topics: dict[str, None] = {}
    templates: dict[str, None] = {}
    for shard in SHARDS:
        path = fetched.require(f"issuebench/{shard}")
        frame = read_parquet(path, COLUMNS, only=True)
        for column in COLUMNS:  # text (a number there is a wrong file); a Parquet string column always is
            if not isinstance(frame[column].dtype, pd.StringDtype):
                check_column(
                    path, frame, column, text_or_null, "text", lambda label: f"row {label} (0-based)"
                )
        missing = frame.isna().any(axis=1)
        fetched.drop("IssueBench prompt without topic or template text", int(missing.sum()))
        topics.update(dict.fromkeys(frame.loc[~missing, "topic_text"].astype(str)))
        templates.update(dict.fromkeys(frame.loc[~missing, "template_text"].astype(str)))
    return [
        Instance(key=kind, name=f"issuebench_{kind}", descriptions=[DESCRIPTIONS[kind]],
                 population=[(None, text) for text in values])
        for kind, values in (("topics", topics), ("templates", templates))
    ]  # fmt: skip


TASKS = (
    episode_task(
        "issuebench",
        SOURCE,
        side="train",
        kind="single_variable",
        build=topic_template_instances,
        files=FILES,
        n_per=2,
    ),
)
