"""The options of ``python -m tuning.run``: TRL's own parsing over three dataclasses, with YAML recipes.

Every option of TRL's `SFTConfig` (and so of transformers' `TrainingArguments`: ``--report_to``, ``--optim``,
``--log_level``, ``--hub_model_id``, ...) and of TRL's `ModelConfig` works unchanged, next to Spectrum Tuning's
own `ScriptArguments` and the held-out evaluation's options, which are `tuning.eval`'s own `EvalOptions` named
``--eval_<option>`` (`EvalArguments`). A preset is a YAML recipe in ``tuning/recipes/`` (``--preset v1`` is short
for ``--config tuning/recipes/v1.yaml``, as TRL's own scripts take ``--config``); the recipe's values become the
parser's defaults, so ``--help`` shows them, and the command line overrides them. ``--preset auto`` (the
default) is ``quick`` on a CPU and ``v1`` on CUDA. Every option is spelt ``--snake_case`` or ``--kebab-case``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trl import ModelConfig, SFTConfig, TrlParser

from spectrum_suite.checks import check_range
from spectrum_suite.fetch import resolve_data_dir
from spectrum_suite.formats import PROMPT_FAMILIES
from tuning.distributed import on_cuda, world_size
from tuning.embedded import EMBEDDED_MODEL
from tuning.eval.options import OwnMetadata, prefixed
from tuning.run import precision

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
PRESETS = ("auto", "quick", "study", "v0", "v1")
#: ``--eval_start_format`` and ``--start_kind`` values (`tuning.run.start_kind`).
START_FORMATS, START_KINDS = ("auto", "chat", "colon"), ("auto", "base", "instruct")


class RunInputError(ValueError):
    """Bad input found before training: the message names the argument and what was expected."""


@dataclass
class ScriptArguments:
    """Spectrum Tuning's own options (the model's are TRL's `ModelConfig`, the training's its `SFTConfig`)."""

    preset: str = field(
        default="auto",
        metadata={"choices": PRESETS, "help": "recipe in tuning/recipes/ (auto: quick on CPU, v1 on CUDA)"},
    )
    instruct_twin: str | None = field(
        default=None, metadata={"help": "copy the control-token rows and the config from this instruct model"}
    )
    family: str | None = field(
        default=None,
        metadata={"choices": PROMPT_FAMILIES, "help": "prompt family (default: from the tokenizer)"},
    )
    lora_embeddings: bool = field(
        default=True,
        metadata={"help": "with --use_peft, also adapt the input embedding (TRL refuses the LM head)"},
    )
    configs: list[str] = field(
        default_factory=lambda: ["train"], metadata={"help": "builder configs whose train split is used"}
    )
    data_dir: str | None = field(
        default=None,
        metadata={"help": "data directory of sources with manual files (else $SPECTRUM_SUITE_DATA)"},
    )
    validation_fraction: float = field(
        default=0.05,
        metadata={"help": "share of each training task's instances held out as its validation split, never "
                  "trained on (the paper's presets: 0, every instance trains)"},
    )  # fmt: skip
    skip_unavailable: bool = field(
        default=True,
        metadata={"help": "skip tasks whose source is missing (listed in the log and the model card)"},
    )
    description_prob: float | None = field(
        default=None, metadata={"help": "description inclusion probability (default: each task's own)"}
    )
    drop_partial_outputs: bool = field(
        default=False, metadata={"help": "unlabel an output that truncation cut before its terminator"}
    )
    max_train_episodes: int | None = field(
        default=None, metadata={"help": "use the first N episodes after a seeded shuffle"}
    )
    effective_batch: int | None = field(
        default=None,
        metadata={
            "help": "episodes per optimizer step over all processes; sets --gradient_accumulation_steps"
        },
    )
    output_root: str = field(
        default="runs", metadata={"help": "runs go to OUTPUT_ROOT/RUN_NAME (or --output_dir)"}
    )
    resume: bool = field(
        default=False, metadata={"help": "continue from the run folder's last complete checkpoint"}
    )
    overwrite: bool = field(default=False, metadata={"help": "start the run folder over"})
    eval: bool = field(
        default=True,
        metadata={"help": "score the start model (its own and the spectrum format) and the tuned model"},
    )
    eval_start_format: str = field(
        default="auto",
        metadata={"choices": START_FORMATS,
                  "help": "format of the start model's own arm: auto = the paper's baselines, colon for a base "
                  "model and chat for an instruct one (see --start_kind)"},
    )  # fmt: skip
    start_kind: str = field(
        default="auto",
        metadata={"choices": START_KINDS,
                  "help": "whether the start model is a base or an instruct model (auto: --instruct_twin means "
                  "base, else its name, its configs' end-of-sequence tokens, its chat template; "
                  "docs/tuning.md)"},
    )  # fmt: skip


#: tuning.eval's options as ``--eval_<option>``; the run gives the seed (``--seed``), the data directory
#: (``--data_dir``) and whether progress shows (``--log_level``).
EvalArguments = prefixed(
    "eval_", exclude=("seed", "data_dir", "progress"),
    help={"top_k": "coverage sampling top-k of every arm; default: each arm's own generation config, as the "
          "paper sampled (a start model without one: 50; the tuned model: 0 = none), and the comparison says how "
          "each arm sampled"},
    group="held-out evaluation after training (tuning.eval's options; --no_eval skips it)",
)  # fmt: skip


@dataclass
class ModelArguments(ModelConfig):
    """TRL's `ModelConfig`, with the embedded model as the default and ``--model`` as a short name."""

    model_name_or_path: str | None = field(
        default=EMBEDDED_MODEL,
        metadata={"help": f"Hub id, local path, or {EMBEDDED_MODEL} (embedded)", "aliases": ["--model"]},
    )


