"""Export to ONNX and TorchScript, each checked for parity against eager PyTorch on real inputs.

ONNX goes through `torch.onnx.export`: the dynamo exporter (torch.export + onnxscript) first, then the
TorchScript-based exporter (`dynamo=False`) when dynamo fails or the requested opset is below 18, the lowest the
dynamo exporter has implementations for (it would otherwise silently keep 18). The result is checked with
`onnx.checker` and run under ONNX Runtime's CPU provider; `ExportResult.exporter` says which exporter wrote it.

Formats that build on ONNX or need their own toolchain (OpenVINO, TensorRT, Core ML, TFLite) are registered with
the package they need: when it is missing, the error names the package and the command that would do the job.

Example:
    >>> res = export_onnx(model, x, "variants/onnx/model.onnx", dynamic_batch=True)  # doctest: +SKIP
    >>> res.exporter, res.parity.max_abs_diff, res.size_bytes  # doctest: +SKIP
    ('dynamo', 4.7e-07, 412345)
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._io import atomic_write_text
from .._registry import Registry
from ..errors import DlexpertError, InvalidInputError
from ..rundir import RunDir
from ._ort import onnx_runner, onnx_session
from ._source import Source, resolve_source

if TYPE_CHECKING:
    from .detector import BoxParity

__all__ = [
    "FP32_TOLERANCE",
    "ExportFormat",
    "ExportJob",
    "ExportResult",
    "OpsetRange",
    "ParityResult",
    "check_parity",
    "export_detector_onnx",
    "export_model",
    "export_onnx",
    "export_torch_program",
    "export_torchscript",
    "file_size",
    "get_export_format",
    "list_export_formats",
    "register_export_format",
    "supported_opsets",
]

# fp32 kernels differ between runtimes only in summation order and fused ops: ~1e-6 relative on logits of O(10);
# 1e-4 absolute is the parity bar torch.onnx's own verification and ORT's converters use for fp32.
FP32_TOLERANCE = 1e-4
DYNAMO_MIN_OPSET = 18  # torch.onnx (dynamo=True) has implementations from opset 18 up (torch/onnx/_internal/exporter)
TORCHSCRIPT_NOTE = (
    "TorchScript is in maintenance mode and deprecated upstream (recent torch.jit.save asks to switch to "
    "torch.export); prefer ONNX or --to torch-export for new deployments"
)


# --------------------------------------------------------------------------------------------- results


@dataclass
class ParityResult:
    """How far an exported artifact's outputs are from eager PyTorch's on the same inputs."""

    max_abs_diff: float
    mean_abs_diff: float
    n_samples: int
    batch_sizes: list[int]  # the distinct batch sizes checked
    tolerance: float = FP32_TOLERANCE
    n_batches: int = 0
    note: str = ""
    boxes: BoxParity | None = None  # a detector's boxes matched one by one; the diffs above are then its scores'

    @property
    def passed(self) -> bool:
        return self.max_abs_diff <= self.tolerance and (self.boxes is None or self.boxes.passed)

    def describe(self) -> str:
        """One line for people: what was compared, the differences, and the target."""
        if self.boxes is not None:
            return (
                f"parity vs eager PyTorch, box by box: {self.boxes.describe()} (target: every box matched, scores "
                f"within {self.tolerance:g})"
            )
        return (
            f"parity vs eager PyTorch on {self.n_samples} samples (batches {self.batch_sizes}): max |diff| "
            f"{self.max_abs_diff:.3g}, mean {self.mean_abs_diff:.3g} (target <= {self.tolerance:g})"
            f"{' (' + self.note + ')' if self.note else ''}"
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("max_abs_diff", "mean_abs_diff"):  # JSON has no infinity: a failed comparison is null
            d[k] = d[k] if math.isfinite(d[k]) else None
        d["boxes"] = self.boxes.to_dict() if self.boxes is not None else None
        return {**d, "passed": self.passed}


@dataclass
class ExportResult:
    """One exported file: where, how it was made, how big (external data included), and its parity check."""

    format: str
    path: Path
    exporter: str
    opset: int | None = None
    dynamic_batch: bool = False
    size_bytes: int = 0
    files: list[str] = field(default_factory=list)
    export_s: float = 0.0
    parity: ParityResult | None = None
    notes: list[str] = field(default_factory=list)
    source: str = ""
    input_shape: list[int] | None = None
    batch_size: int | None = None  # the batch the file runs at when not dynamic

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"] = str(self.path)
        d["size_mb"] = round(self.size_bytes / 1e6, 4)
        d["parity"] = self.parity.to_dict() if self.parity else None
        if self.parity is not None:  # the flat keys, for scripts
            d["max_abs_diff"] = d["parity"]["max_abs_diff"]
            d["mean_abs_diff"] = d["parity"]["mean_abs_diff"]
        return d


@dataclass(frozen=True)
class OpsetRange:
    """ONNX opsets the installed exporters can write and the installed ONNX Runtime can run."""

    dynamo: tuple[int, int]
    torchscript: tuple[int, int]
    onnxruntime_max: int
    onnx_max: int
    torch_version: str
    onnxruntime_version: str

    @property
    def min(self) -> int:
        return min(self.dynamo[0], self.torchscript[0])

    @property
    def max(self) -> int:
        return min(max(self.dynamo[1], self.torchscript[1]), self.onnxruntime_max, self.onnx_max)

    def describe(self) -> str:
        return (
            f"torch {self.torch_version} exports opsets {self.torchscript[0]}-{self.torchscript[1]} "
            "(TorchScript-based) "
            f"and {self.dynamo[0]}-{self.dynamo[1]} (dynamo); onnxruntime {self.onnxruntime_version} runs up to "
            f"{self.onnxruntime_max}: use --opset {self.min}..{self.max}"
        )


@functools.lru_cache(maxsize=1)
def supported_opsets() -> OpsetRange:
    """Ask the installed torch, onnx and onnxruntime (ORT's limit is probed: it has no API for it)."""
    import onnx
    import onnxruntime as ort
    import torch

    try:
        from torch.onnx import _constants as c

        ts = (int(c.ONNX_MIN_OPSET), int(c.ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET))
        dyn_max = int(c.ONNX_MAX_OPSET)
    except (ImportError, AttributeError):  # private constants moved: fall back to torch 2.5-2.9's values
        ts, dyn_max = (7, 20), 23
    onnx_max = int(onnx.defs.onnx_opset_version())
    return OpsetRange(
        dynamo=(DYNAMO_MIN_OPSET, dyn_max),
        torchscript=ts,
        onnxruntime_max=_probe_ort_max_opset(onnx_max),
        onnx_max=onnx_max,
        torch_version=torch.__version__.split("+")[0],
        onnxruntime_version=ort.__version__,
    )


def _probe_ort_max_opset(upper: int) -> int:
    """The highest opset ONNX Runtime loads: an Identity model per opset, from the newest down (a few ms)."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    for opset in range(upper, 6, -1):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
        graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe", [x], [y])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = min(onnx.IR_VERSION, 8)  # IR 8 is read by every ORT >= 1.10
        try:
            ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
            return opset
        except Exception:
            continue
    return 7


# --------------------------------------------------------------------------------------------- helpers


def file_size(path: str | Path) -> int:
    """Bytes on disk of a model file; for ONNX, its external data files count too (`model.onnx.data` and any other
    `location` its initializers name). A folder (e.g. an `.mlpackage`) counts every file in it."""
    p = Path(path)
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    total = p.stat().st_size
    if p.suffix.lower() == ".onnx":
        for extra in onnx_external_files(p):
            total += extra.stat().st_size
    return total


def onnx_external_files(path: str | Path) -> list[Path]:
    """External data files an ONNX model refers to (they must travel with it)."""
    import onnx

    p = Path(path)
    proto = onnx.load(str(p), load_external_data=False)
    names: set[str] = set()
    for tensor in _all_tensors(proto.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            for entry in tensor.external_data:
                if entry.key == "location":
                    names.add(entry.value)
    return [p.parent / n for n in sorted(names) if (p.parent / n).is_file()]


def _all_tensors(graph: Any) -> list[Any]:
    out = list(graph.initializer)
    for node in graph.node:
        for attr in node.attribute:
            if attr.t is not None and attr.HasField("t"):
                out.append(attr.t)
            if attr.HasField("g"):
                out += _all_tensors(attr.g)
            for g in attr.graphs:
                out += _all_tensors(g)
    return out


def _as_numpy(out: Any) -> Any:
    """The first tensor of a model's output (logits for classifiers; Hugging Face outputs carry `.logits`; a
    detector's list of per-image dicts gives the first image's boxes)."""
    import numpy as np
    import torch

    if hasattr(out, "logits") and out.logits is not None:
        out = out.logits
    while isinstance(out, (dict, tuple, list)) and out:
        out = next(iter(out.values())) if isinstance(out, dict) else out[0]
    if isinstance(out, torch.Tensor):
        return out.detach().float().cpu().numpy()
    return np.asarray(out, dtype=np.float32)


def _call(model: Any, x: Any) -> Any:
    return model(**x) if isinstance(x, dict) else model(x)


def eager_runner(model: Any) -> Callable[[Any], Any]:
    """`fn(batch) -> numpy` for a torch module, under `torch.inference_mode`."""
    import torch

    def run(x: Any) -> Any:
        with torch.inference_mode():
            return _as_numpy(_call(model, x))

    return run


def _batch_size(x: Any) -> int:
    return int(next(iter(x.values())).shape[0]) if isinstance(x, dict) else int(x.shape[0])


def _repeat_to(x: Any, n: int) -> Any:
    import torch

    idx = torch.arange(n) % _batch_size(x)
    return {k: v[idx] for k, v in x.items()} if isinstance(x, dict) else x[idx]


def load_artifact(path: str | Path, *, threads: int = 1) -> Callable[[Any], Any]:
    """`fn(batch) -> numpy` for an exported file: `.onnx` under ONNX Runtime, TorchScript or `.pt2` under torch."""
    p = Path(path)
    if p.suffix.lower() == ".onnx":
        return onnx_runner(onnx_session(p, threads=threads))
    import torch

    if p.suffix.lower() == ".pt2":
        return eager_runner(torch.export.load(str(p)).module())
    with _quiet_logs():  # torch >= 2.10 warns that torch.jit.load is deprecated; the export report says so once
        return eager_runner(torch.jit.load(str(p), map_location="cpu"))


def check_parity(
    model: Any,
    artifact: str | Path | Callable[[Any], Any],
    inputs: Any,
    *,
    tolerance: float = FP32_TOLERANCE,
    threads: int = 1,
) -> ParityResult:
    """Run eager `model` and `artifact` on the same `inputs` (a batch, or a list of batches) and compare outputs.

    Example:
        >>> check_parity(model, "variants/onnx/model.onnx", [x[:1], x[:8]]).max_abs_diff  # doctest: +SKIP
        3.1e-07
    """
    import numpy as np

    batches = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    sizes = sorted({_batch_size(b) for b in batches})
    run_ref = eager_runner(model)
    if _is_module(artifact):
        run_new = eager_runner(artifact)
    else:
        run_new = artifact if callable(artifact) else load_artifact(artifact, threads=threads)
    max_diff, total, count, n_samples = 0.0, 0.0, 0, 0
    for batch in batches:
        ref = run_ref(batch)
        try:
            got = _as_numpy(run_new(batch))
        except Exception as e:  # e.g. a fixed-batch file fed another batch size: a failed check, not a crash
            note = f"the exported model failed on a batch of {_batch_size(batch)}: {_first_line(e)}"
            return ParityResult(math.inf, math.inf, n_samples, sizes, tolerance, len(batches), note)
        n_samples += _batch_size(batch)
        if got.shape != ref.shape:
            note = f"output shape {list(got.shape)} differs from eager {list(ref.shape)}"
            return ParityResult(math.inf, math.inf, n_samples, sizes, tolerance, len(batches), note)
        diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
        if not np.all(np.isfinite(diff)):
            return ParityResult(math.inf, math.inf, n_samples, sizes, tolerance, len(batches), "non-finite outputs")
        max_diff = max(max_diff, float(diff.max(initial=0.0)))
        total += float(diff.sum())
        count += diff.size
    return ParityResult(max_diff, total / max(count, 1), n_samples, sizes, tolerance, len(batches))


def _is_module(obj: Any) -> bool:
    import torch

    return isinstance(obj, (torch.nn.Module, torch.jit.ScriptModule))


def _default_parity_inputs(example: Any, dynamic_batch: bool) -> list[Any]:
    """The example itself; with a dynamic batch also batch 1 and batch 8 (what the exported file must accept)."""
    if not dynamic_batch:
        return [example]
    return [_repeat_to(example, 1), _repeat_to(example, 8)]


@contextlib.contextmanager
def _staging(path: Path):  # type: ignore[no-untyped-def]
    """A temporary folder beside `path`; files written there under their final names are moved into place (data
    files before the model that points at them), so a reader never sees a half-written export."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp / path.name
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _commit(staged: Path, final: Path) -> list[Path]:
    """Move the staged model and its companions next to `final`; drop stale external data of an earlier export."""
    companions = sorted(f for f in staged.parent.iterdir() if f != staged)
    moved = []
    for f in companions:
        os.replace(f, final.parent / f.name)
        moved.append(final.parent / f.name)
    os.replace(staged, final)
    if final.suffix == ".onnx":
        keep = {f.name for f in moved}
        stale = final.parent / f"{final.name}.data"
        if stale.exists() and stale.name not in keep:
            stale.unlink()
    return [final, *moved]


