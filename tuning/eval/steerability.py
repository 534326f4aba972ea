"""In-context steerability of one model on episode tasks (`docs/evaluation.md`).

Per task: choose k on the spectrum rendering and keep the episodes that reach output k, capped (seeded)
(`spectrum_suite.selection`), encode the kept ones in the evaluated format (at most the paper's 8192 tokens,
`REFERENCE_MAX_LENGTH`), cut each after output k, score every output
by teacher forcing (`LM.score_outputs`) and hand the records to the steerability metric. A sequence longer
than the model's context is skipped and counted, never truncated into a wrong score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from spectrum_suite.formats import REFERENCE_MAX_LENGTH, Format
from spectrum_suite.formats.encoded import EncodedEpisode, cut_after
from spectrum_suite.selection import KSelectionError, select_episodes
from tuning.eval.options import EvalOptions
from tuning.eval.results import EvalResults, SteerResults, SteerTask
from tuning.jsonfile import json_ready
from tuning.lm import LanguageModel, OutputRecord


def select(
    task: str,
    rows: Sequence[Mapping[str, Any]],
    k_format: Format,
    opts: EvalOptions,
    reuse: tuple[int, list[str]] | None,
) -> tuple[int, list[int], int]:
    """k, the row indices to evaluate (in order) and how many episodes reached k.

    With ``reuse`` (k and episode ids of another run) the same k and episodes are taken, so that two models are
    scored on the same outputs; otherwise `spectrum_suite.selection.select_episodes` chooses them on the k
    tokenizer's spectrum encoding.
    """
    if reuse is not None:
        k, ids = reuse
        where = {row["episode_id"]: i for i, row in enumerate(rows)}
        missing = [e for e in ids if e not in where]
        if missing:
            raise KSelectionError(
                f"{len(missing)} of the {len(ids)} episodes to reuse are not in this build (e.g. {missing[0]!r}): "
                "the two runs were built from different data or options"
            )
        return k, [where[e] for e in ids], len(ids)
    return select_episodes(
        tqdm(rows, desc=f"{task}: k selection", disable=not opts.progress, leave=False), k_format,
        window=opts.k_window, min_episodes_for_k2=opts.min_episodes_for_k2, fixed_k=opts.k,
        max_instances=opts.max_instances,
    )  # fmt: skip


def evaluation_sequence(
    messages: Any, fmt: Format, episode: int, k: int, context_length: int | None
) -> EncodedEpisode | None:
    """The episode in ``fmt`` cut after output k, or None when it has no output k or does not fit the context."""
    cut = cut_after(fmt.encode(messages, max_length=REFERENCE_MAX_LENGTH, episode=episode), k)
    if cut is None or (context_length is not None and len(cut.input_ids) > context_length):
        return None
    return cut


def prepare_task(
    task: str, rows: Sequence[Mapping[str, Any]], fmt: Format, lm: LanguageModel, k_format: Format, opts: EvalOptions,
    reuse: tuple[int, list[str]] | None = None,
) -> tuple[int, list[EncodedEpisode], dict[str, int]]:  # fmt: skip
    """k, the cut evaluation sequences, and the counts (episodes, kept, evaluated, too long) of one task."""
    k, chosen, kept = select(task, rows, k_format, opts, reuse)
    sequences: list[EncodedEpisode] = []
    too_long = 0
    for i in chosen:
        cut = evaluation_sequence(rows[i]["messages"], fmt, i, k, lm.context_length)
        if cut is None:
            too_long += 1
            continue
        sequences.append(cut)
    counts = {
        "episodes": len(rows),
        "kept_by_k": kept,
        "evaluated": len(sequences),
        "skipped_too_long": too_long,
    }
    return k, sequences, counts


def metric_inputs(records: Sequence[OutputRecord], task: str) -> dict[str, list | None]:
    """The column lists the steerability metric takes (shots = the scored-output index j); no calibration
    column when the engine could not give every other token above the threshold."""
    incorrect = [r.incorrect_logprobs for r in records]
    return {
        "token_logprobs": [r.token_logprobs for r in records],
        "token_correct": [r.token_correct for r in records],
        "shots": [r.example_ind for r in records],
        "tasks": [task] * len(records),
        "incorrect_logprobs": None if any(i is None for i in incorrect) else incorrect,
    }


def scored_task(task: str, k: int, counts: dict[str, int], rows: Sequence[Mapping[str, Any]],
                sequences: Sequence[EncodedEpisode], records: Sequence[OutputRecord],
                metrics: dict[str, Any]) -> SteerTask:  # fmt: skip
    """The task's record: metric results, the evaluated episodes, every output's rank, sample index, loss and
    exact match, and the intervals of the headline numbers (`tuning.eval.results.INTERVAL_METHODS`)."""
    position = {seq.episode: p for p, seq in enumerate(sequences)}
    outputs = {
        "episode": [position[r.episode] for r in records],
        "shots": [r.example_ind for r in records],
        "sample": [r.sample_index for r in records],
        "loss": [r.loss for r in records],
        "all_acc": [r.all_acc for r in records],
    }
    result = SteerTask(k=k, counts=counts, metrics=json_ready(metrics), outputs=outputs,
                       episode_ids=[rows[seq.episode]["episode_id"] for seq in sequences])  # fmt: skip
    result.refresh_intervals(task)
    return result


def reused_selection(opts: EvalOptions) -> dict[str, tuple[int, list[str]]]:
    """k and episode ids per task of the run ``opts.k_from`` names (empty without one)."""
    if opts.k_from is None:
        return {}
    earlier = EvalResults.load(Path(opts.k_from))
    if earlier.steerability is None:
        raise ValueError(f"{opts.k_from} has no steerability results to take k from")
    return {
        name: (t.k, t.episode_ids)
        for name, t in earlier.steerability.tasks.items()
        if t.k is not None and t.episode_ids
    }


def evaluate_steerability(
    lm: LanguageModel, fmt: Format, tasks: Mapping[str, Sequence[Mapping[str, Any]]], metric: Any, opts: EvalOptions,
    k_format: Format,
) -> SteerResults:  # fmt: skip
    """Per-task metric results and counts; tasks where k cannot be chosen are recorded as failed."""
    batch_size = max(
        1, opts.batch_size // 2
    )  # whole episodes: the longest sequences of the three evaluations
    reused = reused_selection(opts)
    per_task: dict[str, SteerTask] = {}
    for task, rows in tasks.items():
        try:
            k, sequences, counts = prepare_task(task, rows, fmt, lm, k_format, opts, reused.get(task))
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
        per_task[task] = scored_task(task, k, counts, rows, sequences, records, result)
    return SteerResults(tasks=per_task)
