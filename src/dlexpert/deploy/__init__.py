"""Export a trained model (ONNX, TorchScript, and the runtimes that build on ONNX) and benchmark it across backends.

Public API (stable: `compress/` and the benchmarks call it):

Export (`dlexpert.deploy.export`):
    `export_onnx(model, example, path, *, opset=None, dynamic_batch=False, exporter="auto", parity_inputs=None,
    tolerance=1e-4) -> ExportResult`: `torch.onnx.export` (the dynamo exporter first, the TorchScript-based one when
    dynamo fails or the opset is below 18), `onnx.checker`, then parity against eager PyTorch under ONNX Runtime.
    The file (and its external data, `model.onnx.data`, when the exporter writes one) appears atomically.
    `export_torchscript(model, example, path, *, parity_inputs=None, tolerance=1e-4) -> ExportResult` (TorchScript
    is deprecated upstream; the report says so) and `export_torch_program(model, example, path, *, dynamic_batch=True)
    -> ExportResult` (`torch.export` to a `.pt2` file).
    `export_detector_onnx(model, example, path, *, opset=None, parity_inputs=None) -> ExportResult`: a torchvision
    detector with its post-processing (box decoding, NMS) as one graph, one image (1, C, H, W) in, boxes/scores/labels
    out (`deploy.detector`); parity matches boxes one by one (IoU >= 0.99, same label, scores within 1e-4).
    `check_parity(model, artifact, inputs, *, tolerance=1e-4) -> ParityResult`: `artifact` is an `.onnx` path, a
    TorchScript/`.pt2` path, or any callable; `inputs` a tensor or a list of batches. Reports max and mean |diff|.
    `file_size(path) -> int`: bytes on disk, counting an ONNX model's external data files.
    `supported_opsets() -> OpsetRange`: what the installed exporters and ONNX Runtime can write and run.
    `export_model(source, *, to, opset, dynamic_batch, out_dir, input_shape) -> ExportResult`: the `export` stage
    (RUN_DIR or MODEL spec in, `variants/<to>/model.*` and `report.json` out).
    `list_export_formats() -> list[ExportFormat]`: every `--to` target, with the package it needs and whether it is
    installed.

Benchmark (`dlexpert.deploy.bench`):
    `measure_latency(fn, inputs, *, warmup=3, iters=30, max_time_s=None) -> dict`: calls `fn(inputs)`; returns
    `{"p50_ms", "p95_ms", "p99_ms", "mean_ms", "min_ms", "std_ms", "n_iters", "total_s"}`.
    `onnx_session(path, threads=1) -> onnxruntime.InferenceSession` (CPUExecutionProvider, intra-op threads fixed,
    inter-op 1, sequential execution) and `onnx_runner(session) -> callable(tensor) -> numpy array`.
    `benchmark(source, *, batch_sizes=(1, 8, 32), threads=None, backends=None, ...) -> BenchReport`: the `bench`
    stage; `BenchReport.to_dict()` is `{"results": [row, ...], "expected_latency", "requirement", ...}`.
    `find_variants(run_dir) -> list[Variant]`: what `RUN_DIR/variants/*/report.json` describes.

Sources (`resolve_source(source, *, input_shape=None) -> Source`): a run directory (`load_run`: best weights, real
test inputs), or a model spec built without pretrained weights — `torchvision:resnet18`, `timm:resnet18`,
`dlexpert:cnn1d` (random init; input 3x224x224 unless `input_shape` is given; inputs are seeded Gaussian noise) —
or an existing `.onnx` file (benchmark only).

The variant contract (`dlexpert.deploy.variants`: what `compress` and `export` write so that `bench` picks it up):
`RUN_DIR/variants/NAME/report.json` with `"format": "onnx"` or `"torch"` and `"path"` (relative to the variant
folder, or absolute). A `"torch"` file is loaded as TorchScript (`torch.jit.save`), as a `torch.export` program
(`.pt2`), or, for `.safetensors`, as weights for the run's own architecture; pickled modules are not loaded (nothing
in a run directory is unpickled). Optional keys: `"dtype"` (`"float16"`/`"bfloat16"`: inputs are cast to it),
`"dynamic_batch"` (false: the file only runs at `"batch_size"`).

Example:
    >>> from dlexpert.deploy import export_onnx, check_parity, measure_latency, onnx_session  # doctest: +SKIP
    >>> res = export_onnx(model, x, "out/model.onnx", dynamic_batch=True)  # doctest: +SKIP
    >>> res.parity.max_abs_diff <= 1e-4, res.size_bytes  # doctest: +SKIP
    >>> sess = onnx_session("out/model.onnx", threads=1)  # doctest: +SKIP
    >>> measure_latency(onnx_runner(sess), x, warmup=5, iters=50)["p50_ms"]  # doctest: +SKIP
"""

from __future__ import annotations

from ._source import Source, resolve_source
from .bench import BenchReport, Variant, benchmark, find_variants, measure_latency, onnx_runner, onnx_session
from .export import (
    ExportFormat,
    ExportResult,
    OpsetRange,
    ParityResult,
    check_parity,
    export_model,
    export_onnx,
    export_torch_program,
    export_torchscript,
    file_size,
    list_export_formats,
    supported_opsets,
)

__all__ = [
    "BenchReport",
    "ExportFormat",
    "ExportResult",
    "OpsetRange",
    "ParityResult",
    "Source",
    "Variant",
    "benchmark",
    "check_parity",
    "export_model",
    "export_onnx",
    "export_torch_program",
    "export_torchscript",
    "file_size",
    "find_variants",
    "list_export_formats",
    "measure_latency",
    "onnx_runner",
    "onnx_session",
    "resolve_source",
    "supported_opsets",
]