# --------------------------------------------------------------------------------------------- ONNX


def export_onnx(
    model: Any,
    example: Any,
    path: str | Path,
    *,
    opset: int | None = None,
    dynamic_batch: bool = False,
    exporter: str = "auto",
    parity_inputs: Sequence[Any] | None = None,
    tolerance: float = FP32_TOLERANCE,
    threads: int = 1,
) -> ExportResult:
    """Export `model` (eval mode) to ONNX at `path`, verify it with `onnx.checker`, and check parity under ORT.

    `exporter` is "auto" (dynamo, then TorchScript-based on failure), "dynamo" or "torchscript". `example` is one
    batch (a tensor, or a dict of tensors passed as keyword arguments). The model is not modified.

    Raises `InvalidInputError` (exit 2) for an opset outside `supported_opsets()` and for an export that fails, with
    the failing operator and what to try instead.
    """
    import onnx

    path = Path(path)
    order = _exporter_order(exporter, opset)
    if dynamic_batch and _batch_size(example) < 2:
        # torch.export specialises a dimension whose example size is 1 (the 0/1 specialisation), so a dynamic batch
        # needs an example of at least 2.
        example = _repeat_to(example, 2)
    errors: list[tuple[str, BaseException, str]] = []
    t0 = time.perf_counter()
    for name in order:
        with _staging(path) as staged:
            try:
                log = _torch_onnx_export(
                    model, example, staged, opset=opset, dynamic_batch=dynamic_batch, dynamo=name == "dynamo"
                )
            except _ExportError as e:
                errors.append((name, e.error, e.log))
                continue
            written = _opset_of(staged)
            if opset is not None and written != opset:
                errors.append((name, RuntimeError(f"wrote opset {written}, not the requested {opset}"), log))
                continue
            try:
                onnx.checker.check_model(str(staged), full_check=False)
            except Exception as e:
                errors.append((name, e, log))
                continue
            files = _commit(staged, path)
        export_s = time.perf_counter() - t0
        notes = [f"{n} exporter failed first: {_first_line(e)}" for n, e, _ in errors]
        inputs = list(parity_inputs) if parity_inputs is not None else _default_parity_inputs(example, dynamic_batch)
        parity = check_parity(model, path, inputs, tolerance=tolerance, threads=threads)
        return ExportResult(
            format="onnx",
            path=path,
            exporter=name,
            opset=written,
            dynamic_batch=dynamic_batch,
            size_bytes=file_size(path),
            files=[f.name for f in files],
            export_s=round(export_s, 3),
            parity=parity,
            notes=notes,
            input_shape=list(_shape_of(example)[1:]),
            batch_size=None if dynamic_batch else _batch_size(example),
        )
    raise InvalidInputError(_export_failure_message(errors, opset))


