"""The variant contract: what `export` and `compress` write under `RUN_DIR/variants/NAME/`, and how `bench` (or a
user) reads it back. Writers and readers import it from here, so neither imports the other.

    variants/NAME/report.json     "format": "onnx" | "torch" (how to run it; anything else is not benchmarked),
                                  "path": the model file, relative to the folder (or absolute),
                                  optional "dtype" (inputs are cast to it), "dynamic_batch" (false: the file runs
                                  only at "batch_size"), "weights" (torch: the safetensors file `load_variant` reads)
    variants/NAME/rebuild.json    torch variants of compress: the architecture as `rebuild_model` arguments, the
                                  pruned layer shapes ("modules") and the layers kept in float32 ("keep_float")

A "torch" file is a `torch.export` program (`.pt2`), TorchScript, or `.safetensors` weights; pickled modules are not
loaded (nothing in a run directory is unpickled). This module never imports torch at import time.

Example:
    >>> [v.name for v in find_variants("runs/mnist1d")]  # doctest: +SKIP
    ['int8', 'onnx', 'pruned']
    >>> model = load_variant("runs/mnist1d/variants/pruned")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DlexpertError, InvalidInputError
from ..rundir import RunDir

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["BENCH_FORMATS", "VARIANT_FORMAT", "Variant", "find_variants", "keep_in_float", "load_variant"]

BENCH_FORMATS = ("onnx", "torch")  # the values of report.json's "format" that bench runs
VARIANT_FORMAT = "dlexpert.variant/1"  # rebuild.json's "format"


@dataclass
class Variant:
    """One `RUN_DIR/variants/NAME/` as its `report.json` describes it."""

    name: str
    format: str  # "onnx" | "torch"
    path: Path
    dtype: str = "float32"
    dynamic_batch: bool = True
    batch_size: int | None = None
    report: dict[str, Any] = field(default_factory=dict)


def find_variants(run_dir: str | Path) -> list[Variant]:
    """Variants with a readable `report.json` naming a `format` and an existing `path`; others are skipped."""
    root = RunDir(run_dir) / RunDir.VARIANTS
    out: list[Variant] = []
    for report_path in sorted(root.glob("*/report.json")) if root.is_dir() else []:
        try:
            report = json.loads(report_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        fmt, rel = report.get("format"), report.get("path")
        if fmt not in BENCH_FORMATS or not rel:
            continue
        path = Path(rel) if Path(rel).is_absolute() else report_path.parent / rel
        if not path.exists():
            continue
        out.append(
            Variant(
                name=report_path.parent.name,
                format=fmt,
                path=path,
                dtype=str(report.get("dtype") or "float32"),
                dynamic_batch=bool(report.get("dynamic_batch", fmt == "torch")),
                batch_size=report.get("batch_size"),
                report=report,
            )
        )
    return out


def load_variant(variant_dir: str | Path) -> nn.Module:
    """A torch variant back as an `nn.Module` in eval mode: the architecture from rebuild.json, the weights (with
    their pruned shapes and dtypes) from model.safetensors. No pickle is read.

    Example:
        >>> model = load_variant("runs/mnist1d/variants/pruned")  # doctest: +SKIP
    """
    import torch

    from ..engine import load_weights
    from ..runs import rebuild_model

    d = Path(variant_dir)
    try:
        report = json.loads((d / "report.json").read_text(encoding="utf-8"))
        info = json.loads((d / "rebuild.json").read_text(encoding="utf-8")) if report.get("format") == "torch" else {}
    except (OSError, json.JSONDecodeError) as e:
        raise InvalidInputError(f"{d}: not a readable compress variant ({_first_line(e)})") from None
    if report.get("format") != "torch":
        raise InvalidInputError(f"{d}: holds an ONNX model; run it with dlexpert.deploy.onnx_session")
    model = rebuild_model(info["rebuild"], source=str(d / "rebuild.json"))
    _materialize(model, load_weights(d / report.get("weights", "model.safetensors")), info.get("modules", {}))
    if info.get("dtype") in {"float16", "bfloat16"} and info.get("keep_float"):
        keep_in_float(model, info["keep_float"], getattr(torch, info["dtype"]))
    return model.eval()


def keep_in_float(model: nn.Module, names: list[str], dtype: torch.dtype) -> None:
    """Run the named modules in fp32 inside a half-precision model: weights back to fp32, inputs cast up by a
    forward pre-hook and outputs cast back down by a forward hook (state-dict keys stay the same)."""
    import torch

    for name in names:
        module = model.get_submodule(name)
        module.float()
        module.register_forward_pre_hook(lambda _m, args: tuple(
            a.float() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args))  # fmt: skip
        module.register_forward_hook(lambda _m, _a, out: out.to(dtype) if isinstance(out, torch.Tensor) else out)


def _materialize(model: nn.Module, state: dict[str, torch.Tensor], modules: dict[str, dict[str, int]]) -> None:
    """Put each saved tensor into the model as it is (shape and dtype included), then set the layers' shape
    attributes; a pruned network comes back with its smaller layers."""
    from torch import nn

    expected = set(model.state_dict())
    if set(state) != expected:
        diff = sorted(set(state) ^ expected)[:5]
        raise DlexpertError(f"the saved weights do not match the rebuilt architecture (e.g. {', '.join(diff)})")
    for key, tensor in state.items():
        owner, _, leaf = key.rpartition(".")
        module = model.get_submodule(owner)
        if leaf in module._parameters:
            module._parameters[leaf] = nn.Parameter(tensor, requires_grad=tensor.is_floating_point())
        else:
            module._buffers[leaf] = tensor
    for name, attrs in modules.items():
        module = model.get_submodule(name)
        for attr, value in attrs.items():
            setattr(module, attr, value)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:300]
