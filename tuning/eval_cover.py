"""Valid output-space coverage of one model (`spec/evaluations.md` §C.3-C.7).

Per coverage task and prompt setting (description, examples, both): N seeded samples of the same
prompt, cleaned by the metric's own cleaning function, scored by `metrics/coverage`. The prompt string
actually used for generation is recorded (defects D47).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from tuning.scoring_candidates import encode_prompt
from tuning.scoring_sampling import derived_seed, sample, sampling_stop_strings

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

SETTINGS = ("description", "examples", "both")
#: The chat system prompt of spec §C.3 (the description is inserted without a prefix).
COVERAGE_SYSTEM_PROMPT = "Respond with JUST the requested output, nothing else."


@dataclass
class CoverOptions:
    """Knobs of the coverage run."""

    num_generations: int = 100
    batch_size: int = 8
    seed: int = 42
    top_k: int | None = 0  # 0 = off (pure sampling); None = the library/model default
    settings: Sequence[str] = SETTINGS
    context_length: int | None = None
    data_dir: str | Path | None = None
    progress: bool = True


def setting_messages(row: Mapping[str, Any], setting: str) -> list[dict[str, Any]]:
    """The description and/or the three example outputs, as messages (spec §C.3)."""
    if setting not in SETTINGS:
        raise ValueError(f"prompt setting must be one of {SETTINGS}, got {setting!r}")
    messages: list[dict[str, Any]] = []
    if setting in ("description", "both"):
        messages.append({"role": "description", "content": row["description"], "example_ind": -1})
    if setting in ("examples", "both"):
        messages += [
            {"role": "output", "content": ex, "example_ind": j} for j, ex in enumerate(row["examples"])
        ]
    return messages


def prompt_for(row: Mapping[str, Any], setting: str, fmt: str, tokenizer: Any) -> str:
    """The generation prompt in ``fmt`` (chat: every example in the system message)."""
    from spectrum_suite.formats import prompt_text

    options: dict[str, Any] = {}
    if fmt == "chat":
        options = {
            "system_prompt": COVERAGE_SYSTEM_PROMPT,
            "description_prefix": "",
            "all_examples_in_prompt": True,
        }
    return prompt_text(setting_messages(row, setting), fmt, tokenizer, **options)


def evaluate_coverage(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    fmt: str,
    tasks: Mapping[str, Sequence[Mapping[str, Any]]],
    metric: Any,
    opts: CoverOptions,
) -> dict[str, Any]:
    """Per setting: the metric's per-task results and aggregates, the prompts used and skip counts."""
    from metrics.coverage.cleaning import clean_generation

    stops = sampling_stop_strings(tokenizer)
    effective_top_k = (
        opts.top_k if opts.top_k is not None else getattr(model.generation_config, "top_k", None)
    )
    out: dict[str, Any] = {}
    jobs = [(s, t, r) for s in opts.settings for t, rows in tasks.items() for r in rows]
    generations: dict[str, dict[str, list[str]]] = {s: {} for s in opts.settings}
    prompts: dict[str, dict[str, str]] = {s: {} for s in opts.settings}
    too_long: dict[str, list[str]] = {s: [] for s in opts.settings}
    validators = {task: rows[0]["validator"] for task, rows in tasks.items() if rows}
    for setting, task, row in tqdm(jobs, desc="coverage sampling", disable=not opts.progress):
        prompt = prompt_for(row, setting, fmt, tokenizer)
        ids = encode_prompt(tokenizer, prompt)
        max_new = int(row["max_new_tokens"])
        if opts.context_length is not None and len(ids) + max_new > opts.context_length:
            too_long[setting].append(task)
            continue
        raw = sample(
            model,
            tokenizer,
            ids,
            n=opts.num_generations,
            max_new_tokens=max_new,
            seed=derived_seed(opts.seed, task, setting),
            batch_size=opts.batch_size,
            top_k=opts.top_k,
            stop_strings=stops,
        )
        generations[setting][task] = [clean_generation(g, stops) for g in raw]
        prompts[setting][task] = prompt
    for setting in opts.settings:
        names = list(generations[setting])
        result: dict[str, Any] = {"prompts": prompts[setting], "skipped_too_long": too_long[setting]}
        if names:
            metrics = metric.compute(
                predictions=[generations[setting][t] for t in names],
                tasks=[validators[t] for t in names],
                data_dir=None if opts.data_dir is None else str(opts.data_dir),
            )
            result["metrics"] = metrics
        result["generations"] = generations[setting]
        out[setting] = result
    return {
        "settings": out,
        "num_generations": opts.num_generations,
        "top_k": effective_top_k,
        "seed": opts.seed,
        "stop_strings": stops,
        "skipped_too_long": sum(len(v) for v in too_long.values()),
    }