def export_detector_onnx(
    model: Any,
    example: Any,
    path: str | Path,
    *,
    opset: int | None = None,
    parity_inputs: Sequence[Any] | None = None,
    threads: int = 1,
) -> ExportResult:
    """Export a torchvision detector (eval mode) with its post-processing to ONNX at `path`: one image (1, C, H, W)
    in, boxes/scores/labels out (`deploy.detector.DetectorGraph`), through the TorchScript-based exporter, the one
    that writes NMS. Parity is checked box by box on `parity_inputs` (batches of images, each run image by image)."""
    import onnx

    from .detector import OUTPUT_NAMES, DetectorGraph, detector_onnx_runner, onnx_safe_clipping

    path = Path(path)
    image = _repeat_to(example, 1)
    _exporter_order("torchscript", opset)  # refuses an opset the TorchScript-based exporter cannot write
    t0 = time.perf_counter()
    with _staging(path) as staged:
        try:
            with onnx_safe_clipping():
                _torch_onnx_export(
                    DetectorGraph(model).eval(), image, staged, opset=opset, dynamic_batch=False, dynamo=False,
                    output_names=OUTPUT_NAMES,
                )  # fmt: skip
        except _ExportError as e:
            raise InvalidInputError(_export_failure_message([("torchscript", e.error, e.log)], opset)) from None
        try:
            onnx.checker.check_model(str(staged), full_check=False)
        except Exception as e:
            raise InvalidInputError(f"the exported detector graph fails onnx.checker: {_first_line(e)}") from None
        written = _opset_of(staged)
        files = _commit(staged, path)
    export_s = time.perf_counter() - t0
    exported = detector_onnx_runner(onnx_session(path, threads=threads))
    parity = detector_parity(model, exported, list(parity_inputs) if parity_inputs is not None else [image])
    note = (
        "the graph takes one image per call, as torchvision's detection export does (the number of boxes depends "
        "on the image); a batch runs image by image"
    )
    return ExportResult(
        format="onnx", path=path, exporter="torchscript", opset=written, size_bytes=file_size(path),
        files=[f.name for f in files], export_s=round(export_s, 3), parity=parity, notes=[note],
        input_shape=list(_shape_of(image)[1:]), batch_size=1,
    )  # fmt: skip


