"""Where this process is: on CUDA or the CPU, how many processes share the run, and which one is the main one.

Options, outputs and the training flow all branch on these facts (defaults, files written once, gradient
accumulation); ``accelerate launch`` and ``torchrun`` set ``WORLD_SIZE`` and ``RANK``.
"""

from __future__ import annotations

import os


def on_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def is_main_process() -> bool:
    return rank() == 0
