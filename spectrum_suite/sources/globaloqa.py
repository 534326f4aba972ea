"""GlobalOpinionQA (docs/tasks.md#real-sources, row globaloqa): episode task ``globaloqa`` and alignment task
``global_oqa``.

Each survey question carries, per country, the share of respondents who chose each option. The episode task
makes one instance per country (a group) whose samples are that country's answer distributions; the alignment
task asks for one country's distribution over the lettered options.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterator
from typing import Any

from ..episodes import Instance, InstanceGroup, rows_to_samples
from ..sourcekit.remote import hub_file
from ..sourcekit.tables import read_csv
from ..sourcekit.values import distribution, number
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, alignment_task, episode_task

SOURCE = Source(
    "globaloqa", "GlobalOpinionQA", "HF", "https://huggingface.co/datasets/Anthropic/llm_global_opinions",
    "CC BY-NC-SA 4.0", "Durmus et al. 2023, Towards Measuring the Representation of Subjective Global Opinions",
)  # fmt: skip
REPO = "Anthropic/llm_global_opinions"
HUB_PATH = "data/global_opinions.csv"
LOCAL = f"globaloqa/{HUB_PATH}"
COLUMNS = ("question", "selections", "options", "source")

EPISODE_DESCRIPTIONS = (
    "People from an unknown location were surveyed. For each question, predict the percentage of people who chose "
    "each option. (list of dicts)",
    # The reference left {country} unfilled (no f-string); the country is filled in here
    # (docs/deviations.md#data-fixes-in-single-sources).
    "Country: {country}\nFor each question, predict the percentage of people from the country who chose each "
    "option. (list of dicts)",
)
ALIGNMENT_DESCRIPTION = "Responses from a person from this country: {country}"
_BRACES = re.compile(r"\{.*\}", re.DOTALL)


FILES = TaskFiles((hub_file("globaloqa", REPO, HUB_PATH, "cb2880488749218abb81802a94c2c62ebfde2f35"),))


def _selections(path: Any, row: int, text: Any) -> dict[str, list[float]]:
    """``defaultdict(<class 'list'>, {...})`` -> the dict inside, parsed as a Python literal (never eval)."""
    match = _BRACES.search(str(text))
    try:
        value = ast.literal_eval(match.group()) if match else None
    except (ValueError, SyntaxError) as err:
        raise SourceFormatError(path, f"row {row + 2}", "selections", f"not a dict literal ({err})") from err
    if not isinstance(value, dict):
        raise SourceFormatError(
            path, f"row {row + 2}", "selections", "expected defaultdict(<class 'list'>, {...})"
        )
    return value


def _options(path: Any, row: int, text: Any) -> list[str]:
    """The option labels: a list literal of strings (an integer label, as on numeric scales, is written as is)."""
    try:
        value = ast.literal_eval(str(text))
    except (ValueError, SyntaxError) as err:
        raise SourceFormatError(path, f"row {row + 2}", "options", f"not a list literal ({err})") from err
    if not isinstance(value, list) or not value:
        raise SourceFormatError(path, f"row {row + 2}", "options", "expected a list of option strings")
    for option in value:
        if isinstance(option, bool) or not isinstance(option, (str, int)):
            raise SourceFormatError(
                path, f"row {row + 2}", "options", f"expected option strings, got {option!r}"
            )
    return [str(option) for option in value]


def _shares(path: Any, row: int, country: str, vector: list[Any]) -> list[float]:
    """One country's shares: each a finite proportion in [0, 1]; anything else is a corrupt file."""
    field = f"selections[{country!r}]"
    return [number(path, f"row {row + 2}", field, p, low=0.0, high=1.0) for p in vector]


def survey(fetched: FetchedFiles) -> Iterator[tuple[int, str, list[str], str, list[float]]]:
    """(row, question, options, country, shares) for every usable (question, country); drops counted.

    A question that is not text and a selection vector whose length differs from the options are dropped and
    counted, as this adapter always did; a share that is not a finite proportion in [0, 1], or a country key
    that is not a name, is a format error naming the row.
    """
    path = fetched.require(LOCAL)
    frame = read_csv(path, COLUMNS)
    for row, record in enumerate(frame.to_dict("records")):
        question = record["question"]
        if not isinstance(question, str):
            fetched.drop("GlobalOpinionQA question not a string")
            continue
        options = _options(path, row, record["options"])
        for country, vector in _selections(path, row, record["selections"]).items():
            if not isinstance(country, str) or not country.strip():
                raise SourceFormatError(
                    path, f"row {row + 2}", "selections", f"expected country names as keys, got {country!r}"
                )
            if not isinstance(vector, (list, tuple)) or len(vector) != len(options):
                fetched.drop("GlobalOpinionQA selection vector length differs from the options")
                continue
            yield row, question, options, country, _shares(path, row, country, list(vector))


def country_groups(task: TaskSpec, fetched: FetchedFiles) -> list[InstanceGroup]:
    """One group per country (in order of first appearance): its questions -> its answer distributions."""
    by_country: dict[str, list[dict[str, str]]] = {}
    for _, question, options, country, probs in survey(fetched):
        # round(100 p), not the reference's int(np.round(p, 2) * 100), which gave 28 for 0.29
        # (docs/deviations.md#data-fixes-in-single-sources).
        distribution = [{option: round(100 * p)} for option, p in zip(options, probs, strict=True)]
        by_country.setdefault(country, []).append(
            {"question": question, "options": str(options), "distribution": str(distribution)}
        )
    groups = []
    for i, (country, records) in enumerate(by_country.items()):
        instance = Instance(
            key=f"country/{country}",
            name=f"globaloqa_{country}",
            descriptions=[EPISODE_DESCRIPTIONS[0], EPISODE_DESCRIPTIONS[1].format(country=country)],
            population=rows_to_samples(records, ["question", "options"], ["distribution"]),
            meta={"country": country},
        )
        # Seeds 43, 44, ... per country in order of first appearance, as the reference seeded them.
        groups.append(InstanceGroup([instance], dataclasses.replace(task.params, seed=task.params.seed + i)))
    return groups


def alignment_rows(task: TaskSpec, fetched: FetchedFiles) -> Iterator[dict[str, Any]]:
    """One row per usable (question, country): the country's shares over the lettered options, renormalised."""
    for row, question, options, country, probs in survey(fetched):
        if not any(probs):  # no respondent: no distribution; dropped and counted, as this adapter always did
            fetched.drop("GlobalOpinionQA selection vector sums to 0")
            continue
        letters = [chr(ord("A") + i) for i in range(len(options))]
        text = (
            question.strip()
            + "\nOptions:"
            + "".join(f"\n{L}. {o}" for L, o in zip(letters, options, strict=True))
        )
        yield {
            "task": task.name,
            "instance_id": f"question{row}/{country}",
            "cluster": f"question{row}",  # one question, asked in every country
            "description": ALIGNMENT_DESCRIPTION.format(country=country),
            "input": text,
            "candidates": letters,
            "target_probs": distribution(
                fetched.require(LOCAL), f"row {row + 2}", f"selections[{country!r}]", probs
            ),
            "output_name": task.output_name,
            "ordinal": False,  # a question's options are not known to be a scale (docs/evaluation.md#divergences)
        }


TASKS = (
    episode_task("globaloqa", SOURCE, side="test", kind="group", build=country_groups, files=FILES, seed=43,
                 n_per=2),
    alignment_task("global_oqa", SOURCE, output_name="Response (letter)", build=alignment_rows, files=FILES),
)  # fmt: skip