def detector_parity(model: Any, exported: Callable[[Any], Any], batches: Sequence[Any]) -> ParityResult:
    """Eager `model`'s detections against `exported`'s (a callable returning one {boxes, scores, labels} per
    image) on the same batches, matched box by box (`deploy.detector.box_parity`)."""
    from .detector import SCORE_TOLERANCE, box_parity, detector_eager_runner

    eager = detector_eager_runner(model)
    boxes = box_parity(pair for batch in batches for pair in zip(eager(batch), exported(batch), strict=True))
    return ParityResult(
        max_abs_diff=boxes.max_score_diff, mean_abs_diff=boxes.mean_score_diff, n_samples=boxes.n_images,
        batch_sizes=[1], tolerance=SCORE_TOLERANCE, n_batches=len(batches), note=boxes.describe(), boxes=boxes,
    )  # fmt: skip


def _exporter_order(exporter: str, opset: int | None) -> list[str]:
    if exporter not in {"auto", "dynamo", "torchscript"}:
        raise InvalidInputError(f"--exporter: expected auto, dynamo or torchscript; got {exporter!r}")
    rng = supported_opsets()
    if opset is not None and not rng.min <= opset <= rng.max:
        raise InvalidInputError(f"--opset {opset} is not supported: {rng.describe()}")
    dynamo_ok = opset is None or rng.dynamo[0] <= opset <= rng.dynamo[1]
    ts_ok = opset is None or rng.torchscript[0] <= opset <= rng.torchscript[1]
    if exporter == "dynamo" and not dynamo_ok:
        raise InvalidInputError(
            f"--opset {opset}: the dynamo exporter writes opsets {rng.dynamo[0]}-{rng.dynamo[1]}; "
            "use --exporter torchscript for older opsets"
        )
    if exporter == "torchscript" and not ts_ok:
        raise InvalidInputError(
            f"--opset {opset}: the TorchScript-based exporter writes opsets "
            f"{rng.torchscript[0]}-{rng.torchscript[1]}; use --exporter dynamo"
        )
    if exporter != "auto":
        return [exporter]
    return [n for n, ok in (("dynamo", dynamo_ok), ("torchscript", ts_ok)) if ok]


def _torch_onnx_export(
    model: Any,
    example: Any,
    path: Path,
    *,
    opset: int | None,
    dynamic_batch: bool,
    dynamo: bool,
    output_names: Sequence[str] = ("output",),
) -> str:
    """One call of torch.onnx.export; its progress prints are captured so stdout stays one JSON document."""
    import torch

    if isinstance(example, dict):
        args: tuple[Any, ...] = ()
        kwargs: dict[str, Any] | None = dict(example)
        input_names = list(example)
    else:
        args, kwargs, input_names = (example,), None, ["input"]
    common: dict[str, Any] = {"input_names": input_names, "output_names": list(output_names), "opset_version": opset}
    if dynamo:
        common["dynamic_shapes"] = _dynamic_shapes(example) if dynamic_batch else None
        common["external_data"] = True  # the exporter decides; large models must keep weights outside the protobuf
        common["verbose"] = False
    else:
        common["dynamic_axes"] = {n: {0: "batch"} for n in [*input_names, *output_names]} if dynamic_batch else None
    buf = io.StringIO()
    # Both exporters print progress (dynamo) or the whole TorchScript graph on failure; keep it for the error message.
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf), _quiet_logs(), torch.no_grad():
        try:
            torch.onnx.export(model, args, str(path), kwargs=kwargs, dynamo=dynamo, **common)
        except Exception as e:
            raise _ExportError(e, buf.getvalue()) from e
    return buf.getvalue()


class _ExportError(Exception):
    """An exporter's exception with what it printed while failing (where dynamo names the failing node)."""

    def __init__(self, error: BaseException, log: str) -> None:
        super().__init__(str(error))
        self.error, self.log = error, log


def _dynamic_shapes(example: Any) -> Any:
    import torch

    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    if isinstance(example, dict):
        return {k: {0: batch} for k in example}
    return ({0: batch},)


@contextlib.contextmanager
def _quiet_logs():  # type: ignore[no-untyped-def]
    """The exporters log their fallbacks (with tracebacks) at WARNING; our report says the same in one line."""
    import logging
    import warnings

    names = [
        "torch.onnx",
        "torch.export",
        "torch._export",
        "onnxscript",
        "torch._dynamo",
        "torch.fx",
        "torch._inductor",
        "torch.utils.cpp_extension",
    ]
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, lvl in zip(loggers, levels, strict=True):
            lg.setLevel(lvl)


def _opset_of(path: Path) -> int:
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    return next((int(o.version) for o in proto.opset_import if o.domain in {"", "ai.onnx"}), 0)


def _shape_of(x: Any) -> tuple[int, ...]:
    return tuple(next(iter(x.values())).shape) if isinstance(x, dict) else tuple(x.shape)


_OP_PATTERNS = [
    r"Exporting the operator '([\w:.]+)'",  # TorchScript-based exporter: "Exporting the operator 'aten::foo' ..."
    r"OpOverload\(op='([\w.:]+)'",  # dynamo: "No ONNX function found for <OpOverload(op='aten.foo', ...)>"
    r"target=torch\.ops\.([\w.]+)",  # dynamo: "Error when translating node ... target=torch.ops.aten.foo.default"
    r"\b(aten::[\w.]+)",
    r"\b(aten\.[\w]+(?:\.[\w]+)?)",  # dynamo: "Unsupported FX nodes: {'call_function': ['aten.foo.default']}"
    r"\b(torch\.ops\.[\w.]+)",
    r"\b(prims::[\w.]+|prims\.[\w]+)",
    r"operator '?([A-Za-z_][\w:.]*)'?",
]


