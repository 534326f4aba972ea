"""The run folder's life: where it may be, when it may be resumed or replaced, and how a failed run leaves it.

A run folder is ``OUTPUT_ROOT/RUN_NAME`` (or ``--output_dir``). `tuning.run` marks every folder it creates with
`RUN_MARK` (`spectrum_suite.folders`): the mark records the run's arguments, its state (training, trained,
complete, failed) and every file the run wrote, with size and time. It never writes into, resumes or replaces a
folder without that mark (nor one written by an earlier release, recognised by its ``run_args.json``), so a typo
in ``--run_name`` or ``--output_dir`` can never point it at someone's files, and ``--overwrite`` refuses a folder
holding files the run did not write (a user's notes, an edited model card), naming them. ``--overwrite`` deletes
nothing up front: once the new run has its model, tokenizer and data, the old folder is moved aside (renamed to
``.NAME.replaced-<time>`` beside it); it is removed only after the new run has finished, and moved back if the new
run fails. A backup that an interrupted ``--overwrite`` left behind is named by every later run, with the
commands that restore it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shlex
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spectrum_suite.folders import REPLACED, FolderError, Mark, check_name, describe, sibling, siblings
from tuning.distributed import is_main_process
from tuning.run.arguments import RunInputError

logger = logging.getLogger("tuning.run")

RUN_MARK = Mark(".spectrum_run.json", "tuning.run")
MARKER = RUN_MARK.filename
#: What an earlier release wrote into every run folder it finished.
EARLIER_MARKER = "run_args.json"
#: What the trainer writes and replaces on its own (rotating checkpoints, appending TensorBoard logs): ours by
#: where it is, whatever the inventory says.
TRAINER_OWNED = ("checkpoint-*", "logs")
#: The files an earlier release's run folder could hold (it kept no inventory).
EARLIER_OUTPUTS = ("*.safetensors", "*.safetensors.index.json", "config.json", "generation_config.json",
                   "tokenizer*", "special_tokens_map.json", "added_tokens.json", "vocab.*", "merges.txt",
                   "chat_template.jinja", "README.md", "run_args.json", "train_data.json", "train_loss.png",
                   "before_after.*", "training_args.bin", "adapter", "eval", MARKER)  # fmt: skip
#: States of a run, as its mark records them.
TRAINING, TRAINED, COMPLETE, FAILED = "training", "trained", "complete", "failed"


def made_by_us(path: Path) -> bool:
    """Whether ``path`` is a run folder that tuning.run made."""
    return RUN_MARK.owns(path) or (path / EARLIER_MARKER).is_file()


def complete_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoint folders whose ``trainer_state.json`` (written last by the Trainer) exists, oldest first."""
    found = []
    for path in run_dir.glob("checkpoint-*"):
        match = re.fullmatch(r"checkpoint-(\d+)", path.name)
        if match and path.is_dir() and (path / "trainer_state.json").is_file():
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def checkpoint_problem(checkpoint: Path) -> str | None:
    """Why a checkpoint cannot be resumed from (a truncated or missing file, named), or None when it can.

    Cheap: the safetensors headers and sizes, the zip directories of the torch files (torch.save writes zips
    whose directory is at the end, so a truncated file has none), the trainer state as JSON.
    """
    try:
        json.loads((checkpoint / "trainer_state.json").read_text())
    except (OSError, ValueError) as err:
        return f"{checkpoint / 'trainer_state.json'} is not readable JSON ({err})"
    weights = sorted(checkpoint.glob("*.safetensors"))
    if not weights:
        return f"{checkpoint} holds no *.safetensors weights"
    for path in weights:
        problem = _safetensors_problem(path)
        if problem:
            return f"{path} is {problem}"
    for path in sorted(checkpoint.glob("*.pt")) + sorted(checkpoint.glob("*.pth")):
        try:
            with zipfile.ZipFile(path) as archive:
                archive.infolist()
        except (OSError, zipfile.BadZipFile) as err:
            return f"{path} is truncated or corrupt ({err})"
    return None


