"""OpinionQA / Pew American Trends Panel (`opinionqa_individual`, `opinionqa_questions`;
docs/tasks.md#real-sources, row opinionqa).

The human responses are a manual download (a CodaLab bundle). The survey list and demographic attributes of
the `opinions_qa` helpers are vendored here, so nothing outside the bundle is needed (the reference needed an
undownloaded helper file: docs/deviations.md#data-layout-and-setup). Every wave's files are optional: the
tasks build from the waves present and the build log names the others.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pandas as pd

from ..episodes import Instance, rng_for
from ..sourcekit.tables import read_csv
from ..sourcekit.values import letters, null, plain, text
from ..task import FetchedFiles, RemoteFile, Source, SourceFormatError, TaskSpec, each_of, episode_task

SOURCE = Source(
    "opinionqa", "OpinionQA (Pew ATP)", "MAN", "https://github.com/tatsu-lab/opinions_qa", "see homepage (Pew terms)",
    "Santurkar et al. 2023, Whose Opinions Do Language Models Reflect?",
)  # fmt: skip

PEW_SURVEY_LIST = (26, 27, 29, 32, 34, 36, 41, 42, 43, 45, 49, 50, 54, 82, 92)
DEMOGRAPHICS = (
    "CREGION", "AGE", "SEX", "EDUCATION", "CITIZEN", "MARITAL", "RELIG", "RELIGATTEND", "POLPARTY", "INCOME",
    "POLIDEOLOGY", "RACE",
)  # fmt: skip
RESPONDENTS_PER_WAVE = 200
METADATA_DROP_P = 0.3
WHERE = (
    "CodaLab bundle 0x050b7e72abb04d1f9b493c1743e580cf (https://worksheets.codalab.org/bundles/"
    "0x050b7e72abb04d1f9b493c1743e580cf): extract human_resp.tar.gz into <data_dir>/opinionqa/"
)
DESCRIPTIONS = (
    "The following are survey responses for a single individual.",
    "Survey responses from the following individual: ",
)
QUESTIONS_DESCRIPTION = "The following are survey questions."


def _wave_file(wave: int, name: str) -> str:
    return f"opinionqa/human_resp/American_Trends_Panel_W{wave}/{name}"


#: SHA-256 of each wave's info.csv as the publisher's repository had it (the responses are not pinned).
INFO_SHA256 = {
    26: "e24b42c3c6724e3ce83d83925ee03d5ade307cfe5721f0d1eee4bb086d5408c4",
    27: "341289cbc78ee10071a2b4684ea381da1f00899c2dd47ecf97f386e4e21bc31d",
    29: "add8b54ec5068365243868697cebe32e74c651f15c9f5ddce38ea8523bc264e9",
    32: "13ed11650bcda8e5d139ed521bf4883fa2f9455e4ce7eff65a9e2854103b24ca",
    34: "2f14b2493a34b54a037f6b9fb3f3d1aeba2563d366997a80698ae44c22106d82",
    36: "0d87667faada5329611defe9a965c8fd89c0a5dbb299ebef0cf726fbbc395894",
    41: "b0e29430f0ef02477e3f41b9e8005bb484b715e941f0b2399dbcaf6039ba3616",
    42: "dfa46be8cd06af5a32911e1703935189c35c0cea45b45767e2e3893cc02b0757",
    43: "3a9b5796f489c6df25ced417a6bda46e3fe9c8cf35000ab2527281219bf4b5ed",
    45: "1543178f5dd49e4d00cc0f4d807793a0151b463b9319d3a87cd6db31a41c0bce",
    49: "2cebac3c87f999a2f8aba48e70a1708e4cd37c474375d8cdbdd0cbaaceb178ae",
    50: "29539b5598bbf67146e97c1c94db4d8fabb5a1490dae6651696993e74f84c7a9",
    54: "3951ed6d5e076b83dfaf652a2aa3d14f05c9ac8dee1d7a9f385bb4d4e1dcc391",
    82: "6ebaea26a09e8a3cf9a059b3b516c41134f9b60efe481a87d7657075ade35c13",
    92: "95bc8b0e2f7bbff0e3cc079943649fde07f98b1bc6e250cb57217ef84ace3dbe",
}


def wave_files(*names: str):
    """One group per wave: the wave's files with these names (a wave without them is left out)."""
    return each_of(
        *(
            [
                RemoteFile(_wave_file(w, n), sha256=INFO_SHA256[w] if n == "info.csv" else None, where=WHERE)
                for n in names
            ]
            for w in PEW_SURVEY_LIST
        )
    )