def _failing_operator(text: str) -> str | None:
    for pattern in _OP_PATTERNS:
        m = re.search(pattern, text)
        if m:
            return m.group(1).rstrip(".")
    return None


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _first_line(e: BaseException) -> str:
    """The line of an exception worth showing: one that names an operator if any does, else the first line."""
    text = _ANSI.sub("", f"{e}\n{e.__cause__ or ''}")
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    named = next((ln for ln in lines if _failing_operator(ln) and ("aten" in ln or "operator" in ln)), None)
    line = named or (lines[0] if lines else type(e).__name__)
    return line[:200]


def _export_failure_message(errors: list[tuple[str, BaseException, str]], opset: int | None) -> str:
    full = _ANSI.sub("", " ".join(f"{e} {e.__cause__ or ''} {log}" for _, e, log in errors))
    op = _failing_operator(full)
    tried = ", ".join(f"{n}: {_first_line(e)}" for n, e, _ in errors)
    where = f"at operator {op}" if op else "(no operator named in the exporter's message)"
    rng = supported_opsets()
    other = [v for v in (17, rng.dynamo[0], rng.max) if v != opset]
    tips = [f"another opset (--opset {other[0]} or {other[-1]})"]
    if not any(n == "torchscript" for n, _, _ in errors):
        tips.append("the TorchScript-based exporter (--exporter torchscript, i.e. dynamo=False)")
    if not any(n == "dynamo" for n, _, _ in errors):
        tips.append("the dynamo exporter (--exporter dynamo)")
    tips.append("--to torchscript")
    return f"ONNX export failed {where} [{tried}]; try {', or '.join(tips)}"


# --------------------------------------------------------------------------------------------- TorchScript


def export_torchscript(
    model: Any,
    example: Any,
    path: str | Path,
    *,
    parity_inputs: Sequence[Any] | None = None,
    tolerance: float = FP32_TOLERANCE,
) -> ExportResult:
    """Trace `model` with `torch.jit.trace` (scripting it when tracing fails), save atomically, check parity.

    TorchScript is in maintenance mode upstream; the result's notes say so. The model is not modified.
    """
    import torch

    path = Path(path)
    t0 = time.perf_counter()
    notes = [TORCHSCRIPT_NOTE]
    how = "jit.trace"
    with contextlib.redirect_stdout(io.StringIO()), _quiet_logs(), torch.no_grad():
        try:
            if isinstance(example, dict):
                module = torch.jit.trace(model, example_kwarg_inputs=dict(example), strict=False, check_trace=False)
            else:
                module = torch.jit.trace(model, (example,), strict=False, check_trace=False)
        except Exception as e:
            notes.append(f"jit.trace failed ({_first_line(e)}); used jit.script")
            how = "jit.script"
            try:
                module = torch.jit.script(model)
            except Exception as e2:
                op = _failing_operator(f"{e} {e2}")
                raise InvalidInputError(
                    f"TorchScript export failed{f' at {op}' if op else ''} (trace: {_first_line(e)}; script: "
                    f"{_first_line(e2)}); try --to onnx"
                ) from None
    with _staging(path) as staged:
        with _quiet_logs():
            torch.jit.save(module, str(staged))
        files = _commit(staged, path)
    export_s = time.perf_counter() - t0
    # A traced graph keeps the batch size only where the model computes with it; batch 1 and 8 check that it runs.
    inputs = list(parity_inputs) if parity_inputs is not None else [_repeat_to(example, 1), _repeat_to(example, 8)]
    parity = check_parity(model, path, inputs, tolerance=tolerance)
    return ExportResult(
        format="torchscript",
        path=path,
        exporter=how,
        dynamic_batch=True,
        size_bytes=file_size(path),
        files=[f.name for f in files],
        export_s=round(export_s, 3),
        parity=parity,
        notes=notes,
        input_shape=list(_shape_of(example)[1:]),
    )


def export_torch_program(
    model: Any,
    example: Any,
    path: str | Path,
    *,
    dynamic_batch: bool = True,
    parity_inputs: Sequence[Any] | None = None,
    tolerance: float = FP32_TOLERANCE,
) -> ExportResult:
    """`torch.export.export` + `torch.export.save` to a `.pt2` file (what PyTorch recommends over TorchScript; it is
    loaded back with `torch.export.load(path).module()`), then parity against eager."""
    import torch

    path = Path(path)
    if dynamic_batch and _batch_size(example) < 2:
        example = _repeat_to(example, 2)  # a batch of 1 would be specialised (torch.export's 0/1 rule)
    t0 = time.perf_counter()
    args, kwargs = ((), dict(example)) if isinstance(example, dict) else ((example,), None)
    shapes = _dynamic_shapes(example) if dynamic_batch else None
    try:
        with _quiet_logs():
            program = torch.export.export(model, args, kwargs=kwargs, dynamic_shapes=shapes, strict=False)
    except Exception as e:
        op = _failing_operator(_ANSI.sub("", str(e)))
        raise InvalidInputError(
            f"torch.export failed{f' at {op}' if op else ''} ({_first_line(e)}); try --to onnx --exporter torchscript"
        ) from None
    with _staging(path) as staged:
        torch.export.save(program, str(staged))
        files = _commit(staged, path)
    export_s = time.perf_counter() - t0
    inputs = list(parity_inputs) if parity_inputs is not None else _default_parity_inputs(example, dynamic_batch)
    return ExportResult(
        format="torch-export",
        path=path,
        exporter="torch.export",
        dynamic_batch=dynamic_batch,
        size_bytes=file_size(path),
        files=[f.name for f in files],
        export_s=round(export_s, 3),
        parity=check_parity(model, path, inputs, tolerance=tolerance),
        input_shape=list(_shape_of(example)[1:]),
        batch_size=None if dynamic_batch else _batch_size(example),
    )


# --------------------------------------------------------------------------------------------- formats


