"""GPQA main set (`gpqa`; docs/tasks.md#real-sources, row gpqa), from the password-protected ``dataset.zip``
of idavidrein/gpqa.

The zip (password published in the repository's README) is read directly, or its extracted
``dataset/gpqa_main.csv``. Each question's choices are permuted by one generator seeded 42 that runs over the
rows in file order, as the reference does.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..episodes import Instance
from ..sourcekit.tables import read_csv
from ..sourcekit.values import letters, missing, text
from ..task import FetchedFiles, RemoteFile, Source, SourceFormatError, TaskSpec, episode_task, one_of

SOURCE = Source(
    "gpqa", "GPQA", "GH", "https://github.com/idavidrein/gpqa", "CC BY 4.0", "Rein et al. 2023, GPQA"
)
ZIP = "gpqa/dataset.zip"
CSV = "gpqa/dataset/gpqa_main.csv"
#: SHA-256 of gpqa_main.csv as extracted from the release's dataset.zip.
CSV_SHA256 = "a013e3261ff489dd22764342a7f75145cd40d0d239f2d1fb4c98e614d9dbc044"
MEMBER = "dataset/gpqa_main.csv"
PASSWORD = b"deserted-untie-orchid"
URL = "https://github.com/idavidrein/gpqa/raw/main/dataset.zip"
SUBJECT_COLUMNS = ("Subject", "Domain", "Topic", "Field", "Category")
DESCRIPTION = "You will be given a difficult question. Respond with the correct answer letter."


#: The extracted CSV if it is in the data directory, else the zip (downloaded if need be).
FILES = one_of(
    [RemoteFile(CSV, sha256=CSV_SHA256, where=f"{URL} (password deserted-untie-orchid), extracted")],
    [
        RemoteFile(
            ZIP,
            url=URL,
            where=URL,
            unpinned="no commit of idavidrein/gpqa could be learned offline; read at main (the extracted CSV "
            "is pinned by SHA-256)",
        )
    ],
)


def read_main(path: Path) -> pd.DataFrame:
    """gpqa_main.csv, from the zip or as extracted."""
    if path.suffix != ".zip":
        return read_csv(path, ("Question", "Correct Answer"))
    try:
        with zipfile.ZipFile(path) as archive:
            raw = archive.read(MEMBER, pwd=PASSWORD)
    except (zipfile.BadZipFile, KeyError, RuntimeError) as err:
        raise SourceFormatError(path, MEMBER, "*", f"cannot read the member ({err})") from err
    where = f"{path}:{MEMBER}"
    if not raw.strip():
        raise SourceFormatError(where, "whole file", "*", "file is empty")
    try:
        frame = pd.read_csv(io.BytesIO(raw))
    except UnicodeDecodeError as err:
        raise SourceFormatError(where, "whole file", "*", f"not readable text ({err.reason})") from err
    except pd.errors.ParserError as err:
        raise SourceFormatError(where, "parsing", "*", str(err)) from err
    if frame.empty:
        raise SourceFormatError(where, "whole file", "*", "no data rows (only a header)")
    for column in ("Question", "Correct Answer"):
        if column not in frame.columns:
            raise SourceFormatError(
                f"{path}:{MEMBER}", "header", column, f"column missing; have {list(frame.columns)}"
            )
    return frame


def main_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """One pooled instance of the main set's questions, each with its choices permuted and lettered."""
    _, path = files.first(CSV, ZIP)
    frame = read_main(path)
    wrong = sorted(
        (c for c in frame.columns if re.fullmatch(r"Incorrect Answer \d+", str(c))),
        key=lambda c: int(str(c).rsplit(" ", 1)[1]),
    )
    if not wrong:
        raise SourceFormatError(path, "header", "Incorrect Answer 1", "column missing")
    subject = next((c for c in frame.columns if c in SUBJECT_COLUMNS), None)
    rng = np.random.default_rng(42)
    samples = []
    for number, rec in enumerate(frame.to_dict("records")):
        if missing(rec["Question"]) or missing(rec["Correct Answer"]):
            raise SourceFormatError(path, f"row {number + 2}", "Question/Correct Answer", "empty")
        text(path, f"row {number + 2}", "Question", rec["Question"])
        choices = [str(rec[c]).strip() for c in wrong if not missing(rec[c])] + [
            str(rec["Correct Answer"]).strip()
        ]
        correct = len(choices) - 1
        order = rng.permutation(len(choices))
        marks = letters(len(choices), path, f"row {number + 2}", "choices")
        lines = [f"Subject: {rec[subject]}"] if subject is not None and not missing(rec[subject]) else []
        lines.append(f"Question: {rec['Question']}")
        lines += [f"{m}. {choices[i]}" for m, i in zip(marks, order.tolist(), strict=True)]
        samples.append(("\n".join(lines), marks[order.tolist().index(correct)]))
    return [
        Instance(
            key="pooled",
            name="gpqa_main",
            descriptions=[DESCRIPTION],
            population=samples,
            choices=task.choices,
        )
    ]


TASKS = (
    episode_task("gpqa", SOURCE, side="capability", kind="capability", build=main_instances, files=FILES,
                 choices=("A", "B", "C", "D"), n_per=1000, n_iter=20),
)  # fmt: skip
