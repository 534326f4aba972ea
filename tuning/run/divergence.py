"""A training that diverges stops with a clear error; it is never saved or recorded as a finished run.

transformers filters NaN and infinite losses out of what it logs by default (``logging_nan_inf_filter``), so
a run at a learning rate of 1e8 used to log finite losses over NaN weights and end as an ordinary run. Here the
filter is off and a callback checks every logged loss and, each time a checkpoint is about to be saved, the
parameters (one pass of ``isfinite`` over them: cheap next to a training step); the final weights are checked
again before they are saved. The first non-finite value raises `TrainingDiverged`, which names the step.
"""

from __future__ import annotations

import math
from typing import Any

from tuning.loading import non_finite_tensors


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN or infinite; the message names the step and what to change."""


def diverged(step: int, what: str, learning_rate: float | None) -> TrainingDiverged:
    rate = f" at learning rate {learning_rate:g}" if learning_rate is not None else ""
    return TrainingDiverged(
        f"training diverged at optimizer step {step}{rate}: {what}. The run is not complete and its weights are not "
        "saved as a finished model; start it again with a lower --learning_rate (--overwrite)"
    )


def check_weights(model: Any, step: int, learning_rate: float | None) -> None:
    """Raise `TrainingDiverged` if any parameter is not finite."""
    bad = non_finite_tensors(model)
    if bad:
        raise diverged(
            step, f"{len(bad)} weight tensors hold NaN or infinite values (e.g. {bad[0]})", learning_rate
        )


def divergence_callback() -> Any:
    """The callback that stops training at the first non-finite loss, and before saving non-finite weights."""
    from transformers import TrainerCallback

    class _Divergence(TrainerCallback):
        rate: float | None = None

        def on_log(
            self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any
        ) -> None:
            logs = logs or {}
            self.rate = logs.get("learning_rate", self.rate)
            for key in ("loss", "grad_norm"):
                value = logs.get(key)
                if isinstance(value, (int, float)) and not math.isfinite(value):
                    raise diverged(
                        state.global_step, f"the logged {key.replace('_', ' ')} is {value}", self.rate
                    )

        def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
            if control.should_save and model is not None:  # the checkpoint is written right after this call
                check_weights(model, state.global_step, self.rate)

    return _Divergence()


def mean_logged_loss(history: list[dict[str, Any]]) -> float | None:
    """The training loss averaged over every optimizer step of the run, from the logged window means (which a
    resumed run carries over from its checkpoint): the trainer's own figure covers only the last session."""
    total = steps = previous = 0.0
    for entry in history:
        if "loss" in entry and "step" in entry and entry["step"] > previous:
            total += entry["loss"] * (entry["step"] - previous)
            steps += entry["step"] - previous
            previous = entry["step"]
    return total / steps if steps else None
