"""The one contract every model engine implements: three requests and the facts a results file records.

Both backends (transformers in-process, `tuning.lm.transformers_lm.LM`; a served model over the
OpenAI-compatible API, `tuning.lm.served.ServedLM`) take our own token ids and return the same records, so the
evaluations never know which engine ran:

- `LanguageModel.score_outputs`: prequential scoring of every scored output of an encoded episode, per token
  log p(gold), whether gold is the top token, and the other tokens above `INCORRECT_THRESHOLD` (calibration);
- `LanguageModel.score_candidates`: Σ log p(candidate tokens | prompt) for every candidate of a prompt;
- `LanguageModel.sample`: ``n`` seeded samples at temperature 1 and top-p 1, decoded with special tokens kept,
  each cut right after the token that completes a stop string (or at the end of sequence).
"""

from __future__ import annotations

import hashlib
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tuning.sequences import CandidateTokens, EncodedEpisode, ScoredSpan, scored_spans

#: Other-token log-probs above ln(this) are kept for calibration (the ECE threshold t).
INCORRECT_THRESHOLD = 0.01


@dataclass
class OutputRecord:
    """One scored output: its token ids, log p(gold) and argmax hits (``loss`` sums the NLLs, terminator in).

    ``incorrect_logprobs`` is None when the engine could not tell every other token above the threshold
    (calibration then is not computed), never a partial list.
    """

    episode: int
    example_ind: int
    sample_index: int
    token_ids: list[int]
    token_logprobs: list[float]
    token_correct: list[int]
    incorrect_logprobs: list[float] | None = field(default_factory=list)

    @property
    def loss(self) -> float:
        return -math.fsum(self.token_logprobs)

    @property
    def all_acc(self) -> int:
        return min(self.token_correct)


def derived_seed(seed: int, *keys: str) -> int:
    """A stable 63-bit seed per (run seed, keys...), so each unit of work draws the same samples alone."""
    digest = hashlib.sha256("\x1f".join([str(seed), *keys]).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def checked_spans(episode: EncodedEpisode) -> list[ScoredSpan]:
    """The episode's scored outputs, refusing a scored first token (nothing before it to predict it from)."""
    spans = scored_spans(episode)
    if spans and spans[0].positions[0] == 0:
        raise ValueError(f"episode {episode.episode}: the first token is scored, but has no context")
    return spans


class LanguageModel(ABC):
    """A model with its tokenizer, run on our token ids by some engine (see the module docstring).

    Attributes every backend sets: ``tokenizer`` (ours: it renders and encodes everything the engine sees)
    and ``progress`` (whether long work shows progress bars).
    """

    tokenizer: Any
    progress: bool
    #: The temperature and top-p every engine samples at, whatever the model's generation config says (the
    #: paper's sampling sets both); only top-k follows the model (`effective_top_k`).
    temperature: float = 1.0
    top_p: float = 1.0

    @property
    @abstractmethod
    def name(self) -> str:
        """The model's name as results record it."""

    @property
    @abstractmethod
    def context_length(self) -> int | None:
        """The longest sequence the model accepts, or None when it declares none."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What ran the model, for results.json: ``backend`` and ``dtype``/``device`` (in-process) or the
        server's address, model name and engine version (served)."""

    @property
    def cannot_score(self) -> str | None:
        """Why this engine cannot give teacher-forced log-probabilities (steerability and alignment need them,
        coverage does not), or None when it can."""
        return None

    @abstractmethod
    def effective_top_k(self, top_k: int | None) -> int:
        """The top-k that sampling applies for ``top_k`` (None: the model's generation config); 0 = none."""

    @abstractmethod
    def score_outputs(
        self, episodes: Sequence[EncodedEpisode], *, batch_size: int = 4, threshold: float = INCORRECT_THRESHOLD,
        desc: str = "scoring outputs",
    ) -> list[OutputRecord]:  # fmt: skip
        """Teacher-forced records for every scored output of every episode, in episode order."""

    @abstractmethod
    def score_candidates(
        self, items: Sequence[CandidateTokens], *, batch_size: int = 32
    ) -> list[list[float]]:
        """Σ log p(candidate tokens | prompt) for every candidate of every item, in order."""

    @abstractmethod
    def sample(
        self, prompt_ids: Sequence[int], *, n: int, max_new_tokens: int, seed: int, stop_strings: Sequence[str],
        top_k: int | None = None, batch_size: int = 8,
    ) -> list[str]:  # fmt: skip
        """``n`` samples after ``prompt_ids`` at temperature 1 and top-p 1, decoded with special tokens kept."""


def check_sampling(n: int, max_new_tokens: int) -> None:
    """Refuse a sampling request that asks for nothing."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