class Question:
    """One survey question: its key, the templated text with lettered options, and option -> letter."""

    def __init__(self, path: Path, row: int, record: dict[str, Any]) -> None:
        where = f"row {row + 2}"
        try:
            options = ast.literal_eval(str(record["references"]))
        except (ValueError, SyntaxError) as err:
            raise SourceFormatError(path, where, "references", f"not a Python list literal ({err})") from err
        if not isinstance(options, list) or not options:
            raise SourceFormatError(path, where, "references", f"expected a non-empty list, got {options!r}")
        for option in options:  # a None or a number would be printed as "None" or "3"
            text(path, where, "references", option, empty=True)
        marks = letters(len(options), path, where, "references")
        self.key = text(path, where, "key", record["key"])
        self.letter = {}
        for mark, option in zip(marks, options, strict=True):
            self.letter.setdefault(option, mark)
        lines = "\n".join(f"{mark}: {option}" for mark, option in zip(marks, options, strict=True))
        self.text = f"{text(path, where, 'question', record['question'])}\n{lines}"


def _questions(path: Path) -> list[Question]:
    frame = read_csv(path, ("key", "question", "references"))
    return [Question(path, i, rec) for i, rec in enumerate(frame.to_dict("records"))]


def _waves(files: FetchedFiles, name: str) -> list[int]:
    """The waves whose group is here (``name`` is the file that every group of the task has)."""
    found = {k for k, _ in files.present([_wave_file(w, name) for w in PEW_SURVEY_LIST])}
    return [w for w in PEW_SURVEY_LIST if _wave_file(w, name) in found]


def question_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """One instance per wave: its survey questions."""
    return [
        Instance(
            key=f"W{wave}",
            name=f"opinionqa_question_{wave}",
            descriptions=[QUESTIONS_DESCRIPTION],
            population=[(None, q.text) for q in _questions(files.require(_wave_file(wave, "info.csv")))],
            meta={"wave": wave},
        )
        for wave in _waves(files, "info.csv")
    ]


def respondent_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """Up to 200 respondents of every wave whose questions and responses are both here."""
    out: list[Instance] = []
    for wave in _waves(files, "responses.csv"):
        questions = _questions(files.require(_wave_file(wave, "info.csv")))
        out.extend(
            _respondents(task, wave, questions, files.require(_wave_file(wave, "responses.csv")), files)
        )
    return out


def _respondents(
    task: TaskSpec, wave: int, questions: list[Question], path: Path, files: FetchedFiles
) -> list[Instance]:
    """Up to 200 respondents of one wave (shuffled with pandas ``random_state=0``), each with every answer."""
    frame = read_csv(path, [q.key for q in questions] + list(DEMOGRAPHICS), low_memory=False)
    answered = pd.DataFrame({q.key: frame[q.key].isin(list(q.letter)) for q in questions}, index=frame.index)
    has_any = answered.any(axis=1)
    files.drop("respondent answered no question with a listed option", int((~has_any).sum()))
    chosen = pd.Series(frame.index[has_any]).sample(frac=1, random_state=0).head(RESPONDENTS_PER_WAVE)
    out = []
    for row in chosen.tolist():
        samples = [(q.text, q.letter[frame.at[row, q.key]]) for q in questions if answered.at[row, q.key]]
        rid = f"American_Trends_Panel_W{wave}_{row}"
        keep = rng_for(task.params.seed, rid, "metadata").random(len(DEMOGRAPHICS)) >= METADATA_DROP_P
        metadata = {  # a missing answer is None, never nan
            a: None if null(frame.at[row, a]) else plain(frame.at[row, a])
            for a, k in zip(DEMOGRAPHICS, keep, strict=True)
            if k
        }
        out.append(
            Instance(
                key=rid,
                name=f"opinionqa_rater_{rid}",
                descriptions=[DESCRIPTIONS[0], DESCRIPTIONS[1] + str(metadata)],
                population=samples,
                meta={"wave": wave, "respondent_row": int(row)},
            )
        )
    return out


TASKS = (
    episode_task("opinionqa_individual", SOURCE, side="train", kind="individual", build=respondent_instances,
                 files=wave_files("info.csv", "responses.csv"), seed=43),
    episode_task("opinionqa_questions", SOURCE, side="train", kind="single_variable", build=question_instances,
                 files=wave_files("info.csv"), seed=43),
)  # fmt: skip
