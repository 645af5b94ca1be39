"""`dlexpert export` and `dlexpert bench` through the command line: one JSON document on stdout, and every bad input
a single `error:` line with exit code 2, never a traceback. The issue's bad inputs run as real subprocesses
(`dlexpert`); the argument checks run in process through typer's CliRunner (the same app, without a torch import
per case on a 2-core machine)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from dlexpert.deploy import list_export_formats  # noqa: E402

from ..cli.test_cli import in_process as cli  # noqa: E402  (the command in this process, shaped like a subprocess)

DLEXPERT = [sys.executable, "-m", "dlexpert.cli.main"]


def dlexpert(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "OMP_NUM_THREADS": "1"}
    return subprocess.run([*DLEXPERT, *args], capture_output=True, text=True, timeout=timeout, env=env)


def one_error_line(r: subprocess.CompletedProcess[str], *needles: str, code: int = 2) -> str:
    assert r.returncode == code, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_export_json_then_bench_json(fresh_run: Path) -> None:
    r = dlexpert("export", str(fresh_run), "--to", "onnx", "--exporter", "torchscript", "--dynamic-batch",
                 "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["path"] == str(fresh_run / "variants" / "onnx" / "model.onnx") and doc["exporter"] == "torchscript"
    assert doc["max_abs_diff"] <= 1e-4 and doc["parity"]["passed"] and doc["dynamic_batch"]
    r = cli("bench", str(fresh_run), "--batch-sizes", "1,8", "--threads", "1", "--backends", "eager,onnxruntime",
                 "--iters", "5", "--warmup", "1", "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [(x["backend"], x["batch_size"]) for x in doc["results"]] == [
        ("eager", 1), ("eager", 8), ("onnxruntime", 1), ("onnxruntime", 8)
    ]  # fmt: skip
    assert all(x["threads"] == 1 and x["latency_ms_p50"] > 0 for x in doc["results"])
    assert doc["requirement"]["text"] == "<10ms" and doc["expected_latency"]["ms"] > 0
    assert json.loads((fresh_run / "bench.json").read_text())["results"] == doc["results"]


def test_bench_table_marks_the_fastest_within_the_requirement(run_dir: Path, tmp_path: Path) -> None:
    r = cli("bench", str(run_dir), "--batch-sizes", "1", "--threads", "1", "--backends", "eager", "--iters", "3",
                 "--out", str(tmp_path))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "* fastest within the requirement" in r.stderr and "plan expected" in r.stderr
    assert "requirement '<10ms'" in r.stderr and "fastest backend meeting it: eager" in r.stderr
    assert (tmp_path / "bench.json").is_file() and not (run_dir / "bench.json").exists()


def test_a_run_without_a_trained_model(fresh_run: Path) -> None:
    (fresh_run / "checkpoints" / "best.safetensors").unlink()
    one_error_line(dlexpert("export", str(fresh_run)), "no trained model", "best.safetensors")
    one_error_line(cli("bench", str(fresh_run)), "no trained model")


def test_a_missing_run_directory(tmp_path: Path) -> None:
    one_error_line(cli("export", str(tmp_path / "nope")), "no such run directory", "torchvision:NAME")


def test_an_unsupported_opset_names_the_supported_range(run_dir: Path) -> None:
    line = one_error_line(dlexpert("export", str(run_dir), "--opset", "3"), "--opset 3 is not supported")
    assert "onnxruntime" in line and "use --opset 7.." in line


@pytest.mark.parametrize("fmt", [f.name for f in list_export_formats() if not f.available][:2] or ["none-missing"])
def test_a_format_whose_package_is_missing_names_it(fmt: str, run_dir: Path) -> None:
    if fmt == "none-missing":
        pytest.skip("every export format's package is installed here")
    spec = next(f for f in list_export_formats() if f.name == fmt)
    line = one_error_line(dlexpert("export", str(run_dir), "--to", fmt), f"`{spec.install}`", spec.modules[0])
    assert str(run_dir / "variants" / "onnx" / "model.onnx") in line and not (run_dir / "variants" / fmt).exists()


def test_openvino_says_pip_install_openvino_then_ovc(run_dir: Path) -> None:
    spec = next(f for f in list_export_formats() if f.name == "openvino")
    if spec.available:
        pytest.skip("openvino is installed")
    one_error_line(dlexpert("export", str(run_dir), "--to", "openvino"), "pip install openvino", "ovc ")


def test_unknown_format_model_and_library(tmp_path: Path) -> None:
    keras = cli("export", "torchvision:resnet18", "--to", "keras")
    one_error_line(keras, "unknown export format 'keras'; choose one of:", "coreml, onnx, openvino")
    one_error_line(cli("export", "torchvision:resnet181", "--out", str(tmp_path)), "unknown model", "resnet18")
    one_error_line(cli("export", "keras:resnet18"), "unknown model library", "torchvision")


def test_a_model_spec_needs_out(tmp_path: Path) -> None:
    one_error_line(cli("export", "torchvision:resnet18"), "--out DIR")
    one_error_line(cli("export", str(tmp_path / "m.onnx")), "already an ONNX model")
    one_error_line(cli("export", "timm:resnet18", "--input-shape", "3,two"), "--input-shape")


def test_bench_rejects_bad_batch_sizes_and_backends(run_dir: Path) -> None:
    one_error_line(cli("bench", str(run_dir), "--batch-sizes", "0,8"), "--batch-sizes")
    one_error_line(cli("bench", str(run_dir), "--batch-sizes", "a"), "--batch-sizes")
    one_error_line(cli("bench", str(run_dir), "--backends", "eager,tvm"), "unknown tvm", "onnxruntime-int8")


def test_an_export_failure_is_one_line_with_the_operator(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both exporters fail (as on an operator ONNX lacks): exit 2, the operator, the workarounds, no traceback."""
    dynamo_error = (
        "Failed to convert the exported program to an ONNX model.\n## Exception summary\n"
        "DispatchError: No ONNX function found for <OpOverload(op='aten.stft', overload='default')>"
    )

    def fail(*args: object, dynamo: bool = True, **kwargs: object) -> None:
        if dynamo:
            raise RuntimeError(dynamo_error)
        raise RuntimeError("Exporting the operator 'aten::stft' to ONNX opset version 20 is not supported.")

    monkeypatch.setattr(torch.onnx, "export", fail)
    line = one_error_line(cli("export", str(run_dir), "--to", "onnx", "--format", "json"), "aten::stft", "--opset")
    assert "--to torchscript" in line and not (run_dir / "variants" / "onnx" / "model.onnx").exists()


@pytest.mark.slow
def test_resnet18_through_the_command_line(tmp_path: Path) -> None:
    r = dlexpert("export", "torchvision:resnet18", "--out", str(tmp_path), "--dynamic-batch", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["max_abs_diff"] <= 1e-4 and doc["size_bytes"] > 40e6
    r = dlexpert("bench", str(tmp_path / "onnx" / "model.onnx"), "--batch-sizes", "1", "--threads", "1", "--iters",
                 "3", "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert {x["backend"] for x in json.loads(r.stdout)["results"]} == {"onnxruntime", "onnxruntime-int8"}
    shutil.rmtree(tmp_path)
