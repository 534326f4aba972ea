"""`EvalOptions`: every setting of an evaluation run in one typed record.

`tuning.eval`'s command line, `tuning.run`'s evaluation of the start and tuned model and the Python API all fill this one
record, so an option has one name, one default and one range check wherever it is set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tuning.embedded import EMBEDDED_MODEL

FORMATS = ("spectrum", "colon", "chat")
DEFAULT_CONFIGS = ("test", "alignment", "coverage")
SETTINGS = ("description", "examples", "both")
#: The k-selection window of the paper, in tokens.
K_WINDOW = 2048
#: Episodes with output 2 that must exist before a k <= 1 is raised to 2.
MIN_EPISODES_FOR_K2 = 10
#: The paper's cap on episodes (steerability) and rows (alignment) per task.
MAX_INSTANCES = 1000
#: The options that decide which items are scored and how: two runs compare only if these agree. The sampling
#: seed is not one of them: it only decides which samples a run draws, and `compare` treats the samples of two
#: runs as independent whatever their seeds.
PROTOCOL = ("max_instances", "num_generations", "top_k", "include_terminator", "k", "k_window",
            "k_tokenizer", "min_episodes_for_k2", "settings")  # fmt: skip
#: ``k_tokenizer`` value that selects k with the evaluated model's own tokenizer.
OWN_TOKENIZER = "model"


@dataclass
class EvalOptions:
    """What to evaluate and how; the defaults are the paper's protocol (`docs/evaluation.md`), so numbers of
    different models and of the paper compare."""

    configs: list[str] = field(default_factory=lambda: list(DEFAULT_CONFIGS))
    max_instances: int | None = MAX_INSTANCES  # episodes / alignment rows per task, a seeded subsample
    num_generations: int = 100  # coverage samples per task and prompt setting
    batch_size: int = 8
    seed: int = 42
    top_k: int | None = None  # coverage sampling: None = the model's generation config (library default 50)
    include_terminator: bool = False  # alignment candidates scored through the end-of-turn token
    k: int | None = None  # a fixed number of in-context outputs instead of k selection
    k_window: int = K_WINDOW
    k_tokenizer: str = EMBEDDED_MODEL  # one tokenizer for every model; "model" = the evaluated model's own
    k_from: str | None = None  # a results.json whose k and episodes every steerability task reuses
    min_episodes_for_k2: int = MIN_EPISODES_FOR_K2
    settings: tuple[str, ...] = SETTINGS
    data_dir: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.configs, str):
            self.configs = [self.configs]
        self.configs = list(self.configs)
        for name in ("num_generations", "batch_size", "k_window", "min_episodes_for_k2"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_instances is not None and self.max_instances < 1:
            raise ValueError(f"max_instances must be at least 1 or None, got {self.max_instances}")
        if self.k is not None and self.k < 0:
            raise ValueError(f"k must be >= 0 or None, got {self.k}")
        if self.top_k is not None and self.top_k < 0:
            raise ValueError(
                f"top_k must be >= 0 (0: no top-k filtering) or None (the model's default), got {self.top_k}"
            )
        if self.k is not None and self.k_from is not None:
            raise ValueError("give either a fixed k or k_from, not both")
        unknown = [s for s in self.settings if s not in SETTINGS]
        if unknown or not self.settings:
            raise ValueError(f"settings must be some of {SETTINGS}, got {tuple(self.settings)}")

    def record(self) -> dict[str, Any]:
        """The options as a results file records them (JSON values)."""
        return {**asdict(self), "settings": list(self.settings)}

    def protocol(self) -> dict[str, Any]:
        """The options of `PROTOCOL`, as recorded."""
        return {name: value for name, value in self.record().items() if name in PROTOCOL}
