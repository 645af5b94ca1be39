"""What `compress` writes into `RUN_DIR/variants/NAME/report.json`: the kept variant beside the baseline, and every
attempt the feedback loop made on the way, each with its measurements and why it was kept or not.

The keys `format` ("onnx" | "torch"), `path` (relative to the variant folder), `dtype` and `dynamic_batch` are the
contract `dlexpert bench` reads (`dlexpert.deploy.find_variants`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Attempt", "Measurement", "VariantReport"]


class Measurement(BaseModel):
    """One model measured on this machine: test accuracy, batch-1 latency, and throughput at its best batch size."""

    model_config = ConfigDict(extra="forbid")

    size_bytes: int
    accuracy: float
    latency_ms_p50: float
    latency_ms_p95: float
    throughput_samples_per_s: float
    throughput_batch_size: int
    n_params: int | None = None
    # the baseline's batch-1 latency timed in rounds interleaved with this model's (same load), when measured so
    paired_baseline_ms_p50: float | None = None
    paired_baseline_ms_p95: float | None = None


class Attempt(BaseModel):
    """One setting the feedback loop tried: what it was, what it measured, and whether it was kept (and why)."""

    model_config = ConfigDict(extra="forbid")

    setting: str  # e.g. "onnxruntime static QDQ, per-channel, u8 activations / s8 weights, MinMax calibration"
    params: dict[str, Any]
    size_bytes: int
    accuracy: float
    accuracy_drop: float  # percentage points below the baseline (negative: the variant scored higher)
    latency_ms_p50: float
    latency_ms_p95: float
    speedup_p50: float  # eager fp32 p50 / this p50, both timed in interleaved rounds
    n_params: int | None = None  # torch variants (pruned, distilled): parameters left
    kept: bool
    why: str


class VariantReport(BaseModel):
    """The variant `compress` kept, measured beside the run's eager fp32 model, and the attempts that led there."""

    model_config = ConfigDict(extra="forbid")

    name: str  # the folder under RUN_DIR/variants/
    method: Literal["int8", "fp16", "bf16", "prune", "distill"]
    format: Literal["onnx", "torch"]
    path: str  # the model file, relative to the variant folder: model.onnx, or model.pt2 (torch.export program)
    dtype: str = "float32"  # what inputs are cast to before calling the model
    dynamic_batch: bool = True
    batch_size: int | None = None  # the batch the file runs at when not dynamic (1: a detector's graph)
    weights: str | None = None  # torch variants: model.safetensors, rebuilt by `load_variant` from rebuild.json
    # --- the kept variant beside the baseline (the run's best weights, eager PyTorch, fp32)
    size_bytes: int  # ONNX variants: the .onnx file; torch variants: the weights in safetensors, like the baseline
    baseline_size_bytes: int  # checkpoints/best.safetensors
    size_ratio: float  # baseline / variant (higher is smaller)
    accuracy: float  # on the run's test split (`metric`)
    baseline_accuracy: float
    accuracy_drop: float  # percentage points
    max_drop: float  # the accepted drop, in percentage points
    metric: str = "accuracy"  # what `accuracy` measures: top-1 accuracy, "miou" (segmentation) or "map" (detection)
    met_max_drop: bool
    latency_ms_p50: float  # batch 1, on this CPU; the quietest of several rounds (see MeasureSettings)
    latency_ms_p95: float
    baseline_latency_ms_p50: float  # timed in rounds interleaved with the variant's, under the same load
    baseline_latency_ms_p95: float
    speedup_p50: float  # baseline p50 / variant p50 (below 1: slower than eager fp32)
    throughput_samples_per_s: float  # at throughput_batch_size, the best of the batch sizes tried
    throughput_batch_size: int
    baseline_throughput_samples_per_s: float
    baseline_throughput_batch_size: int
    n_params: int | None = None
    baseline_n_params: int | None = None
    sparsity: float | None = None  # fraction of zero weights in the pruned layers (unstructured pruning)
    # --- context
    decision: str  # why the final choice stands
    assessment: str  # was compression needed at all (the plan's constraints against the baseline)
    notes: list[str] = []
    reference: dict[str, Any] = {}  # other measured points that explain the result (e.g. ONNX Runtime fp32)
    tried: list[Attempt]
    threads: int
    test_samples: int
    load_average: list[float] | None = None
    seconds: float = 0.0
