"""Packing episodes into padding-free rows, and the probe that says whether a model's attention allows it.

Packed rows keep a ``seq_lengths`` column, so TRL's padding-free collator gives each episode its own position
ids and no episode attends to another; that holds only for attention kernels that honour packed position ids,
which `packing_supported` checks on the model itself before any training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tuning.run.data import TrainDataError

if TYPE_CHECKING:
    import datasets
    from transformers import PreTrainedModel


@dataclass
class PackStats:
    """How a packed set compares with one episode per row."""

    episodes: int
    rows: int
    tokens: int
    max_length: int

    @property
    def episodes_per_row(self) -> float:
        return self.episodes / max(self.rows, 1)

    @property
    def fill(self) -> float:
        """Real tokens over the ``rows * max_length`` slots of the packed rows."""
        return self.tokens / max(self.rows * self.max_length, 1)


def pack(
    dataset: datasets.Dataset, max_length: int, num_proc: int | None = None
) -> tuple[datasets.Dataset, PackStats]:
    """Best-fit-decreasing packing (TRL's ``pack_dataset``) of truncated rows into rows of ``max_length``.

    Rows keep a ``seq_lengths`` column, so TRL's padding-free collator gives each episode its own position
    ids and the attention mask is block-diagonal: no episode attends to another.
    """
    from trl import pack_dataset

    plain = dataset.select_columns(["input_ids", "labels"])
    longest = max(len(ids) for ids in plain["input_ids"])
    if longest > max_length:
        raise TrainDataError(f"cannot pack: a row has {longest} tokens, more than max_length={max_length}")
    packed = pack_dataset(plain, max_length, "bfd", {"num_proc": num_proc})
    tokens = sum(sum(lengths) for lengths in packed["seq_lengths"])
    return packed, PackStats(len(plain), len(packed), tokens, max_length)


def packing_supported(model: PreTrainedModel, atol: float = 1e-3) -> tuple[bool, str]:
    """Whether two episodes packed in one row (position ids restarting, no attention mask) give the same
    logits as each run alone: true for kernels that honour packed position ids (sdpa, eager and flash
    attention in recent transformers), false where episodes would attend across their boundary."""
    import torch

    vocab = model.get_input_embeddings().weight.shape[0]
    gen = torch.Generator().manual_seed(0)
    first = torch.randint(0, vocab, (1, 7), generator=gen)
    second = torch.randint(0, vocab, (1, 5), generator=gen)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            # No cache, as in training: the packed-sequence mask is only derived when there is none.
            alone = [model(input_ids=x.to(device), use_cache=False).logits.float() for x in (first, second)]
            positions = torch.cat([torch.arange(7), torch.arange(5)])[None].to(device)
            joined = torch.cat([first, second], 1).to(device)
            packed = model(input_ids=joined, position_ids=positions, use_cache=False).logits.float()
    except Exception as err:  # noqa: BLE001 - any failure means: do not pack
        return False, f"probe failed: {type(err).__name__}: {err}"
    finally:
        model.train(was_training)
    diff = max((packed[:, :7] - alone[0]).abs().max().item(), (packed[:, 7:] - alone[1]).abs().max().item())
    kernel = getattr(model.config, "_attn_implementation", "?")
    if diff <= atol:
        return True, f"{kernel}: packed logits match (max diff {diff:.2e})"
    return False, f"{kernel}: packed episodes leak into each other (max logit diff {diff:.2e})"
