"""What a run leaves in its folder: checkpoints, the generation config, the train-mix record, the Hub copy.

`prepare_run_dir` decides between resuming, starting over and refusing (never clobbering an earlier run's
checkpoints); `complete_checkpoints` finds the ones the Trainer finished writing; `mix_record_callback` keeps
the train-mix record with every checkpoint; `push_to_hub` uploads the folder without checkpoints.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning.distributed import is_main_process
from tuning.run.arguments import RunInputError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger("tuning.run")  # one logger name for the whole run


def spectrum_generation_config(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, family: str
) -> None:
    """Sampling at temperature 1 with no top-k/top-p, stopping at the spectrum terminator (`docs/tuning.md`)."""
    from transformers import GenerationConfig

    from spectrum_suite.formats import stop_strings

    stops = []
    for text in stop_strings("spectrum", tokenizer, family):
        ids = tokenizer.encode(text, add_special_tokens=False)
        if len(ids) == 1:
            stops.append(ids[0])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in stops:
        stops.append(tokenizer.eos_token_id)
    model.generation_config = GenerationConfig(
        do_sample=True,
        temperature=1.0,
        top_k=0,
        top_p=1.0,
        eos_token_id=stops or None,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )


def mix_record_callback(record: Path) -> Any:
    """A callback that copies the train-mix record into every checkpoint, so the mix travels with it."""
    from transformers import TrainerCallback

    class _CopyMix(TrainerCallback):
        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            target = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if state.is_world_process_zero and record.is_file() and target.is_dir():
                shutil.copy2(record, target / record.name)

    return _CopyMix()


def complete_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoint folders whose ``trainer_state.json`` (written last by the Trainer) exists, oldest first."""
    found = []
    for path in run_dir.glob("checkpoint-*"):
        match = re.fullmatch(r"checkpoint-(\d+)", path.name)
        if match and path.is_dir() and (path / "trainer_state.json").is_file():
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def prepare_run_dir(run_dir: Path, resume: bool, overwrite: bool) -> Path | None:
    """The checkpoint to resume from, after refusing to clobber an earlier run's checkpoints."""
    checkpoints = complete_checkpoints(run_dir) if run_dir.exists() else []
    if overwrite and run_dir.exists() and is_main_process():
        shutil.rmtree(run_dir)
        return None
    if resume:
        if not checkpoints:
            logger.warning("--resume: no complete checkpoint in %s; starting from the beginning", run_dir)
            return None
        return checkpoints[-1]
    if checkpoints:
        raise RunInputError(
            f"{run_dir} already holds checkpoints ({checkpoints[-1].name}); pass --resume to continue it, "
            "--overwrite to start over, or another --run-name"
        )
    return None


def push_to_hub(run_dir: Path, repo_id: str, private: bool = False) -> str:
    """Create the model repo if needed and upload the run folder, checkpoints left out."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    info = api.upload_folder(
        folder_path=str(run_dir),
        repo_id=repo_id,
        repo_type="model",
        ignore_patterns=["checkpoint-*", "checkpoint-*/**"],
        commit_message="Spectrum Tuning run " + run_dir.name,
    )
    return str(getattr(info, "commit_url", info))
