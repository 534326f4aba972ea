"""Whether a device computes in bfloat16 natively: detected from the hardware, never assumed.

Training uses bf16 mixed precision where the answer is yes (``--bf16 auto``, the default of ``tuning.run``);
evaluation stays float32 on a CPU unless ``--dtype bfloat16`` asks for it. On a CPU, "natively" means
instructions that multiply bf16 numbers (x86: AVX512-BF16 or AMX; Arm: the BF16 extension). Without them PyTorch
still runs bf16 by converting to and from float32 around float32 arithmetic: less exact and no faster, so an
explicit request for it is refused there rather than silently emulated.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass


@dataclass(frozen=True)
class Bf16Support:
    """The answer for one device, with the evidence in words (recorded in run_args.json and results)."""

    device: str
    native: bool
    evidence: str


def bf16_support(device: str = "cpu") -> Bf16Support:
    """Whether ``device`` ("cpu", "cuda", "cuda:1", ...) computes in bf16 natively, and why we think so."""
    import torch

    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            return Bf16Support(device, False, "no CUDA device is available")
        index = torch.device(device).index or 0
        name, (major, minor) = torch.cuda.get_device_name(index), torch.cuda.get_device_capability(index)
        native = torch.cuda.is_bf16_supported(including_emulation=False)
        return Bf16Support(device, native, f"{name}, compute capability {major}.{minor}")
    if device != "cpu":
        return Bf16Support(device, False, f"no bf16 detection for device {device!r}")
    return _cpu_bf16()


def _cpu_bf16() -> Bf16Support:
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686"):
        amx = _probe(torch.cpu, "_is_amx_tile_supported")
        avx512_bf16 = _probe(torch.cpu, "_is_avx512_bf16_supported")
        found = [name for name, has in (("AMX", amx), ("AVX512-BF16", avx512_bf16)) if has]
        evidence = f"x86 CPU, torch capability {capability}, " + (
            f"bf16 instructions: {' and '.join(found)}" if found else "no bf16 instructions"
        )
        return Bf16Support("cpu", bool(found), evidence)
    # Elsewhere (Arm) oneDNN's own check asks for the BF16 extension.
    native = _probe(torch.ops.mkldnn, "_is_mkldnn_bf16_supported")
    words = "bf16 instructions (oneDNN)" if native else "no bf16 instructions (oneDNN)"
    return Bf16Support("cpu", native, f"{platform.machine()} CPU, torch capability {capability}, {words}")


def _probe(namespace: object, name: str) -> bool:
    """A private torch check, False where this torch has none (older releases)."""
    check = getattr(namespace, name, None)
    try:
        return bool(check()) if check is not None else False
    except RuntimeError:
        return False


def require_bf16(device: str, option: str, instead: str) -> Bf16Support:
    """The support of ``device``, or a `ValueError` naming ``option`` when it asks for bf16 there in vain."""
    support = bf16_support(device)
    if not support.native:
        raise ValueError(
            f"{option}: {device} cannot compute in bfloat16 natively ({support.evidence}); {instead}"
        )
    return support
