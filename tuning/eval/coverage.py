"""Valid output-space coverage of one model (`docs/evaluation.md`).

Per coverage task and prompt setting (description, examples, both): N seeded samples of the same prompt,
cleaned by the metric's own cleaning function, scored by the coverage metric. The prompt string actually used
for generation is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tqdm.auto import tqdm

from spectrum_suite.formats import Format
from spectrum_suite.formats.families import SAMPLING_STOP_STRINGS
from tuning.distributed import share
from tuning.eval.options import SETTINGS, EvalOptions
from tuning.eval.results import CoverResults, CoverSetting
from tuning.jsonfile import json_ready
from tuning.lm import LanguageModel, derived_seed
from tuning.sequences import encode_prompt

#: The chat system prompt of the paper's coverage evaluation (the description is inserted without a prefix).
COVERAGE_SYSTEM_PROMPT = "Respond with JUST the requested output, nothing else."


def sampling_stop_strings(tokenizer: Any) -> list[str]:
    """The paper's stop list for this tokenizer: turn ends, its EOS, then a newline (no duplicates)."""
    out: list[str] = []
    for s in (*SAMPLING_STOP_STRINGS, tokenizer.eos_token, "\n"):
        if s and s not in out:
            out.append(s)
    return out


def setting_messages(row: Mapping[str, Any], setting: str) -> list[dict[str, Any]]:
    """The description and/or the three example outputs, as messages."""
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


def prompt_for(row: Mapping[str, Any], setting: str, fmt: Format) -> str:
    """The generation prompt in ``fmt`` (chat: every example in the system message)."""
    options: dict[str, Any] = {}
    if fmt.name == "chat":
        options = {
            "system_prompt": COVERAGE_SYSTEM_PROMPT,
            "description_prefix": "",
            "all_examples_in_prompt": True,
        }
    return fmt.prompt_text(setting_messages(row, setting), **options)


def unscoreable(tasks: Mapping[str, Sequence[Mapping[str, Any]]], data_dir: str | None) -> dict[str, str]:
    """The tasks whose validator cannot run here (its word list is neither in the data directory nor
    downloadable), with the reason: found before any model is loaded, so no sampling is spent on them."""
    from metrics.coverage.validator_files import ValidatorDataUnavailable
    from metrics.coverage.validators import validator

    failed = {}
    for task, rows in tasks.items():
        try:
            validator(rows[0]["validator"], data_dir)  # loads (or downloads) the word list once
        except ValidatorDataUnavailable as err:
            failed[task] = (
                f"its validator's word list {err.path} is missing (get it from {err.where} and place it at "
                "<data_dir>/" + f"{err.path}, --data-dir or $SPECTRUM_SUITE_DATA)"
            )
    return failed


def sampling_prompt(
    row: Mapping[str, Any], setting: str, fmt: Format, context_length: int | None
) -> tuple[str, list[int] | None]:
    """The prompt of one (row, setting) and its ids; None for the ids when the prompt and the row's
    ``max_new_tokens`` do not fit the context (the job is skipped and listed)."""
    prompt = prompt_for(row, setting, fmt)
    ids = encode_prompt(fmt.tokenizer, prompt)
    if context_length is not None and len(ids) + int(row["max_new_tokens"]) > context_length:
        return prompt, None
    return prompt, ids


def evaluate_coverage(
    lm: LanguageModel,
    fmt: Format,
    tasks: Mapping[str, Sequence[Mapping[str, Any]]],
    metric: Any,
    opts: EvalOptions,
    failed: Mapping[str, str] | None = None,
) -> CoverResults:
    """Per setting: the metric's per-task results and aggregates, the prompts used and skip counts; the tasks in
    ``failed`` (found unscoreable beforehand) are recorded as failed without sampling."""
    from metrics.coverage.cleaning import clean_generation

    stops = sampling_stop_strings(lm.tokenizer)
    settings = {s: CoverSetting(prompts={}, generations={}, skipped_too_long=[]) for s in opts.settings}
    failed = dict(failed or {})
    tasks = {task: rows for task, rows in tasks.items() if task not in failed}
    validators = {task: rows[0]["validator"] for task, rows in tasks.items() if rows}
    jobs = [(s, t, r) for s in opts.settings for t, rows in tasks.items() for r in rows]

    def sample_jobs(part: Sequence[tuple[str, str, Mapping[str, Any]]]) -> list[tuple[str, list[str] | None]]:
        """Each job's prompt and cleaned samples (None when it does not fit the context); seeds per job, so
        the samples do not depend on which process draws them."""
        done = []
        for setting, task, row in tqdm(part, desc="coverage sampling", disable=not lm.progress):
            prompt, ids = sampling_prompt(row, setting, fmt, lm.context_length)
            if ids is None:
                done.append((prompt, None))
                continue
            raw = lm.sample(
                ids, n=opts.num_generations, max_new_tokens=int(row["max_new_tokens"]),
                seed=derived_seed(opts.seed, task, setting),
                top_k=opts.top_k, stop_strings=stops, batch_size=opts.batch_size,
            )  # fmt: skip
            done.append((prompt, [clean_generation(g, stops) for g in raw]))
        return done

    for (setting, task, _), (prompt, generations) in zip(jobs, share(sample_jobs, jobs), strict=True):
        if generations is None:
            settings[setting].skipped_too_long.append(task)
            continue
        settings[setting].generations[task] = generations
        settings[setting].prompts[task] = prompt
    for res in settings.values():
        names = list(res.generations)
        if names:
            res.metrics = json_ready(
                metric.compute(
                    predictions=[res.generations[t] for t in names],
                    tasks=[validators[t] for t in names],
                    data_dir=opts.data_dir,
                    return_validity=True,
                )
            )
            for task in names:
                entry = res.metrics["per_task"][task]
                if entry.get("failed"):
                    failed.setdefault(task, str(entry.get("error")))
                flags = entry.pop("validity", None)
                if flags is not None:
                    res.validity[task] = flags
            res.refresh_intervals()
    for setting, res in settings.items():
        for task in res.skipped_too_long:
            failed.setdefault(task, f"the {setting} prompt does not fit the model's context")
    return CoverResults(
        settings=settings, num_generations=opts.num_generations, top_k=lm.effective_top_k(opts.top_k),
        seed=opts.seed, stop_strings=stops, failed=failed, temperature=lm.temperature, top_p=lm.top_p,
    )  # fmt: skip
