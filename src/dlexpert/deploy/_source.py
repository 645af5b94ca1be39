"""What `export` and `bench` start from: a trained run directory, a model spec built without weights, or an .onnx file.

A run gives real inputs (its test split, through `LoadedRun.example_input`); a model spec has no data, so its inputs
are seeded Gaussian noise of the stated shape, which is enough for parity and timing (neither depends on the
values being meaningful).
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._input import clip
from ..errors import InvalidInputError
from ..rundir import RunDir

__all__ = ["MODEL_LIBRARIES", "Source", "parse_input_shape", "resolve_source"]

MAX_INPUT_ELEMENTS = 3 * 4096 * 4096  # one sample: a 4096-pixel RGB image, 200 MB as float32
MAX_INPUT_DIMS = 5  # (C, T, H, W) video plus one

# The prefixes a MODEL spec may carry, and what each builds (always without pretrained weights: no network needed).
MODEL_LIBRARIES = {
    "torchvision": "torchvision.models.get_model(NAME, weights=None)",
    "timm": "timm.create_model(NAME, pretrained=False)",
    "dlexpert": "dlexpert.models.create_model(NAME, input_shape=..., n_classes=10)",
}
DEFAULT_IMAGE_SHAPE = (3, 224, 224)  # the ImageNet input both torchvision and timm classifiers are defined at
IMAGENET_CLASSES = 1000  # their default head, as the architecture is published
_MAX_INPUT_POOL = 256  # real test inputs kept in memory; larger batches repeat them


@dataclass
class Source:
    """A model to export or benchmark, and where its inputs come from.

    `kind` is "run", "model" (a spec built without weights) or "onnx" (a file; benchmark only).
    """

    spec: str
    kind: str
    model: Any = None  # torch.nn.Module in eval mode; None for kind "onnx"
    input_shape: tuple[int, ...] | None = None  # one sample, without the batch dimension
    run_dir: Path | None = None
    onnx_path: Path | None = None
    run: Any = None  # dlexpert.runs.LoadedRun for kind "run"
    input_note: str = ""
    _pool: Any = field(default=None, repr=False)

    @property
    def name(self) -> str:
        if self.run is not None:
            return str(self.run.model_name)
        if self.onnx_path is not None:
            return self.onnx_path.name
        return self.spec

    def inputs(self, batch_size: int) -> Any:
        """A batch of `batch_size` inputs: real test samples for a run (repeated when the split is smaller), seeded
        Gaussian noise otherwise. The same call returns the same tensor values, so every backend sees one input."""
        import torch

        if self.kind == "run":
            if self._pool is None:
                self._pool = self.run.example_input(_MAX_INPUT_POOL)
            return _take(self._pool, batch_size)
        if self.input_shape is None:
            raise InvalidInputError(f"{self.spec}: input shape unknown; pass --input-shape C,H,W")
        g = torch.Generator().manual_seed(0)
        return torch.randn((batch_size, *self.input_shape), generator=g)

    def parity_batches(self, *, n_samples: int, batch_sizes: tuple[int, ...]) -> list[Any]:
        """Inputs for a parity check: batches of the given sizes, together covering about `n_samples` samples."""
        pool = self.inputs(n_samples + sum(batch_sizes))
        out, start = [], 0
        for b in batch_sizes:  # each requested size at least once, then the largest until n_samples is reached
            out.append(_slice(pool, start, b))
            start += b
        while start < n_samples:
            b = max(batch_sizes)
            if start + b > _length(pool):
                break
            out.append(_slice(pool, start, b))
            start += b
        return out


def _length(x: Any) -> int:
    return int(next(iter(x.values())).shape[0]) if isinstance(x, dict) else int(x.shape[0])


def _slice(x: Any, start: int, n: int) -> Any:
    """Rows start..start+n, wrapping around so a batch can be larger than what is left."""
    import torch

    total = _length(x)
    idx = torch.arange(start, start + n) % total
    return {k: v[idx] for k, v in x.items()} if isinstance(x, dict) else x[idx]


def _take(pool: Any, n: int) -> Any:
    return _slice(pool, 0, n)


def parse_input_shape(text: str | None) -> tuple[int, ...] | None:
    """ "3,224,224" or "3x224x224" -> (3, 224, 224); the batch dimension is not part of it."""
    if text is None or str(text).strip() == "":
        return None
    parts = [p for p in re.split(r"[,x× ]+", str(text).strip().lower()) if p]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(v <= 0 for v in shape):
        raise InvalidInputError(
            f"--input-shape: expected positive integers such as 3,224,224 (one sample, no batch); got {clip(text)}"
        )
    if len(shape) > MAX_INPUT_DIMS or math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise InvalidInputError(f"--input-shape {clip(text)}: {math.prod(shape):,} values in {len(shape)} "
                                f"dimensions; at most {MAX_INPUT_ELEMENTS:,} values (3x4096x4096) in "
                                f"{MAX_INPUT_DIMS} dimensions")  # fmt: skip
    return shape


def resolve_source(
    source: str | Path, *, input_shape: tuple[int, ...] | None = None, allow_onnx: bool = True
) -> Source:
    """Turn what the user named into a `Source`.

    Example:
        >>> resolve_source("torchvision:resnet18").input_shape  # doctest: +SKIP
        (3, 224, 224)
    """
    spec = str(source)
    path = Path(spec)
    if path.suffix.lower() == ".onnx":
        if not allow_onnx:
            raise InvalidInputError(
                f"{spec}: is already an ONNX model; `export` starts from a run directory or a model spec "
                "(`dlexpert bench` can time an .onnx file)"
            )
        if not path.is_file():
            raise InvalidInputError(f"{spec}: no such ONNX file")
        return _onnx_source(path, input_shape)
    prefix, sep, name = spec.partition(":")
    if sep and prefix in MODEL_LIBRARIES and not path.exists():
        return _model_source(spec, prefix, name, input_shape)
    if not path.exists() and not sep:
        raise InvalidInputError(
            f"{spec}: no such run directory; expected RUN_DIR, a model spec "
            f"({', '.join(f'{p}:NAME' for p in MODEL_LIBRARIES)}) or FILE.onnx"
        )
    if sep and not path.exists():
        raise InvalidInputError(
            f"{spec}: unknown model library {prefix!r}; expected one of {', '.join(MODEL_LIBRARIES)} "
            "(e.g. torchvision:resnet18)"
        )
    if RunDir(path).is_forecast():
        from ..forecast.export import forecast_network

        net = forecast_network(path)
        forecaster = Source(spec=spec, kind="run", model=net.model, input_shape=input_shape or net.input_shape,
                            run_dir=path, input_note=net.note)  # fmt: skip
        forecaster._pool = net.windows  # real windows stand in for the test split's samples
        return forecaster
    from ..runs import load_run

    run = load_run(path)
    return Source(
        spec=spec,
        kind="run",
        model=run.model,
        input_shape=input_shape or run.input_shape,
        run_dir=Path(path),
        run=run,
        input_note="real inputs from the run's test split",
    )


def _model_source(spec: str, library: str, name: str, input_shape: tuple[int, ...] | None) -> Source:
    from ..models import build
    from ..schema.decisions import ModelRecord

    if not name:
        raise InvalidInputError(f"{spec}: name the model after the colon, e.g. {library}:resnet18")
    if library == "torchvision":
        import torchvision.models as tvm

        known = tvm.list_models()
        if name not in known:
            raise InvalidInputError(_unknown(spec, name, known))
        model = build(ModelRecord(library="torchvision", name=name, n_classes=IMAGENET_CLASSES), pretrained=False)
        shape = input_shape or DEFAULT_IMAGE_SHAPE
    elif library == "timm":
        import timm

        if not timm.is_model(name):
            raise InvalidInputError(_unknown(spec, name, timm.list_models()))
        model = build(ModelRecord(library="timm", name=name, n_classes=IMAGENET_CLASSES), pretrained=False)
        cfg_shape = tuple(getattr(model, "pretrained_cfg", {}).get("input_size") or DEFAULT_IMAGE_SHAPE)
        shape = input_shape or cfg_shape
    else:
        from ..models import list_models

        if name not in list_models():
            raise InvalidInputError(_unknown(spec, name, list_models()))
        if input_shape is None:
            raise InvalidInputError(f"{spec}: dlexpert models need --input-shape (e.g. 1,40 for a 1-D signal)")
        record = ModelRecord(library="dlexpert", name=name, n_classes=10, input_shape=list(input_shape))
        model = build(record, pretrained=False)
        shape = input_shape
    model.eval()
    return Source(
        spec=spec,
        kind="model",
        model=model,
        input_shape=tuple(int(v) for v in shape),
        input_note="seeded Gaussian noise (a model spec has no data; architecture only, random init)",
    )


def _unknown(spec: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; {len(known)} are known"
    return f"{spec}: unknown model {name!r}{hint}"


def _onnx_source(path: Path, input_shape: tuple[int, ...] | None) -> Source:
    import onnx

    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as e:  # a truncated or foreign file: say so in one line
        raise InvalidInputError(f"{path}: not a readable ONNX model ({str(e).splitlines()[0][:160]})") from None
    initializers = {i.name for i in proto.graph.initializer}
    graph_inputs = [i for i in proto.graph.input if i.name not in initializers]
    if len(graph_inputs) != 1:
        raise InvalidInputError(f"{path}: has {len(graph_inputs)} inputs; `bench` times single-input models")
    dims = graph_inputs[0].type.tensor_type.shape.dim
    shape = tuple(d.dim_value for d in dims[1:]) if dims else ()
    if input_shape is None and (not shape or any(v <= 0 for v in shape)):
        raise InvalidInputError(f"{path}: input {graph_inputs[0].name!r} has symbolic dimensions; pass --input-shape")
    return Source(
        spec=str(path),
        kind="onnx",
        input_shape=input_shape or shape,
        onnx_path=path,
        input_note="seeded Gaussian noise (an .onnx file has no data)",
    )
