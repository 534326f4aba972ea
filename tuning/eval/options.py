"""`EvalOptions`: every setting of an evaluation run, in one typed record that is also its command line.

Each field carries its help text and its range (`option`), and both commands parse the fields themselves:
``python -m tuning.eval`` with `OptionParser` (transformers' `HfArgumentParser`, so ``--max_instances`` and
``--max-instances`` both work), ``python -m tuning.run`` through `prefixed`, the same fields named
``--eval_<field>`` next to TRL's options. The Python API fills the same record, so an option has one name, one
default and one range check wherever it is set.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, get_type_hints

from transformers import HfArgumentParser

from spectrum_suite.checks import check_range
from spectrum_suite.selection import K_WINDOW, MAX_INSTANCES, MIN_EPISODES_FOR_K2
from tuning.embedded import EMBEDDED_MODEL

DEFAULT_CONFIGS = ("test", "alignment", "coverage")
SETTINGS = ("description", "examples", "both")
#: The options that decide which items are scored and how: two runs compare only if these agree. The sampling
#: seed is not one of them: it only decides which samples a run draws, and `compare` treats the samples of two
#: runs as independent whatever their seeds. Nor is ``top_k``: left to each model's generation config (the
#: paper's sampling), two models may apply different top-k and still compare; `compare` refuses only a top-k
#: that the options fixed and the other run did not apply (`tuning.eval.compare.sampling_differences`).
PROTOCOL = ("max_instances", "num_generations", "include_terminator", "k", "k_window",
            "k_tokenizer", "min_episodes_for_k2", "settings")  # fmt: skip
#: Options that change neither the items scored nor the numbers: runs differing only in these are the same
#: evaluation.
NOT_MEASURED = ("progress", "skip_failed_tasks")
#: ``k_tokenizer`` value that selects k with the evaluated model's own tokenizer.
OWN_TOKENIZER = "model"
#: Metadata keys of ours, which the parser reads and argparse never sees: the lowest and highest value, and a
#: parse function.
LOW, HIGH, PARSE = "spectrum_low", "spectrum_high", "spectrum_parse"
#: Upper bounds of the numeric options: far above any sensible run (the paper: 100 samples, batches of 8, a
#: 2048-token window), low enough that a typo (an extra zero or three) is refused instead of running for days.
MAX_GENERATIONS = 10_000
MAX_BATCH_SIZE = 4096
MAX_K_WINDOW = 1_000_000
MAX_SEED = 2**32 - 1
#: Above every vocabulary (the largest are ~256k tokens): a top-k beyond it is no top-k, and likely a typo.
MAX_TOP_K = 1_000_000
#: Far above any task's episode count: beyond it k would silently never be raised to 2.
MAX_MIN_EPISODES = 1_000_000


def per_task_cap(text: str) -> int | None:
    """A per-task cap on the command line: an integer, or ``all`` for none."""
    return None if text.strip().lower() == "all" else int(text)


def option(
    default: Any = dataclasses.MISSING, *, help: str, low: int | None = None, high: int | None = None,
    parse: Callable[[str], Any] | None = None, **argparse_kwargs: Any,
) -> Any:  # fmt: skip
    """A field with its ``--help`` text, its lowest and highest value (an integer option) and, as ``parse``, a
    function that reads the command-line text instead of the type; ``argparse_kwargs`` (``choices``,
    ``metavar``) go to argparse. A list default is copied per record."""
    meta = {"help": help, **argparse_kwargs}
    if low is not None:
        meta[LOW] = low
    if high is not None:
        meta[HIGH] = high
    if parse is not None:
        meta[PARSE] = parse
    if isinstance(default, (list, tuple)) and not isinstance(default, str):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class EvalOptions:
    """What to evaluate and how; the defaults are the paper's protocol (`docs/evaluation.md`), so numbers of
    different models and of the paper compare."""

    configs: list[str] = option(DEFAULT_CONFIGS, help="builder configs or single tasks to evaluate on")
    max_instances: int | None = option(
        MAX_INSTANCES, low=1, parse=per_task_cap, metavar="N|all",
        help="episodes / alignment rows per task, a seeded subsample (the paper's 1000; 'all' for every one)",
    )  # fmt: skip
    num_generations: int = option(
        100, low=1, high=MAX_GENERATIONS, help="coverage samples per task and prompt setting"
    )
    batch_size: int = option(
        8, low=1, high=MAX_BATCH_SIZE, help="batch size (halves itself on out-of-memory)"
    )
    seed: int = option(42, low=0, high=MAX_SEED, help="sampling seed")
    top_k: int | None = option(
        None, low=0, high=MAX_TOP_K,
        help="coverage sampling top-k; default: the model's generation config (library default 50, as the paper "
        "sampled); 0 = no top-k. results.json records the value sampling applied",
    )  # fmt: skip
    include_terminator: bool = option(False, help="score alignment candidates through their end of turn")
    k: int | None = option(None, low=0, help="a fixed number of in-context outputs instead of k selection")
    k_window: int = option(K_WINDOW, low=1, high=MAX_K_WINDOW, help="k-selection window in tokens")
    k_tokenizer: str = option(
        EMBEDDED_MODEL,
        help="tokenizer that chooses k, the same for every model so runs compare (always available; "
        f"google/gemma-3-1b-it is the paper's; '{OWN_TOKENIZER}' = the evaluated model's own)",
    )  # fmt: skip
    k_from: str | None = option(
        None, help="a results.json whose k and episodes every steerability task reuses"
    )
    min_episodes_for_k2: int = option(
        MIN_EPISODES_FOR_K2,
        low=1,
        high=MAX_MIN_EPISODES,
        help="episodes with a complete output 2 needed to raise k <= 1 to 2",
    )
    settings: list[str] = option(SETTINGS, choices=SETTINGS, help="coverage prompt settings")
    data_dir: str | None = option(None, help="manual source files (else $SPECTRUM_SUITE_DATA)")
    progress: bool = option(True, help="progress bars (--no_progress hides them)")
    skip_failed_tasks: bool = option(
        False,
        help="accept a headline without the tasks that fail (a coverage task whose word list is missing, a task whose "
        "k cannot be chosen or whose items do not fit the context); the report lists them. Without it such a task "
        "fails the command",
    )

    def __post_init__(self) -> None:
        if isinstance(self.configs, str):
            self.configs = [self.configs]
        self.configs = list(self.configs)
        self.settings = list(self.settings)
        check_options(asdict(self))

    def measured(self) -> dict[str, Any]:
        """The options that decide what is measured (not display, not what the command does with failures)."""
        return {k: v for k, v in self.record().items() if k not in NOT_MEASURED}

    def record(self) -> dict[str, Any]:
        """The options as a results file records them (JSON values)."""
        return asdict(self)

    def protocol(self) -> dict[str, Any]:
        """The options of `PROTOCOL`, as recorded."""
        return {name: value for name, value in self.record().items() if name in PROTOCOL}


def check_lows(cls: type, values: Mapping[str, Any], name: Callable[[str], str] = str) -> None:
    """Each given value within its field's ``low`` and ``high`` (an integer), refused naming the option
    (``name``)."""
    for f in dataclasses.fields(cls):
        low, high, value = f.metadata.get(LOW), f.metadata.get(HIGH), values.get(f.name)
        if low is not None and value is not None:
            check_range(name(f.name), value, integer=True, low=low, high=high)


def check_options(values: Mapping[str, Any], name: Callable[[str], str] = str) -> None:
    """The ranges of `EvalOptions` and their combinations, refused naming the option (``name``)."""
    check_lows(EvalOptions, values, name)
    if values.get("k") is not None and values.get("k") > values.get("k_window", K_WINDOW):
        raise ValueError(
            f"{name('k')} must be at most {name('k_window')} ({values.get('k_window', K_WINDOW)}), got {values['k']}"
        )
    if values.get("k") is not None and values.get("k_from") is not None:
        raise ValueError(f"give either a fixed {name('k')} or {name('k_from')}, not both")
    if "k_tokenizer" in values and (
        not isinstance(values["k_tokenizer"], str) or not values["k_tokenizer"].strip()
    ):
        raise ValueError(
            f"{name('k_tokenizer')} must name a tokenizer (or {OWN_TOKENIZER!r}), got {values['k_tokenizer']!r}"
        )
    if "configs" in values:
        _check_configs(list(values["configs"] or ()), name("configs"))
    if "settings" in values:
        settings = list(values["settings"] or ())
        if not settings or any(s not in SETTINGS for s in settings):
            raise ValueError(f"{name('settings')} must be some of {SETTINGS}, got {settings}")


def _check_configs(configs: list[str], option: str) -> None:
    """At least one config, each a known config or task with held-out (test) tasks."""
    from spectrum_suite.registry import UnknownNameError, config_tasks

    if not configs:
        raise ValueError(
            f"{option} is empty: name at least one config or task (e.g. test, alignment, coverage)"
        )
    for config in configs:
        if not isinstance(config, str) or not config.strip():
            raise ValueError(f"{option} must be config or task names, got {config!r} in {configs}")
        try:
            tasks = config_tasks(config)
        except UnknownNameError as err:
            raise ValueError(f"{option}: {err}") from None
        if all(t.side == "train" for t in tasks):
            raise ValueError(
                f"{option}: config {config!r} has no held-out test split: its tasks are training tasks (evaluate "
                "held-out configs: test, capability, alignment, coverage, or their tasks)"
            )


class OwnMetadata:
    """Parses fields made with `option`: our metadata keys never reach argparse, ``parse`` replaces the type."""

    @staticmethod
    def _parse_dataclass_field(parser: Any, f: dataclasses.Field) -> None:
        if LOW in f.metadata or HIGH in f.metadata or PARSE in f.metadata:
            mine = {k: v for k, v in f.metadata.items() if k not in (LOW, HIGH, PARSE)}
            copy = field(default=f.default, default_factory=f.default_factory, metadata=mine)
            copy.name, copy.type = f.name, f.metadata.get(PARSE) or f.type
            f = copy
        HfArgumentParser._parse_dataclass_field(parser, f)


class OptionParser(OwnMetadata, HfArgumentParser):
    """`HfArgumentParser` for dataclasses whose fields are made with `option`."""

    def parse_all(self, argv: Sequence[str]) -> tuple[Any, ...]:
        """One record per dataclass, then the namespace of the other arguments; a bad value or an unknown
        argument ends in argparse's usage error (exit code 2)."""
        try:
            *parsed, unknown = self.parse_args_into_dataclasses(
                args=list(argv), return_remaining_strings=True, look_for_args_file=False
            )
        except ValueError as err:  # a range or combination the dataclasses refuse
            self.error(str(err))
        if unknown:
            self.error(f"unrecognized arguments: {' '.join(unknown)}")
        return tuple(parsed)


