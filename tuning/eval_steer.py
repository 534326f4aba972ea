"""In-context steerability of one model on episode tasks (`spec/evaluations.md` §A.2-A.5).

Per task: choose k on the spectrum rendering (`tuning.ksel`), keep the episodes that reach output k,
cap them (seeded), render the kept ones in the evaluated format, cut each after output k, score every
output by teacher forcing (`tuning.scoring`) and hand the records to `metrics/steerability`. A
sequence longer than the model's context is skipped and counted, never truncated into a wrong score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from tuning.eval_data import subsample
from tuning.ksel import K_WINDOW, MIN_EPISODES_FOR_K2, KSelectionError, choose_k
from tuning.scoring import EncodedEpisode, OutputRecord, cut_after, score_episodes

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

#: The tokenisation cap of `spec/formats.md` §4.1 (7), explicit for parity.
TOKENIZE_CAP = 8192


@dataclass
class SteerOptions:
    """Knobs of the steerability run; defaults follow the spec except where noted in the README."""

    max_instances: int | None = None
    batch_size: int = 4
    k: int | None = None  # a fixed k instead of k selection
    k_window: int = K_WINDOW
    k_tokenizer: Any = None  # tokenizer for k selection; None = the evaluated model's own
    min_episodes_for_k2: int = MIN_EPISODES_FOR_K2
    context_length: int | None = None
    progress: bool = True


def encode(
    row_messages: Any, fmt: str, tokenizer: Any, episode: int, max_length: int | None
) -> EncodedEpisode:
    """One episode in format ``fmt`` as token ids, labels and per-token sample index."""
    from spectrum_suite.formats import tokenize

    enc = tokenize(row_messages, fmt, tokenizer, max_length=max_length)
    return EncodedEpisode(enc["input_ids"], enc["labels"], enc["output_index"], episode=episode)


def prepare_task(
    task: str, rows: Sequence[Mapping[str, Any]], fmt: str, tokenizer: Any, opts: SteerOptions
) -> tuple[int, list[EncodedEpisode], dict[str, int]]:
    """k, the cut evaluation sequences, and the counts (episodes, kept, skipped) of one task."""
    k_tok = opts.k_tokenizer if opts.k_tokenizer is not None else tokenizer
    window = opts.k_window
    k_encoded = [
        encode(r["messages"], "spectrum", k_tok, i, window + 1)
        for i, r in enumerate(tqdm(rows, desc=f"{task}: k selection", disable=not opts.progress, leave=False))
    ]
    selection = choose_k(
        k_encoded, window=window, min_episodes_for_k2=opts.min_episodes_for_k2, fixed_k=opts.k
    )
    chosen = [selection.keep[i] for i in subsample(len(selection.keep), opts.max_instances)]
    sequences: list[EncodedEpisode] = []
    too_long = 0
    for i in chosen:
        full = encode(rows[i]["messages"], fmt, tokenizer, i, TOKENIZE_CAP)
        cut = cut_after(full, selection.k)
        if cut is None or (opts.context_length is not None and len(cut.input_ids) > opts.context_length):
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
    """The column lists `metrics/steerability` takes (shots = the scored-output index j)."""
    return {
        "token_logprobs": [r.token_logprobs for r in records],
        "token_correct": [r.token_correct for r in records],
        "shots": [r.example_ind for r in records],
        "tasks": [task] * len(records),
        "incorrect_logprobs": [r.incorrect_logprobs for r in records],
    }


def evaluate_steerability(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    fmt: str,
    tasks: Mapping[str, Sequence[Mapping[str, Any]]],
    metric: Any,
    opts: SteerOptions,
) -> dict[str, Any]:
    """Per-task metric results and counts; tasks where k cannot be chosen are recorded as failed."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    per_task: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for task, rows in tasks.items():
        try:
            k, sequences, counts = prepare_task(task, rows, fmt, tokenizer, opts)
        except KSelectionError as err:
            failed[task] = str(err)
            continue
        if not sequences:
            failed[task] = f"no episode fits the model's context ({counts['skipped_too_long']} too long)"
            per_task[task] = {"k": k, "counts": counts}
            continue
        records = score_episodes(
            model,
            sequences,
            pad_id=pad_id,
            batch_size=opts.batch_size,
            progress=opts.progress,
            desc=f"{task}: scoring",
        )
        result = metric.compute(**metric_inputs(records, task), k=k)
        result.pop("per_task", None)
        per_task[task] = {"k": k, "counts": counts, "metrics": result}
    scored = [t for t, v in per_task.items() if "metrics" in v]
    headline = {}
    for key in ("loss_geq_1", "all_acc_geq_1", "loss", "all_acc", "loss_per_token_geq_1"):
        values = [per_task[t]["metrics"].get(key) for t in scored]
        values = [v for v in values if v is not None]
        headline[key] = sum(values) / len(values) if values else None
    return {
        "headline": headline,
        "tasks": per_task,
        "failed": failed,
        "skipped_too_long": sum(v["counts"]["skipped_too_long"] for v in per_task.values()),
    }
