"""`EvalOptions`: every setting of an evaluation run in one typed record.

`tuning.eval`'s command line, `tuning.run`'s evaluation of the start and tuned model and the Python API all fill this one
record, so an option has one name, one default and one range check wherever it is set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from spectrum_suite.checks import check_range
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
#: The options that decide which items are scored and how: two runs compare only if these agree.
PROTOCOL = ("max_instances", "num_generations", "seed", "top_k", "include_terminator", "k", "k_window",
            "k_tokenizer", "min_episodes_for_k2", "settings")  # fmt: skip
#: Options that change neither the items scored nor the numbers: runs differing only in these are the same
#: evaluation.
NOT_MEASURED = ("progress", "skip_failed_tasks")
#: ``k_tokenizer`` value that selects k with the evaluated model's own tokenizer.
OWN_TOKENIZER = "model"
#: Upper bounds of the numeric options: far above any sensible run (the paper: 100 samples, batches of 8, a
#: 2048-token window), low enough that a typo (an extra zero or three) is refused instead of running for days.
MAX_GENERATIONS = 10_000
MAX_BATCH_SIZE = 4096
MAX_K_WINDOW = 1_000_000
MAX_SEED = 2**32 - 1


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
    #: Accept a headline without the tasks that failed (listed in the report) instead of failing the command.
    skip_failed_tasks: bool = False

    def __post_init__(self) -> None:
        """Every value checked when the record is made, before any data or model is loaded."""
        if isinstance(self.configs, str):
            self.configs = [self.configs]
        self.configs = list(self.configs)
        _check_configs(self.configs)
        for name, high in (("num_generations", MAX_GENERATIONS), ("batch_size", MAX_BATCH_SIZE),
                           ("k_window", MAX_K_WINDOW), ("min_episodes_for_k2", None)):  # fmt: skip
            check_range(name, getattr(self, name), integer=True, low=1, high=high)
        check_range("seed", self.seed, integer=True, low=0, high=MAX_SEED)
        if self.max_instances is not None:
            check_range("max_instances", self.max_instances, integer=True, low=1)
        if self.k is not None:
            check_range(
                "k (a fixed number of in-context outputs)", self.k, integer=True, low=0, high=self.k_window
            )
        if self.top_k is not None:
            check_range("top_k (0: no top-k filtering)", self.top_k, integer=True, low=0)
        if self.k is not None and self.k_from is not None:
            raise ValueError("give either a fixed k or k_from, not both")
        unknown = [s for s in self.settings if s not in SETTINGS]
        if unknown or not self.settings:
            raise ValueError(f"settings must be some of {SETTINGS}, got {tuple(self.settings)}")
        if not isinstance(self.k_tokenizer, str) or not self.k_tokenizer.strip():
            raise ValueError(
                f"k_tokenizer must name a tokenizer (or {OWN_TOKENIZER!r}), got {self.k_tokenizer!r}"
            )

    def measured(self) -> dict[str, Any]:
        """The options that decide what is measured (not display, not what the command does with failures)."""
        return {k: v for k, v in self.record().items() if k not in NOT_MEASURED}

    def record(self) -> dict[str, Any]:
        """The options as a results file records them (JSON values)."""
        return {**asdict(self), "settings": list(self.settings)}

    def protocol(self) -> dict[str, Any]:
        """The options of `PROTOCOL`, as recorded."""
        return {name: value for name, value in self.record().items() if name in PROTOCOL}


def as_option(err: ValueError, spell: Callable[[str], str]) -> str:
    """A message of `EvalOptions` (it starts with a field name) with the field spelt as the command line's option
    (``spell("max_instances")``: ``--max-instances`` in tuning.eval, ``--eval_max_instances`` in tuning.run)."""
    text = str(err)
    for name in sorted((f.name for f in fields(EvalOptions)), key=len, reverse=True):
        if text.startswith(name + " "):
            return spell(name) + text[len(name) :]
    return text


def _check_configs(configs: list[str]) -> None:
    """At least one config, each a known config or task with a held-out (test) split."""
    from spectrum_suite.registry import UnknownNameError, config_tasks

    if not configs:
        raise ValueError(
            "configs is empty: name at least one config or task (e.g. test, alignment, coverage)"
        )
    for name in configs:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"configs must be config or task names, got {name!r} in {configs}")
        try:
            tasks = config_tasks(name)
        except UnknownNameError as err:
            raise ValueError(str(err)) from None
        if all(t.side == "train" for t in tasks):
            raise ValueError(
                f"config {name!r} has no held-out test split: its tasks are training tasks (evaluate held-out "
                "configs: test, capability, alignment, coverage, or their tasks)"
            )
