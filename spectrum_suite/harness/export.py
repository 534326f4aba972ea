"""`export`: Spectrum Suite configs as an lm-evaluation-harness task folder, rendered for one tokenizer and format.

Everything that decides which items are scored follows `tuning.eval` (its options, `EvalOptions`, with the same
defaults): the same k and episodes (``k_from`` reuses a run's), the same alignment rows, coverage prompts and
stop strings, the same skips of items longer than the model's context. Bad input (an unknown config, a format the
tokenizer cannot express, a folder the export did not write) fails before any item is built.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .files import check_target, write_folder
from .items import TaskDocs, align_docs, cover_docs, steer_docs

#: The oldest lm-eval the task folder is tested with (pyproject's ``[harness]`` extra).
LM_EVAL_FLOOR = "0.4.13"


@dataclass
class Export:
    """What was written: the folder, the harness tasks, and the tasks left out with the reason."""

    folder: Path
    tasks: list[TaskDocs]
    failed: dict[str, str] = field(default_factory=dict)
    #: per config, the tasks that could not be built here
    skipped: dict[str, list[str]] = field(default_factory=dict)
    context_length: int | None = None

    def summary(self) -> str:
        """One line per task: its docs, what was skipped, and docs whose tokens differ from ours."""
        lines = [f"wrote {len(self.tasks)} harness tasks to {self.folder}"]
        for task in self.tasks:
            info = task.info
            notes = [f"{len(task.docs)} docs"]
            if task.row_family == "episodes":
                notes.append(f"k={info['k']}, {info['evaluated']} episodes")
            if info.get("skipped_too_long"):
                notes.append(f"skipped as longer than the context: {info['skipped_too_long']}")
            if task.disagreeing:
                notes.append(f"{task.disagreeing} docs tokenised otherwise by the harness (docs/harness.md)")
            lines.append(f"  {task.name}: " + ", ".join(notes))
        for task, reason in self.failed.items():
            lines.append(f"  left out {task}: {reason}")
        for config, names in self.skipped.items():
            if names:
                lines.append(f"  {config}: not buildable here: {', '.join(names)}")
        if self.context_length is None:
            lines.append("  the model declares no context length: nothing was skipped as too long")
        return "\n".join(lines)


def context_length_of(model: str) -> int | None:
    """The context length ``model``'s config declares, as `tuning.lm.LM` reads it (None without a config)."""
    from transformers import AutoConfig

    from tuning.lm.transformers_lm import declared_context_length
    from tuning.loading import resolve_model

    try:
        config = AutoConfig.from_pretrained(resolve_model(model))
    except (OSError, ValueError):
        return None
    return declared_context_length(config)


def export(
    out: str | Path, model: str, fmt: str, options: Any = None, *, configs: Sequence[str] | None = None,
    **overrides: Any,
) -> Export:  # fmt: skip
    """Write the harness task folder of ``configs`` (default: the options' configs) for ``model``'s tokenizer in
    format ``fmt``; ``overrides`` are `tuning.eval.options.EvalOptions` fields (``max_instances=8``, ``k=3``)."""
    from spectrum_suite.formats import Format
    from spectrum_suite.selection import KSelectionError
    from tuning.eval.data import load_eval_data
    from tuning.eval.evaluation import k_format
    from tuning.eval.options import EvalOptions
    from tuning.eval.steerability import reused_selection
    from tuning.loading import load_tokenizer

    opts = replace(options or EvalOptions(), **overrides)
    if configs is not None:
        opts = replace(opts, configs=list(configs))
    out = Path(out).expanduser().resolve()
    check_target(out)
    rendering = Format(fmt, load_tokenizer(model))  # FormatNotExpressibleError before any work
    reused = reused_selection(opts)
    data = load_eval_data(opts.configs, data_dir=opts.data_dir)
    context_length = context_length_of(model)
    tasks: list[TaskDocs] = []
    failed: dict[str, str] = {}
    episodes = data.tasks("episodes")
    k_selection = k_format(opts.k_tokenizer, rendering.tokenizer) if episodes else None
    for task, rows in episodes.items():
        try:
            tasks.append(
                steer_docs(task, rows, rendering, k_selection, opts, context_length, reused.get(task))
            )
        except KSelectionError as err:
            failed[task] = str(err)
    suffix = rendering.output_end if opts.include_terminator else ""
    for task, rows in data.tasks("alignment").items():
        tasks.append(align_docs(task, rows, rendering, opts, context_length, suffix))
    for task, rows in data.tasks("coverage").items():
        reason = _validator_missing(rows[0]["validator"], opts.data_dir) if rows else None
        if reason:
            failed[task] = reason
            continue
        tasks.append(cover_docs(task, rows, rendering, opts, context_length))
    for task in [t for t in tasks if not t.docs]:
        failed[task.task] = f"no item fits the model's context of {context_length} tokens"
    tasks = [t for t in tasks if t.docs]
    if not tasks:
        raise ValueError(f"nothing to export: every task was left out ({failed})")
    protocol = {"format": fmt, "tokenizer": model, "context_length": context_length, **opts.protocol()}
    record = {
        "spectrum_suite": importlib.metadata.version("spectrum-suite"),
        "lm_eval_floor": LM_EVAL_FLOOR,
        "format": fmt,
        "tokenizer": model,
        "context_length": context_length,
        "options": opts.record(),
        "tasks": {
            t.name: {
                "row_family": t.row_family,
                "docs": len(t.docs),
                "tokens_disagree": t.disagreeing,
                **t.info,
            }
            for t in tasks
        },
        "failed": failed,
        "skipped_unavailable": data.skipped,
    }
    folder = write_folder(out, tasks, protocol, record)
    return Export(folder, tasks, failed, data.skipped, context_length)


def _validator_missing(name: str, data_dir: str | None) -> str | None:
    """Why coverage task ``name`` cannot be validated here (its word list is missing), or None."""
    from metrics.coverage.validator_files import ValidatorDataUnavailable
    from metrics.coverage.validators import validator

    try:
        validator(name, data_dir)
    except ValidatorDataUnavailable as err:
        return f"its validator's word list is unavailable: {err}"
    return None
