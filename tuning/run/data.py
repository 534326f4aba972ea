"""The Spectrum Tuning train set: episodes -> spectrum tokenisation -> truncation -> filtering -> counts.

Every episode goes the one way from messages to tokens, `Format.encode` (the ``spectrum`` format resolved once
for the model's tokenizer and family): rendered, tokenised segment by segment, cut at ``max_length``; and it is
dropped when no labelled token is left (`docs/tuning.md`). The mixture is never implicit: the tasks that were skipped and the realised
per-task row and labelled-token counts travel with the data, and ``drop_partial_outputs`` unlabels an output
that truncation cut before its terminator (off by default, as in the paper).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spectrum_suite.formats.encoded import first_scored_end

if TYPE_CHECKING:
    import datasets

    from spectrum_suite.formats import Format

logger = logging.getLogger(__name__)

#: The paper's truncation length.
DEFAULT_MAX_LENGTH = 1024
#: Columns a tokenised row carries besides ``input_ids`` and ``labels`` (diagnostics, removed for training).
_DIAGNOSTICS = ("task", "n_labels", "n_tokens", "truncated", "partial_unlabelled", "first_scored_end")


class TrainDataError(ValueError):
    """The train set cannot be built: empty, or nothing left to learn from; the message says why."""


@dataclass
class TaskCounts:
    """One task's share of the mix, before and after truncation and filtering."""

    episodes: int = 0
    kept: int = 0
    dropped_no_labels: int = 0
    truncated: int = 0
    partial_outputs_unlabelled: int = 0
    tokens: int = 0
    labelled_tokens: int = 0


@dataclass
class TrainData:
    """The tokenised train set (``input_ids``, ``labels``) and everything needed to report the mixture."""

    dataset: datasets.Dataset
    counts: dict[str, TaskCounts]
    configs: list[str]
    skipped: dict[str, str] = field(default_factory=dict)
    max_length: int = DEFAULT_MAX_LENGTH
    drop_partial_outputs: bool = False
    family: str = "plain"

    @property
    def episodes(self) -> int:
        return sum(c.episodes for c in self.counts.values())

    @property
    def labelled_tokens(self) -> int:
        return sum(c.labelled_tokens for c in self.counts.values())

    def summary(self) -> dict[str, Any]:
        """JSON-ready record of the mix: configs, skipped tasks and per-task counts with shares."""
        rows = sum(c.kept for c in self.counts.values()) or 1
        labelled = self.labelled_tokens or 1
        tasks = {
            name: {
                **asdict(c),
                "row_share": c.kept / rows,
                "labelled_token_share": c.labelled_tokens / labelled,
            }
            for name, c in self.counts.items()
        }
        return {
            "configs": self.configs,
            "skipped": self.skipped,
            "family": self.family,
            "max_length": self.max_length,
            "drop_partial_outputs": self.drop_partial_outputs,
            "rows": len(self.dataset),
            "labelled_tokens": self.labelled_tokens,
            "tasks": tasks,
        }

    def table(self) -> str:
        """The per-task counts as a markdown table: the realised proportions of the mix."""
        summary = self.summary()
        lines = [
            "| task | episodes | kept | dropped (no label) | truncated | labelled tokens | share of rows | share of labelled tokens |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, c in summary["tasks"].items():
            lines.append(
                f"| {name} | {c['episodes']} | {c['kept']} | {c['dropped_no_labels']} | {c['truncated']} | "
                f"{c['labelled_tokens']} | {c['row_share']:.1%} | {c['labelled_token_share']:.1%} |"
            )
        return "\n".join(lines)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.summary(), indent=2) + "\n")


# ---------------------------------------------------------------------------------------------------
# Loading episodes


def load_episodes(
    configs: Sequence[str] = ("train",),
    split: str = "train",
    data_dir: str | Path | None = None,
    skip_unavailable: bool = True,
    description_prob: float | None = None,
    validation_fraction: float | None = None,
) -> tuple[datasets.Dataset, dict[str, str]]:
    """The episode rows of ``configs`` (one split, concatenated in order) and the tasks that were skipped;
    ``validation_fraction`` is the builder's (None: its default)."""
    import datasets

    import spectrum_suite
    from spectrum_suite.registry import config_tasks

    parts, skipped = [], {}
    for config in configs:
        kwargs: dict[str, Any] = {}
        if description_prob is not None:
            kwargs["description_prob"] = description_prob
        if validation_fraction is not None:
            kwargs["validation_fraction"] = validation_fraction
        tasks = config_tasks(config)
        if split not in {name for task in tasks for name in task.split_names}:
            raise TrainDataError(f"config {config!r} has no {split!r} split: its tasks are held out")
        try:
            ds = spectrum_suite.load_dataset(
                config, split=split, data_dir=data_dir, skip_unavailable=skip_unavailable, **kwargs
            )
        except spectrum_suite.TasksUnavailableError as err:
            if not skip_unavailable:
                raise TrainDataError(str(err)) from err
            skipped.update({task.name: "unavailable here (source files missing)" for task in tasks})
            continue
        if "messages" not in ds.column_names:
            raise TrainDataError(f"config {config!r} has no 'messages' column: it is not an episodes config")
        parts.append(ds)
        present = set(ds.unique("task"))
        recorded = spectrum_suite.build_record(ds)["skipped"]
        for task in tasks:
            if task.name not in present:
                skipped[task.name] = (
                    "unavailable here (source files missing)"
                    if task.name in recorded
                    else f"no rows in split {split!r}"
                )
    for name, reason in skipped.items():
        logger.warning("train data: task %s skipped: %s", name, reason)
    if not parts:
        raise TrainDataError(
            f"the {split!r} split of {', '.join(configs)} is empty: every task was skipped ({', '.join(skipped)})"
        )
    episodes = parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)
    return episodes, skipped


