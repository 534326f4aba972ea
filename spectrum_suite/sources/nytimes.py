"""NYT book reading likelihood (alignment task ``nytimes``; docs/tasks.md#real-sources, row nytimes).

One item per (book, demographic): a respondent of that demographic says how likely they are to read the
book, on the four options of the book's ``MC_options``; the target is the demographic's answer counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..sourcekit.remote import github_raw_url
from ..sourcekit.tables import read_json
from ..sourcekit.values import distribution, number, text
from ..task import FetchedFiles, RemoteFile, Source, SourceFormatError, TaskFiles, TaskSpec, alignment_task

SOURCE = Source(
    "nytimes", "NYT book reading likelihood", "GH",
    "https://github.com/nicolemeister/benchmarking-distributional-alignment", "see homepage",
    "Meister et al. 2024, Benchmarking Distributional Alignment of Large Language Models",
)  # fmt: skip
REPO = "nicolemeister/benchmarking-distributional-alignment"
COMMIT = "36869b56b214b5ddce13dc234d62b4cbce3706cd"
PATH = "nytimes/NYTIMES_proportions.json"
LOCAL = f"nytimes/{PATH}"
SHA256 = "854d0321e338ed5acc6c70efe4276f471822308f1c87235b0e72bfac830a46de"

DEMOGRAPHICS = ("Democrat", "Republican", "Male", "Female")
DESCRIPTION = "You are a random survey respondent. Respondent demographic: {demographic}"


FILES = TaskFiles(
    (RemoteFile(LOCAL, github_raw_url(REPO, COMMIT, PATH), SHA256, f"https://github.com/{REPO}"),)
)


def _book_text(title: str, book: dict[str, Any]) -> str:
    """The question and the book, with any line that is just ``Answer:`` removed, then the options."""
    body = f"How likely are you to read this book?\nBook: {title}\nGenre: {book['genre']}\nSummary: {book['summary']}"
    lines = [line for line in body.split("\n") if line.strip() != "Answer:"]
    return "\n".join(lines) + "\nOptions:" + "".join(f"\n{option}" for option in book["MC_options"])


def _check_book(path: Any, title: str, book: Any) -> None:
    if not isinstance(book, dict):
        raise SourceFormatError(path, f"book {title!r}", "*", "expected a JSON object")
    for name in ("MC_options", "genre", "summary"):
        if name not in book:
            raise SourceFormatError(path, f"book {title!r}", name, "field missing")
    for name in ("genre", "summary"):
        text(path, f"book {title!r}", name, book[name])
    options = book["MC_options"]
    if (
        not isinstance(options, list)
        or not options
        or not all(isinstance(o, str) and ":" in o for o in options)
    ):
        raise SourceFormatError(
            path, f"book {title!r}", "MC_options", "expected a list of 'N: label' strings"
        )
    candidates = [option.split(":", 1)[0].strip() for option in options]
    if len(set(candidates)) != len(candidates) or not all(candidates):
        raise SourceFormatError(
            path,
            f"book {title!r}",
            "MC_options",
            f"expected distinct, non-empty option numbers, got {candidates}",
        )


def _counts(path: Any, title: str, demographic: str, options: list[str], counts: Any) -> list[float]:
    """The demographic's answer counts in option order (an option without a count has 0): each a non-negative
    integer, only for the book's options, not all zero; anything else is a corrupt file."""
    where = f"book {title!r}"
    if not isinstance(counts, dict):
        raise SourceFormatError(path, where, demographic, "expected counts keyed by option")
    unknown = [key for key in counts if key not in options]
    if unknown:
        raise SourceFormatError(
            path, where, f"{demographic}.{unknown[0]}", f"a count for an option not in MC_options {options}"
        )
    values = [
        number(
            path, where, f"{demographic}.{option}", counts.get(option, 0), integer=True, low=0, strings=False
        )
        for option in options
    ]
    return distribution(path, where, demographic, values)


def book_rows(task: TaskSpec, fetched: FetchedFiles) -> Iterator[dict[str, Any]]:
    """One row per (book, demographic): the demographic's answer shares over the book's options."""
    path = fetched.require(LOCAL)
    books = read_json(path)
    if not isinstance(books, dict) or not books:
        raise SourceFormatError(path, "top level", "*", "expected an object keyed by book title")
    for title, book in books.items():
        _check_book(path, title, book)
        options = book["MC_options"]
        candidates = [option.split(":", 1)[0].strip() for option in options]
        prompt = _book_text(title, book)
        for demographic in DEMOGRAPHICS:
            counts = book.get(demographic)
            if counts is None:
                fetched.drop(f"book without the demographic {demographic}")
                continue
            yield {
                "task": task.name,
                "instance_id": f"{title}/{demographic}",
                "cluster": title,  # one book, rated by every demographic
                "description": DESCRIPTION.format(demographic=demographic),
                "input": prompt,
                "candidates": candidates,
                "target_probs": _counts(path, title, demographic, options, counts),
                "output_name": task.output_name,
                "ordinal": True,  # the options 1..4 are a likelihood scale (docs/evaluation.md#divergences)
            }


TASKS = (
    alignment_task(
        "nytimes", SOURCE, output_name="Reading Likelihood (1, 2, 3, 4)", build=book_rows, files=FILES
    ),
)
