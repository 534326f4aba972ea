"""The run folder's life: where it may be, when it may be resumed or replaced, and how a failed run leaves it.

A run folder is ``OUTPUT_ROOT/RUN_NAME`` (or ``--output_dir``). `tuning.run` marks every folder it creates with
`MARKER`, and it never writes into, resumes or replaces a folder without that mark (nor one written by an
earlier release, recognised by its ``run_args.json``): a typo in ``--run_name`` or ``--output_dir`` can never
point it at someone's files. ``--overwrite`` does not delete anything up front: once the new run has its model,
tokenizer and data, the old folder is moved aside (renamed to ``.NAME.replaced-<time>`` beside it); it is
removed only after the new run has finished, and moved back if the new run fails.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from pathlib import Path

from tuning.distributed import is_main_process
from tuning.run.arguments import RunInputError

logger = logging.getLogger("tuning.run")

MARKER = ".spectrum_run.json"
#: What an earlier release wrote into every run folder it finished.
EARLIER_MARKER = "run_args.json"


def complete_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoint folders whose ``trainer_state.json`` (written last by the Trainer) exists, oldest first."""
    found = []
    for path in run_dir.glob("checkpoint-*"):
        match = re.fullmatch(r"checkpoint-(\d+)", path.name)
        if match and path.is_dir() and (path / "trainer_state.json").is_file():
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def made_by_us(path: Path) -> bool:
    """Whether ``path`` is a run folder that tuning.run made."""
    return (path / MARKER).is_file() or (path / EARLIER_MARKER).is_file()


class RunFolder:
    """One run's folder: checked before anything is loaded, created or swapped in once the inputs are good."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.aside: Path | None = None

    def check(self, resume: bool, overwrite: bool) -> Path | None:
        """The checkpoint to resume from; refuses a folder tuning.run did not make, or clobbering checkpoints."""
        if resume and overwrite:
            raise RunInputError("--resume and --overwrite contradict each other: pass one of them")
        if not self.path.exists():
            return None
        if not self.path.is_dir():
            raise RunInputError(
                f"{self.path} exists and is not a folder; choose another --run_name or --output_dir"
            )
        if any(self.path.iterdir()) and not made_by_us(self.path):
            raise RunInputError(
                f"{self.path} holds files that tuning.run did not write (no {MARKER}); it never writes into, resumes "
                "or replaces such a folder: choose another --run_name or --output_dir"
            )
        checkpoints = complete_checkpoints(self.path)
        if overwrite:
            return None
        if resume:
            if not checkpoints:
                logger.warning(
                    "--resume: no complete checkpoint in %s; starting from the beginning", self.path
                )
            return checkpoints[-1] if checkpoints else None
        if checkpoints:
            raise RunInputError(
                f"{self.path} already holds checkpoints ({checkpoints[-1].name}); pass --resume to continue it, "
                "--overwrite to start over (the old run is kept until the new one succeeds), or another --run_name"
            )
        return None

    def start(self, overwrite: bool) -> None:
        """Move an old run aside when overwriting, then create the folder with its mark (main process only)."""
        if not is_main_process():
            return
        if overwrite and self.path.exists():
            self.aside = self.path.with_name(f".{self.path.name}.replaced-{time.strftime('%Y%m%d-%H%M%S')}")
            self.path.rename(self.aside)
            logger.info("moved the previous run aside to %s until this one succeeds", self.aside)
        self.path.mkdir(parents=True, exist_ok=True)
        record = {"tool": "tuning.run", "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        if not (self.path / MARKER).exists():
            (self.path / MARKER).write_text(json.dumps(record, indent=2) + "\n")

    def succeed(self) -> None:
        """The new run is complete: remove the old one that was moved aside."""
        if self.aside is not None and is_main_process():
            shutil.rmtree(self.aside)
            self.aside = None

    def fail(self) -> None:
        """The new run failed: remove its partial folder (made by this run) and move the old one back."""
        if self.aside is None or not is_main_process():
            return
        if made_by_us(self.path):
            shutil.rmtree(self.path)
        if not self.path.exists():
            self.aside.rename(self.path)
            logger.warning("the new run failed: the previous run is back in %s", self.path)
        self.aside = None
