"""Distributional alignment of one model (`docs/evaluation.md`).

Per alignment row: build the prompt in the evaluated format (`Format.prompt_text`), score
every candidate continuing from the prompt's cache (`LM.score_candidates`), and hand the candidate
log-probabilities with the target probabilities to the distributional-alignment metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from spectrum_suite.formats import Format
from spectrum_suite.selection import subsample
from tuning.eval.options import EvalOptions
from tuning.eval.results import ALIGN_FIGURES, AlignExample, AlignResults, AlignTask
from tuning.jsonfile import json_ready
from tuning.lm import LanguageModel
from tuning.sequences import TooLongError, encode_candidates, normalise

#: The chat system prompt of the paper's alignment evaluation.
ALIGNMENT_SYSTEM_PROMPT = "Given the description and an input, respond with just an output."
#: Alignment rows kept per task for the plots of model against target.
EXAMPLE_ROWS = 2


def row_messages(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The row's description and input as messages (either may be missing, not both)."""
    messages = []
    if row.get("description") is not None:
        messages.append({"role": "description", "content": row["description"], "example_ind": -1})
    if row.get("input") is not None:
        messages.append({"role": "input", "content": row["input"], "example_ind": 0})
    if not messages:
        raise ValueError(f"alignment row {row.get('instance_id')!r} has neither a description nor an input")
    return messages


def prompt_for(row: Mapping[str, Any], fmt: Format) -> str:
    """The generation prompt in ``fmt``: colon ends in the task's output name, chat has its system prompt."""
    options: dict[str, Any] = {}
    if fmt.name == "colon":
        options["output_name"] = row["output_name"]
    elif fmt.name == "chat":
        options["system_prompt"] = ALIGNMENT_SYSTEM_PROMPT
    return fmt.prompt_text(row_messages(row), **options)


def row_texts(row: Mapping[str, Any], fmt: Format) -> tuple[str, list[str]]:
    """The row's prompt in ``fmt`` and its candidates as the model writes them after it (" Alabama" after the
    colon format's "State:")."""
    return prompt_for(row, fmt), [fmt.continuation(c) for c in row["candidates"]]


def evaluate_task(
    lm: LanguageModel,
    fmt: Format,
    rows: Sequence[Mapping[str, Any]],
    metric: Any,
    opts: EvalOptions,
    suffix: str,
    name: str | None = None,
) -> AlignTask:
    """One task's rows: prompts and candidates encoded, scored, and measured against the targets (``name``,
    the task's, seeds its interval's resampling; by default the rows' ``task`` field)."""
    name = name or (str(rows[0].get("task", "")) if rows else "")
    chosen = [rows[i] for i in subsample(len(rows), opts.max_instances)]
    items, refs, kept = [], [], []
    too_long = merges = 0
    for row in chosen:
        prompt, candidates = row_texts(row, fmt)
        tokens = encode_candidates(lm.tokenizer, prompt, candidates, suffix)
        try:
            tokens.check_fits(lm.context_length)
        except TooLongError:
            too_long += 1
            continue
        merges += tokens.boundary_merges
        items.append(tokens)
        refs.append(list(row["target_probs"]))
        kept.append(row)
    # candidates are short: four times the batch of whole episodes
    preds = lm.score_candidates(items, batch_size=opts.batch_size * 4) if items else []
    # the rows' own flag (rows of builds before it existed are not scales)
    ordinal = [bool(row.get("ordinal", False)) for row in kept]
    counts = {
        "rows": len(rows),
        "evaluated": len(preds),
        "skipped_too_long": too_long,
        "boundary_merges": merges,
    }
    if not preds:
        return AlignTask(counts=counts, failed=f"no row fits the model's context ({too_long} too long)")
    try:
        result = metric.compute(
            predictions=preds, references=refs, ordinal=ordinal, input_type="logprob", return_per_row=True
        )
    except ValueError as err:  # e.g. candidates that are prefixes of each other: their masses sum above 1
        return AlignTask(counts=counts, failed=f"the metric refused this task's scores: {err}")
    per_row = result.pop("per_row")
    examples = [
        AlignExample(r["instance_id"], list(r["candidates"]), ref, normalise(p))
        for r, ref, p in list(zip(kept, refs, preds, strict=True))[:EXAMPLE_ROWS]
    ]
    task = AlignTask(counts=counts, metrics=json_ready(result), js_per_row=per_row["js_divergence"], examples=examples,
                     row_ids=[str(r["instance_id"]) for r in kept],
                     row_clusters=[str(r.get("cluster") or r["instance_id"]) for r in kept],
                     distances={figure: per_row[figure] for figure in ALIGN_FIGURES[1:]})  # fmt: skip
    task.refresh_intervals(name)
    return task


def evaluate_alignment(
    lm: LanguageModel,
    fmt: Format,
    tasks: Mapping[str, Sequence[Mapping[str, Any]]],
    metric: Any,
    opts: EvalOptions,
) -> AlignResults:
    """Per-task metric results, counts, a few model-vs-target rows and every row's JS divergence."""
    suffix = fmt.output_end if opts.include_terminator else ""
    per_task = {
        task: evaluate_task(lm, fmt, rows, metric, opts, suffix, task) for task, rows in tasks.items()
    }
    return AlignResults(tasks=per_task, include_terminator=opts.include_terminator)
