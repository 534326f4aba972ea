"""Where this process of a run is: on CUDA or the CPU, how many processes share the run, which one is main.

Options, outputs and the training flow all branch on these facts (defaults, file writes done once, gradient
accumulation), so they sit here, apart from any of them; ``accelerate launch`` sets ``WORLD_SIZE``/``RANK``.
"""

from __future__ import annotations

import os


def on_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0
