"""``--bf16 auto``, the default of every recipe: bf16 mixed precision where the device computes it natively.

Mixed precision as transformers and accelerate do it with ``bf16=True``: the model's weights, gradients and
AdamW state stay float32 (the master copy), and the forward pass runs under ``torch.autocast`` in bfloat16, on a
GPU as on a CPU (``use_cpu``). Where the device has no bf16 instructions (`tuning.precision`), ``auto`` trains in
float32; ``--bf16 false`` always does; ``--bf16 true`` there is refused. The choice and its evidence are recorded in
run_args.json and the model card.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

AUTO = "auto"
TRUE = ("true", "yes", "1", "t", "y")
FALSE = ("false", "no", "0", "f", "n")
HELP = (
    "bf16 mixed precision (float32 master weights, forward under torch.autocast): auto = where the device "
    "computes bf16 natively (a GPU that supports it, a CPU with AVX512-BF16, AMX or Arm BF16), else float32; "
    "true, false"
)


@dataclass(frozen=True)
class Precision:
    """What training computes in, what was asked for, and the detection behind it."""

    asked: str
    bf16: bool
    evidence: str

    def describe(self) -> str:
        mode = "bf16 mixed (autocast; float32 weights, gradients, optimizer)" if self.bf16 else "float32"
        return f"{mode}; --bf16 {self.asked}"


def document(parser: object) -> None:
    """Show ``auto`` as ``--bf16``'s default in ``--help``, with what it means (TRL's text says otherwise)."""
    for action in getattr(parser, "_actions", []):
        if action.dest == "bf16":
            action.default, action.help = AUTO, HELP


def _last(argv: list[str], *options: str) -> tuple[str | None, list[int]]:
    """The last value given to any of ``options`` (``--opt VALUE`` or ``--opt=VALUE``) and the indices it uses."""
    value, used = None, []
    for i, arg in enumerate(argv):
        name, eq, inline = arg.partition("=")
        if name in options:
            if eq:
                value, span = inline, [i]
            elif i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                value, span = argv[i + 1], [i, i + 1]
            else:  # a bare switch (``--fp16``)
                value, span = "true", [i]
            used += span
    return value, used


def resolve(argv: list[str], recipe: Path, on_cuda: bool) -> tuple[list[str], Precision]:
    """``argv`` with ``--bf16 true|false`` decided (``auto`` or absent in both argv and the recipe -> detected)
    and the `Precision` it stands for; a `ValueError` for a value that is not a choice or bf16 the device lacks."""
    import yaml

    from tuning.precision import bf16_support, require_bf16

    given, used = _last(argv, "--bf16")
    if given is None:
        loaded = yaml.safe_load(recipe.read_text(encoding="utf-8")) if recipe.is_file() else None
        given = str((loaded if isinstance(loaded, dict) else {}).get("bf16", AUTO))
    asked = given.strip().lower()
    if asked not in (AUTO, *TRUE, *FALSE):
        raise ValueError(f"--bf16 must be auto, true or false, got {given!r}")
    use_cpu, _ = _last(argv, "--use_cpu", "--use-cpu")
    device = "cuda" if on_cuda and str(use_cpu).lower() not in TRUE else "cpu"
    if asked in TRUE:
        require_bf16(device, "--bf16 true", "use --bf16 auto or false")
    support = bf16_support(device)
    fp16, _ = _last(argv, "--fp16")
    bf16 = support.native and str(fp16).lower() not in TRUE if asked == AUTO else asked in TRUE
    kept = [arg for i, arg in enumerate(argv) if i not in used]
    label = AUTO if asked == AUTO else str(asked in TRUE).lower()
    return [*kept, "--bf16", str(bf16).lower()], Precision(label, bf16, support.evidence)
