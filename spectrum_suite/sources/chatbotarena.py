"""Chatbot Arena conversations (docs/tasks.md#real-sources, row chatbotarena): three held-out tasks.

``chatbotarena_prompts``: one judge's opening prompts; ``chatbotarena_individual_prefs``: one judge's
verdicts between two responses; ``chatbotarena_assistant``: one model's responses to opening prompts.
First turn only; judges with fewer than 4 battles are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..episodes import Instance, rng_for, rows_to_samples
from ..sourcekit.remote import hub_file
from ..sourcekit.tables import read_parquet
from ..sourcekit.values import check_column, group_in_order, text
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "chatbotarena", "Chatbot Arena conversations", "HF",
    "https://huggingface.co/datasets/lmsys/chatbot_arena_conversations", "CC BY 4.0 (user prompts) / see homepage",
    "Zheng et al. 2023, Judging LLM-as-a-judge with MT-Bench and Chatbot Arena",
)  # fmt: skip
REPO = "lmsys/chatbot_arena_conversations"
HUB_PATH = "data/train-00000-of-00001-cced8514c7ed782a.parquet"
LOCAL = f"chatbotarena/{HUB_PATH}"
WHERE = f"https://huggingface.co/datasets/{REPO} (gated: accept the terms, then log in with `hf auth login`)"
COLUMNS = ("model_a", "model_b", "winner", "judge", "conversation_a", "conversation_b")
MIN_BATTLES = 4
WINNERS = {"model_a": "a", "model_b": "b", "tie": "tie", "tie (bothbad)": "bothbad"}

PROMPT_DESCRIPTIONS = ["Language model prompt"]
# The reference printed the NumPy repr of the labels in data order; the text is fixed here, so the description
# does not depend on row order (docs/deviations.md#data-fixes-in-single-sources).
PREFS_DESCRIPTIONS = [
    "The following are preferences for a single individual. They will prompt a language model (opening_prompt), "
    "and then will compare the two responses (model_a_response and model_b_response). The user will then rate the "
    "winner, with one of the following options: ['a' 'b' 'tie' 'bothbad']"
]
ASSISTANT_DESCRIPTION = (
    "You will be given opening_prompts to a language model (could be anywhere from pretty good to really good). "
    "Your job is to predict what the language model will say in response to the opening prompt. All responses are "
    "from the same model."
)
PREF_INPUTS = ("opening_prompt", "model_a_response", "model_b_response")


FILES = TaskFiles(
    (
        hub_file(
            "chatbotarena",
            REPO,
            HUB_PATH,
            "1b6335d42a1d2c7e34870c905d03ab964f7f2bd8",
            gated=True,
            sha256="3726a6352e9bfc34e206460646f6e5e99bb837751966a671ddd30c7f64e5b06e",
            where=WHERE,
        ),
    )
)


def _turn(path: Any, row: int, conversation: Any, field: str, index: int) -> str | None:
    """The content of message ``index`` of a conversation (list of {content, role}), stripped."""
    messages = list(conversation) if conversation is not None else []
    if len(messages) <= index:
        return None
    message = messages[index]
    if not isinstance(message, dict) or "content" not in message:
        raise SourceFormatError(
            path, f"row {row} (0-based)", field, "expected a list of {content, role} messages"
        )
    return text(
        path, f"row {row} (0-based)", f"{field}[{index}].content", message["content"], empty=True
    ).strip()


def _zero_based(label: Any) -> str:
    return f"row {label} (0-based)"


def load_battles(fetched: FetchedFiles) -> pd.DataFrame:
    """First-turn battles of judges with at least 4 battles, winners mapped to a / b / tie / bothbad."""
    path = fetched.require(LOCAL)
    frame = read_parquet(path, COLUMNS)
    for column in ("judge", "model_a", "model_b"):  # ids that key instances: never "None" or "nan"
        check_column(
            path, frame, column, lambda v: isinstance(v, str) and bool(v.strip()), "a name", _zero_based
        )
    counts = frame["judge"].value_counts()
    frequent = frame[frame["judge"].isin(counts[counts >= MIN_BATTLES].index)]
    fetched.drop(
        f"Chatbot Arena battle of a judge with fewer than {MIN_BATTLES} battles", len(frame) - len(frequent)
    )
    records = []
    for row, battle in zip(frequent.index, frequent.to_dict("records"), strict=True):
        winner = WINNERS.get(str(battle["winner"]))
        if winner is None:
            raise SourceFormatError(path, f"row {row} (0-based)", "winner",
                                    f"unexpected label {battle['winner']!r}; expected one of {sorted(WINNERS)}")  # fmt: skip
        prompt = _turn(path, row, battle["conversation_a"], "conversation_a", 0)
        response_a = _turn(path, row, battle["conversation_a"], "conversation_a", 1)
        response_b = _turn(path, row, battle["conversation_b"], "conversation_b", 1)
        if prompt is None or response_a is None or response_b is None:
            fetched.drop("Chatbot Arena battle without a first prompt and two responses")
            continue
        records.append({"judge": str(battle["judge"]), "model_a": str(battle["model_a"]),
                        "model_b": str(battle["model_b"]), "winner": winner, "opening_prompt": prompt,
                        "model_a_response": response_a, "model_b_response": response_b})  # fmt: skip
    return pd.DataFrame.from_records(records, columns=["judge", "model_a", "model_b", "winner", *PREF_INPUTS])


def prompt_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """Judges in a seeded random order (the registry's cap then takes the first 1000), prompts per judge."""
    battles = load_battles(fetched)
    by_judge = group_in_order(battles.to_dict("records"), "judge")
    judges = list(by_judge)
    order = rng_for(task.params.seed, "judge order").permutation(len(judges))
    return [
        Instance(key=f"judge/{judges[i]}", name=task.name, descriptions=PROMPT_DESCRIPTIONS,
                 population=[(None, r["opening_prompt"]) for r in by_judge[judges[i]]], meta={"judge": judges[i]})
        for i in order
    ]  # fmt: skip


def preference_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """Judges in file order, each a table of (prompt, two responses) -> verdict."""
    battles = load_battles(fetched)
    return [
        Instance(key=f"judge/{judge}", name=task.name, descriptions=PREFS_DESCRIPTIONS,
                 population=rows_to_samples(rows, PREF_INPUTS, ["winner"]), meta={"judge": judge},
                 choices=task.choices)
        for judge, rows in group_in_order(battles.to_dict("records"), "judge").items()
    ]  # fmt: skip


def assistant_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """Every model seen as A or B (sorted): its A rows, then its B rows. The reference skipped the models only ever
    seen as B (docs/deviations.md#data-fixes-in-single-sources)."""
    battles = load_battles(fetched)
    shuffled = battles.sample(frac=1, random_state=task.params.seed).reset_index(drop=True)
    models: Sequence[str] = sorted(set(shuffled["model_a"]) | set(shuffled["model_b"]))
    out = []
    for model in models:
        as_a = shuffled[shuffled["model_a"] == model]
        as_b = shuffled[shuffled["model_b"] == model]
        samples = list(zip(as_a["opening_prompt"], as_a["model_a_response"], strict=True)) + list(
            zip(as_b["opening_prompt"], as_b["model_b_response"], strict=True)
        )
        out.append(Instance(key=f"model/{model}", name=f"chatbotarena_icl_assistance_{model}",
                            descriptions=[ASSISTANT_DESCRIPTION, f"{ASSISTANT_DESCRIPTION}\nModel: {model}"],
                            population=samples, meta={"model": model}))  # fmt: skip
    return out


TASKS = (
    episode_task("chatbotarena_prompts", SOURCE, side="test", kind="individual", build=prompt_instances,
                 files=FILES, n_iter=100, max_instances=1000),
    episode_task("chatbotarena_individual_prefs", SOURCE, side="test", kind="individual",
                 build=preference_instances, files=FILES, choices=("a", "b", "tie", "bothbad"), n_per=-1,
                 n_iter="~16", max_instances=1000),
    episode_task("chatbotarena_assistant", SOURCE, side="test", kind="group", build=assistant_instances,
                 files=FILES, n_per=-1, n_iter="~32"),
)  # fmt: skip