@dataclass(frozen=True)
class ExportJob:
    """What `export_model` hands a format's exporter: the model, one example batch, the file to write, the options."""

    src: Source
    example: Any
    path: Path  # <variant folder>/model<suffix>
    parity_inputs: list[Any]
    opset: int | None = None
    dynamic_batch: bool = False
    exporter: str = "auto"  # which ONNX exporter (auto, dynamo, torchscript)
    tolerance: float = FP32_TOLERANCE


@dataclass(frozen=True, kw_only=True)
class ExportFormat:
    """A `--to` target and its behaviour (timm's `OptimInfo` shape): the function that writes and checks the file,
    which options it takes, how bench runs the result, and the package it needs (with the command-line route)."""

    name: str
    suffix: str  # the file is `model<suffix>` in the variant folder
    export: Callable[[ExportJob], ExportResult]
    opset: bool = False  # takes --opset (it goes through ONNX)
    dynamic_batch: bool = False  # takes --dynamic-batch
    any_batch: bool = False  # the file should run at any batch even without --dynamic-batch: parity checks 1 and 8
    bench_format: str | None = None  # report.json's "format" bench runs it as (variants.BENCH_FORMATS); None: not
    modules: tuple[str, ...] = ()  # the import name it needs (alternatives after the first)
    install: str = ""
    route: str = ""  # what to run instead, with {onnx} for the ONNX file and {out} for the variant folder
    requirement: str = ""

    @property
    def available(self) -> bool:
        return all(_has_module(m) for m in self.modules[:1]) if self.modules else True

    def missing_message(self, onnx_path: str, out_dir: str) -> str:
        route = self.route.format(onnx=onnx_path, out=out_dir)
        need = f" ({self.requirement})" if self.requirement else ""
        return (
            f"--to {self.name} needs the Python package `{self.modules[0]}`, which is not installed{need}: "
            f"`{self.install}` then re-run this command, or convert the ONNX export yourself: {route}"
        )


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


_FORMATS: Registry[ExportFormat] = Registry("export format")


def register_export_format(fmt: ExportFormat) -> ExportFormat:
    """Add a `--to` target; a name already registered raises `RegistryError`."""
    return _FORMATS.register(fmt.name, fmt, owner=fmt.export.__module__)


def list_export_formats() -> list[ExportFormat]:
    """Every `--to` target, in the order `dlexpert export --help` lists them."""
    return [fmt for _, fmt in _FORMATS.items()]


def get_export_format(name: str) -> ExportFormat:
    """The `--to` target `name`; an unknown name raises `UnknownNameError` listing the valid ones."""
    return _FORMATS.get(name)


def _check_detector_options(spec: str, *, to: str, dynamic_batch: bool, exporter: str) -> None:
    """A detector leaves as one ONNX graph with its post-processing, one image per call, written by the
    TorchScript-based exporter (`export_detector_onnx`); other requests get one line saying so."""
    why = None
    if to != "onnx":
        why = f"--to {to}: a detector is exported to ONNX only (its NMS and box decoding inside the graph)"
    elif dynamic_batch:
        why = "--dynamic-batch: a detector's graph takes one image per call, as torchvision's detection export does"
    elif exporter == "dynamo":
        why = "--exporter dynamo: torch.export stops at a detector's data-dependent number of boxes; use torchscript"
    if why:
        raise InvalidInputError(f"{spec}: a detector; {why}")


def _is_detector(model: Any) -> bool:
    from .detector import is_detector

    return is_detector(model)


def _to_onnx(job: ExportJob) -> ExportResult:
    if _is_detector(job.src.model):
        return export_detector_onnx(job.src.model, job.example, job.path, opset=job.opset,
                                    parity_inputs=job.parity_inputs)  # fmt: skip
    return export_onnx(
        job.src.model,
        job.example,
        job.path,
        opset=job.opset,
        dynamic_batch=job.dynamic_batch,
        exporter=job.exporter,
        parity_inputs=job.parity_inputs,
        tolerance=job.tolerance,
    )


def _to_torchscript(job: ExportJob) -> ExportResult:
    return export_torchscript(
        job.src.model, job.example, job.path, parity_inputs=job.parity_inputs, tolerance=job.tolerance
    )


def _to_torch_program(job: ExportJob) -> ExportResult:
    return export_torch_program(
        job.src.model, job.example, job.path,
        dynamic_batch=job.dynamic_batch, parity_inputs=job.parity_inputs, tolerance=job.tolerance,
    )  # fmt: skip


def _tflite_module() -> str | None:
    return next((m for m in ("litert_torch", "ai_edge_torch") if _has_module(m)), None)


def _converted(
    job: ExportJob,
    *,
    fmt: str,
    exporter: str,
    t0: float,
    artifact: Callable[[Any], Any] | None,
    parity_inputs: list[Any],
    size: int,
    written: list[Path] | None = None,
    notes: list[str] | None = None,
) -> ExportResult:
    """The result of a format converted by its own toolchain, with parity where its runtime runs here."""
    parity = check_parity(job.src.model, artifact, parity_inputs, tolerance=job.tolerance) if artifact else None
    return ExportResult(
        format=fmt,
        path=job.path,
        exporter=exporter,
        opset=job.opset,
        size_bytes=size,
        files=[f.name for f in written or []] or [job.path.name],
        export_s=round(time.perf_counter() - t0, 3),
        parity=parity,
        notes=notes or [],
        input_shape=list(_shape_of(job.example)[1:]),
        batch_size=_batch_size(job.example),
    )


def _same_batch(inputs: list[Any], batch: int | None, fallback: Any) -> list[Any]:
    """The parity batches a fixed-batch file can take (the example's size), or the fallback batch."""
    return [b for b in inputs if _batch_size(b) == batch] or [fallback]


