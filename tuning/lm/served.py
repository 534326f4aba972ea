"""`ServedLM`: the `LanguageModel` contract over a server's OpenAI-compatible completions API (vLLM, ...).

Every request carries our own token ids, so the server never tokenises: its engine only runs the model (tensor
and pipeline parallel across GPUs and nodes), and the numbers are those of our format and tokenizer
(`docs/served.md` says what each measure needs from the server):

- `score_outputs`: one request per episode asking for the prompt's log-probabilities (``prompt_logprobs``, a
  vLLM extension, with ranks): per scored token log p(gold) and a greedy hit where gold has rank 1. With the top
  `CALIBRATION_LOGPROBS` per position the calibration record is exact (at most 99 tokens can lie above
  p = 0.01); a server that allows fewer gives no calibration, and says so in `describe`;
- `score_candidates`: one request per item, its prompt + each candidate as a batch of prompts; a row whose
  candidates are all one token asks for those tokens' log-probabilities after the prompt alone (vLLM's
  ``logprob_token_ids``), so its prompt runs once, as in the transformers backend;
- `sample`: one request with ``n`` and our seed, temperature 1, top-p 1 and top-k; the returned token ids are
  decoded with our tokenizer keeping special tokens and cut right after the token that completes a stop
  string, which is where the transformers backend's generation stops.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tuning.lm.contract import INCORRECT_THRESHOLD, LanguageModel, OutputRecord, check_sampling, checked_spans
from tuning.lm.http_client import JSONClient, RetryPolicy, ServerError, ServerRefusedError
from tuning.sequences import CandidateTokens, EncodedEpisode, ScoredSpan

#: Top tokens per position asked for steerability's calibration record. At most 99 tokens can have p > 0.01
#: (`INCORRECT_THRESHOLD`), so the top 100 hold every one: the record is then exactly the transformers one.
CALIBRATION_LOGPROBS = 100
#: Stop strings the OpenAI API takes per request; any further ones are cut here after the fact.
MAX_SERVER_STOPS = 4
#: The prompt sent to find out what the server can give (two plain words; ids from our tokenizer).
PROBE_TEXT = "Spectrum Suite"
#: backend name in results.json and on the command line
BACKEND = "openai"

#: Per prompt position: token id -> (log-probability, rank), as the server answered.
PositionLogprobs = dict[int, tuple[float, int]]


class ServedCapabilityError(ValueError):
    """The server cannot give what a measure needs (e.g. prompt log-probabilities); says what and why."""


class NoPromptLogprobsError(ServerError):
    """The server answered a completion without the prompt log-probabilities that were asked for."""


class ServedLM(LanguageModel):
    """A served model, our tokenizer, and a `JSONClient` to the server; build one with `connect`."""

    def __init__(
        self, client: JSONClient, tokenizer: Any, model: str, *, context_length: int | None, engine: dict[str, Any],
        generation_top_k: int, prompt_logprobs: int | None, no_scoring_reason: str | None = None,
        next_token_scoring: bool = False, progress: bool = True,
    ) -> None:  # fmt: skip
        self.client, self.tokenizer, self.model, self.progress = client, tokenizer, model, progress
        self._context_length, self.engine, self.generation_top_k = context_length, engine, generation_top_k
        self.prompt_logprobs, self.no_scoring_reason = prompt_logprobs, no_scoring_reason
        self.next_token_scoring = next_token_scoring
        self.special_ids = dict(zip(tokenizer.all_special_tokens, tokenizer.all_special_ids, strict=True))

    @classmethod
    def connect(
        cls, base_url: str, model: str, *, tokenizer: Any = None, max_concurrency: int = 8, progress: bool = True,
        retry: RetryPolicy | None = None,
    ) -> ServedLM:  # fmt: skip
        """Check that the server serves ``model``, read its context length and engine version, and find out
        whether it gives prompt log-probabilities (and how many per position). ``tokenizer`` defaults to the
        one of ``model`` (a Hub id, a folder or the embedded model's name)."""
        from tuning.loading import load_tokenizer

        client = JSONClient(base_url, max_concurrency=max_concurrency, retry=retry)
        served = _served_model(client, model)
        tokenizer = tokenizer if tokenizer is not None else load_tokenizer(model)
        engine = {"engine": served.get("owned_by"), "engine_version": _engine_version(client)}
        lm = cls(
            client, tokenizer, model, context_length=served.get("max_model_len"), engine=engine,
            generation_top_k=generation_top_k([served.get("root", ""), model, getattr(tokenizer, "name_or_path", "")]),
            prompt_logprobs=None, progress=progress,
        )  # fmt: skip
        lm._check_tokenizer()
        lm.prompt_logprobs, lm.no_scoring_reason = lm._probe_prompt_logprobs()
        probe = list(tokenizer(PROBE_TEXT)["input_ids"])
        lm.next_token_scoring = lm._next_token_logprobs(probe, probe[:2]) is not None
        return lm

    # -- facts -----------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.model

    @property
    def context_length(self) -> int | None:
        return self._context_length

    def describe(self) -> dict[str, Any]:
        if self.no_scoring_reason:
            calibration = f"none: {self.no_scoring_reason}"
        elif self.prompt_logprobs == CALIBRATION_LOGPROBS:
            calibration = f"exact (top {CALIBRATION_LOGPROBS} log-probabilities per token)"
        else:
            calibration = (
                f"none: the server refuses the top {CALIBRATION_LOGPROBS} log-probabilities per token that the "
                f"calibration record needs (vLLM: start it with --max-logprobs {CALIBRATION_LOGPROBS})"
            )
        engine = " ".join(str(v) for v in self.engine.values() if v) or "a server"
        one_token = (
            "the prompt alone (logprob_token_ids)" if self.next_token_scoring else "prompt + candidate"
        )
        return {
            "backend": BACKEND, "dtype": "as served", "device": f"{engine} at {self.client.base_url}",
            "base_url": self.client.base_url, "model": self.model, **self.engine,
            "tokenizer": getattr(self.tokenizer, "name_or_path", None), "max_concurrency": self.client.max_concurrency,
            "calibration": calibration, "one_token_candidates": one_token,
        }  # fmt: skip

    def effective_top_k(self, top_k: int | None) -> int:
        return self.generation_top_k if top_k is None else top_k

    @property
    def cannot_score(self) -> str | None:
        return self.no_scoring_reason

    def check_can_score(self) -> None:
        """Raise `ServedCapabilityError` when the server cannot give prompt log-probabilities."""
        if self.no_scoring_reason:
            raise ServedCapabilityError(self.no_scoring_reason)

    # -- scoring ---------------------------------------------------------------------------------------

    def score_outputs(
        self, episodes: Sequence[EncodedEpisode], *, batch_size: int = 4, threshold: float = INCORRECT_THRESHOLD,
        desc: str = "scoring outputs",
    ) -> list[OutputRecord]:  # fmt: skip
        """One request per episode (``batch_size`` is the transformers backend's; the server batches)."""
        self.check_can_score()
        calibrated = self.prompt_logprobs == CALIBRATION_LOGPROBS
        if calibrated and math.ceil(1 / threshold) - 1 > CALIBRATION_LOGPROBS:
            raise ValueError(
                f"threshold {threshold}: from the top {CALIBRATION_LOGPROBS} tokens per position the served backend "
                f"can list every token above a threshold of 1/{CALIBRATION_LOGPROBS + 1} or more (default 0.01)"
            )
        spans_per = [checked_spans(e) for e in episodes]
        log_t = math.log(threshold)

        def score(i: int) -> list[OutputRecord]:
            if not spans_per[i]:
                return []
            ep = episodes[i]
            positions = self._prompt_logprobs([ep.input_ids], self.prompt_logprobs or 0)[0]
            return [_record(ep, span, positions, log_t if calibrated else None) for span in spans_per[i]]

        per_episode = self.client.map(score, range(len(episodes)), desc=desc, progress=self.progress)
        return [record for records in per_episode for record in records]

    def score_candidates(
        self, items: Sequence[CandidateTokens], *, batch_size: int = 32
    ) -> list[list[float]]:
        """One request per item: the prompt alone for a row of one-token candidates where the server allows it,
        else its prompt + each candidate as one batch of prompts."""
        self.check_can_score()
        for item in items:
            if not item.prompt_ids:
                raise ValueError(
                    "the prompt has no tokens: candidate scoring needs at least one context token"
                )

        def score(item: CandidateTokens) -> list[float]:
            if self.next_token_scoring and all(len(c) == 1 for c in item.candidate_ids):
                found = self._next_token_logprobs(item.prompt_ids, [c[0] for c in item.candidate_ids])
                if found is not None:
                    return found
            start = len(item.prompt_ids)
            rows = [list(item.prompt_ids) + list(c) for c in item.candidate_ids]
            answers = self._prompt_logprobs(rows, 0)
            return [
                math.fsum(positions[p][row[p]][0] for p in range(start, len(row)))
                for row, positions in zip(rows, answers, strict=True)
            ]

        return self.client.map(score, list(items), desc="candidate rows", progress=self.progress)

    def _prompt_logprobs(self, prompts: Sequence[Sequence[int]], top: int) -> list[list[PositionLogprobs]]:
        """Per prompt and position (from 1), the prompt token's and the top ``top`` tokens' log-probs and ranks."""
        body = {
            "model": self.model, "prompt": [list(p) for p in prompts], "max_tokens": 1, "temperature": 0.0,
            "prompt_logprobs": top,
        }  # fmt: skip
        choices = _choices(self.client.post("completions", body), len(prompts), self.client.base_url)
        least = min(top, len(self.tokenizer))
        return [
            _positions(choice.get("prompt_logprobs"), prompt, least, self.client.base_url)
            for choice, prompt in zip(choices, prompts, strict=True)
        ]

    def _next_token_logprobs(self, prompt_ids: Sequence[int], tokens: Sequence[int]) -> list[float] | None:
        """log p(token | prompt) for each of ``tokens``, from one request over the prompt alone (vLLM's
        ``logprob_token_ids``, raw log-probabilities over the whole vocabulary); None where the server refuses
        it (e.g. more tokens than its log-probability cap) or answers without them."""
        wanted = sorted(set(tokens))
        body = {
            "model": self.model, "prompt": [list(prompt_ids)], "max_tokens": 1, "temperature": 0.0, "logprobs": 1,
            "logprob_token_ids": wanted, "return_tokens_as_token_ids": True,
        }  # fmt: skip
        try:
            (choice,) = _choices(self.client.post("completions", body), 1, self.client.base_url)
        except ServerRefusedError:
            return None
        steps = (choice.get("logprobs") or {}).get("top_logprobs") or [None]
        listed = steps[0] if isinstance(steps[0], dict) else {}
        found = {
            int(k.removeprefix("token_id:")): float(v) for k, v in listed.items() if k.startswith("token_id:")
        }
        return [found[t] for t in tokens] if set(wanted) <= found.keys() else None

    # -- sampling --------------------------------------------------------------------------------------

    def sample(
        self, prompt_ids: Sequence[int], *, n: int, max_new_tokens: int, seed: int, stop_strings: Sequence[str],
        top_k: int | None = None, batch_size: int = 8,
    ) -> list[str]:  # fmt: skip
        """One request for all ``n`` samples (the server runs them together; ``batch_size`` is unused). The
        server's stop strings and stop tokens only end generation early: the cut is made here, the same for
        every server."""
        check_sampling(n, max_new_tokens)
        stop_ids = sorted({self.special_ids[s] for s in stop_strings if s in self.special_ids})
        texts = sorted((s for s in stop_strings if s not in self.special_ids), key=len)[:MAX_SERVER_STOPS]
        body = {
            "model": self.model, "prompt": [list(prompt_ids)], "n": n, "max_tokens": max_new_tokens, "seed": seed,
            "temperature": self.temperature, "top_p": self.top_p, "top_k": self.effective_top_k(top_k), "stop": texts,
            "stop_token_ids": stop_ids, "include_stop_str_in_output": True, "skip_special_tokens": False,
            "spaces_between_special_tokens": False, "return_token_ids": True,
        }  # fmt: skip
        choices = _choices(self.client.post("completions", body), n, self.client.base_url)
        return [self._decoded(choice, stop_strings) for choice in choices]

    def _decoded(self, choice: dict[str, Any], stop_strings: Sequence[str]) -> str:
        """The sample's token ids decoded with special tokens kept, through the token that completes the
        first stop string (the text the server wrote, when it gives no token ids)."""
        ids = choice.get("token_ids")
        if ids is None:
            return str(choice.get("text", ""))
        for end in range(1, len(ids) + 1):
            text = self.tokenizer.decode(ids[:end], skip_special_tokens=False)
            if any(stop in text for stop in stop_strings):
                return text
        return self.tokenizer.decode(ids, skip_special_tokens=False)

    # -- what the server can do ------------------------------------------------------------------------

    def _check_tokenizer(self) -> None:
        """Refuse a tokenizer that is not the served model's, where the server tokenises on request (vLLM's
        ``/tokenize``); without that endpoint nothing can be checked."""
        ours = list(self.tokenizer(PROBE_TEXT)["input_ids"])
        try:
            answer = self.client.post("tokenize", {"model": self.model, "prompt": PROBE_TEXT}, root=True)
        except ServerRefusedError:
            return
        theirs = answer.get("tokens") if isinstance(answer, dict) else None
        if theirs is not None and list(theirs) != ours:
            raise ServedCapabilityError(
                f"our tokenizer ({getattr(self.tokenizer, 'name_or_path', '?')}) encodes {PROBE_TEXT!r} as {ours}, "
                f"the served model {self.model!r} as {theirs}: pass the served model's tokenizer with --tokenizer"
            )

    def _probe_prompt_logprobs(self) -> tuple[int | None, str | None]:
        """How many top log-probabilities per prompt position the server gives (`CALIBRATION_LOGPROBS`, or 0
        when it caps lower), or None and the reason when it gives none at all."""
        probe = list(self.tokenizer(PROBE_TEXT)["input_ids"])
        for top in (CALIBRATION_LOGPROBS, 0):
            try:
                self._prompt_logprobs([probe], top)
            except ServerRefusedError as err:
                reason = err.message
                continue
            except NoPromptLogprobsError as err:
                reason = str(err)
                continue
            return top, None
        return None, (
            f"the server at {self.client.base_url} gives no prompt log-probabilities ({reason}); steerability and "
            "distributional alignment need them (vLLM gives them), coverage does not: run with --configs coverage"
        )


def _served_model(client: JSONClient, model: str) -> dict[str, Any]:
    """The server's entry for ``model`` from ``GET /v1/models``; an error listing what it serves otherwise."""
    answer = client.get("models")
    entries = answer.get("data", []) if isinstance(answer, dict) else []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("id") == model:
            return entry
    names = ", ".join(repr(e.get("id")) for e in entries if isinstance(e, dict)) or "none"
    raise ServedCapabilityError(
        f"the server at {client.base_url} does not serve {model!r}; it serves: {names}"
    )


def _engine_version(client: JSONClient) -> str | None:
    """The engine's version where the server reports it (vLLM: ``GET /version``), else None."""
    try:
        answer = client.get("version", root=True)
    except ServerRefusedError:
        return None
    return str(answer["version"]) if isinstance(answer, dict) and "version" in answer else None


def generation_top_k(sources: Sequence[str]) -> int:
    """The top-k that transformers' ``generate`` applies when none is asked for: the generation config of the
    first of ``sources`` (the server's model path, the model name, the tokenizer's folder; local folders before
    Hub ids) that has one, else the library's default (50); 0 = none. The served backend sends it explicitly, so
    both backends sample alike."""
    from transformers import GenerationConfig

    from tuning.embedded import EMBEDDED_MODEL, embedded_cache_dir

    folders = [str(embedded_cache_dir()) if s.strip().lower() == EMBEDDED_MODEL else s for s in sources if s]
    config = GenerationConfig()
    for folder in sorted(folders, key=lambda f: not Path(f).is_dir()):
        try:
            config = GenerationConfig.from_pretrained(folder)
        except (OSError, ValueError):  # no generation config there
            continue
        break
    config.update(**config._get_default_generation_params(), defaults_only=True)
    return int(config.top_k or 0)


def _choices(answer: Any, count: int, where: str) -> list[dict[str, Any]]:
    """The ``count`` choices of a completions answer, in request order."""
    choices = answer.get("choices") if isinstance(answer, dict) else None
    if not isinstance(choices, list) or len(choices) != count:
        got = len(choices) if isinstance(choices, list) else "no"
        raise ServerError(f"the server at {where} answered with {got} choices where {count} were asked")
    return sorted(choices, key=lambda c: c.get("index", 0))


def _positions(entries: Any, prompt: Sequence[int], top: int, where: str) -> list[PositionLogprobs]:
    """A choice's ``prompt_logprobs`` as token id -> (log-prob, rank) per position, checked: one entry per
    prompt token (the first None), each holding the prompt token and at least ``top`` others or fewer."""
    if not isinstance(entries, list) or len(entries) != len(prompt):
        raise NoPromptLogprobsError(
            f"the server at {where} gave no prompt_logprobs for a {len(prompt)}-token prompt "
            f"(got {type(entries).__name__} of {len(entries) if isinstance(entries, list) else 0})"
        )
    out: list[PositionLogprobs] = [{}]
    for p in range(1, len(prompt)):
        entry = entries[p]
        if not isinstance(entry, dict) or str(prompt[p]) not in entry:
            raise ServerError(f"the server at {where}: prompt_logprobs lack the prompt token at position {p}")
        position = {int(t): (float(v["logprob"]), int(v.get("rank") or 0)) for t, v in entry.items()}
        if len(position) < top:
            raise ServerError(
                f"the server at {where} gave {len(position)} log-probabilities at position {p} where the top {top} "
                "were asked"
            )
        out.append(position)
    return out


def _record(
    ep: EncodedEpisode, span: ScoredSpan, positions: list[PositionLogprobs], log_t: float | None
) -> OutputRecord:
    """One output's record from the prompt log-probabilities; ``log_t`` None: no calibration record."""
    gold = [ep.input_ids[p] for p in span.positions]
    logprobs, correct, others = [], [], []
    for p, g in zip(span.positions, gold, strict=True):
        logprob, rank = positions[p][g]
        if rank < 1:
            raise ServerError(
                f"episode {ep.episode}: the server gave no rank for the prompt token at position {p}"
            )
        logprobs.append(logprob)
        correct.append(int(rank == 1))
        if log_t is not None:  # by token id, as the transformers backend lists them
            others += [v for t, (v, _) in sorted(positions[p].items()) if t != g and v > log_t]
    return OutputRecord(
        episode=ep.episode, example_ind=span.example_ind, sample_index=span.sample_index, token_ids=gold,
        token_logprobs=logprobs, token_correct=correct, incorrect_logprobs=others if log_t is not None else None,
    )  # fmt: skip
