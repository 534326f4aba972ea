"""World Values Survey wave 7 (`wvs_individual`): one process per respondent (docs/tasks.md#real-sources, row
wvs).

The SPSS file needs registration, so it is read from the data directory with `pyreadstat`, which gives the
variable labels (question texts) and value labels (answer options). Whether the label maps list the
missing-value codes as options is the file's business: every value label of a variable is an option (kept from
the paper: docs/deviations.md#all-wvs-value-labels-as-options), and the meta of each instance records how many
options its questions had.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..episodes import Instance
from ..sourcekit.values import letters, number
from ..task import FetchedFiles, RemoteFile, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "wvs", "World Values Survey wave 7", "MAN", "https://www.worldvaluessurvey.org/WVSDocumentationWV7.jsp",
    "WVS terms of use (registration)", "Haerpfer et al. 2022, World Values Survey Wave 7",
)  # fmt: skip
FILE = "wvs/WVS_Cross-National_Wave_7_inverted_sav_v6_0.sav"
WHERE = (
    "https://www.worldvaluessurvey.org/WVSDocumentationWV7.jsp (free registration): download the SPSS file "
    "'WVS Cross-National Wave 7 inverted sav v6.0'"
)
DEMOGRAPHIC_COLUMNS = ("B_COUNTRY", "N_TOWN", "S_INTLANGUAGE")
SKIPPED = frozenset({"Q261", "Q262", "Q270", "Q274"})
MAX_OPTIONS = 17
RESPONDENTS = 2000
ID_COLUMN = "D_INTERVIEW"
DESCRIPTIONS = ("response ~ question + options", "Responses from this user: ")


FILES = TaskFiles((RemoteFile(FILE, where=WHERE),))


def _code(value: Any, path: Any = "", where: str = "", name: str = "") -> float | None:
    """A numeric answer code, or None when the answer is missing; text or inf is a format error."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(number(path, where, name, value))


class Variable:
    """One question: its input text (label + lettered options) and answer code -> letter."""

    def __init__(self, path: Path, name: str, label: str, value_labels: dict[Any, str]) -> None:
        options = list(value_labels.values())[::-1]
        marks = letters(len(options), path, "value labels", name)
        lines = "\n".join(f"{m}: {o}" for m, o in zip(marks, options, strict=True))
        self.name = name
        self.text = f"{label}\nOptions:\n{lines}"
        first = {}
        for mark, option in zip(marks, options, strict=True):
            first.setdefault(option, mark)
        self.letter = {float(code): first[text] for code, text in value_labels.items()}


def respondent_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """Up to 2000 respondents (shuffled with pandas ``random_state=42``), each with every labelled answer."""
    import pyreadstat

    path = files.require(FILE)
    try:
        frame, meta = pyreadstat.read_sav(str(path))
    except Exception as err:  # pyreadstat raises its own error types for damaged files
        raise SourceFormatError(path, "whole file", "*", f"not a readable SPSS file ({err})") from err
    labels = meta.column_names_to_labels
    value_labels = meta.variable_value_labels
    missing = [c for c in DEMOGRAPHIC_COLUMNS if c not in frame.columns]
    if missing:
        raise SourceFormatError(path, "header", missing[0], "column missing")
    variables = []
    for name in frame.columns:
        if not name.startswith("Q") or name in SKIPPED:
            continue
        options = value_labels.get(name) or {}
        if not options or len(options) > MAX_OPTIONS:
            files.drop(f"question variables skipped (no value labels or more than {MAX_OPTIONS})")
            continue
        variables.append(Variable(path, name, labels.get(name) or name, options))
    limit = RESPONDENTS if task.params.max_instances is None else min(RESPONDENTS, task.params.max_instances)
    chosen = frame.sample(frac=1, random_state=42).head(limit)
    out = []
    for row, record in zip(chosen.index.tolist(), chosen.to_dict("records"), strict=True):
        demographics = {}
        for column in DEMOGRAPHIC_COLUMNS:
            code = _code(record[column], path, f"row {row} (0-based)", column)
            if code is not None:
                demographics[labels.get(column) or column] = (value_labels.get(column) or {}).get(
                    code, record[column]
                )
        samples = []
        for var in variables:
            code = _code(record[var.name], path, f"row {row} (0-based)", var.name)
            if code is None:
                continue
            if code not in var.letter:
                files.drop("answers whose code has no value label")
                continue
            samples.append((var.text, var.letter[code]))
        if not samples:
            files.drop("respondents with no labelled answer")
            continue
        rid = record.get(ID_COLUMN)
        code = _code(rid, path, f"row {row} (0-based)", ID_COLUMN)
        key = f"respondent/{int(code)}" if code is not None else f"row/{row}"
        out.append(
            Instance(
                key=key,
                name="wvs",
                descriptions=[DESCRIPTIONS[0], DESCRIPTIONS[1] + str(demographics)],
                population=samples,
                meta={"n_questions": len(samples)},
            )
        )
    return out


TASKS = (
    episode_task("wvs_individual", SOURCE, side="test", kind="individual", build=respondent_instances,
                 files=FILES, seed=43, max_instances=2000),
)  # fmt: skip
