"""The 22 diversity/validity generation tasks (docs/tasks.md#coverage-tasks): a description, three example
outputs and a generation budget each. The validator of a task is named after it (`metrics/coverage` knows the
rules), so the rows themselves need no data; seven validators read a word list, declared here as the scoring
files of their tasks, so that `spectrum_suite list` shows those tasks as ready only where the list is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from ..task import PAPER_CITATION, PAPER_URL, RemoteFile, Source, TaskFiles, TaskSpec, coverage_task

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


def pinned(folder: str, repo: str, commit: str, path: str, sha256: str) -> RemoteFile:
    """One file of a public repository at a fixed commit, at ``<folder>/<path>`` under a data directory."""
    url = f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"
    return RemoteFile(f"{folder}/{path}", url=url, sha256=sha256, where=url)


_CARS = ("validators_cars", "abhionlyone/us-car-models-data", "b943b86f8f695cb2167491a82cccd9fa2eb5603f")
_CAR_FILES = (
    ("1992.csv", "95e51262a5f957730692477a83a66b2ab7abdea09c452a41c2404d90e372505f"),
    ("1993.csv", "6f1623bb50d4babc2ef87d14541137082c4b128b37bc5051a3949678a4c0d4f4"),
    ("1994.csv", "1e618f1712cfb4f5ab872769740578f5067dc59278c619f23702255b31d84d61"),
    ("1995.csv", "8ecd06421c9169865894d161bae905070b5826bc9f37afe66a0906704a98cda5"),
    ("1996.csv", "f4dd445778d1171b92a940b8892463cc396fa829c2191fb53ac007ff41a80517"),
    ("1997.csv", "8e706bfb470ebe5863df3927ff46638bfc9584f12105cebd2a2c6dba32498d97"),
    ("1998.csv", "5af73187440b0b588e315024bd910f44658b310ac6cbc83a3eaa09bf18f065e0"),
    ("1999.csv", "b808bbbb778888b2592cebb3da401c5f296d40ae234b184732ba29699f7eaea8"),
    ("2000.csv", "f1f80ace6b5f8cca5be97aa94efd2c9a718da1837e2196b407c619f8a4c7114f"),
    ("2001.csv", "71e79c987b356abcd91f6819ac226504bd8216e3ea8dccd9137a927f1f8d4300"),
    ("2002.csv", "b8c366d6b2f928af84fe777b71c170d1ae1999ecb9e77031eaa5a0b4285cce75"),
    ("2003.csv", "144ce0b96842228af4338802b2896ad967cfb91a0f1a45eec5a90d93ab7a5b94"),
    ("2004.csv", "a1042e510f80aaf7e68f6aae6d2b9765ecef4b46760d99d562c212a4da0be1b5"),
    ("2005.csv", "e7c81a6d0c25bdc7a108227ea97942460be946980d23705c74574723ccfb2a56"),
    ("2006.csv", "e94415fc9029a072298846715d2db39f4a86fbe5c3506fb3470962490932aa00"),
    ("2007.csv", "4da593712281bd924d22dbb0105681d3c66129ac68cd07baa5f7afae382243bc"),
    ("2008.csv", "785e0e2884cff3bdbad14033f72488c4a7506eac437524280f8d29c918843bce"),
    ("2009.csv", "4e234064eb886e6af7b6bb08684fa88abc45ce290297522162b949624d97b08d"),
    ("2010.csv", "95ad34cd85d3760f36cef3ce8f78de5f4a3749a8460bb301cd65650fa11a8eda"),
    ("2011.csv", "81a95de8cb6056d61de7c291cb17ab16fe2f6c582c4d566a8f961d597d8dd741"),
    ("2012.csv", "aac6833dae8865ac0d7c2cd9ef60b66b44c43df4d30b9c1eaaceab120e088121"),
    ("2013.csv", "46e79c96d4031c52b3e1a28ea153992cc6a024964b19ebb5e6eb19bd19be7e9b"),
    ("2014.csv", "82a93f1970a35299be193c1ffefaa25f19fc6eb407959fec6c2979ea5f277a78"),
    ("2015.csv", "c135182af67aad98e548c94625e7fca747141395485c21a0fef112ad40243e09"),
    ("2016.csv", "a6f7365458f94bf35aa62dd019e8f79f99c2585678518008f5e8826d824738e5"),
    ("2017.csv", "3ee7b4251d292f5c1f0472c2b4325fa1641c3bc87b51cd0150b10e618aaa54ff"),
    ("2018.csv", "129c10730ee450d6e0695a0fb3cfb9cb4b532fa88e003430fb09f917d8962c5b"),
    ("2019.csv", "a4062747e536eac77199e46f095151a776f97acacdc7113533cdd6854a67e74f"),
    ("2020.csv", "1adfdc05dbbe6f7fb210f2753b387af4337bc61d194ca9925ef666821f87c6c5"),
    ("2021.csv", "b58083eb5b1c823b9a7bceb8ee9893bb4db501a430579d7737d1fc9741e6009f"),
    ("2022.csv", "fb88ecc5bbd5062f59eb2f02840baf8b6e0a57fec81d5e90f83e238c22cdc016"),
    ("2023.csv", "18dcc9c790f75cfa2fb26405342c53db77050d62d1fd31e5d3fc32d0bfc4e4c2"),
    ("2024.csv", "91f6ace23b17125d5d49d837f05ed77a616d5e8ecedda4af2866b024cb858c4a"),
    ("2025.csv", "9f3314c88bc2c6a93b9abf047d53c2ef6dde792b0e03861a74f972f8f948890b"),
    ("2026.csv", "032a418aa4289dcade5f034f0ca4d4b7014e575ba208cf41f82f9df83e95feb9"),
)

LISTS: dict[str, tuple[RemoteFile, ...]] = {
    "cars": tuple(pinned(*_CARS, path, sha) for path, sha in _CAR_FILES),
    "colors": (
        pinned(
            "validators_colors",
            "meodai/color-names",
            "bc533465ab1db99a8488aef478fa44e2aa5d7849",
            "src/colornames.csv",
            "f223ab3211317b517446f18d5be9c678fb28eaaf0ce1cb23f9f1859059e3affc",
        ),
    ),
    "verbs": (
        pinned(
            "validators_verbs",
            "gutfeeling/word_forms",
            "1ad4b74a15093c0ab996b99639f7a963c5974f44",
            "word_forms/en-verbs.txt",
            "d25628be9038b69c9821e55cf76798bba070e839408bacc598d2e2cca62c6597",
        ),
    ),
    "elements": (
        pinned(
            "validators_elements",
            "andrejewski/periodic-table",
            "822077c676491adc28a63b167ceba3d642f83ffd",
            "data.csv",
            "d1f406e05a428c028fc92c34a84f2bdc604239004fbf4905d749f849351df379",
        ),
    ),
}
"""The pinned files of each validator word list (the same files as the shared data's MANIFEST.tsv): the rows
build without them, but the tasks below cannot be scored without them."""
#: Coverage task -> the word list its validator reads (the other tasks' validators need no file).
WORD_LIST = {"car_make_model": "cars", "car_brand": "cars", "claude_gerunds": "verbs", "color_normal_ex": "colors",
             "color_interesting_ex": "colors", "element_symbols": "elements", "element_names": "elements"}  # fmt: skip


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


TASKS = tuple(
    coverage_task(
        name,
        SOURCE,
        build=rows,
        scoring_files=TaskFiles(LISTS[WORD_LIST[name]]) if name in WORD_LIST else None,
    )
    for name in COVERAGE_TASKS
)