@dataclass
class RunConfig:
    """The parsed options of one run, and what follows from them."""

    script: ScriptArguments
    training: SFTConfig
    model: ModelArguments
    evaluation: Any  # EvalArguments
    recipe: Path
    explicit_accumulation: bool
    precision: precision.Precision

    @property
    def run_dir(self) -> Path:
        return Path(self.training.output_dir)


class RunParser(OwnMetadata, TrlParser):
    """TRL's parser, reading the evaluation's fields as `tuning.eval` does."""


def parser() -> RunParser:
    p = RunParser((ScriptArguments, SFTConfig, ModelArguments, EvalArguments), prog="python -m tuning.run")
    precision.document(p)
    return p


def _recipe(argv: list[str]) -> tuple[list[str], Path]:
    """``argv`` with ``--config <recipe>`` in front (unless the user gave one), and the recipe's path."""
    if "--config" in argv:
        return argv, Path(argv[argv.index("--config") + 1])
    at = argv.index("--preset") if "--preset" in argv else -1
    preset = argv[at + 1] if 0 <= at < len(argv) - 1 else "auto"
    if preset not in PRESETS:
        raise RunInputError(f"--preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    if preset == "auto":
        preset = "v1" if on_cuda() else "quick"
    path = RECIPES / f"{preset}.yaml"
    return ["--config", str(path), *argv], path


def safe_name(model: str) -> str:
    """A folder-safe model name that keeps the family substrings (gemma-3, Qwen3, Llama-3.1)."""
    path = Path(model).expanduser()
    base = path.name if path.exists() else model
    return re.sub(r"[^\w.-]+", "-", base.strip("/")).strip("-") or "model"


def default_run_name(script: ScriptArguments, model: ModelArguments) -> str:
    """``<model>_<preset>_spectrum[_lora_r<r>]``: runs of different presets never share a folder."""
    lora = f"_lora_r{model.lora_r}" if model.use_peft else ""
    return f"{safe_name(model.model_name_or_path or 'model')}_{script.preset}_spectrum{lora}"


def parse(argv: Sequence[str] | None = None) -> RunConfig:
    """Apply the recipe, parse, and derive the run folder."""
    args, recipe = _recipe(list(sys.argv[1:] if argv is None else argv))
    try:
        args, chosen = precision.resolve(args, recipe, on_cuda())
    except ValueError as err:
        raise RunInputError(str(err)) from None
    if not on_cuda() and not {"--use_cpu", "--use-cpu"} & set(args):
        args += [
            "--use_cpu",
            "true",
        ]  # transformers refuses bf16 without a GPU unless told to train on the CPU
    script, training, model, evaluation = parser().parse_args_and_config(args)
    explicit = bool({"--gradient_accumulation_steps", "--gradient-accumulation-steps"} & set(args))
    if explicit and {"--effective_batch", "--effective-batch"} & set(args):
        raise RunInputError(
            "--effective_batch and --gradient_accumulation_steps both set the episodes per optimizer step: pass one"
        )
    if explicit:  # the accumulation asked for decides; the recipe's effective batch does not apply
        script.effective_batch = None
    if script.preset == "auto":
        script.preset = recipe.stem
    if training.run_name is None:
        training.run_name = default_run_name(script, model)
    if training.output_dir in (None, "trainer_output"):
        training.output_dir = str(Path(script.output_root).expanduser() / check_run_name(training.run_name))
    check(script, training, model)
    return RunConfig(script, training, model, evaluation, recipe, explicit, chosen)


def check_run_name(name: str) -> str:
    """A run name is one plain folder name, so the run folder is always inside the output root."""
    if not name or name in (".", "..") or any(c in name for c in ("/", "\\", "\0")) or name.startswith("~"):
        raise RunInputError(
            f"--run_name must be one plain folder name (no '/', not '.' or '..'), got {name!r}"
        )
    return name


#: Ranges of TRL's and transformers' numeric options: (option, integer, low, high, high excluded), checked
#: before anything is loaded (transformers checks few of them, torch some only when the optimizer is built,
#: after the model has loaded).
TRAINING_RANGES: tuple[tuple[str, bool, float, float | None, bool], ...] = (
    ("per_device_train_batch_size", True, 1, 1 << 20, False),
    ("per_device_eval_batch_size", True, 1, 1 << 20, False),
    ("gradient_accumulation_steps", True, 1, 1 << 20, False),
    ("max_length", True, 2, 1 << 24, False),
    ("save_steps", False, 1e-9, None, False),
    ("logging_steps", False, 1e-9, None, False),
    ("eval_steps", False, 1e-9, None, False),
    ("warmup_steps", False, 0, None, False),
    ("weight_decay", False, 0, None, False),
    ("max_grad_norm", False, 0, None, False),
    ("adam_beta1", False, 0, 1, True),
    ("adam_beta2", False, 0, 1, True),
    ("adam_epsilon", False, 0, 1, False),
    ("label_smoothing_factor", False, 0, 1, True),
    ("neftune_noise_alpha", False, 0, None, False),
    ("seed", True, 0, 2**32 - 1, False),
    ("data_seed", True, 0, 2**32 - 1, False),
    ("dataloader_num_workers", True, 0, 1024, False),
    ("dataloader_prefetch_factor", True, 1, 1024, False),
    ("dataset_num_proc", True, 1, 1024, False),
    ("save_total_limit", True, 1, None, False),
    ("torch_empty_cache_steps", True, 1, None, False),
    ("ddp_timeout", True, 1, None, False),
    ("eval_accumulation_steps", True, 1, None, False),
)
#: The most optimizer steps a run may ask for: far beyond any run, low enough to refuse a typo.
MAX_STEPS = 10**9
MAX_EPOCHS = 10_000
#: Options that are a count of steps when at least 1 and a fraction of the run below it: 2.5 steps is refused.
STEP_COUNTS = ("save_steps", "logging_steps", "eval_steps", "warmup_steps")


def _in_range(
    name: str, value: Any, integer: bool, low: float, high: float | None, below: bool = False
) -> None:
    try:
        check_range(f"--{name}", value, integer=integer, low=low, high=high, below=below)
    except ValueError as err:
        raise RunInputError(str(err)) from None


def check(script: ScriptArguments, training: SFTConfig, model: ModelArguments) -> None:
    """Ranges and combinations, refused with `RunInputError` before anything is loaded or created."""
    t = training
    for name, integer, low, high, below in TRAINING_RANGES:
        value = getattr(t, name, None)
        if value is not None:
            _in_range(name, value, integer, low, high, below)
    for name in STEP_COUNTS:
        value = getattr(t, name, None)
        if value is not None and value >= 1 and value != int(value):
            raise RunInputError(
                f"--{name} must be a whole number of steps (or a fraction below 1), got {value}"
            )
    for name, value, high in (
        ("learning_rate", t.learning_rate, None),
        ("num_train_epochs", t.num_train_epochs, MAX_EPOCHS),
    ):
        if not isinstance(value, (int, float)) or not 0 < value < float("inf") or (high and value > high):
            upper = f" of at most {high}" if high else ""
            raise RunInputError(f"--{name} must be a positive number{upper}, got {value!r}")
    if t.max_steps != -1 and not 1 <= t.max_steps <= MAX_STEPS:
        raise RunInputError(
            f"--max_steps must be -1 (the epochs decide) or at least 1 and at most {MAX_STEPS}, got {t.max_steps}"
        )
    optional = [("effective_batch", script.effective_batch, True, 1, None),
                ("max_train_episodes", script.max_train_episodes, True, 1, None),
                ("description_prob", script.description_prob, False, 0.0, 1.0)]  # fmt: skip
    for name, value, integer, low, high in optional:
        if value is not None:
            _in_range(name, value, integer, low, high)
    _in_range("validation_fraction", script.validation_fraction, False, 0.0, 1.0, below=True)  # a whole task
    if model.use_peft:  # held out would leave nothing to train on
        _in_range("lora_r", model.lora_r, True, 1, None)
        _in_range("lora_alpha", model.lora_alpha, False, 1e-12, None)
        _in_range("lora_dropout", model.lora_dropout, False, 0.0, 1.0, below=True)
    if model.dtype not in (None, "auto", "float32", "bfloat16", "float16"):
        raise RunInputError(f"--dtype must be auto, float32, bfloat16 or float16, got {model.dtype!r}")
    if t.push_to_hub and not re.fullmatch(r"[\w.-]+/[\w.-]+", t.hub_model_id or ""):
        raise RunInputError(f"--push_to_hub needs --hub_model_id ORG/NAME, got {t.hub_model_id!r}")
    try:
        resolve_data_dir(script.data_dir)
    except ValueError as err:
        raise RunInputError(f"--data_dir: {err}") from None
    check_optimizer(t)
    check_effective_batch(script, t)


def check_optimizer(training: SFTConfig) -> None:
    """Build the optimizer the options ask for on one dummy parameter: torch checks its settings (betas,
    epsilon, learning rate) only when it is built, which is after the model has loaded."""
    import torch
    from transformers import Trainer

    try:
        cls, kwargs = Trainer.get_optimizer_cls_and_kwargs(training)
    except (ImportError, ValueError) as err:
        raise RunInputError(f"--optim {training.optim}: {err}") from None
    except Exception:  # noqa: BLE001 - optimizers that need the model to be built are checked by the trainer
        return
    try:
        cls([torch.nn.Parameter(torch.zeros(1))], **kwargs)
    except (ValueError, ImportError) as err:
        raise RunInputError(
            f"--optim {training.optim}: the optimizer refuses these settings: {err}"
        ) from None
    except Exception:  # noqa: BLE001 - see above
        return


def check_effective_batch(script: ScriptArguments, training: SFTConfig) -> None:
    """An effective batch the processes and per-device batch can realise exactly (episodes per optimizer step
    without packing; packed rows are recorded as realised)."""
    if script.effective_batch is None:
        return
    per_step = training.per_device_train_batch_size * world_size()
    if script.effective_batch % per_step:
        raise RunInputError(
            f"--effective_batch {script.effective_batch} is not a multiple of --per_device_train_batch_size "
            f"{training.per_device_train_batch_size} x {world_size()} process(es) = {per_step}: each optimizer step "
            f"takes whole micro-batches. Pass a multiple of {per_step}, or a smaller per-device batch"
        )


#: Options a resumed run may change: where and how it logs, saves, reports and evaluates, and how the work is
#: spread (per-device batch, accumulation, processes), but not what it trains on or how.
RESUMABLE = ("output_root", "output_dir", "run_name", "resume", "overwrite", "eval", "start_kind", "data_dir", "preset",
             "per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps",
             "activation_checkpointing", "activation_checkpointing_kwargs", "activation_offloading",
             "gradient_checkpointing", "gradient_checkpointing_kwargs", "accelerator_config", "auto_find_batch_size",
             "batch_eval_metrics", "bf16_full_eval", "fp16_full_eval", "debug", "deepspeed", "fsdp", "fsdp_config",
             "parallelism_config", "full_determinism", "enable_jit_checkpoint", "greater_is_better",
             "include_for_metrics", "include_num_input_tokens_seen", "liger_kernel_config", "use_liger_kernel",
             "load_best_model_at_end", "local_rank", "metric_for_best_model", "prediction_loss_only", "project",
             "push_to_hub", "report_to", "resume_from_checkpoint", "skip_memory_metrics", "tf32", "use_cpu",
             "trust_remote_code", "attn_implementation", "torch_empty_cache_steps", "disable_tqdm",
             "ignore_data_skip", "dataset_num_proc", "restore_callback_states_from_checkpoint")  # fmt: skip
RESUMABLE_PREFIXES = (
    "eval_",
    "hub_",
    "log",
    "save_",
    "dataloader_",
    "ddp_",
    "do_",
    "torch_compile",
    "trackio_",
)


def flat_arguments(script: Any, training: Any, model: Any) -> dict[str, Any]:
    """Every option of a run as ``{name: JSON value}`` (the three dataclasses, or their recorded dicts)."""
    from tuning.jsonfile import json_ready

    parts = [p if isinstance(p, dict) else json_ready(p) for p in (script, model)]
    train = training if isinstance(training, dict) else training.to_dict()
    return json_ready({**parts[0], **train, **parts[1]})


def resume_differences(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """``--name: recorded vs now`` for each option that defines the training and differs."""
    found = []
    for name in sorted(set(recorded) | set(now)):
        if name in RESUMABLE or name.startswith(RESUMABLE_PREFIXES) or name.startswith("_"):
            continue
        if name in recorded and name in now and recorded[name] != now[name]:
            found.append(f"--{name}: {recorded[name]!r} vs {now[name]!r}")
    return found


def gradient_accumulation(
    effective_batch: int, per_device: int, processes: int, episodes_per_row: float
) -> int:
    """Micro-steps per optimizer step so that one step sees about ``effective_batch`` episodes."""
    per_micro = per_device * processes * max(episodes_per_row, 1.0)
    return max(1, round(effective_batch / per_micro))


def hyperparameters(config: RunConfig, packing: bool, steps: int, processes: int) -> dict[str, Any]:
    """The settings that define the run, for the model card and run_args.json."""
    s, t, m = config.script, config.training, config.model
    lora = f"LoRA r={m.lora_r}, alpha={m.lora_alpha:g}, targets {','.join(m.lora_target_modules or [])}"
    return {
        "preset": s.preset,
        "recipe": config.recipe.name,
        "fine-tuning": lora + (" + input embedding" if s.lora_embeddings else "") if m.use_peft else "full",
        "format": "spectrum",
        "max_length": t.max_length,
        "learning_rate": t.learning_rate,
        "lr_scheduler": str(getattr(t.lr_scheduler_type, "value", t.lr_scheduler_type)),
        "warmup_steps": t.warmup_steps,
        "epochs": t.num_train_epochs,
        "max_steps": t.max_steps,
        "optimizer steps": steps,
        "effective batch (episodes/step)": s.effective_batch,
        "per-device batch (rows)": t.per_device_train_batch_size,
        "gradient accumulation": t.gradient_accumulation_steps,
        "processes": processes,
        "packing": "padding-free BFD" if packing else "off (one episode per row, right padding)",
        "precision": config.precision.describe(),
        "bf16 detection": config.precision.evidence,
        "activation checkpointing": t.activation_checkpointing,
        "weight decay": t.weight_decay,
        "max grad norm": t.max_grad_norm,
        "seed": t.seed,
        "description inclusion": s.description_prob if s.description_prob is not None else "per task",
        "drop partial outputs": s.drop_partial_outputs,
        "max train episodes": s.max_train_episodes,
    }
