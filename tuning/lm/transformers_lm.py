"""`LM`: the transformers backend of the `LanguageModel` contract, one causal LM and its tokenizer in process.

It owns the device, right padding with the pad id, batching that halves its batch on out-of-memory instead of
failing the run, and three ways of running the model:

- `LM.score_outputs`: prequential scoring, every scored output of an encoded episode in one teacher-forced
  forward pass: per scored token log p(gold) over the full vocabulary, whether gold is the argmax, and the
  other tokens above a probability threshold (for calibration);
- `LM.score_candidates`: the summed log-probability of each candidate continuation of a prompt; the prompt
  runs once with the key/value cache on and every candidate continues from a copy of that cache, many per
  batch, and a row whose candidates are all one token needs only its prompt's last logits;
- `LM.sample`: N seeded samples of one prompt, the prompt's cache shared across each batch of identical rows,
  decoded keeping special tokens (the coverage metric's cleaning expects them).

Launched on several processes (``accelerate launch``), scoring splits its items across them and gathers the
results, so every process returns what one process would.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from tqdm.auto import tqdm

from tuning.distributed import share
from tuning.lm.contract import INCORRECT_THRESHOLD, LanguageModel, OutputRecord, check_sampling, checked_spans
from tuning.sequences import CandidateTokens, EncodedEpisode

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

T = TypeVar("T")
R = TypeVar("R")


def is_out_of_memory(err: BaseException) -> bool:
    """True for CUDA/MPS/CPU allocation failures, which a smaller batch may avoid."""
    import torch

    if isinstance(err, (torch.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(err, RuntimeError) and "out of memory" in str(err).lower()


def in_batches(
    fn: Callable[[Sequence[T]], list[R]], items: Sequence[T], batch_size: int, *, desc: str | None = None,
    progress: bool = True,
) -> list[R]:  # fmt: skip
    """``fn`` over consecutive chunks of ``items``; one result per item, in order; halves the batch on OOM."""
    import torch

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    results: list[R] = []
    size, start = batch_size, 0
    with tqdm(total=len(items), desc=desc, disable=not progress, leave=False) as bar:
        while start < len(items):
            chunk = items[start : start + size]
            try:
                out = fn(chunk)
            except Exception as err:
                if size == 1 or not is_out_of_memory(err):
                    raise
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                size = max(1, size // 2)
                bar.set_postfix(batch_size=size)
                continue
            if len(out) != len(chunk):
                raise RuntimeError(f"batch function returned {len(out)} results for {len(chunk)} items")
            results.extend(out)
            start += len(chunk)
            bar.update(len(chunk))
    return results


def declared_context_length(config: Any) -> int | None:
    """The longest sequence a model config declares (its position table), or None when it declares none."""
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


class LM(LanguageModel):
    """A model and its tokenizer on one device, with the scoring and sampling the evaluations need."""

    def __init__(
        self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, *, progress: bool = True
    ) -> None:
        self.model, self.tokenizer, self.progress = model, tokenizer, progress
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if pad is None:
            raise ValueError("the tokenizer has neither a pad nor an EOS token: batches cannot be padded")
        self.pad_id = int(pad)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def context_length(self) -> int | None:
        """The longest sequence the model accepts (its position table), or None when it declares none."""
        return declared_context_length(self.model.config)

    @property
    def name(self) -> str:
        return getattr(self.model, "name_or_path", None) or type(self.model).__name__

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "transformers",
            "dtype": str(next(self.model.parameters()).dtype).removeprefix("torch."),
            "device": str(self.device),
        }

    def pad(
        self, rows: Sequence[Sequence[int]], value: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-padded ids (pad id, or ``value``) and attention mask, on the model's device."""
        import torch

        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id if value is None else value, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(list(row), dtype=torch.long)
            mask[i, : len(row)] = 1
        return ids.to(self.device), mask.to(self.device)

    def _logits(
        self, ids: torch.Tensor, mask: torch.Tensor | None, keep: torch.Tensor, **kw: Any
    ) -> torch.Tensor:
        """Logits at the sequence positions ``keep`` only (saves the vocabulary projection elsewhere)."""
        try:
            logits = self.model(input_ids=ids, attention_mask=mask, logits_to_keep=keep, **kw).logits
        except TypeError:  # a model without logits_to_keep: project everything, then select
            return self.model(input_ids=ids, attention_mask=mask, **kw).logits[:, keep]
        return logits if logits.shape[1] == keep.numel() else logits[:, keep]

    # -- prequential scoring -------------------------------------------------------------------------

    def score_outputs(
        self, episodes: Sequence[EncodedEpisode], *, batch_size: int = 4, threshold: float = INCORRECT_THRESHOLD,
        desc: str = "scoring outputs",
    ) -> list[OutputRecord]:  # fmt: skip
        """Teacher-forced records for every scored output of every episode, in episode order.

        Under a multi-process launch each process scores its share of the episodes (`tuning.distributed.share`).
        Sequences must already fit the model's context: the caller skips and counts the rest.
        """
        per_episode = share(lambda part: self._score_episodes(part, batch_size, threshold, desc), episodes)
        return [rec for records in per_episode for rec in records]

    def _score_episodes(
        self, episodes: Sequence[EncodedEpisode], batch_size: int, threshold: float, desc: str
    ) -> list[list[OutputRecord]]:
        """Each episode's records, episodes batched by length so that padding stays small."""
        order = sorted(range(len(episodes)), key=lambda i: len(episodes[i].input_ids))
        per_episode = in_batches(
            lambda chunk: self._score_batch(chunk, threshold), [episodes[i] for i in order], batch_size, desc=desc,
            progress=self.progress,
        )  # fmt: skip
        by_index = dict(zip(order, per_episode, strict=True))
        return [by_index[i] for i in range(len(episodes))]

    def _score_batch(self, batch: Sequence[EncodedEpisode], threshold: float) -> list[list[OutputRecord]]:
        import torch

        spans_per = [checked_spans(e) for e in batch]
        targets = {p for spans in spans_per for span in spans for p in span.positions}
        if not targets:
            return [[] for _ in batch]
        keep_positions = sorted(p - 1 for p in targets)  # logits at p-1 predict the token at p
        column = {p + 1: c for c, p in enumerate(keep_positions)}
        ids, mask = self.pad([e.input_ids for e in batch])
        with torch.inference_mode():
            keep = torch.tensor(keep_positions, dtype=torch.long, device=self.device)
            logprobs = torch.log_softmax(self._logits(ids, mask, keep, use_cache=False).float(), dim=-1).cpu()
        log_t = math.log(threshold)
        out: list[list[OutputRecord]] = []
        for row, (ep, spans) in enumerate(zip(batch, spans_per, strict=True)):
            records = []
            for span in spans:
                gold = torch.tensor([ep.input_ids[p] for p in span.positions])
                dist = logprobs[row, torch.tensor([column[p] for p in span.positions])]  # [tokens, vocab]
                above = dist > log_t
                above[torch.arange(len(gold)), gold] = False
                records.append(
                    OutputRecord(
                        episode=ep.episode,
                        example_ind=span.example_ind,
                        sample_index=span.sample_index,
                        token_ids=gold.tolist(),
                        token_logprobs=dist.gather(1, gold[:, None])[:, 0].tolist(),
                        token_correct=(dist.argmax(dim=-1) == gold).int().tolist(),
                        incorrect_logprobs=dist[above].tolist(),
                    )
                )
            out.append(records)
        return out

    # -- candidate scoring ---------------------------------------------------------------------------

    def score_candidates(
        self, items: Sequence[CandidateTokens], *, batch_size: int = 32
    ) -> list[list[float]]:
        """Σ log p(candidate tokens | prompt) for every candidate of every item (each process its share).

        Items whose candidates are all one token need only their prompt's last logits, so their prompts run
        together in batches; the others run their prompt once and continue every candidate from its cache.
        """
        return share(lambda part: self._score_items(part, batch_size), items)

    def _score_items(self, items: Sequence[CandidateTokens], batch_size: int) -> list[list[float]]:
        out: list[list[float] | None] = [None] * len(items)
        single = [i for i, t in enumerate(items) if all(len(c) == 1 for c in t.candidate_ids)]
        single.sort(key=lambda i: len(items[i].prompt_ids))  # similar lengths share a batch
        dists = in_batches(
            lambda chunk: self._next_token_logprobs([items[i].prompt_ids for i in chunk]), single, batch_size,
            desc="single-token rows", progress=self.progress,
        )  # fmt: skip
        for i, dist in zip(single, dists, strict=True):
            out[i] = [float(dist[c[0]]) for c in items[i].candidate_ids]
        rest = [i for i, o in enumerate(out) if o is None]
        for i in tqdm(rest, desc="multi-token rows", disable=not self.progress or not rest, leave=False):
            out[i] = self._continue_prompt(items[i].prompt_ids, items[i].candidate_ids, batch_size)
        return [o for o in out if o is not None]

    def _next_token_logprobs(self, prompts: Sequence[Sequence[int]]) -> list[Any]:
        """Next-token log-probabilities after each prompt, the prompts run as one right-padded batch."""
        import torch

        ids, mask = self.pad(prompts)
        lasts = sorted({len(p) - 1 for p in prompts})
        column = {pos: c for c, pos in enumerate(lasts)}
        with torch.inference_mode():
            keep = torch.tensor(lasts, dtype=torch.long, device=self.device)
            logits = self._logits(ids, mask, keep, use_cache=False)
            picked = torch.stack([logits[row, column[len(p) - 1]] for row, p in enumerate(prompts)])
            return list(torch.log_softmax(picked.float(), dim=-1).cpu())

    def _continue_prompt(
        self, prompt_ids: Sequence[int], candidate_ids: Sequence[Sequence[int]], batch_size: int
    ) -> list[float]:
        """Every candidate's summed log-prob after one prompt, continuing from a copy of the prompt's cache."""
        import torch

        if not prompt_ids:
            raise ValueError("the prompt has no tokens: candidate scoring needs at least one context token")
        with torch.inference_mode():
            prompt = torch.tensor([list(prompt_ids)], device=self.device)
            out = self._run_prompt(prompt)
        first = torch.log_softmax(out.logits[0, -1].float(), dim=-1).cpu()
        totals = [float(first[c[0]]) for c in candidate_ids]
        n_prompt = len(prompt_ids)

        def run(chunk: Sequence[int]) -> list[float]:
            rest = [list(candidate_ids[i]) for i in chunk]  # tokens 0..n-1: feed 0..n-2, score 1..n-1
            ids, cand_mask = self.pad([r[:-1] for r in rest], value=0)
            mask = torch.cat(
                [torch.ones((len(rest), n_prompt), dtype=torch.long, device=self.device), cand_mask], 1
            )
            cache = copy.deepcopy(out.cache)
            cache.batch_repeat_interleave(len(rest))
            with torch.inference_mode():
                logits = self.model(input_ids=ids, attention_mask=mask, cache=cache, use_cache=True).logits
                logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
            return [float(logprobs[row, : len(r) - 1].gather(1, torch.tensor(r[1:])[:, None]).sum())
                    for row, r in enumerate(rest)]  # fmt: skip

        longer = sorted(
            (i for i, c in enumerate(candidate_ids) if len(c) > 1), key=lambda i: len(candidate_ids[i])
        )
        for i, s in zip(longer, in_batches(run, longer, batch_size, progress=False), strict=True):
            totals[i] += s
        return totals

    def _run_prompt(self, prompt: torch.Tensor) -> Any:
        """The prompt's forward pass with the cache on, projecting only the last position's logits."""
        try:
            return self.model(input_ids=prompt, use_cache=True, logits_to_keep=1)
        except TypeError:
            return self.model(input_ids=prompt, use_cache=True)

    # -- sampling ------------------------------------------------------------------------------------

    def effective_top_k(self, top_k: int | None) -> int:
        """The top-k that sampling applies: the one asked for, else what `generate` takes from the model's
        generation config and the library's defaults (50 when the checkpoint sets none); 0 means no top-k."""
        if top_k is not None:
            return top_k
        config, _ = self.model._prepare_generation_config(None)  # what generate() itself resolves
        return int(config.top_k or 0)

    def sample(
        self, prompt_ids: Sequence[int], *, n: int, max_new_tokens: int, seed: int, stop_strings: Sequence[str],
        top_k: int | None = None, batch_size: int = 8,
    ) -> list[str]:  # fmt: skip
        """``n`` samples after ``prompt_ids`` at temperature 1 and top-p 1, decoded with special tokens kept.

        ``top_k`` None applies the model's own generation config (see `effective_top_k`, which is passed on
        explicitly). The draws depend on ``seed`` and the batch size only, so the same call gives the same samples.
        """
        import torch

        check_sampling(n, max_new_tokens)
        prompt = torch.tensor([list(prompt_ids)], dtype=torch.long, device=self.device)
        prefix = None
        if prompt.shape[1] > 1:  # run the prompt (all but its last token) once; every batch continues from it
            with torch.inference_mode():
                prefix = self._run_prompt(prompt[:, :-1]).cache
        torch.manual_seed(seed)
        top_k = self.effective_top_k(top_k)

        def run(chunk: Sequence[int]) -> list[str]:
            ids = prompt.expand(len(chunk), -1)
            cache = None
            if prefix is not None:
                cache = copy.deepcopy(prefix)
                cache.batch_repeat_interleave(len(chunk))
            with torch.inference_mode():
                out = self.model.generate(
                    input_ids=ids, attention_mask=torch.ones_like(ids), cache=cache, do_sample=True,
                    temperature=self.temperature, top_p=self.top_p, top_k=top_k, max_new_tokens=max_new_tokens,
                    stop_strings=list(stop_strings) or None, tokenizer=self.tokenizer, pad_token_id=self.pad_id,
                )  # fmt: skip
            return self.tokenizer.batch_decode(out[:, prompt.shape[1] :], skip_special_tokens=False)

        return in_batches(run, list(range(n)), batch_size, desc="sampling", progress=False)
