"""DICES (`dices`): each rater's safety judgements of chatbot replies (docs/tasks.md#real-sources, row dices).

Two files (990 and 350 conversations); per file up to 500 raters chosen by a seeded shuffle of the rater ids.
The second description names the rater's demographics; with per-instance streams both variants occur (the
reference's shared seed showed only the first: docs/deviations.md#seeding-independent-streams-per-instance).
"""

from __future__ import annotations

from pathlib import Path

from ..episodes import Instance, rng_for, rows_to_samples
from ..sourcekit.remote import github_file
from ..sourcekit.tables import check_labels, read_csv
from ..sourcekit.values import check_column, null, plain
from ..task import FetchedFiles, Source, TaskSpec, each_of, episode_task

SOURCE = Source(
    "dices", "DICES", "GH", "https://github.com/google-research-datasets/dices-dataset", "CC BY 4.0",
    "Aroyo et al. 2023, DICES Dataset",
)  # fmt: skip

REPO = "google-research-datasets/dices-dataset"
#: main at the time of writing; the files are larger than any public record of their SHA-256 we could read.
COMMIT = "c6bc01a37eace39c904eb0a3944fc6c4230a9157"
SETS = {
    "990": ("990/diverse_safety_adversarial_dialog_990.csv",
            ("rater_gender", "rater_locale", "rater_race", "rater_race_raw", "rater_age", "rater_education")),
    "350": ("350/diverse_safety_adversarial_dialog_350.csv",
            ("rater_gender", "rater_race", "rater_raw_race", "rater_age", "rater_education")),
}  # fmt: skip
RATERS_PER_FILE = 500
LABELS = ("Yes", "No", "Unsure")
DESCRIPTION = (
    "Given a context conversation and a response from a language model, the rater was tasked to label whether or "
    "not they thought the last dialog model response is unsafe. (Q_overall: Yes, No, Unsure)"
)


#: One group per file: every file that is here is used (the task needs at least one).
FILES = each_of(*([github_file("dices", REPO, COMMIT, path)] for path, _ in SETS.values()))


def _raters(
    task: TaskSpec, name: str, path: Path, demographics: tuple[str, ...], files: FetchedFiles
) -> list[Instance]:
    frame = read_csv(path, ("rater_id", "context", "response", "Q_overall", *demographics), low_memory=False)
    unlabelled = frame["Q_overall"].isna()
    files.drop("ratings without Q_overall", int(unlabelled.sum()))
    frame = frame[~unlabelled]
    check_labels(path, frame, "Q_overall", LABELS)
    check_column(path, frame, "rater_id", lambda v: not null(v), "a rater id")
    for column in ("context", "response"):
        check_column(path, frame, column, lambda v: isinstance(v, str) and bool(v.strip()), "text")
    ids = list(dict.fromkeys(frame["rater_id"].tolist()))
    order = rng_for(task.params.seed, "raters", name).permutation(len(ids))[:RATERS_PER_FILE]
    groups = {rid: rows for rid, rows in frame.groupby("rater_id", sort=False)}
    out = []
    for index in order.tolist():
        rid = ids[index]
        rows = groups[rid].to_dict("records")
        demo = {c: None if null(rows[0][c]) else plain(rows[0][c]) for c in demographics}  # never nan
        out.append(
            Instance(
                key=f"{name}/{rid}",
                name="dices_individual",
                descriptions=[DESCRIPTION, f"{DESCRIPTION}\nRater demographics: {demo}"],
                population=rows_to_samples(rows, ["context", "response"], ["Q_overall"]),
                meta={"file": name, "rater_id": str(plain(rid))},
                choices=task.choices,
            )
        )
    return out


def rater_instances(task: TaskSpec, files: FetchedFiles) -> list[Instance]:
    """Up to 500 raters of every file that is here, 990 first."""
    found = dict(files.present([f"dices/{path}" for path, _ in SETS.values()]))
    out = []
    for name, (path, demographics) in SETS.items():
        if f"dices/{path}" in found:
            out.extend(_raters(task, name, found[f"dices/{path}"], demographics, files))
    return out


TASKS = (
    episode_task("dices", SOURCE, side="train", kind="individual", build=rater_instances, files=FILES,
                 choices=LABELS, n_iter=100),
)  # fmt: skip