def _to_openvino(job: ExportJob) -> ExportResult:
    """ONNX, converted by OpenVINO's `convert_model`; parity under OpenVINO's CPU plugin."""
    import numpy as np
    import openvino as ov

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_res = export_onnx(
            job.src.model, job.example, Path(tmp) / "model.onnx", opset=job.opset, parity_inputs=job.parity_inputs[:1]
        )
        ov_model = ov.convert_model(str(onnx_res.path))
        with _staging(job.path) as staged:
            ov.save_model(ov_model, str(staged), compress_to_fp16=False)  # model.xml + its weights, model.bin
            written = _commit(staged, job.path)
    compiled = ov.Core().compile_model(str(job.path), "CPU")

    def run(x: Any) -> Any:
        return np.asarray(compiled(x.numpy())[0])

    return _converted(
        job, fmt="openvino", exporter="openvino", t0=t0, artifact=run,
        parity_inputs=_same_batch(job.parity_inputs, onnx_res.batch_size, job.parity_inputs[0]),
        size=sum(f.stat().st_size for f in written), written=written,
        notes=[f"converted from ONNX written by the {onnx_res.exporter} exporter"],
    )  # fmt: skip


def _to_tensorrt(job: ExportJob) -> ExportResult:
    """An fp32 TensorRT engine built from ONNX for the visible NVIDIA GPU; parity on that GPU."""
    import torch

    if not torch.cuda.is_available():
        fmt = get_export_format("tensorrt")
        raise InvalidInputError(
            f"--to tensorrt: no NVIDIA GPU visible here ({fmt.requirement}); on the GPU machine run "
            + fmt.route.format(onnx="variants/onnx/model.onnx", out=str(job.path.parent))
        )
    t0 = time.perf_counter()
    run = _build_tensorrt(job.src, job.example, job.path, opset=job.opset)
    return _converted(
        job, fmt="tensorrt", exporter="tensorrt", t0=t0, artifact=run, parity_inputs=job.parity_inputs,
        size=file_size(job.path), notes=["engine built for this GPU model and TensorRT version only"],
    )  # fmt: skip


