"""BARE synthetic data (`bare_gsm8k`, `bare_enron`, `bare_hotpot`, `bare_lcb`, `newsgroups`, `pubmed`).

Each file gives four modes (docs/tasks.md#real-sources, row bare): a joint mode, two conditional ones and a
single-field one, each a pooled process with its own seed, task seed + 1 ... + 4 in that order (the reference
dropped these offsets: docs/deviations.md#data-fixes-in-single-sources), and its own cap of 500 episodes.

The files are manual: the public repository pgasawa/BARE holds the method's code but, at every one of its
commits, none of the generated data (the paper's own download script says the data must be asked of the
authors), so nothing can be downloaded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ..episodes import Instance, InstanceGroup, rows_to_samples
from ..sourcekit.tables import read_jsonl
from ..sourcekit.values import text
from ..task import FetchedFiles, RemoteFile, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "bare", "BARE synthetic data", "MAN", "https://github.com/pgasawa/BARE", "see homepage",
    "Zhu et al. 2025, BARE: Combining Base and Instruction-Tuned Language Models",
)  # fmt: skip
ROOT = "bare/sample_generated_data"
WHERE = (
    "the BARE authors (Zhu et al. 2025; contact them through https://github.com/pgasawa/BARE, whose commits hold "
    "no generated data): ask for the sample generated data, file {release}"
)
GSM8K = "gsm8k/gsm8k_gpt_4o_refine_llama_70b_base_n=1000.jsonl"
ENRON = "enron/enron_gpt_4o_refine_llama_70b_base_n=500.jsonl"
HOTPOT = "hotpot/hotpot_gpt_4o_refine_llama_70b_base_n=1000.jsonl"
LCB = "lcb/lcb_gpt_4o_refine_70b_base_n=1000.jsonl"
NEWSGROUPS = "newsgroups/newsgroups_gpt_4o_refine_llama_70b_base_n=500.jsonl"
PUBMED = "pubmed/pubmed_gpt_4o_refine_llama_70b_base_n=1000.jsonl"
Mode = tuple[str, list[str], list[str], tuple[str, str, str]]

GSM8K_MODES: list[Mode] = [
    ("gsm8k_question_answer", [], ["question", "answer"], (
        "Generate both a math word problem (question) and its step-by-step solution (answer). These are synthetic grade school math problems covering arithmetic, basic algebra, and word problem reasoning.",
        "Synthetic math word problems with worked solutions. Generate both the question and answer components separately.",
        "Create complete math problem pairs: generate both the word problem statement and its detailed solution with calculations.")),
    ("gsm8k_answer_from_question", ["question"], ["answer"], (
        "Given a math word problem, generate its step-by-step solution with calculations and reasoning.",
        "Solve grade school math word problems by providing detailed worked solutions.",
        "Given: question (math word problem). Generate: answer (step-by-step solution with final numerical answer).")),
    ("gsm8k_question_from_answer", ["answer"], ["question"], (
        "Given a step-by-step math solution, generate a word problem that would lead to this solution.",
        "Create math word problems that match the given worked solution and final answer.",
        "Given: answer (step-by-step solution). Generate: question (word problem that leads to this solution).")),
    ("gsm8k_question", [], ["question"], (
        "Generate math word problems suitable for grade school students, covering arithmetic and basic algebra.",
        "Create diverse math word problems involving real-world scenarios and numerical reasoning.",
        "Generate: question (math word problem statement only, without solution).")),
]  # fmt: skip
ENRON_MODES: list[Mode] = [
    ("enron_spam_email", [], ["spam", "email"], (
        "Generate both an email message and its spam classification (true/false). These are synthetic emails based on the Enron dataset.",
        "Create complete email examples: generate both the email content and whether it should be classified as spam.",
        "Generate: spam (boolean), email (message content). Synthetic email classification dataset.")),
    ("enron_spam_from_email", ["email"], ["spam"], (
        "Given an email message, classify whether it is spam (true) or not spam (false).",
        "Email spam classification: determine if the given email content should be marked as spam.",
        "Given: email (message content). Generate: spam (boolean classification).")),
    ("enron_email_from_spam", ["spam"], ["email"], (
        "Given a spam classification (true/false), generate an email message that matches that classification.",
        "Create email content that corresponds to the specified spam/not-spam label.",
        "Given: spam (boolean). Generate: email (message content that matches the spam classification).")),
    ("enron_email", [], ["email"], (
        "Generate email messages in the style of business/corporate communications from the Enron dataset.",
        "Create realistic email content covering business communications, meeting notes, and corporate correspondence.",
        "Generate: email (message content only). Synthetic emails based on business communications.")),
]  # fmt: skip
HOTPOT_MODES: list[Mode] = [
    ("hotpot_context_question_answer", [], ["context", "question", "answer"], (
        "Generate complete reading comprehension examples: context passage, question, and answer. These are synthetic multi-hop reasoning questions requiring information from multiple sources.",
        "Create HotpotQA-style reading comprehension: generate context (background information), question (multi-hop reasoning), and answer (with supporting evidence).",
        "Generate: context (multi-paragraph background), question (complex reasoning), answer (with evidence citations). Multi-hop QA dataset.")),
    ("hotpot_answer_from_context_question", ["context", "question"], ["answer"], (
        "Given a context passage and question, provide the answer with supporting evidence from the text.",
        "Reading comprehension: answer multi-hop reasoning questions using information from the provided context.",
        "Given: context (background passage), question (multi-hop reasoning). Generate: answer (with evidence citations).")),
    ("hotpot_question_from_context_answer", ["context", "answer"], ["question"], (
        "Given a context passage and an answer, generate a multi-hop reasoning question that leads to this answer.",
        "Create complex questions that require multi-hop reasoning across the context to arrive at the given answer.",
        "Given: context (background passage), answer (with evidence). Generate: question (multi-hop reasoning that leads to this answer).")),
    ("hotpot_context", [], ["context"], (
        "Generate multi-paragraph context passages suitable for complex reading comprehension questions.",
        "Create background information passages that contain interconnected facts for multi-hop reasoning tasks.",
        "Generate: context (multi-paragraph background with interconnected information for complex QA).")),
]  # fmt: skip
LCB_MODES: list[Mode] = [
    ("lcb_question_answer", [], ["question", "answer"], (
        "Generate both logic and commonsense reasoning problems with their solutions. These cover algorithms, data structures, and logical reasoning.",
        "Create complete programming/logic problems: generate both the problem statement and step-by-step solution with reasoning.",
        "Generate: question (logic/programming problem), answer (detailed solution with reasoning). LCB benchmark problems.")),
    ("lcb_answer_from_question", ["question"], ["answer"], (
        "Given a logic or programming problem, provide a step-by-step solution with clear reasoning.",
        "Solve logic and commonsense reasoning problems by providing detailed explanations and final answers.",
        "Given: question (logic/programming problem). Generate: answer (step-by-step solution with reasoning and final result).")),
    ("lcb_question_from_answer", ["answer"], ["question"], (
        "Given a detailed solution, generate a logic or programming problem that would lead to this solution.",
        "Create logic/programming problems that match the given step-by-step solution and reasoning.",
        "Given: answer (detailed solution with reasoning). Generate: question (logic/programming problem that leads to this solution).")),
    ("lcb_question", [], ["question"], (
        "Generate logic and commonsense reasoning problems covering algorithms, data structures, and programming concepts.",
        "Create diverse programming and logic problems suitable for technical assessment and reasoning evaluation.",
        "Generate: question (logic/programming problem statement only, without solution).")),
]  # fmt: skip
NEWSGROUPS_MODES: list[Mode] = [
    ("newsgroups_newsgroup_message", [], ["newsgroup", "message"], (
        "Generate both a newsgroup category and a message that belongs to that category. These are synthetic posts based on 20 Newsgroups dataset covering various topics.",
        "Create complete newsgroup posts: generate both the category (newsgroup) and the message content.",
        "Generate: newsgroup (category like sci.med, comp.graphics), message (post content). Text classification dataset.")),
    ("newsgroups_newsgroup_from_message", ["message"], ["newsgroup"], (
        "Given a message post, classify it into the appropriate newsgroup category (e.g., sci.med, comp.graphics, talk.politics).",
        "Text classification: determine which newsgroup category best fits the given message content.",
        "Given: message (post content). Generate: newsgroup (category classification).")),
    ("newsgroups_message_from_newsgroup", ["newsgroup"], ["message"], (
        "Given a newsgroup category, generate a message that would be appropriate for that category.",
        "Create message content that fits the specified newsgroup topic (e.g., medical discussions for sci.med, graphics questions for comp.graphics).",
        "Given: newsgroup (category). Generate: message (post content appropriate for that category).")),
    ("newsgroups_message", [], ["message"], (
        "Generate newsgroup message posts covering diverse topics like science, technology, politics, and recreation.",
        "Create message content in the style of online forum discussions and newsgroup posts.",
        "Generate: message (newsgroup post content only). Diverse online discussion posts.")),
]  # fmt: skip
PUBMED_MODES: list[Mode] = [
    ("pubmed_context_question_answer", [], ["context", "question", "answer"], (
        "Generate complete biomedical QA examples: context (medical research), question (clinical/research question), and answer (evidence-based response). These are synthetic medical questions based on PubMed literature.",
        "Create PubMed-style biomedical QA: generate context (research abstracts), question (medical/scientific), and answer (with evidence citations).",
        "Generate: context (biomedical research text), question (clinical question), answer (evidence-based response). Medical QA dataset.")),
    ("pubmed_answer_from_context_question", ["context", "question"], ["answer"], (
        "Given biomedical research context and a clinical question, provide an evidence-based answer with supporting citations.",
        "Biomedical QA: answer medical/scientific questions using information from the provided research context.",
        "Given: context (biomedical research), question (clinical/scientific). Generate: answer (evidence-based response with citations).")),
    ("pubmed_question_from_context_answer", ["context", "answer"], ["question"], (
        "Given biomedical research context and an answer, generate a clinical or scientific question that leads to this answer.",
        "Create medical/scientific questions that can be answered using the provided research context and evidence.",
        "Given: context (biomedical research), answer (evidence-based response). Generate: question (clinical/scientific question that leads to this answer).")),
    ("pubmed_context", [], ["context"], (
        "Generate biomedical research abstracts and clinical study summaries suitable for medical question answering.",
        "Create scientific literature context covering medical research, clinical studies, and biomedical findings.",
        "Generate: context (biomedical research text for medical QA tasks).")),
]  # fmt: skip


def four_modes(release: str, modes: Sequence[Mode], as_text: Sequence[str] = ()):
    """A task over one release file (``release``, under `ROOT`): one pooled group per mode, seeded task seed
    + 1, + 2, ... in order; the fields named in ``as_text`` are turned into strings first (enron's spam)."""

    def build(task: TaskSpec, files: FetchedFiles) -> list[InstanceGroup]:
        path = files.require(f"bare/{ROOT}/{release}")
        fields = list(dict.fromkeys(f for _, given, generated, _ in modes for f in given + generated))
        rows = list(read_jsonl(path, fields))
        for line, row in enumerate(rows, start=1):
            for name in fields:
                if name in as_text:  # a label: JSON true/false, printed True/False
                    if not isinstance(row[name], bool) and row[name] not in ("True", "False"):
                        raise SourceFormatError(
                            path, f"record {line}", name, f"expected true or false, got {row[name]!r}"
                        )
                else:  # generated text: a string (null or a number would be printed as "None" or "3")
                    text(path, f"record {line}", name, row[name], empty=True)
        if as_text:
            rows = [{**r, **{f: str(r[f]) for f in as_text}} for r in rows]
        groups = []
        for offset, (name, given, generated, descriptions) in enumerate(modes, start=1):
            inst = Instance(
                key=name,
                name=name,
                descriptions=list(descriptions),
                population=rows_to_samples(rows, given, generated),
            )
            groups.append(
                InstanceGroup([inst], dataclasses.replace(task.params, seed=task.params.seed + offset))
            )
        return groups

    return build


def _task(name: str, release: str, modes: Sequence[Mode], seed: int, as_text: Sequence[str] = ()) -> TaskSpec:
    file = RemoteFile(f"bare/{ROOT}/{release}", where=WHERE.format(release=release))
    return episode_task(name, SOURCE, side="train", kind="conditional", build=four_modes(release, modes, as_text),
                        files=TaskFiles((file,)), seed=seed, n_per=-1, n_iter="~32", max_total=500)  # fmt: skip


TASKS = (
    _task("bare_gsm8k", GSM8K, GSM8K_MODES, seed=42),
    _task("bare_enron", ENRON, ENRON_MODES, seed=100, as_text=("spam",)),
    _task("bare_hotpot", HOTPOT, HOTPOT_MODES, seed=200),
    _task("bare_lcb", LCB, LCB_MODES, seed=300),
    _task("newsgroups", NEWSGROUPS, NEWSGROUPS_MODES, seed=400),
    _task("pubmed", PUBMED, PUBMED_MODES, seed=500),
)
