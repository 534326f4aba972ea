"""Distributional alignment of one model (`spec/evaluations.md` §B.2-B.5).

Per alignment row: build the prompt in the evaluated format (`spectrum_suite.formats.prompt_text`),
score every candidate continuing from the prompt's cache (`tuning.scoring_candidates`), and hand the
candidate log-probabilities with the target probabilities to `metrics/distributional_alignment`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuning.eval_data import subsample
from tuning.scoring_candidates import TooLongError, check_fits, encode_candidates, normalise, score_rows

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

#: The chat system prompt of spec §B.2.
ALIGNMENT_SYSTEM_PROMPT = "Given the description and an input, respond with just an output."
#: Alignment rows kept per task for the plots of model against target.
EXAMPLE_ROWS = 2


@dataclass
class AlignOptions:
    """Knobs of the alignment run."""

    max_instances: int | None = None
    batch_size: int = 32
    include_terminator: bool = False
    context_length: int | None = None
    progress: bool = True


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


def prompt_for(row: Mapping[str, Any], fmt: str, tokenizer: Any) -> str:
    """The generation prompt of spec §B.2 in ``fmt``."""
    from spectrum_suite.formats import prompt_text

    options: dict[str, Any] = {}
    if fmt == "colon":
        options["output_name"] = row["output_name"]
    elif fmt == "chat":
        options["system_prompt"] = ALIGNMENT_SYSTEM_PROMPT
    return prompt_text(row_messages(row), fmt, tokenizer, **options)


def terminator(fmt: str, tokenizer: Any) -> str:
    """What ends an output in ``fmt``: the colon format's scored blank line, else its stop string."""
    from spectrum_suite.formats import stop_strings

    return "\n\n" if fmt == "colon" else stop_strings(fmt, tokenizer)[0]


def evaluate_alignment(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    fmt: str,
    tasks: Mapping[str, Sequence[Mapping[str, Any]]],
    metric: Any,
    opts: AlignOptions,
) -> dict[str, Any]:
    """Per-task metric results, counts, a few model-vs-target rows and every row's JS divergence."""
    suffix = terminator(fmt, tokenizer) if opts.include_terminator else ""
    per_task: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for task, rows in tasks.items():
        chosen = [rows[i] for i in subsample(len(rows), opts.max_instances)]
        items, refs, kept = [], [], []
        too_long = merges = 0
        for row in chosen:
            tokens = encode_candidates(tokenizer, prompt_for(row, fmt, tokenizer), row["candidates"], suffix)
            try:
                check_fits(tokens, opts.context_length)
            except TooLongError:
                too_long += 1
                continue
            merges += tokens.boundary_merges
            items.append(tokens)
            refs.append(list(row["target_probs"]))
            kept.append(row)
        preds = score_rows(model, items, batch_size=opts.batch_size, progress=opts.progress) if items else []
        counts = {
            "rows": len(rows),
            "evaluated": len(preds),
            "skipped_too_long": too_long,
            "boundary_merges": merges,
        }
        if not preds:
            failed[task] = f"no row fits the model's context ({too_long} too long)"
            per_task[task] = {"counts": counts}
            continue
        result = metric.compute(predictions=preds, references=refs, input_type="logprob", return_per_row=True)
        per_row = result.pop("per_row")
        examples = [
            {
                "instance_id": r["instance_id"],
                "candidates": list(r["candidates"]),
                "target": ref,
                "model": normalise(p),
            }
            for r, ref, p in list(zip(kept, refs, preds, strict=True))[:EXAMPLE_ROWS]
        ]
        per_task[task] = {
            "counts": counts,
            "metrics": result,
            "js_per_row": per_row["js_divergence"],
            "examples": examples,
        }
    scored = [t for t, v in per_task.items() if "metrics" in v]
    headline = {}
    for key in ("js_divergence.mean", "kl_divergence.mean", "mode_match.mean", "coverage.mean"):
        values = [per_task[t]["metrics"][key] for t in scored]
        headline[key] = sum(values) / len(values) if values else None
    return {
        "headline": headline,
        "tasks": per_task,
        "failed": failed,
        "include_terminator": opts.include_terminator,
        "skipped_too_long": sum(v["counts"]["skipped_too_long"] for v in per_task.values()),
    }
