"""Mixed precision kept out of the loop body: an autocast context and a GradScaler (a pass-through when off)."""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch

__all__ = ["Precision", "cpu_has_bf16", "create_precision"]

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class Precision:
    """`mode` is what actually runs ("none", "bf16", "fp16"), which may differ from what was asked."""

    mode: str
    device_type: str
    scaler: torch.amp.GradScaler

    def autocast(self) -> AbstractContextManager:
        if self.mode == "none":
            return nullcontext()
        return torch.autocast(self.device_type, dtype=_DTYPES[self.mode])


def create_precision(mode: str, device: torch.device) -> Precision:
    """bf16 autocast on CPU or GPU; fp16 autocast with a GradScaler on CUDA (fp16 grads underflow without one).

    fp16 on a CPU falls back to bf16 with a warning: CPUs have no fast fp16 matmul, and bf16 needs no scaler. bf16 on
    a CPU without bf16 instructions (AVX-512 BF16 or AMX, as oneDNN reports them) falls back to fp32 with a warning:
    emulated bf16 made a digits CNN planned for a GPU train at 100 s an epoch on an AVX2-only CPU, against 9 s in fp32.
    """
    if mode == "fp16" and device.type != "cuda":
        warnings.warn("mixed_precision 'fp16' needs CUDA; using 'bf16' on this CPU instead", stacklevel=2)
        mode = "bf16"
    if mode == "bf16" and device.type == "cpu" and not cpu_has_bf16():
        warnings.warn("this CPU has no bf16 instructions (emulated bf16 is many times slower); training in fp32",
                      stacklevel=2)  # fmt: skip
        mode = "none"
    if mode == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        warnings.warn("this GPU has no bf16; using 'fp16' with a GradScaler instead", stacklevel=2)
        mode = "fp16"
    scaler = torch.amp.GradScaler(device.type, enabled=mode == "fp16")
    return Precision(mode=mode, device_type=device.type, scaler=scaler)


def cpu_has_bf16() -> bool:
    """oneDNN's own test for native bf16 on this CPU; True where the build cannot say (the autocast is then kept)."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return True if check is None else bool(check())