def _to_coreml(job: ExportJob) -> ExportResult:
    """A traced model converted by coremltools to an ML program; parity only on macOS, where Core ML runs."""
    import coremltools as ct
    import numpy as np
    import torch

    t0 = time.perf_counter()
    example = job.example
    traced = torch.jit.trace(job.src.model, (example,), strict=False, check_trace=False)
    mlmodel = ct.convert(
        traced, inputs=[ct.TensorType(name="input", shape=tuple(example.shape))], convert_to="mlprogram"
    )
    out_dir = job.path.parent
    pkg_tmp = out_dir / f".{job.path.name}.tmp"  # a folder: written whole, then renamed into place
    shutil.rmtree(pkg_tmp, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    mlmodel.save(str(pkg_tmp))
    shutil.rmtree(job.path, ignore_errors=True)
    os.replace(pkg_tmp, job.path)

    def run(x: Any) -> Any:
        return np.asarray(next(iter(mlmodel.predict({"input": x.numpy()}).values())))

    on_mac = sys.platform == "darwin"
    notes = [] if on_mac else ["parity not checked: Core ML models run only on macOS"]
    return _converted(
        job, fmt="coreml", exporter="coremltools", t0=t0, artifact=run if on_mac else None,
        parity_inputs=_same_batch(job.parity_inputs, _batch_size(example), example),
        size=file_size(job.path), notes=notes,
    )  # fmt: skip


def _to_tflite(job: ExportJob) -> ExportResult:
    """LiteRT Torch (formerly AI Edge Torch) converts the module; parity under its Python interpreter."""
    import numpy as np

    t0 = time.perf_counter()
    module = _tflite_module() or "litert_torch"
    edge = importlib.import_module(module).convert(job.src.model.eval(), (job.example,))
    with _staging(job.path) as staged:
        edge.export(str(staged))
        _commit(staged, job.path)

    def run(x: Any) -> Any:
        return np.asarray(edge(x))

    return _converted(
        job, fmt="tflite", exporter=module, t0=t0, artifact=run,
        parity_inputs=_same_batch(job.parity_inputs, _batch_size(job.example), job.example),
        size=file_size(job.path),
    )  # fmt: skip


def _build_tensorrt(src: Source, example: Any, path: Path, *, opset: int | None) -> Callable[[Any], Any]:
    """ONNX -> TensorRT engine (fp32) at `path` with the Python API, and a runner that executes it on CUDA tensors."""
    import tensorrt as trt
    import torch

    logger = trt.Logger(trt.Logger.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        onnx_res = export_onnx(src.model, example, Path(tmp) / "model.onnx", opset=opset, exporter="torchscript")
        builder = trt.Builder(logger)
        network = builder.create_network(0)
        parser = trt.OnnxParser(network, logger)
        if not parser.parse_from_file(str(onnx_res.path)):
            errs = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise InvalidInputError(f"TensorRT could not parse the ONNX export: {errs[:300]}")
        engine_bytes = builder.build_serialized_network(network, builder.create_builder_config())
    if engine_bytes is None:
        raise DlexpertError("TensorRT failed to build an engine (see the TensorRT log above)")
    with _staging(path) as staged:
        staged.write_bytes(bytes(engine_bytes))
        _commit(staged, path)
    engine = trt.Runtime(logger).deserialize_cuda_engine(bytes(engine_bytes))
    context = engine.create_execution_context()

    def run(x: Any) -> Any:
        xin = x.contiguous().cuda()
        out_name = engine.get_tensor_name(engine.num_io_tensors - 1)
        out = torch.empty(tuple(context.get_tensor_shape(out_name)), device="cuda")
        context.set_tensor_address(engine.get_tensor_name(0), xin.data_ptr())
        context.set_tensor_address(out_name, out.data_ptr())
        context.execute_async_v3(torch.cuda.current_stream().cuda_stream)
        torch.cuda.synchronize()
        return out.cpu().numpy()

    return run


for _fmt in (
    ExportFormat(
        name="onnx", suffix=".onnx", export=_to_onnx, opset=True, dynamic_batch=True, bench_format="onnx",
        modules=("onnx", "onnxruntime"), install="pip install onnx onnxruntime onnxscript",
    ),
    ExportFormat(
        name="torchscript", suffix=".pt", export=_to_torchscript, dynamic_batch=True, any_batch=True,
        bench_format="torch", modules=("torch",), install="pip install torch",
    ),
    ExportFormat(
        name="torch-export", suffix=".pt2", export=_to_torch_program, dynamic_batch=True, bench_format="torch",
        modules=("torch",), install="pip install torch",
    ),
    ExportFormat(
        name="openvino", suffix=".xml", export=_to_openvino, opset=True,
        modules=("openvino",), install="pip install openvino",
        route="`dlexpert export SRC --to onnx` then `ovc {onnx} --output_model {out}/model.xml`",
    ),
    ExportFormat(
        name="tensorrt", suffix=".plan", export=_to_tensorrt, opset=True,
        modules=("tensorrt",), install="pip install tensorrt",
        route="`dlexpert export SRC --to onnx` then `trtexec --onnx={onnx} --saveEngine={out}/model.plan`",
        requirement="TensorRT builds engines on an NVIDIA GPU, for that GPU",
    ),
    ExportFormat(
        name="coreml", suffix=".mlpackage", export=_to_coreml,
        modules=("coremltools",), install="pip install coremltools",
        route="convert a traced model with coremltools.convert(...) and save {out}/model.mlpackage",
        requirement="conversion runs on Linux; running the model needs macOS",
    ),
    ExportFormat(
        name="tflite", suffix=".tflite", export=_to_tflite,
        modules=("litert_torch", "ai_edge_torch"), install="pip install litert-torch",
        route="litert_torch.convert(model.eval(), (x,)).export('{out}/model.tflite') (formerly ai-edge-torch)",
    ),
):  # fmt: skip
    register_export_format(_fmt)


def _formats_with(flag: str) -> str:
    """'onnx, torchscript and torch-export': the formats whose `flag` field is set, for error messages."""
    names = [f.name for f in list_export_formats() if getattr(f, flag)]
    return f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else "".join(names)


# --------------------------------------------------------------------------------------------- the stage


def export_model(
    source: str | Path | Source,
    *,
    to: str = "onnx",
    opset: int | None = None,
    dynamic_batch: bool = False,
    out_dir: str | Path | None = None,
    input_shape: tuple[int, ...] | None = None,
    exporter: str = "auto",
    tolerance: float = FP32_TOLERANCE,
    parity_samples: int = 64,
) -> ExportResult:
    """The `export` stage: RUN_DIR (or a MODEL spec with `out_dir`) -> `<out_dir>/<to>/model.*` + report.json.

    For a run, `out_dir` defaults to `RUN_DIR/variants`. Parity runs on up to `parity_samples` real test inputs
    (batches of 1 and 8 when the batch is dynamic, else of 1, the export batch); a model spec has no data, so a few
    noise inputs stand in. The run's checkpoint is only read.

    Example:
        >>> res = export_model("runs/m1", to="onnx", dynamic_batch=True)  # doctest: +SKIP
        >>> res.path, res.parity.max_abs_diff  # doctest: +SKIP
    """
    fmt = get_export_format(to)
    spec = source.spec if isinstance(source, Source) else str(source)
    base = Path(out_dir) if out_dir is not None else None
    if base is None and (isinstance(source, Source) and source.run_dir is not None):
        base = source.run_dir / RunDir.VARIANTS
    elif base is None and Path(spec).is_dir():
        base = Path(spec) / RunDir.VARIANTS
    if not fmt.available:  # before loading anything: the answer does not depend on the model
        where = base if base is not None else Path("OUT")
        raise InvalidInputError(fmt.missing_message(str(where / "onnx" / "model.onnx"), str(where / to)))
    src = source if isinstance(source, Source) else resolve_source(source, input_shape=input_shape, allow_onnx=False)
    if src.kind == "onnx":
        raise InvalidInputError(f"{src.spec}: is already an ONNX model; export starts from a run or a model spec")
    if src.model is not None and _is_detector(src.model):
        _check_detector_options(src.spec, to=to, dynamic_batch=dynamic_batch, exporter=exporter)
    if base is None:
        raise InvalidInputError(f"{src.spec}: a model spec has no run directory to write into; pass --out DIR")
    variant_dir = base / to
    if opset is not None and not fmt.opset:
        raise InvalidInputError(f"--opset applies to ONNX-based formats ({_formats_with('opset')}), not --to {to}")
    if dynamic_batch and not fmt.dynamic_batch:
        raise InvalidInputError(f"--dynamic-batch applies to --to {_formats_with('dynamic_batch')}, not --to {to}")
    several_batches = dynamic_batch or fmt.any_batch  # the file should run at any batch: check that it does
    if src.kind == "model":  # noise stands in for data, and ImageNet-sized models are slow: one or two batches
        parity_samples = 9 if several_batches else 3
    parity = src.parity_batches(n_samples=parity_samples, batch_sizes=(1, 8) if several_batches else (1,))
    # a dynamic batch is traced at 2: torch.export specialises a dimension of size 1 (its 0/1 rule)
    example = src.inputs(2) if dynamic_batch else src.inputs(1)
    variant_dir.mkdir(parents=True, exist_ok=True)
    job = ExportJob(
        src=src,
        example=example,
        path=variant_dir / f"model{fmt.suffix}",
        parity_inputs=parity,
        opset=opset,
        dynamic_batch=dynamic_batch,
        exporter=exporter,
        tolerance=tolerance,
    )
    result = fmt.export(job)
    result.source = src.spec
    if src.input_note:
        result.notes.append(f"parity inputs: {src.input_note}")
    write_variant_report(variant_dir, result)
    return result


def write_variant_report(variant_dir: Path, result: ExportResult) -> Path:
    """`variants/<name>/report.json`, in the variant contract bench reads (`format`, `path`, ...; see
    `dlexpert.deploy.variants`)."""
    report = result.to_dict()
    report["path"] = result.path.name if result.path.parent == variant_dir else str(result.path)
    report["export_format"] = result.format
    # how bench runs it: "onnx" or "torch" (TorchScript and .pt2 are torch files); other formats are not benchmarked
    report["format"] = get_export_format(result.format).bench_format or result.format
    report["dtype"] = "float32"
    return atomic_write_text(variant_dir / "report.json", json.dumps(report, indent=2) + "\n")
