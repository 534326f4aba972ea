"""OpenAI Collective Alignment (`collective_alignment_individual`; `spec/tasks.md` §5.31).

Joins the first 100,000 rows of ``comparisons.jsonl`` (prompts and the four responses) with the first
100,000 of ``merged_comparisons_annotators.jsonl`` (one annotator's assessment per row); one process per
annotator with at least three assessments, annotators in sorted order.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from ..episodes import Instance, rows_to_samples
from ..fetch import FetchedFiles
from ..task import Source, SourceFormatError, TaskFiles, TaskSpec, episode_task
from .remote import hub_file
from .tables import read_jsonl

SOURCE = Source(
    "collective_alignment", "Collective Alignment", "HF", "https://huggingface.co/datasets/openai/collective-alignment-1",
    "CC BY 4.0", "OpenAI 2025, Collective alignment",
)  # fmt: skip
REPO = "openai/collective-alignment-1"
COMPARISONS = "collective_alignment/comparisons.jsonl"
ASSESSMENTS = "collective_alignment/merged_comparisons_annotators.jsonl"
ROWS = 100_000
MIN_ROWS = 3
INPUTS = ["conversation", "response_a", "response_b", "response_c", "response_d"]
OUTPUTS = ["personal_ranking", "world_ranking", "personal_rationale", "world_rationale", "unacceptable_responses",
           "unacceptable_rationale", "importance", "representativeness", "subjectivity"]  # fmt: skip
DESCRIPTION = (
    "The following are AI response evaluations from a single individual with specific demographics and values. "
    "They were asked to provide their own personal ranking of the model responses, a ranking for what is best for "
    "the world, a rationale for each of them, which (if any) unacceptable responses are unacceptable, and a "
    "rationale for why they are unacceptable. Finally, they were asked to provide the importance of getting the "
    "correct answer, how representative the response is of something they would write, and whether they feel the "
    "evaluation is subjective.\nAnnotator demographics: "
)
FILES = TaskFiles((hub_file("collective_alignment", REPO, "comparisons.jsonl"),
                   hub_file("collective_alignment", REPO, "merged_comparisons_annotators.jsonl")))  # fmt: skip


def prompts(path: Path) -> dict[Any, dict[str, str]]:
    """prompt_id -> conversation (the user turns joined by newlines) and ``response_x`` texts."""
    out = {}
    for number, rec in enumerate(
        itertools.islice(read_jsonl(path, ("prompt_id", "prompt", "responses")), ROWS), start=1
    ):
        messages = rec["prompt"].get("messages") if isinstance(rec["prompt"], dict) else None
        if not isinstance(messages, list) or not isinstance(rec["responses"], list):
            raise SourceFormatError(
                path, f"record {number}", "prompt.messages", "expected a list of messages and of responses"
            )
        entry = {
            "conversation": "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
        }
        for response in rec["responses"]:
            try:
                entry[f"response_{str(response['response_index']).lower()}"] = response["messages"][0][
                    "content"
                ]
            except (KeyError, IndexError, TypeError) as err:
                raise SourceFormatError(
                    path, f"record {number}", "responses[].messages[0].content", "missing"
                ) from err
        out[rec["prompt_id"]] = entry
    return out


def _block(blocks: dict[str, Any], kind: str) -> dict[str, Any]:
    items = blocks.get(kind) or []
    return items[0] if items and isinstance(items[0], dict) else {}


def assessment(entry: dict[str, str], rec: dict[str, Any]) -> dict[str, Any]:
    """One row: the prompt's conversation and responses, and the annotator's nine answers."""
    blocks = rec["ranking_blocks"] if isinstance(rec["ranking_blocks"], dict) else {}
    personal, world, unacceptable = (_block(blocks, k) for k in ("personal", "world", "unacceptable"))
    return {
        **{k: entry.get(k, "") for k in INPUTS},
        "personal_ranking": personal.get("ranking", ""),
        "world_ranking": world.get("ranking", ""),
        "personal_rationale": personal.get("rationale", ""),
        "world_rationale": world.get("rationale", ""),
        "unacceptable_responses": "|".join(str(r) for r in unacceptable.get("rating", []) or []),
        "unacceptable_rationale": unacceptable.get("rationale", ""),
        "importance": rec["importance"],
        "representativeness": rec["representativeness"],
        "subjectivity": rec["subjectivity"],
    }


def instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """One instance per annotator with at least three assessments among the rows read, annotators sorted."""
    lookup = prompts(files.require(COMPARISONS))
    path = files.require(ASSESSMENTS)
    fields = (
        "prompt_id",
        "annotator_id",
        "ranking_blocks",
        "importance",
        "representativeness",
        "subjectivity",
        "demographics",
    )
    rows = list(itertools.islice(read_jsonl(path, fields), ROWS))
    counts: dict[Any, int] = {}
    for rec in rows:
        counts[rec["annotator_id"]] = counts.get(rec["annotator_id"], 0) + 1
    annotators: dict[Any, list[dict[str, Any]]] = {}
    for rec in rows:
        if counts[rec["annotator_id"]] < MIN_ROWS:
            files.drop(f"assessments of annotators with fewer than {MIN_ROWS}")
        elif rec["prompt_id"] not in lookup:
            files.drop("assessments whose prompt is not among the comparisons read")
        else:
            annotators.setdefault(rec["annotator_id"], []).append(
                {**assessment(lookup[rec["prompt_id"]], rec), "demographics": rec["demographics"]}
            )
    out = []
    for aid in sorted(annotators, key=str):
        members = annotators[aid]
        demo_text = json.dumps(members[0]["demographics"])
        out.append(Instance(key=f"annotator/{aid}", name="collective_alignment_individual", descriptions=[DESCRIPTION + demo_text],
                            population=rows_to_samples(members, INPUTS, OUTPUTS), meta={"annotator_id": str(aid)}))  # fmt: skip
    return out


TASKS = (
    episode_task("collective_alignment_individual", SOURCE, side="train", kind="individual", build=instances,
                 files=FILES),
)  # fmt: skip
