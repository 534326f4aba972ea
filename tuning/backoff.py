"""Batched loops that halve their batch size on out-of-memory instead of failing the whole run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")
R = TypeVar("R")


def is_out_of_memory(err: BaseException) -> bool:
    """True for CUDA/MPS/CPU allocation failures, which a smaller batch may avoid."""
    import torch

    if isinstance(err, (torch.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(err, RuntimeError) and "out of memory" in str(err).lower()


def _free_cache() -> None:
    """Release cached accelerator memory after an OOM so the retry sees it."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def map_batches(
    fn: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    batch_size: int,
    *,
    desc: str | None = None,
    progress: bool = True,
) -> list[R]:
    """``fn`` over consecutive chunks of ``items``; one result per item, in order; halves on OOM."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    results: list[R] = []
    size = batch_size
    start = 0
    with tqdm(total=len(items), desc=desc, disable=not progress, leave=False) as bar:
        while start < len(items):
            chunk = items[start : start + size]
            try:
                out = fn(chunk)
            except Exception as err:
                if size == 1 or not is_out_of_memory(err):
                    raise
                _free_cache()
                size = max(1, size // 2)
                bar.set_postfix(batch_size=size)
                continue
            if len(out) != len(chunk):
                raise RuntimeError(f"batch function returned {len(out)} results for {len(chunk)} items")
            results.extend(out)
            start += len(chunk)
            bar.update(len(chunk))
    return results
