"""BO-ICL chemistry data (docs/tasks.md#real-sources, row chemistry): solubility regression (ESOL) and C2
yield of oxidative methane coupling experiments, each a pooled conditional table from GitHub
``ur-whitelab/BO-ICL``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from ..episodes import Instance, pooled_instance, rows_to_samples
from ..sourcekit.remote import github_file
from ..sourcekit.tables import read_csv
from ..sourcekit.values import check_column, is_number, null, text_or_null
from ..task import FetchedFiles, Source, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "chemistry", "BO-ICL chemistry data", "GH", "https://github.com/ur-whitelab/BO-ICL", "MIT",
    "Ramos et al. 2023, Bayesian Optimization of Catalysts With In-context Learning",
)  # fmt: skip
REPO = "ur-whitelab/BO-ICL"
COMMIT = "43d38efca6fd91116c7550625ffb7859b6185b54"
FOLDER = "chemistry"
SHUFFLE_SEED = 42


def table(
    rel: str, inputs: Sequence[str], output: str, description: str
) -> Callable[[TaskSpec, FetchedFiles], list[Instance]]:
    """A pooled table of ``rel`` (a file of the repository) mapping ``inputs`` to the number ``output``."""

    def build(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
        """One pooled instance: the table shuffled with seed 42. A missing input is JSON null when there are
        several (docs/deviations.md#episode-rows-and-text), a missing single input (it would be the text "nan")
        or a non-text one is a format error; an output that is not a finite number is one too, and a row without
        an output is counted and dropped."""
        path = fetched.require(f"{FOLDER}/{rel}")
        frame = read_csv(path, [*inputs, output])
        for column in inputs:
            if len(inputs) == 1:
                check_column(path, frame, column, lambda v: isinstance(v, str) and bool(v.strip()), "text")
            else:
                check_column(path, frame, column, text_or_null, "text or nothing")
        check_column(path, frame, output, lambda v: null(v) or is_number(v), "a finite number")
        numbers = pd.to_numeric(frame[output].map(lambda v: float(v) if isinstance(v, str) else v))
        frame[output] = numbers
        unlabelled = frame[output].isna()
        fetched.drop(f"{task.name}: row without a {output} value", int(unlabelled.sum()))
        frame = frame[~unlabelled].sample(frac=1, random_state=SHUFFLE_SEED)
        samples = rows_to_samples(frame.to_dict("records"), inputs, (output,))
        return [pooled_instance(task.name, [description], samples)]

    return build


def _files(rel: str, sha256: str) -> TaskFiles:
    return TaskFiles((github_file(FOLDER, REPO, COMMIT, rel, sha256),))


ESOL = "paper/dataset/data/esol_iupac.csv"
OXIDATIVE = "paper/dataset/data/train_data_num_feats.csv"

TASKS = (
    episode_task(
        "chemistry_esol", SOURCE, side="test", kind="conditional",
        files=_files(ESOL, "fabf5b4f7ccf894e31ac304256ffa08bef83f62fff0d57f5e4c6acaac4b547cc"),
        build=table(ESOL, ("SMILES", "SELFIES", "InChI", "IUPAC"), "measured log(solubility:mol/L)",
                    "Predict the measured log(solubility:mol/L) from SMILES, SELFIES, InChI, IUPAC"),
        n_per=-1, n_iter=15, permutations=5,
    ),
    episode_task(
        "chemistry_oxidative", SOURCE, side="test", kind="conditional",
        files=_files(OXIDATIVE, "19e016b74c205c4bf9c39ec2915d1604be53b1b88cfa36d32e454c1d2e124efa"),
        build=table(OXIDATIVE, ("prompt",), "C2_yield",
                    "The following is data from a set of chemistry experiments. Predict the C2_yield from the "
                    "experiment description."),
        n_per=-1, n_iter=10,
    ),
)  # fmt: skip
