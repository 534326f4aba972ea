"""In-context steerability of one model on episode tasks (`docs/evaluation.md`).

Per task: choose k on the spectrum rendering (`tuning.eval.kselect`), keep the episodes that reach output k,
cap them (seeded), render the kept ones in the evaluated format, cut each after output k, score every output
by teacher forcing (`LM.score_outputs`) and hand the records to the steerability metric. A sequence longer
than the model's context is skipped and counted, never truncated into a wrong score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tqdm.auto import tqdm

from tuning.eval.data import subsample
from tuning.eval.kselect import KSelectionError, choose_k
from tuning.eval.options import EvalOptions
from tuning.eval.results import SteerResults, SteerTask
from tuning.jsonfile import json_ready
from tuning.lm import LM, OutputRecord
from tuning.sequences import EncodedEpisode, cut_after

#: The tokenisation cap of the paper's code, explicit here.
TOKENIZE_CAP = 8192


def encode(messages: Any, fmt: str, tokenizer: Any, episode: int, max_length: int | None) -> EncodedEpisode:
    """One episode in format ``fmt`` as token ids, labels and per-token sample index."""
    from spectrum_suite.formats import tokenize

    enc = tokenize(messages, fmt, tokenizer, max_length=max_length)
    return EncodedEpisode(enc["input_ids"], enc["labels"], enc["output_index"], episode=episode)


def prepare_task(
    task: str, rows: Sequence[Mapping[str, Any]], fmt: str, lm: LM, k_tokenizer: Any, opts: EvalOptions
) -> tuple[int, list[EncodedEpisode], dict[str, int]]:
    """k, the cut evaluation sequences, and the counts (episodes, kept, evaluated, too long) of one task."""
    window = opts.k_window
    k_encoded = [
        encode(r["messages"], "spectrum", k_tokenizer, i, window + 1)
        for i, r in enumerate(tqdm(rows, desc=f"{task}: k selection", disable=not opts.progress, leave=False))
    ]
    selection = choose_k(
        k_encoded, window=window, min_episodes_for_k2=opts.min_episodes_for_k2, fixed_k=opts.k
    )
    chosen = [selection.keep[i] for i in subsample(len(selection.keep), opts.max_instances)]
    sequences: list[EncodedEpisode] = []
    too_long = 0
    for i in chosen:
        cut = cut_after(encode(rows[i]["messages"], fmt, lm.tokenizer, i, TOKENIZE_CAP), selection.k)
        if cut is None or (lm.context_length is not None and len(cut.input_ids) > lm.context_length):
            too_long += 1
            continue
        sequences.append(cut)
    counts = {
        "episodes": len(rows),
        "kept_by_k": len(selection.keep),
        "evaluated": len(sequences),
        "skipped_too_long": too_long,
    }
    return selection.k, sequences, counts


def metric_inputs(records: Sequence[OutputRecord], task: str) -> dict[str, list]:
    """The column lists the steerability metric takes (shots = the scored-output index j)."""
    return {
        "token_logprobs": [r.token_logprobs for r in records],
        "token_correct": [r.token_correct for r in records],
        "shots": [r.example_ind for r in records],
        "tasks": [task] * len(records),
        "incorrect_logprobs": [r.incorrect_logprobs for r in records],
    }


def evaluate_steerability(
    lm: LM, fmt: str, tasks: Mapping[str, Sequence[Mapping[str, Any]]], metric: Any, opts: EvalOptions,
    k_tokenizer: Any,
) -> SteerResults:  # fmt: skip
    """Per-task metric results and counts; tasks where k cannot be chosen are recorded as failed."""
    batch_size = max(
        1, opts.batch_size // 2
    )  # whole episodes: the longest sequences of the three evaluations
    per_task: dict[str, SteerTask] = {}
    for task, rows in tasks.items():
        try:
            k, sequences, counts = prepare_task(task, rows, fmt, lm, k_tokenizer, opts)
        except KSelectionError as err:
            per_task[task] = SteerTask(k=None, counts={"episodes": len(rows)}, failed=str(err))
            continue
        if not sequences:
            failed = f"no episode fits the model's context ({counts['skipped_too_long']} too long)"
            per_task[task] = SteerTask(k=k, counts=counts, failed=failed)
            continue
        records = lm.score_outputs(sequences, batch_size=batch_size, desc=f"{task}: scoring")
        result = metric.compute(**metric_inputs(records, task), k=k)
        result.pop("per_task", None)
        per_task[task] = SteerTask(k=k, counts=counts, metrics=json_ready(result))
    return SteerResults(tasks=per_task)
