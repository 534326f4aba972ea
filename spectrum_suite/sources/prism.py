"""PRISM alignment (`prism_prompts`, `prism_prompts_individual`, `prism_individual_preferences`;
docs/tasks.md#real-sources, row prism).

Reads ``conversations.jsonl`` and ``survey.jsonl`` of the Hub repository. The preferences description names
the user's demographics (the reference left the ``{demographics}`` slot unfilled:
docs/deviations.md#data-fixes-in-single-sources); users without a survey row are counted and dropped (the
survey is inner-joined).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ..episodes import Instance, InstanceGroup, rows_to_samples
from ..sourcekit.remote import NO_COMMIT, hub_file
from ..sourcekit.tables import read_jsonl
from ..sourcekit.values import missing, number, text
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "prism", "PRISM alignment", "HF", "https://huggingface.co/datasets/HannahRoseKirk/prism-alignment",
    "CC BY-NC 4.0", "Kirk et al. 2024, The PRISM Alignment Dataset",
)  # fmt: skip
REPO = "HannahRoseKirk/prism-alignment"
CONVERSATIONS = "prism/conversations.jsonl"
SURVEY = "prism/survey.jsonl"
CONVERSATION_TYPES = {
    "unguided": "Ask, request or talk to the model about anything. It is up to you!",
    "values guided": "Ask, request or talk to the model about something important to you or that represents your values. This could be related to work, religion, family and relationship, politics or culture",
    "controversy guided": "Ask, request or talk to the model about something controversial or where people would disagree in your community, culture or country.",
}  # fmt: skip
PROMPTS_DESCRIPTION = (
    "Generate a request to ask a language model, according to the conversation type description."
)
INDIVIDUAL_DESCRIPTIONS = (
    "Generate opening prompts for conversations (all same individual)",
    "Generate opening prompts for conversations given user demographics:\n\n{demographics} (all same individual)",
)
PREFERENCES_DESCRIPTION = (
    "The following is a prompt a user game to a chatbot, along with 4 responses. They were asked to choose their "
    "preferred response and rate the responses on a scale of 0 to 100, where 100 is the most preferred. The "
    "responses were labeled A, B, C, D.\nUser demographics: {demographics}"
)
PER_USER_TOTAL = 800
LETTERS = "abcd"

CONVERSATIONS_FILE = hub_file("prism", REPO, "conversations.jsonl", "main", unpinned=NO_COMMIT)
SURVEY_FILE = hub_file("prism", REPO, "survey.jsonl", "main", unpinned=NO_COMMIT)


def _get(record: dict[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def demographics(survey: dict[str, Any]) -> str:
    """``Age: ..; Gender: ..; ...`` from the survey row, each part only when present."""
    parts = (("Age", "age"), ("Gender", "gender"), ("Education", "education"), ("Employment", "employment_status"),
             ("Country", "location.reside_country"), ("Religion", "religion.simplified"))  # fmt: skip
    return "; ".join(
        f"{label}: {_get(survey, key)}" for label, key in parts if not missing(_get(survey, key))
    )


def _user(path: Path, line: int, rec: dict[str, Any]) -> Any:
    """The record's user id: a string or an integer (anything else cannot key a user)."""
    uid = rec["user_id"]
    if isinstance(uid, bool) or not isinstance(uid, (str, int)):
        raise SourceFormatError(path, f"line {line}", "user_id", f"expected a user id, got {uid!r}")
    return uid


