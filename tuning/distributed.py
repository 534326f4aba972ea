"""Where this process is, and how several processes share the work of one evaluation.

Options, outputs and the training flow branch on these facts (defaults, files written once, gradient
accumulation); ``accelerate launch`` and ``torchrun`` set ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``. An
evaluation launched on N processes gives each the items ``rank, rank + N, ...`` of every list of work (`share`)
and gathers the results back into their original order on every process, so every process holds the whole
result and the main one writes it: one results file, equal to a single-process run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

#: OpenMP's wait policy for our processes (set by ``tuning/__init__``): idle threads sleep, not spin.
OMP_WAIT_POLICY = "PASSIVE"

T = TypeVar("T")
R = TypeVar("R")


def on_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main_process() -> bool:
    return rank() == 0


def local_world_size() -> int:
    return int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1")))


def device() -> str:
    """This process's device: its own GPU under a launcher, else the only one, else the CPU."""
    return f"cuda:{local_rank()}" if on_cuda() else "cpu"


def start() -> None:
    """Join the process group when launched on several processes (gloo on CPUs, NCCL on GPUs)."""
    if world_size() > 1:
        from accelerate import PartialState

        PartialState()


def share(fn: Callable[[Sequence[T]], list[R]], items: Sequence[T]) -> list[R]:
    """``fn`` over this process's share of ``items``, the shares gathered back in order on every process."""
    if world_size() == 1:
        return fn(items)
    import torch.distributed as dist

    mine = list(range(rank(), len(items), world_size()))
    results = fn([items[i] for i in mine]) if mine else []
    gathered: list[list[tuple[int, R]]] = [[] for _ in range(world_size())]
    dist.all_gather_object(gathered, list(zip(mine, results, strict=True)))
    ordered = dict(pair for part in gathered for pair in part)
    return [ordered[i] for i in range(len(items))]


def barrier() -> None:
    """Wait until every process reaches this point (e.g. the main one has saved what the others load)."""
    if world_size() > 1:
        import torch.distributed as dist

        dist.barrier()


def agree(value: T) -> T:
    """The main process's ``value`` on every process, so that all take the same branch around collectives."""
    if world_size() == 1:
        return value
    import torch.distributed as dist

    holder = [value]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def cpu_threads() -> int:
    """Torch threads for this process: the cores it may run on, split among the processes of this machine."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, local_world_size()))
