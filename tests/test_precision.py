"""bf16 where the device computes it natively: the detection, ``--bf16 auto|true|false`` of ``tuning.run``, what
training really computes in and what the run records, and ``tuning.eval --dtype bfloat16``'s refusal."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

import tuning.precision
from tests.test_run import TINY_ARGS, _save_tiny
from tuning.precision import Bf16Support, bf16_support
from tuning.run import arguments
from tuning.run.cli import main as run_main

X86 = platform.machine().lower() in ("x86_64", "amd64")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("tiny") / "tiny-chatml")


def _pretend(monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    """This machine's CPU as one with (or without) bf16 instructions."""
    monkeypatch.setattr(
        tuning.precision, "bf16_support", lambda device="cpu": Bf16Support(device, native, "pretended")
    )


@pytest.mark.skipif(not (X86 and Path("/proc/cpuinfo").is_file()), reason="needs an x86 Linux CPU")
def test_the_cpu_detection_agrees_with_the_kernels_cpu_flags() -> None:
    flags = set(Path("/proc/cpuinfo").read_text().split())
    support = bf16_support("cpu")
    assert support.native == bool({"avx512_bf16", "amx_bf16"} & flags)
    assert ("AVX512-BF16" in support.evidence) == ("avx512_bf16" in flags)
    assert ("AMX" in support.evidence) == ("amx_bf16" in flags or "amx_tile" in flags)


@pytest.mark.parametrize("has", [False, True])
def test_the_cpu_detection_follows_the_instructions(monkeypatch: pytest.MonkeyPatch, has: bool) -> None:
    if not X86:
        pytest.skip("the x86 probes")
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: has)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    support = bf16_support("cpu")
    assert support.native is has
    assert ("AVX512-BF16" in support.evidence) is has and "x86 CPU" in support.evidence


def test_no_cuda_means_no_cuda_bf16() -> None:
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert not bf16_support("cuda").native and not bf16_support("mps").native


@pytest.mark.parametrize(
    ("native", "argv", "bf16", "asked"),
    [
        (True, [], True, "auto"),
        (False, [], False, "auto"),
        (True, ["--bf16", "auto"], True, "auto"),
        (True, ["--bf16=false"], False, "false"),
        (True, ["--bf16", "true"], True, "true"),
        (False, ["--bf16", "false"], False, "false"),
        (True, ["--fp16"], False, "auto"),  # auto never asks for both half precisions
    ],
)
def test_bf16_is_auto_by_default_and_explicit_values_win(
    monkeypatch: pytest.MonkeyPatch, native: bool, argv: list[str], bf16: bool, asked: str
) -> None:
    _pretend(monkeypatch, native)
    for preset in ("quick", "v1"):  # every recipe leaves bf16 to the detection
        config = arguments.parse(["--preset", preset, *argv])
        assert config.training.bf16 is bf16 and config.precision.bf16 is bf16
        assert config.precision.asked == asked and config.precision.evidence == "pretended"
        described = config.precision.describe()
        assert described.startswith("bf16 mixed" if bf16 else "float32") and f"--bf16 {asked}" in described


def test_a_recipe_that_sets_bf16_is_followed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _pretend(monkeypatch, True)
    recipe = tmp_path / "mine.yaml"
    recipe.write_text("learning_rate: 1.0e-5\nbf16: false\n")
    assert arguments.parse(["--config", str(recipe)]).training.bf16 is False
    recipe.write_text("learning_rate: 1.0e-5\nbf16: auto\n")
    assert arguments.parse(["--config", str(recipe)]).training.bf16 is True


@pytest.mark.parametrize(("argv", "message"), [(["--bf16", "true"], "cannot compute in bfloat16 natively"),
                                               (["--bf16", "maybe"], "--bf16 must be auto, true or false")])  # fmt: skip
def test_bf16_the_cpu_lacks_is_refused_before_anything_loads(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    argv: list[str],
    message: str,
) -> None:
    _pretend(monkeypatch, False)
    assert run_main(["--model", str(tmp_path / "never-loaded"), "--output-root", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err and not list(tmp_path.iterdir())


def _watch_linear_outputs(monkeypatch: pytest.MonkeyPatch, seen: set[torch.dtype]) -> None:
    """Record the dtype of every linear layer's output while tuning.run trains (the start model is hooked)."""
    import tuning.run.model

    load = tuning.run.model.load_start_model

    def hooked(*args, **kwargs):
        model, *rest = load(*args, **kwargs)
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                module.register_forward_hook(lambda m, i, out: seen.add(out.dtype) if m.training else None)
        return (model, *rest)

    monkeypatch.setattr(tuning.run.model, "load_start_model", hooked)


@pytest.mark.parametrize("bf16", ["true", "false"])
def test_training_computes_in_the_precision_it_records(
    monkeypatch: pytest.MonkeyPatch, tiny: Path, tmp_path: Path, bf16: str
) -> None:
    _pretend(monkeypatch, True)  # bf16 autocast runs (emulated) on any CPU: the test needs no bf16 hardware
    # tuning.run sets this for the whole process (setdefault): undone after the test, so later runs log in their own
    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", str(tmp_path / "logs"))
    seen: set[torch.dtype] = set()
    _watch_linear_outputs(monkeypatch, seen)
    argv = ["--model", str(tiny), *TINY_ARGS, "--output-root", str(tmp_path), "--no-eval", "--bf16", bf16]
    assert run_main(argv) == 0
    run = tmp_path / "tiny-chatml_quick_spectrum"
    # Mixed precision: the forward pass in bf16, the weights (master copy) float32; float32 means float32 throughout.
    assert seen == ({torch.bfloat16} if bf16 == "true" else {torch.float32})
    with safe_open(run / "model.safetensors", "pt") as weights:
        assert {weights.get_slice(name).get_dtype() for name in weights.keys()} == {"F32"}
    record = json.loads((run / "run_args.json").read_text())
    assert record["training"]["bf16"] is (bf16 == "true")
    precision = record["hyperparameters"]["precision"]
    assert precision.startswith("bf16 mixed" if bf16 == "true" else "float32")
    assert precision in (run / "README.md").read_text()


def test_eval_refuses_bf16_on_a_cpu_without_it_before_the_model_loads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from tuning.eval import main as eval_main

    _pretend(monkeypatch, False)
    argv = ["--model", str(tmp_path / "never-loaded"), "--device", "cpu", "--out", str(tmp_path / "out")]
    assert eval_main([*argv, "--dtype", "bfloat16"]) == 2
    err = capsys.readouterr().err
    assert "--dtype bfloat16" in err and "cannot compute in bfloat16 natively" in err
    assert eval_main([*argv, "--dtype", "float32"]) == 2  # float32 goes on, to the missing model
    assert "never-loaded" in capsys.readouterr().err