def _conversations(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line, rec in enumerate(read_jsonl(path, ("user_id", "conversation_type", "opening_prompt")), start=1):
        _user(path, line, rec)
        if (
            not isinstance(rec["conversation_type"], str)
            or rec["conversation_type"] not in CONVERSATION_TYPES
        ):
            raise SourceFormatError(path, f"line {line}", "conversation_type",
                                    f"unexpected label {rec['conversation_type']!r}; expected one of {sorted(CONVERSATION_TYPES)}")  # fmt: skip
        rows.append({**rec, "line": line,
                     "conversation_type_description": CONVERSATION_TYPES[rec["conversation_type"]],
                     "opening_prompt": text(path, f"line {line}", "opening_prompt", rec["opening_prompt"]).strip()})  # fmt: skip
    return rows


def _surveys(path: Path) -> dict[Any, str]:
    return {
        _user(path, line, rec): demographics(rec)
        for line, rec in enumerate(read_jsonl(path, ("user_id",)), start=1)
    }


def preference_row(path: Path, rec: dict[str, Any]) -> dict[str, Any] | None:
    """Opening prompt, the first four scored first-turn responses and the chosen letter; None when incomplete."""
    history = rec.get("conversation_history")
    if not isinstance(history, list):
        return None
    turn0 = [m for m in history if isinstance(m, dict) and m.get("turn") == 0 and m.get("role") == "model"
             and m.get("score") is not None and m.get("if_chosen") is not None]  # fmt: skip
    if len(turn0) < 2:
        return None
    turn0 = sorted(turn0, key=lambda m: m.get("within_turn_id", 0))[:4]
    if len(turn0) < 4:
        return None
    where = f"line {rec['line']}"
    for message in turn0:
        if not isinstance(message["if_chosen"], bool):
            raise SourceFormatError(
                path,
                where,
                "conversation_history[].if_chosen",
                f"expected true or false, got {message['if_chosen']!r}",
            )
    chosen = [LETTERS[i] for i, m in enumerate(turn0) if m["if_chosen"]]
    if not chosen:
        return None
    row: dict[str, Any] = {"opening_prompt": rec["opening_prompt"], "chosen_response": chosen[0]}
    for letter, message in zip(LETTERS, turn0, strict=True):
        if missing(message.get("content")):
            return None
        # a rating on the 0-100 slider; anything else (text, NaN, a fraction) is a corrupt file
        row[f"score_{letter}"] = number(
            path,
            where,
            "conversation_history[].score",
            message["score"],
            integer=True,
            low=0,
            high=100,
            strings=False,
        )
        row[f"response_{letter}"] = text(path, where, "conversation_history[].content", message["content"])
    return row


GIVEN = ["conversation_type_description"]


def prompt_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """One pooled instance: conversation type description -> opening prompt."""
    rows = _conversations(files.require(CONVERSATIONS))
    return [Instance(key="pooled", name="prism_prompt", descriptions=[PROMPTS_DESCRIPTION],
                     population=rows_to_samples(rows, GIVEN, ["opening_prompt"]))]  # fmt: skip


def _surveyed(files: FetchedFiles) -> tuple[Path, list[dict[str, Any]], dict[Any, str]]:
    """The conversations of users with a survey row (the others counted and dropped), and the demographics."""
    path = files.require(CONVERSATIONS)
    rows = _conversations(path)
    surveys = _surveys(files.require(SURVEY))
    unknown = [r for r in rows if r["user_id"] not in surveys]
    files.drop("conversations of users without a survey row", len(unknown))
    rows = [r for r in rows if r["user_id"] in surveys]
    return path, rows, surveys


def user_prompt_groups(task: TaskSpec, files: FetchedFiles) -> list[InstanceGroup]:
    """One group per user: their opening prompts, described with their demographics, capped at 800 episodes."""
    _, rows, surveys = _surveyed(files)
    users: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        users.setdefault(r["user_id"], []).append(r)
    params = dataclasses.replace(task.params, max_total=PER_USER_TOTAL)
    return [
        InstanceGroup([Instance(
            key=f"user/{uid}", name="prism_prompts_with_demographics",
            descriptions=[INDIVIDUAL_DESCRIPTIONS[0], INDIVIDUAL_DESCRIPTIONS[1].format(demographics=surveys[uid])],
            population=rows_to_samples(members, GIVEN, ["opening_prompt"]), meta={"user_id": str(uid)})], params)
        for uid, members in users.items()
    ]  # fmt: skip


def preference_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """One instance per user with at least two complete first-turn preference rows, users sorted."""
    path, rows, surveys = _surveyed(files)
    by_user: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        pref = preference_row(path, r)
        if pref is None:
            files.drop("conversations without four scored first-turn responses and a chosen one")
            continue
        by_user.setdefault(r["user_id"], []).append(pref)
    few = [u for u, prefs in by_user.items() if len(prefs) < 2]
    files.drop(
        "preference rows of users with fewer than 2 complete conversations", sum(len(by_user[u]) for u in few)
    )
    inputs = ["opening_prompt", "response_a", "response_b", "response_c", "response_d"]
    outputs = ["chosen_response", "score_a", "score_b", "score_c", "score_d"]
    return [
        Instance(key=f"user/{uid}", name="prism_individual_preferences",
                 descriptions=[PREFERENCES_DESCRIPTION.format(demographics=surveys[uid])],
                 population=rows_to_samples(by_user[uid], inputs, outputs), meta={"user_id": str(uid)})
        for uid in sorted(by_user, key=str) if uid not in few
    ]  # fmt: skip


WITH_SURVEY = TaskFiles((CONVERSATIONS_FILE, SURVEY_FILE))
TASKS = (
    episode_task("prism_prompts", SOURCE, side="train", kind="conditional", build=prompt_instances,
                 files=TaskFiles((CONVERSATIONS_FILE,)), n_per=-1, n_iter="~128"),
    episode_task("prism_prompts_individual", SOURCE, side="train", kind="individual", build=user_prompt_groups,
                 files=WITH_SURVEY, seed=43, n_per=-1, n_iter="~96"),
    episode_task("prism_individual_preferences", SOURCE, side="train", kind="individual",
                 build=preference_instances, files=WITH_SURVEY, n_per=-1, n_iter="~20"),
)  # fmt: skip
