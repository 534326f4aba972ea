"""OpenAI Collective Alignment (`collective_alignment_individual`; docs/tasks.md#real-sources, row
collective_alignment).

Joins the first 100,000 rows of ``comparisons.jsonl`` (prompts and the four responses) with the first 100,000
of ``merged_comparisons_annotators.jsonl`` (one annotator's assessment per row); one process per annotator
with at least three assessments, annotators in sorted order.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from ..episodes import Instance, rows_to_samples
from ..sourcekit.remote import NO_COMMIT, hub_file
from ..sourcekit.tables import read_jsonl
from ..sourcekit.values import number, text
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

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
FILES = TaskFiles((hub_file("collective_alignment", REPO, "comparisons.jsonl", "main", unpinned=NO_COMMIT),
                   hub_file("collective_alignment", REPO, "merged_comparisons_annotators.jsonl", "main",
                            unpinned=NO_COMMIT)))  # fmt: skip


def prompts(path: Path) -> dict[Any, dict[str, str]]:
    """prompt_id -> conversation (the user turns joined by newlines) and ``response_x`` texts."""
    out = {}
    for record_no, rec in enumerate(
        itertools.islice(read_jsonl(path, ("prompt_id", "prompt", "responses")), ROWS), start=1
    ):
        messages = rec["prompt"].get("messages") if isinstance(rec["prompt"], dict) else None
        if not isinstance(messages, list) or not isinstance(rec["responses"], list):
            raise SourceFormatError(
                path, f"record {record_no}", "prompt.messages", "expected a list of messages and of responses"
            )
        where = f"record {record_no}"
        if not all(isinstance(m, dict) for m in messages):
            raise SourceFormatError(
                path, where, "prompt.messages", "expected a list of {role, content} objects"
            )
        entry = {
            "conversation": "\n".join(
                text(path, where, "prompt.messages[].content", m.get("content", ""), empty=True)
                for m in messages
                if m.get("role") == "user"
            )
        }
        for response in rec["responses"]:
            try:
                index, content = response["response_index"], response["messages"][0]["content"]
            except (KeyError, IndexError, TypeError) as err:
                raise SourceFormatError(path, where, "responses[].messages[0].content", "missing") from err
            if not isinstance(index, str) or f"response_{index.lower()}" not in INPUTS:
                raise SourceFormatError(
                    path, where, "responses[].response_index", f"expected A-D, got {index!r}"
                )
            entry[f"response_{index.lower()}"] = text(
                path, where, "responses[].messages[0].content", content, empty=True
            )
        out[rec["prompt_id"]] = entry
    return out


def _block(blocks: dict[str, Any], kind: str) -> dict[str, Any]:
    items = blocks.get(kind) or []
    return items[0] if items and isinstance(items[0], dict) else {}


def _answer(path: Path, where: str, name: str, value: Any) -> Any:
    """A scalar answer: text, a finite number or null (NaN, a bool or a list is a corrupt record)."""
    if value is None or isinstance(value, str):
        return value
    return number(path, where, name, value)


def assessment(path: Path, where: str, entry: dict[str, str], rec: dict[str, Any]) -> dict[str, Any]:
    """One row: the prompt's conversation and responses, and the annotator's nine answers (a block's missing
    ranking or rationale is the empty string, as the reference had it; a present one must be text)."""
    blocks = rec["ranking_blocks"] if isinstance(rec["ranking_blocks"], dict) else {}
    personal, world, unacceptable = (_block(blocks, k) for k in ("personal", "world", "unacceptable"))

    def field(block: dict[str, Any], kind: str, name: str) -> str:
        return text(path, where, f"ranking_blocks.{kind}[0].{name}", block.get(name, ""), empty=True)

    rated = unacceptable.get("rating", []) or []
    if not isinstance(rated, list) or not all(isinstance(r, str) for r in rated):
        raise SourceFormatError(
            path, where, "ranking_blocks.unacceptable[0].rating", f"expected response letters, got {rated!r}"
        )
    return {
        **{k: entry.get(k, "") for k in INPUTS},
        "personal_ranking": field(personal, "personal", "ranking"),
        "world_ranking": field(world, "world", "ranking"),
        "personal_rationale": field(personal, "personal", "rationale"),
        "world_rationale": field(world, "world", "rationale"),
        "unacceptable_responses": "|".join(rated),
        "unacceptable_rationale": field(unacceptable, "unacceptable", "rationale"),
        **{
            name: _answer(path, where, name, rec[name])
            for name in ("importance", "representativeness", "subjectivity")
        },
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
    for record_no, rec in enumerate(rows, start=1):
        for name in ("annotator_id", "prompt_id"):
            if isinstance(rec[name], bool) or not isinstance(rec[name], (str, int)):
                raise SourceFormatError(
                    path, f"record {record_no}", name, f"expected an id, got {rec[name]!r}"
                )
        counts[rec["annotator_id"]] = counts.get(rec["annotator_id"], 0) + 1
    annotators: dict[Any, list[dict[str, Any]]] = {}
    for record_no, rec in enumerate(rows, start=1):
        if counts[rec["annotator_id"]] < MIN_ROWS:
            files.drop(f"assessments of annotators with fewer than {MIN_ROWS}")
        elif rec["prompt_id"] not in lookup:
            files.drop("assessments whose prompt is not among the comparisons read")
        else:
            where = f"record {record_no}"
            row = assessment(path, where, lookup[rec["prompt_id"]], rec)
            annotators.setdefault(rec["annotator_id"], []).append(
                {**row, "demographics": rec["demographics"], "where": where}
            )
    out = []
    for aid in sorted(annotators, key=str):
        members = annotators[aid]
        try:  # JSON with null for a missing answer, never a bare NaN
            demo_text = json.dumps(members[0]["demographics"], allow_nan=False)
        except ValueError as err:
            raise SourceFormatError(
                path, members[0]["where"], "demographics", f"not JSON data ({err})"
            ) from err
        out.append(Instance(key=f"annotator/{aid}", name="collective_alignment_individual", descriptions=[DESCRIPTION + demo_text],
                            population=rows_to_samples(members, INPUTS, OUTPUTS), meta={"annotator_id": str(aid)}))  # fmt: skip
    return out


TASKS = (
    episode_task("collective_alignment_individual", SOURCE, side="train", kind="individual", build=instances,
                 files=FILES),
)  # fmt: skip