def given(argv: Sequence[str], name: str) -> bool:
    """Whether the command line ``argv`` sets option ``name`` (in either spelling, ``--a_b`` or ``--a-b``)."""
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument(f"--{name}", f"--{name.replace('_', '-')}", default=argparse.SUPPRESS)
    return hasattr(probe.parse_known_args(list(argv))[0], name)


def prefixed(
    prefix: str,
    *,
    exclude: tuple[str, ...] = (),
    defaults: Mapping[str, Any] | None = None,
    help: Mapping[str, str] | None = None,
    group: str | None = None,
) -> type:
    """A dataclass of `EvalOptions`' fields named ``<prefix><field>`` (less ``exclude``), for a command that
    evaluates among other work; ``defaults`` and ``help`` replace a field's. Its ``options(**rest)`` is the
    `EvalOptions` it asks for (``rest``: the excluded fields), and it checks its ranges naming its own options."""
    hints = get_type_hints(EvalOptions)
    defaults, help = dict(defaults or {}), dict(help or {})
    fields = []
    for f in dataclasses.fields(EvalOptions):
        if f.name in exclude:
            continue
        meta = {**f.metadata, "help": help.get(f.name, f.metadata["help"])}
        if f.name in defaults:
            made = field(default=defaults[f.name], metadata=meta)
        else:
            made = field(default=f.default, default_factory=f.default_factory, metadata=meta)
        fields.append((prefix + f.name, hints[f.name], made))

    def unprefixed(self: Any) -> dict[str, Any]:
        return {f.name[len(prefix) :]: getattr(self, f.name) for f in dataclasses.fields(self)}

    def post_init(self: Any) -> None:
        check_options(unprefixed(self), name=lambda n: f"--{prefix}{n}")

    def options(self: Any, **rest: Any) -> EvalOptions:
        return EvalOptions(**unprefixed(self), **rest)

    cls = dataclasses.make_dataclass(
        "EvalArguments", fields, namespace={"__post_init__": post_init, "options": options}
    )
    cls.__doc__ = f"`EvalOptions` as ``--{prefix}<option>``."
    if group:
        cls._argument_group_name = group
    return cls