def _safetensors_problem(path: Path) -> str | None:
    """A safetensors file's header and size agree, or what is wrong."""
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            length = int.from_bytes(handle.read(8), "little")
            if not 2 <= length <= size - 8:
                return f"truncated ({size} bytes, no complete header)"
            header = json.loads(handle.read(length))
    except (OSError, ValueError) as err:
        return f"unreadable ({err})"
    end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
    if size < 8 + length + end:
        return f"truncated ({size} of {8 + length + end} bytes)"
    return None


@dataclass
class ResumePoint:
    """Where a run starts: a checkpoint to continue from, whether training is already over, what was recorded."""

    checkpoint: Path | None = None
    trained: bool = False
    record: dict[str, Any] = field(default_factory=dict)


class RunFolder:
    """One run's folder: checked before anything is loaded, created or swapped in once the inputs are good."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.aside: Path | None = None

    def check(self, resume: bool, overwrite: bool, arguments: dict[str, Any]) -> ResumePoint:
        """Where the run starts; refuses a folder tuning.run did not make, clobbering a run, replacing files it
        did not write, and resuming a run with other options (each difference named)."""
        if resume and overwrite:
            raise RunInputError("--resume and --overwrite contradict each other: pass one of them")
        self.path = self._resolved()
        self._name_backups()
        if not self.path.exists():
            if resume:
                raise RunInputError(
                    f"--resume: there is no run in {self.path} to resume; check --run_name and --output_root, or "
                    "leave --resume out to start it"
                )
            return ResumePoint()
        if not self.path.is_dir():
            raise RunInputError(
                f"{self.path} exists and is not a folder; choose another --run_name or --output_dir"
            )
        if any(self.path.iterdir()) and not made_by_us(self.path):
            raise RunInputError(
                f"{self.path} holds files that tuning.run did not write (no {MARKER}); it never writes into, resumes "
                "or replaces such a folder: choose another --run_name or --output_dir"
            )
        if overwrite:
            foreign = self.foreign()
            if foreign:
                raise RunInputError(
                    f"--overwrite: {self.path} holds files that tuning.run did not write, or that changed since it "
                    f"wrote them: {describe(foreign)}. It never deletes them: move them out of the folder (or delete "
                    "them yourself), then run again"
                )
            return ResumePoint()
        record = RUN_MARK.read(self.path) or {}
        if resume:
            _refuse_changes(self.recorded_arguments(record), arguments)
            trained = record.get("state") in (TRAINED, COMPLETE) or (
                "state" not in record and (self.path / EARLIER_MARKER).is_file()
            )
            return ResumePoint(None if trained else self.resumable_checkpoint(), trained, record)
        others = [p.name for p in sorted(self.path.iterdir()) if p.name != MARKER]
        if others:
            raise RunInputError(
                f"{self.path} already holds a run ({describe(others, 3)}); pass --resume to continue it, --overwrite "
                "to start over (the old run is kept until the new one succeeds), or another --run_name"
            )
        return ResumePoint()

    def _resolved(self) -> Path:
        """The folder with a link followed; a dangling link or an over-long name is refused."""
        path = self.path.expanduser()
        try:
            check_name(path, "--run_name")
        except FolderError as err:
            raise RunInputError(str(err)) from None
        if path.is_symlink():
            if not path.exists():
                raise RunInputError(
                    f"{path} is a link to {os.readlink(path)}, which does not exist; remove the link or choose "
                    "another --run_name"
                )
            path = path.resolve()
        return path

    def _name_backups(self) -> None:
        """Name what an interrupted --overwrite left beside the folder: the run it was replacing."""
        for backup in siblings(self.path, REPLACED):
            if not made_by_us(backup):
                continue
            here, there = shlex.quote(str(self.path)), shlex.quote(str(backup))
            logger.warning(
                "%s holds the run that an interrupted --overwrite was replacing (it is kept, never removed "
                "without you). To restore it: mv %s %s.interrupted && mv %s %s",
                backup, here, here, there, here,
            )  # fmt: skip

    def foreign(self) -> list[str]:
        """Files in the folder tuning.run did not write or that changed since (relative paths)."""
        record = RUN_MARK.read(self.path)
        if record is not None and "files" in record:
            return RUN_MARK.foreign(self.path, TRAINER_OWNED)
        return RUN_MARK.foreign(self.path, TRAINER_OWNED + EARLIER_OUTPUTS)  # an earlier release kept no list

    def recorded_arguments(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """The options the run was started with: its mark's, or an earlier release's run_args.json."""
        if "arguments" in record:
            return record["arguments"]
        earlier = self.path / EARLIER_MARKER
        if earlier.is_file():
            from tuning.run.arguments import flat_arguments

            saved = json.loads(earlier.read_text())
            return flat_arguments(saved.get("script", {}), saved.get("training", {}), saved.get("model", {}))
        return None

    def resumable_checkpoint(self) -> Path | None:
        """The latest checkpoint that is whole; a broken one is named and the one before it taken."""
        broken = []
        for checkpoint in reversed(complete_checkpoints(self.path)):
            problem = checkpoint_problem(checkpoint)
            if problem is None:
                if broken:
                    logger.warning(
                        "--resume: %s; resuming from %s instead", "; ".join(broken), checkpoint.name
                    )
                return checkpoint
            broken.append(f"{checkpoint.name} cannot be resumed: {problem}")
        if broken:
            raise RunInputError(
                "--resume: no checkpoint can be resumed: "
                + "; ".join(broken)
                + ". Pass --overwrite to start over"
            )
        logger.warning("--resume: no complete checkpoint in %s; starting from the beginning", self.path)
        return None

    def start(self, overwrite: bool, resume: bool, arguments: dict[str, Any]) -> None:
        """Move an old run aside when overwriting, then create the folder with its mark (main process only)."""
        if not is_main_process():
            return
        if overwrite and self.path.exists():
            self.aside = sibling(self.path, REPLACED)
            self.path.rename(self.aside)
            logger.info("moved the previous run aside to %s until this one succeeds", self.aside)
        if resume and RUN_MARK.owns(self.path):
            RUN_MARK.update(self.path, state=TRAINING)
        else:
            RUN_MARK.create(self.path, state=TRAINING, arguments=arguments)

    def state(self, state: str, **fields: Any) -> None:
        """Record the run's state (and facts such as the training result) in its mark."""
        if is_main_process():
            RUN_MARK.update(self.path, state=state, **fields)

    def recording(self, under: tuple[str, ...] = ("",)) -> Any:
        """A block whose new and changed files (below ``under``) are recorded as the run's own."""
        return RUN_MARK.recording(self.path, under) if is_main_process() else contextlib.nullcontext()

    def succeed(self) -> None:
        """The new run is complete: remove the old one that was moved aside (unless files appeared in it)."""
        if self.aside is None or not is_main_process():
            return
        foreign = RUN_MARK.foreign(self.aside, TRAINER_OWNED) if RUN_MARK.owns(self.aside) else ["(no mark)"]
        if foreign:
            logger.warning("kept the previous run in %s: it holds files tuning.run did not write (%s)",
                           self.aside, describe(foreign))  # fmt: skip
        else:
            shutil.rmtree(self.aside)
        self.aside = None

    def fail(self, reason: str = "") -> None:
        """The run failed: its mark says so; when overwriting, the partial folder (made by this run) is removed
        and the old one moved back."""
        if not is_main_process():
            return
        if RUN_MARK.owns(self.path):
            RUN_MARK.update(self.path, state=FAILED, error=reason)
        if self.aside is None:
            return
        if RUN_MARK.owns(self.path) and not RUN_MARK.foreign(self.path, TRAINER_OWNED):
            shutil.rmtree(self.path)
        elif self.path.exists():
            self.path.rename(sibling(self.path, "failed"))
        self.aside.rename(self.path)
        logger.warning("the new run failed: the previous run is back in %s", self.path)
        self.aside = None


def _refuse_changes(recorded: dict[str, Any] | None, now: dict[str, Any]) -> None:
    """--resume continues a run only with the options it was started with: each difference is named."""
    if recorded is None:
        logger.warning("--resume: the run records no arguments (an earlier release); they cannot be compared")
        return
    from tuning.run.arguments import resume_differences

    found = resume_differences(recorded, now)
    if found:
        raise RunInputError(
            "--resume continues a run with the options it was started with, and these differ (recorded vs now): "
            + "; ".join(found)
            + ". Resume with the recorded options, or start a new run (--overwrite, or another --run_name)"
        )
