"""The harness docs of one task: the same items `tuning.eval` scores, as texts the harness sends to a model.

Items are chosen by `tuning.eval`'s own code (k selection and the seeded subsample of episodes and rows of
`spectrum_suite.selection`, a run's k and episodes reused, the cut after output k and the skip of sequences
longer than the model's context; alignment prompts and candidates; coverage prompts and stop strings), and
rendered by the same `Format`, so both score the same outputs with the same texts.

- steerability: one doc per scored output with at least one in-context example (what ``loss_geq_1`` and
  ``all_acc_geq_1`` average), the text before it as ``context`` and ``choices`` ``[ws + output, ws]``;
- alignment: one doc per row, ``choices`` every candidate (after ``ws``), then ``ws`` alone;
- coverage: one doc per prompt setting, its prompt, validator and the stop strings its samples are cleaned with.

``ws`` is the trailing whitespace of the text before the output (`spectrum_suite.harness.requests`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spectrum_suite.formats import Format, scored_spans
from spectrum_suite.selection import subsample

from .requests import harness_ids, split_whitespace, tokens_agree

#: Harness task names: ``spectrum_<task>``.
PREFIX = "spectrum_"


@dataclass
class TaskDocs:
    """One harness task: its docs and what was chosen, kept and skipped on the way (for the manifest)."""

    task: str
    row_family: str
    docs: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return PREFIX + self.task

    @property
    def disagreeing(self) -> int:
        """Docs whose harness tokens are not exactly ours (their figures can differ from `tuning.eval`'s)."""
        return sum(not doc["tokens_agree"] for doc in self.docs)


def steer_docs(
    task: str, rows: Sequence[Mapping[str, Any]], fmt: Format, k_format: Format, opts: Any,
    context_length: int | None, reuse: tuple[int, list[str]] | None,
) -> TaskDocs:  # fmt: skip
    """One doc per scored output with shots >= 1 of the episodes `tuning.eval` evaluates (k, subsample, cut)."""
    from tuning.eval.steerability import evaluation_sequence, select

    k, chosen, kept = select(task, rows, k_format, opts, reuse)
    out = TaskDocs(task, "episodes")
    too_long = 0
    for i in chosen:
        cut = evaluation_sequence(rows[i]["messages"], fmt, i, k, context_length)
        if cut is None:
            too_long += 1
            continue
        segments = fmt.render(rows[i]["messages"])
        where = {seg.output_index: n for n, seg in enumerate(segments) if seg.scored}
        for span in scored_spans(cut):
            if span.example_ind < 1:
                continue
            n = where[span.sample_index]
            context, ws = split_whitespace("".join(seg.text for seg in segments[:n]))
            output = segments[n].text
            agree = tokens_agree(
                fmt.tokenizer, context, ws, output, cut.input_ids[: span.positions[0]],
                [cut.input_ids[p] for p in span.positions],
            )  # fmt: skip
            out.docs.append({
                "task": task, "episode_id": rows[i]["episode_id"], "shots": span.example_ind, "context": context,
                "choices": [ws + output, ws] if ws else [output], "tokens_agree": agree,
            })  # fmt: skip
    episodes = len({doc["episode_id"] for doc in out.docs})
    out.info = {"k": k, "episodes": len(rows), "kept_by_k": kept, "evaluated": episodes,
                "skipped_too_long": too_long, "outputs": len(out.docs)}  # fmt: skip
    return out


def align_docs(
    task: str,
    rows: Sequence[Mapping[str, Any]],
    fmt: Format,
    opts: Any,
    context_length: int | None,
    suffix: str,
) -> TaskDocs:
    """One doc per alignment row `tuning.eval` evaluates (seeded subsample, prompt and candidates fit)."""
    from tuning.eval.alignment import row_texts
    from tuning.sequences import TooLongError, encode_candidates

    out = TaskDocs(task, "alignment")
    too_long = 0
    for index in subsample(len(rows), opts.max_instances):
        row = rows[index]
        prompt, candidates = row_texts(row, fmt)
        tokens = encode_candidates(fmt.tokenizer, prompt, candidates, suffix)
        try:
            tokens.check_fits(context_length)
        except TooLongError:
            too_long += 1
            continue
        context, ws = split_whitespace(prompt)
        texts = [candidate + suffix for candidate in candidates]
        agree = tokens.boundary_merges == 0 and all(
            tokens_agree(fmt.tokenizer, context, ws, text, tokens.prompt_ids, ids)
            for text, ids in zip(texts, tokens.candidate_ids, strict=True)
        )
        out.docs.append({
            "task": task, "instance_id": str(row["instance_id"]), "context": context,
            "choices": [ws + text for text in texts] + ([ws] if ws else []),
            "target_probs": [float(p) for p in row["target_probs"]], "ordinal": bool(row.get("ordinal", False)),
            "tokens_agree": agree,
        })  # fmt: skip
    out.info = {"rows": len(rows), "evaluated": len(out.docs), "skipped_too_long": too_long}
    return out


def cover_docs(
    task: str, rows: Sequence[Mapping[str, Any]], fmt: Format, opts: Any, context_length: int | None
) -> TaskDocs:
    """One doc per prompt setting whose prompt and ``max_new_tokens`` fit the context."""
    from tuning.eval.coverage import sampling_prompt, sampling_stop_strings

    if len(rows) != 1:
        raise ValueError(f"coverage task {task!r} has {len(rows)} rows; expected one prompt row per task")
    row = rows[0]
    out = TaskDocs(task, "coverage")
    stops = sampling_stop_strings(fmt.tokenizer)
    skipped = []
    for setting in opts.settings:
        prompt, ids = sampling_prompt(row, setting, fmt, context_length)
        if ids is None:
            skipped.append(setting)
            continue
        out.docs.append({
            "task": task, "setting": setting, "prompt": prompt, "validator": row["validator"],
            "stop_strings": stops, "data_dir": opts.data_dir,
            "tokens_agree": harness_ids(fmt.tokenizer, prompt) == ids,
        })  # fmt: skip
    out.info = {"max_new_tokens": int(row["max_new_tokens"]), "settings": [d["setting"] for d in out.docs],
                "skipped_too_long": skipped}  # fmt: skip
    return out