# ---------------------------------------------------------------------------------------------------
# Tokenisation


def tokenize_episode(
    messages: Any, fmt: Format, max_length: int, drop_partial_outputs: bool = False
) -> dict[str, Any]:
    """One episode's ``input_ids`` and ``labels`` cut at ``max_length`` (`Format.encode`), with diagnostics."""
    enc = fmt.encode(messages, max_length=max_length, drop_partial_output=drop_partial_outputs)
    return {
        "input_ids": enc.input_ids,
        "labels": enc.labels,
        "n_labels": enc.n_labels,
        "n_tokens": len(enc.input_ids),
        "truncated": enc.truncated,
        "partial_unlabelled": enc.partial_unlabelled,
        "first_scored_end": first_scored_end(enc),
    }


def _first_scored_need(episodes: datasets.Dataset, fmt: Format, limit: int = 200) -> int | None:
    """Tokens needed to reach the end of the first scored output, minimised over up to ``limit`` episodes."""
    ends = [
        first_scored_end(fmt.encode(row["messages"]))
        for row in episodes.select(range(min(limit, len(episodes))))
    ]
    return min((end for end in ends if end > 0), default=None)


def task_counts(frame: Any) -> dict[str, TaskCounts]:
    """Per-task counts from the tokenised rows' diagnostics, tasks in order of first appearance."""
    counts: dict[str, TaskCounts] = {}
    for task, group in frame.groupby("task", sort=False):
        kept = group[group["n_labels"] > 0]
        counts[str(task)] = TaskCounts(
            episodes=len(group),
            kept=len(kept),
            dropped_no_labels=int((group["n_labels"] == 0).sum()),
            truncated=int(group["truncated"].sum()),
            partial_outputs_unlabelled=int(group["partial_unlabelled"].sum()),
            tokens=int(kept["n_tokens"].sum()),
            labelled_tokens=int(kept["n_labels"].sum()),
        )
    return counts


def _nothing_to_learn(
    episodes: datasets.Dataset, fmt: Format, max_length: int, drop_partial_outputs: bool
) -> TrainDataError:
    """The error when no episode keeps a labelled token: no scored output at all, or max_length too short."""
    need = _first_scored_need(episodes, fmt)
    if need is None:
        return TrainDataError(
            f"none of the {len(episodes)} episodes has a scored output in the spectrum format "
            "(an episode without a description needs at least two outputs)"
        )
    partial = " (with drop_partial_outputs)" if drop_partial_outputs else ""
    return TrainDataError(
        f"max_length={max_length} is too short for any episode's first scored output: "
        f"the shortest needs {need} tokens{partial}"
    )


def _check_inputs(
    episodes: datasets.Dataset, max_length: int, configs: Sequence[str], skipped: Mapping[str, str] | None
) -> None:
    """Refuse what cannot give a train set, naming why, before any tokenising."""
    if max_length < 2:
        raise TrainDataError(f"max_length must be at least 2, got {max_length}")
    if len(episodes) == 0:
        where = ", ".join(configs)
        gone = f"; skipped tasks: {', '.join(skipped)}" if skipped else ""
        raise TrainDataError(f"the train split of {where} is empty: nothing to train on{gone}")
    missing = {"messages", "task"} - set(episodes.column_names)
    if missing:
        raise TrainDataError(f"episode rows need the columns {sorted(missing)}; got {episodes.column_names}")


def build_train_dataset(
    episodes: datasets.Dataset,
    fmt: Format,
    max_length: int = DEFAULT_MAX_LENGTH,
    drop_partial_outputs: bool = False,
    max_episodes: int | None = None,
    seed: int = 42,
    configs: Sequence[str] = ("train",),
    skipped: Mapping[str, str] | None = None,
    num_proc: int | None = None,
) -> TrainData:
    """Tokenise, truncate and filter episode rows in ``fmt`` (the spectrum format of the model's tokenizer and
    family); ``max_episodes`` keeps the first N after a seeded shuffle."""
    if fmt.name != "spectrum":
        raise TrainDataError(f"Spectrum Tuning trains in the spectrum format, got {fmt!r}")
    _check_inputs(episodes, max_length, configs, skipped)
    if max_episodes is not None:
        if max_episodes < 1:
            raise TrainDataError(f"max_episodes must be at least 1, got {max_episodes}")
        episodes = episodes.shuffle(seed=seed).select(range(min(max_episodes, len(episodes))))

    def encode(row: dict[str, Any]) -> dict[str, Any]:
        out = tokenize_episode(row["messages"], fmt, max_length, drop_partial_outputs)
        out["task"] = row["task"]
        return out

    tokenised = episodes.map(
        encode,
        remove_columns=episodes.column_names,
        num_proc=num_proc,
        desc=f"Tokenising episodes (spectrum, {fmt.family}, max_length {max_length})",
    )
    frame = tokenised.select_columns(list(_DIAGNOSTICS)).to_pandas()
    if not (frame["n_labels"] > 0).any():
        raise _nothing_to_learn(episodes, fmt, max_length, drop_partial_outputs)
    keep = [i for i, n in enumerate(frame["n_labels"]) if n > 0]
    dataset = tokenised.select(keep) if len(keep) < len(tokenised) else tokenised
    dropped = len(frame) - len(keep)
    if dropped:
        logger.info("train data: dropped %d episodes with no labelled token after truncation", dropped)
    return TrainData(
        dataset=dataset,
        counts=task_counts(frame),
        configs=list(configs),
        skipped=dict(skipped or {}),
        max_length=max_length,
        drop_partial_outputs=drop_partial_outputs,
        family=fmt.family,
    )
