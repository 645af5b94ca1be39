"""INT8 through ONNX Runtime and half precision: what must hold whatever the timings (size, accuracy, the files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from dlexpert.compress import compress, load_variant  # noqa: E402
from dlexpert.runs import load_run  # noqa: E402

REPORT_KEYS = {
    "size_bytes", "baseline_size_bytes", "accuracy", "baseline_accuracy", "latency_ms_p50", "latency_ms_p95",
    "baseline_latency_ms_p50", "throughput_samples_per_s", "throughput_batch_size", "format", "path", "tried",
}  # fmt: skip
ATTEMPT_KEYS = {"setting", "size_bytes", "accuracy", "latency_ms_p50", "kept", "why"}


def _onnx_accuracy(path: Path, run_dir: Path) -> float:
    from dlexpert.compress._measure import onnx_predict, test_score

    return test_score(onnx_predict(path), load_run(run_dir).datasets().test)


def test_int8_is_3x_smaller_than_fp32_within_one_point(cnn_run: Path, fast: Any) -> None:
    report = compress(cnn_run, method="int8", settings=fast)
    folder = cnn_run / "variants" / "int8"
    assert report.format == "onnx" and (folder / report.path).is_file()
    assert report.baseline_size_bytes == (cnn_run / "checkpoints" / "best.safetensors").stat().st_size
    assert report.size_bytes == (folder / "model.onnx").stat().st_size
    assert report.size_ratio >= 3.0  # fp32 -> int8 is 4x at most; the ONNX graph and scales take the rest
    assert report.met_max_drop and report.max_drop == 1.0
    assert report.accuracy_drop <= 1.0
    assert report.accuracy_drop == pytest.approx((report.baseline_accuracy - report.accuracy) * 100, abs=1e-3)
    # the saved file is what was measured: its test accuracy is the reported one
    assert _onnx_accuracy(folder / "model.onnx", cnn_run) == pytest.approx(report.accuracy)
    kept = [a for a in report.tried if a.kept]
    assert len(kept) == 1 and kept[0].accuracy == report.accuracy
    # both ONNX Runtime paths were measured, and the fp32 ONNX reference explains the speed-up
    assert {a.params["path"] for a in report.tried} == {"static", "dynamic"}
    assert report.reference["onnxruntime_fp32"]["accuracy"] == pytest.approx(report.baseline_accuracy, abs=2e-3)


def test_report_json_holds_every_key_of_the_contract(cnn_run: Path, fast: Any) -> None:
    if not (cnn_run / "variants" / "int8" / "report.json").is_file():
        compress(cnn_run, method="int8", settings=fast)
    data = json.loads((cnn_run / "variants" / "int8" / "report.json").read_text())
    assert set(data) >= REPORT_KEYS
    assert data["tried"] and all(set(a) >= ATTEMPT_KEYS for a in data["tried"])
    assert data["baseline_latency_ms_p50"] > 0 and data["latency_ms_p95"] >= data["latency_ms_p50"]
    assert data["throughput_batch_size"] in (1, 32)
    assert data["decision"] and data["assessment"]


@pytest.mark.parametrize("method", ["fp16", "bf16"])
def test_half_precision_halves_the_file_and_keeps_accuracy(mlp_run: Path, fast: Any, method: str) -> None:
    report = compress(mlp_run, method=method, settings=fast)
    assert report.format == "torch" and report.path == "model.pt2" and report.dtype in ("float16", "bfloat16")
    assert 1.9 <= report.size_ratio <= 2.05
    assert report.accuracy_drop <= 1.0
    if report.speedup_p50 < 1:  # the usual case on a CPU: the report must say so
        assert any("slower than fp32" in n for n in report.notes)
    folder = mlp_run / "variants" / method
    model = load_variant(folder)
    assert next(model.parameters()).dtype == getattr(torch, report.dtype)
    program = torch.export.load(str(folder / "model.pt2")).module()
    x = load_run(mlp_run).example_input(4).to(getattr(torch, report.dtype))
    assert torch.allclose(program(x).float(), model(x).float(), atol=1e-2)
