"""INT8 through ONNX Runtime's quantization tools, and half precision (fp16 / bf16) in PyTorch.

INT8. The model is exported to ONNX (fp32, dynamic batch, parity-checked by `dlexpert.deploy.export_onnx`), then
pre-processed (`quant_pre_process`: shape inference and ORT's graph optimisations, which fold BatchNorm into the
convolutions), then quantized two ways, both measured:

- static post-training quantization, QDQ format, per-channel weights, activations calibrated on training batches
  (`quantize_static` with a `CalibrationDataReader`): integer kernels for convolutions and matrix products, the
  usual choice for conv nets;
- dynamic quantization (`quantize_dynamic`): int8 weights, activations quantized on the fly per batch, no
  calibration; the usual choice for Linear/LSTM-heavy models.

When both drop too much accuracy, gentler settings follow: 7-bit weights (`reduce_range`: on x86 CPUs without VNNI
the u8 x s8 multiply (VPMADDUBSW) can saturate; ONNX Runtime's quantization docs recommend reduce_range there), then
the first and last weighted layers kept in float, then percentile calibration (clips activation outliers).

PyTorch 2's PT2E flow (torchao `prepare_pt2e`/`convert_pt2e` with `X86InductorQuantizer`) was not used: its int8
kernels come only through `torch.compile` (inductor), which takes minutes to build on a 2-core CPU; eager it runs
as fake-quantised reference code, slower than fp32.

Half precision. `model.to(float16 | bfloat16)`, inputs cast on the way in. On CPUs without AVX512-FP16/AMX these
run through conversion paths and are usually slower than fp32: the report measures it and says so; halving the
file is still real. The gentler setting keeps the first and last weighted layers in fp32.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..deploy._ort import quiet_quantizer
from ..deploy.variants import keep_in_float
from ..errors import InvalidInputError
from ._loop import Built, Candidate
from ._measure import Subject, count_params, onnx_predict, safetensors_size, torch_predict

__all__ = ["HALF_DTYPES", "export_fp32_onnx", "half_track", "int8_tracks", "keep_in_float"]

HALF_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}
CALIBRATION_BATCH = 32
# Percentile calibration keeps 99.999% of the activation histogram (ONNX Runtime's default CalibPercentile).
CALIB_PERCENTILE = 99.999
# Weighted ONNX operators: their weights are what INT8 shrinks. ORT's QDQ and dynamic registries say which it
# quantizes; any other weighted op stays float and is named in the report.
# The feedback loop's INT8 settings per quantizer, most aggressive first: (reduce_range, first/last layers in float,
# calibration). Dynamic quantization has no calibration step, so it has no percentile setting.
_MINMAX_LADDER = ((False, False, "minmax"), (True, False, "minmax"), (True, True, "minmax"))
INT8_LEVELS = {"static": (*_MINMAX_LADDER, (True, True, "percentile")), "dynamic": _MINMAX_LADDER}
WEIGHTED_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "LSTM", "GRU", "RNN", "Attention", "EmbedLayerNormalization"}

# --------------------------------------------------------------------------------------------- ONNX


def export_fp32_onnx(subject: Subject, path: Path) -> tuple[Path, list[str]]:
    """The run's model as ONNX (fp32, dynamic batch), through `dlexpert.deploy.export_onnx` with its parity check.

    The TorchScript-based exporter is tried first: for these graphs it writes the same operators as the dynamo
    exporter in about a tenth of the time (0.7 s against 10 s for the MNIST-1D CNN on this CPU).
    """
    from ..deploy import export_onnx
    from ..deploy.export import export_detector_onnx

    notes: list[str] = []
    if subject.task == "detection":  # one image per call, post-processing inside, parity box by box
        res = export_detector_onnx(subject.model, subject.inputs(1), path,
                                   parity_inputs=[subject.inputs(8)[i : i + 1] for i in range(8)])  # fmt: skip
        if res.parity is not None and not res.parity.passed:
            notes.append(f"fp32 ONNX {res.parity.describe()}")
        return res.path, notes
    example = subject.inputs(8)
    try:
        res = export_onnx(subject.model, example, path, dynamic_batch=True, exporter="torchscript")
    except InvalidInputError as first:
        try:
            res = export_onnx(subject.model, example, path, dynamic_batch=True, exporter="dynamo")
        except InvalidInputError as e:
            raise InvalidInputError(
                f"int8 goes through ONNX Runtime, and {subject.name} does not export to ONNX ({e}; TorchScript-based "
                f"exporter: {first}); try --method fp16, prune or distill"
            ) from None
    if res.parity is not None and not res.parity.passed:
        notes.append(f"fp32 ONNX parity off: max |diff| {res.parity.max_abs_diff:.2e} against eager PyTorch")
    return res.path, notes


def _preprocess(src: Path, dst: Path, notes: list[str]) -> Path:
    """ORT's recommended pre-processing before quantization; on failure quantize the raw export and say so."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    try:
        quant_pre_process(str(src), str(dst))
        return dst
    except Exception as e:  # symbolic shape inference does not know every op
        notes.append(f"quant_pre_process failed ({_first_line(e)}); quantized the export as it is")
        return src


