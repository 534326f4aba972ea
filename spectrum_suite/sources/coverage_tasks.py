"""The 22 diversity/validity generation tasks (docs/tasks.md#coverage-tasks): a description, three example
outputs and a generation budget each. The validator of a task is named after it (`metrics/coverage` knows the
rules and fetches the files some rules need), so the rows themselves need no data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from ..task import PAPER_CITATION, PAPER_URL, Source, TaskSpec, coverage_task

if TYPE_CHECKING:
    from ..task import FetchedFiles

SOURCE = Source(
    "diverse_valid", "Diversity/validity generation tasks", "SYN", PAPER_URL, "Apache-2.0", PAPER_CITATION
)


class CoverageTask(NamedTuple):
    """What the model sees (description, examples) and how many tokens it may generate."""

    description: str
    examples: tuple[str, str, str]
    max_new_tokens: int


COVERAGE_TASKS: dict[str, CoverageTask] = {
    "car_make_model": CoverageTask(
        "Car make and model.", ("Acura Integra", "Ford Mustang", "Tesla Model 3"), 16
    ),
    "car_brand": CoverageTask("Car brand.", ("Acura", "Ford", "Tesla"), 8),
    "claude_gerunds": CoverageTask(
        "Generate an English gerund ending in -ing.", ("Schlepping", "Hoisting", "Thinking"), 4
    ),
    "color_normal_ex": CoverageTask("Generate a color name.", ("Green", "Red", "White"), 8),
    "color_interesting_ex": CoverageTask(
        "Generate a color name.", ("Otterly Brown", "Petal Pink", "Cherry"), 8
    ),
    "basic_emails": CoverageTask(
        "Email address", ("tsor13@cs.washington.edu", "alex.jones@domain.net", "itsagoodday@gmail.com"), 40
    ),
    "professional_emails": CoverageTask(
        "Generate a professional email address.",
        ("tsor13@cs.washington.edu", "sarah.johannesburg@organization.org", "yash@anthropic.com"),
        40,
    ),
    "element_symbols": CoverageTask("Chemical element symbol", ("Sb", "He", "W"), 5),
    "element_names": CoverageTask("Chemical element name", ("Niobium", "Antimony", "Iodine"), 15),
    "us_phone_numbers": CoverageTask(
        "US phone number", ("(210) 346-0967", "646 562-1938", "800-895-0522"), 20
    ),
    "international_phone_numbers": CoverageTask(
        "International phone number with country code.",
        ("+1 413-121-2591", "+44 10 2958 3938", "+81 3 8328 5625"),
        25,
    ),
    "prime_numbers": CoverageTask("Generate a prime number", ("617", "13", "47"), 10),
    "small_prime_numbers": CoverageTask("Generate a prime number less than 100", ("29", "5", "97"), 5),
    "random_seed": CoverageTask("Generate a number to use for a random seed.", ("15", "420", "8392013"), 4),
    "rng_1_10": CoverageTask("Generate a number between 1 and 10.", ("3", "7", "10"), 4),
    "rng_1_100": CoverageTask("Generate a number between 1 and 100.", ("35", "94", "71"), 4),
    "us_states_full_names": CoverageTask("Name a US state", ("Kentucky", "Utah", "Oregon"), 15),
    "us_states_abbreviations": CoverageTask("US state abbreviation", ("KY", "UT", "OR"), 5),
    "us_states_any_format": CoverageTask("US state name or abbreviation", ("Kentucky", "UT", "Oregon"), 15),
    "weekdays_full": CoverageTask("Name a day of the week", ("Thursday", "Wednesday", "Sunday"), 10),
    "weekdays_abbreviated": CoverageTask("Day of the week abbreviation", ("Thu", "Wed.", "SUN"), 5),
    "weekdays_any_format": CoverageTask(
        "Day of the week (full name or abbreviation)", ("Monday", "Tue", "SUN"), 10
    ),
}


def rows(task: TaskSpec, fetched: FetchedFiles | None = None) -> Iterator[dict[str, Any]]:
    """The one coverage row of a task; its validator (in `metrics/coverage`) has the task's name."""
    spec = COVERAGE_TASKS[task.name]
    row = {
        "task": task.name,
        "description": spec.description,
        "examples": list(spec.examples),
        "validator": task.name,
        "max_new_tokens": spec.max_new_tokens,
    }
    return iter([row])


TASKS = tuple(coverage_task(name, SOURCE, build=rows) for name in COVERAGE_TASKS)
