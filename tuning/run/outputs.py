"""What a run leaves in its folder besides the weights: the generation config, the train-mix record in every
checkpoint, and the Hub copy (`push_to_hub` uploads the folder without checkpoints). The folder's own life
(resume, overwrite, failure) is `tuning.run.folder`'s.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedModel

    from spectrum_suite.formats import Format

logger = logging.getLogger("tuning.run")  # one logger name for the whole run


def spectrum_generation_config(model: PreTrainedModel, fmt: Format) -> None:
    """Sampling at temperature 1 with no top-k/top-p, stopping at the spectrum terminator (`docs/tuning.md`)."""
    from transformers import GenerationConfig

    tokenizer = fmt.tokenizer
    stops = []
    for text in fmt.stop_strings:
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


def plot_training_loss(history: list[dict[str, Any]], path: Path) -> Path | None:
    """The training loss per optimizer step (and the learning rate), from the trainer's log history."""
    points = [(e["step"], e["loss"]) for e in history if "loss" in e and "step" in e]
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3, label="training loss")
    ax.set(xlabel="optimizer step", ylabel="loss (mean over labelled tokens, nats)", title="Training loss")
    rates = [(e["step"], e["learning_rate"]) for e in history if "learning_rate" in e and "step" in e]
    if rates:
        twin = ax.twinx()
        twin.plot(
            [r[0] for r in rates],
            [r[1] for r in rates],
            color="tab:gray",
            linestyle="--",
            label="learning rate",
        )
        twin.set_ylabel("learning rate")
        twin.legend(loc="upper right", fontsize=7)
    ax.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