def _weighted_nodes(path: Path) -> list[tuple[str, str]]:
    """(name, op_type) of the nodes that carry a weight initializer of rank >= 2, in graph order."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    inits = {i.name: len(i.dims) for i in proto.graph.initializer}
    return [(n.name, n.op_type) for n in proto.graph.node
            if n.op_type in WEIGHTED_OPS and any(inits.get(i, 0) >= 2 for i in n.input)]  # fmt: skip


def _float_ops_note(nodes: list[tuple[str, str]], kind: str) -> str | None:
    """Which weighted layers ORT's `kind` quantizer leaves in float (it has no int8 kernel for them)."""
    from onnxruntime.quantization.registry import IntegerOpsRegistry, QDQRegistry

    registry = QDQRegistry if kind == "static" else IntegerOpsRegistry
    left = [f"{name or '?'} ({op})" for name, op in nodes if op not in registry]
    if not left:
        return None
    return f"{kind} INT8 keeps in float (no int8 kernel in ONNX Runtime): {', '.join(left[:6])}" + (
        f" and {len(left) - 6} more" if len(left) > 6 else "")  # fmt: skip


class _TrainingBatches:
    """`CalibrationDataReader` over evenly spaced training samples (every class is seen), batches of `batch_size`
    (32; 1 for a detector's graph, which takes one image per call)."""

    def __init__(self, dataset: Any, input_name: str, n_samples: int, batch_size: int = CALIBRATION_BATCH) -> None:
        n = len(dataset)
        if n == 0:
            raise InvalidInputError("the training split is empty: static INT8 needs it to calibrate activations")
        idx = np.linspace(0, n - 1, num=min(n, n_samples)).round().astype(int)
        xs = torch.stack([torch.as_tensor(dataset[int(i)][0]) for i in idx]).float().numpy()
        self._batches = [{input_name: xs[i : i + batch_size]} for i in range(0, len(xs), batch_size)]
        self._it: Iterator[dict[str, Any]] = iter(self._batches)

    def get_next(self) -> dict[str, Any] | None:
        return next(self._it, None)

    def rewind(self) -> None:
        self._it = iter(self._batches)


def int8_tracks(subject: Subject, workdir: Path, *, calibration_samples: int, notes: list[str]) -> list[
        Iterator[Candidate]]:  # fmt: skip
    """Two tracks, static and dynamic INT8, each its settings most aggressive first (`INT8_LEVELS`)."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    fp32 = workdir / "fp32.onnx"
    pre = _preprocess(fp32, workdir / "fp32_pre.onnx", notes)
    nodes = _weighted_nodes(pre)
    if not nodes:
        raise InvalidInputError(f"{subject.name}: its ONNX graph has no weighted layer (Conv/Gemm/MatMul) to quantize")
    for kind in ("static", "dynamic"):
        note = _float_ops_note(nodes, kind)
        if note:
            notes.append(note)
    input_name = onnx.load(str(pre), load_external_data=False).graph.input[0].name
    ends = sorted({nodes[0][0], nodes[-1][0]})
    batch_size, op_types = CALIBRATION_BATCH, None  # None: every operator ORT's quantizer knows
    if subject.task == "detection":
        # The detector's graph takes one image per call, and only its weighted layers are quantized: its
        # post-processing (box decoding, score threshold, NMS) stays in float. With every operator quantized (ORT's
        # default), the FCOS graph crashed ONNX Runtime 1.32 with a segmentation fault at its first call.
        batch_size, op_types = 1, sorted({op for _, op in nodes})
        notes.append(f"detector: only its weighted layers ({', '.join(op_types)}) are quantized; box decoding and "
                     "NMS stay in float")  # fmt: skip

    class Reader(_TrainingBatches, CalibrationDataReader):  # ORT checks the base class
        pass

    def build(path: str, *, reduce_range: bool, exclude: list[str], calibration: str) -> Callable[[], Built]:
        def make() -> Built:
            tag = f"{path}{'_rr' if reduce_range else ''}{'_ends' if exclude else ''}_{calibration}"
            out = workdir / f"int8_{tag}.onnx"
            with quiet_quantizer():
                if path == "dynamic":
                    quantize_dynamic(str(pre), str(out), per_channel=True, reduce_range=reduce_range,
                                     weight_type=QuantType.QInt8, nodes_to_exclude=exclude,
                                     op_types_to_quantize=op_types)  # fmt: skip
                    return _onnx_built(out)
                percentile = calibration == "percentile"
                quantize_static(
                    str(pre), str(out), Reader(subject.train_set, input_name, calibration_samples, batch_size),
                    quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=reduce_range,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_exclude=exclude,
                    op_types_to_quantize=op_types,
                    calibrate_method=CalibrationMethod.Percentile if percentile else CalibrationMethod.MinMax,
                    extra_options={"CalibPercentile": CALIB_PERCENTILE} if percentile else {},
                )  # fmt: skip
            return _onnx_built(out)

        return make

    n_calib = min(calibration_samples, len(subject.train_set))  # type: ignore[arg-type]
    describe = {
        "static": f"onnxruntime static QDQ, per-channel s8 weights, u8 activations calibrated on {n_calib} training "
                  "samples",
        "dynamic": "onnxruntime dynamic, per-channel s8 weights, activations quantized per batch",
    }  # fmt: skip
    can_exclude = len(nodes) > 2  # with two weighted layers or fewer, nothing would be left to quantize

    def track(path: str) -> Iterator[Candidate]:
        for reduce_range, float_ends, calibration in INT8_LEVELS[path]:
            if float_ends and not can_exclude and calibration == "minmax":
                continue  # the same as the level before
            exclude = ends if float_ends and can_exclude else []
            words = [describe[path]]
            words += [f"{calibration} calibration"] if path == "static" else []
            words += ["7-bit weights (reduce_range)"] if reduce_range else []
            words += [f"first and last layers in float ({', '.join(exclude)})"] if exclude else []
            params: dict[str, Any] = {"path": path, "reduce_range": reduce_range, "float_layers": exclude}
            if path == "static":
                params.update(calibration=calibration, calibration_samples=n_calib)
            yield Candidate(
                ", ".join(words),
                params,
                build(path, reduce_range=reduce_range, exclude=exclude, calibration=calibration),
            )

    return [track("static"), track("dynamic")]


def _onnx_built(path: Path) -> Built:
    from ..deploy import file_size

    return Built(predict=onnx_predict(path), size_bytes=file_size(path), artifact=path)


def copy_onnx(src: Path, dst: Path) -> None:
    """Copy an .onnx file with its external data files (if the exporter wrote any)."""
    from ..deploy.export import onnx_external_files

    shutil.copyfile(src, dst)
    for f in onnx_external_files(src):
        shutil.copyfile(f, dst.parent / f.name)


# --------------------------------------------------------------------------------------------- half precision


def weighted_module_names(model: nn.Module) -> list[str]:
    """Names of Conv/Linear modules in definition order (first and last are the usual sensitive layers)."""
    kinds = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
    return [n for n, m in model.named_modules() if isinstance(m, kinds)]


def half_track(subject: Subject, method: str) -> Iterator[Candidate]:
    """The whole model in fp16/bf16; then, gentler, its first and last weighted layers kept in fp32."""
    dtype = HALF_DTYPES[method]

    def build(keep: list[str]) -> Callable[[], Built]:
        def make() -> Built:
            model = copy.deepcopy(subject.model).to(dtype).eval()
            keep_in_float(model, keep, dtype)
            return Built(predict=torch_predict(model, dtype), size_bytes=safetensors_size(model), artifact=model,
                         n_params=count_params(model), extra={"keep_float": keep})  # fmt: skip

        return make

    name = {"fp16": "float16", "bf16": "bfloat16"}[method]
    yield Candidate(f"PyTorch eager, all weights and activations {name}", {"dtype": name}, build([]))
    layers = weighted_module_names(subject.model)
    ends = sorted({layers[0], layers[-1]}) if layers else []
    if ends:
        yield Candidate(f"PyTorch eager {name}, first and last layers in float32 ({', '.join(ends)})",
                        {"dtype": name, "float_layers": ends}, build(ends))  # fmt: skip


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:200]
