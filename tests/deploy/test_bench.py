"""Benchmarks: the timing helper's statistics, the JSON document, variants found by their report.json, the verdict
against the task's latency requirement and the plan's estimate. No wall-clock time is asserted beyond sleeps."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from dlexpert.deploy import (  # noqa: E402
    BenchReport,
    benchmark,
    export_onnx,
    export_torchscript,
    find_variants,
    measure_latency,
    onnx_runner,
    onnx_session,
)
from dlexpert.deploy.bench import _judge, latency_stats  # noqa: E402
from dlexpert.errors import InvalidInputError  # noqa: E402
from dlexpert.runs import load_run  # noqa: E402

ROW_KEYS = {"backend", "batch_size", "latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "throughput",
            "peak_mem_mb", "threads"}  # fmt: skip


def test_measure_latency_times_each_call_in_milliseconds() -> None:
    calls: list[int] = []

    def sleepy(x: int) -> None:
        calls.append(x)
        time.sleep(0.004)

    stats = measure_latency(sleepy, 7, warmup=2, iters=6)
    assert len(calls) == 8 and set(calls) == {7} and stats["n_iters"] == 6
    assert 4.0 <= stats["min_ms"] <= stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"] < 1000
    assert len(stats["samples_ms"]) == 6


def test_measure_latency_stops_at_its_time_budget_but_not_before_min_iters() -> None:
    stats = measure_latency(lambda _: time.sleep(0.02), None, warmup=0, iters=1000, max_time_s=0.05, min_iters=3)
    assert 3 <= stats["n_iters"] <= 10
    assert measure_latency(lambda _: None, None, warmup=0, iters=5, max_time_s=1e-9, min_iters=4)["n_iters"] == 4


def test_latency_stats_percentiles() -> None:
    st = latency_stats([float(v) for v in range(1, 101)])
    assert st["p50_ms"] == pytest.approx(50.5) and st["p95_ms"] == pytest.approx(95.05)
    assert st["p99_ms"] == pytest.approx(99.01) and st["mean_ms"] == pytest.approx(50.5)


def test_onnx_session_fixes_its_threads_and_runs(run_dir: Path, tmp_path: Path) -> None:
    run = load_run(run_dir)
    res = export_onnx(run.model, run.example_input(2), tmp_path / "m.onnx", exporter="torchscript", dynamic_batch=True)
    sess = onnx_session(res.path, threads=1)
    assert sess.get_session_options().intra_op_num_threads == 1
    assert sess.get_providers() == ["CPUExecutionProvider"]
    assert onnx_runner(sess)(run.example_input(5)).shape == (5, 10)
    with pytest.raises(InvalidInputError, match="ONNX Runtime cannot load it"):
        onnx_session(tmp_path / "missing.onnx")


def test_bench_json_has_one_row_per_backend_and_batch(fresh_run: Path) -> None:
    report = benchmark(fresh_run, batch_sizes=(1, 4), threads=1, backends=["eager", "onnxruntime"], warmup=1,
                       iters=5, onnx_exporter="torchscript")  # fmt: skip
    doc = report.to_dict()
    assert [(r["backend"], r["batch_size"]) for r in doc["results"]] == [
        ("eager", 1), ("eager", 4), ("onnxruntime", 1), ("onnxruntime", 4)
    ]  # fmt: skip
    for row in doc["results"]:
        assert set(row) >= ROW_KEYS and not row.get("error"), row
        assert 0 < row["latency_ms_p50"] <= row["latency_ms_p95"] <= row["latency_ms_p99"]
        assert row["throughput"] == pytest.approx(row["batch_size"] / row["latency_ms_p50"] * 1000, rel=1e-3)
        assert row["threads"] == 1 and row["n_iters"] == 5 and row["peak_mem_mb"] >= 0
    ort_rows = [r for r in doc["results"] if r["backend"] == "onnxruntime"]
    assert all(r["max_abs_diff"] <= 1e-4 for r in ort_rows)
    assert doc["requirement"]["max_ms"] == 10.0 and doc["requirement"]["batch_size"] == 1  # task.yaml: "<10ms"
    assert doc["expected_latency"]["ms"] > 0 and "measured_eager_p50_ms" in doc["expected_latency"]
    assert doc["threads"] == 1 and "RSS" in doc["memory_method"] and doc["inputs"].startswith("real inputs")
    assert json.loads((fresh_run / "bench.json").read_text()) == json.loads(json.dumps(doc))
    assert report.best_speedup(1)[1] >= 1.0


def test_variants_are_found_by_their_report_and_benchmarked(fresh_run: Path) -> None:
    run = load_run(fresh_run)
    variants = fresh_run / "variants"
    # compress writes e.g. variants/int8/model.onnx (here: an fp32 file with a fixed batch of 1, as a stand-in) ...
    export_onnx(run.model, run.example_input(1), variants / "int8" / "model.onnx", exporter="torchscript")
    (variants / "int8" / "report.json").write_text(json.dumps({"format": "onnx", "path": "model.onnx",
                                                              "dynamic_batch": False, "batch_size": 1}))  # fmt: skip
    # ... or a torch file; and a pickled module, which is refused rather than unpickled.
    export_torchscript(run.model, run.example_input(1), variants / "ts" / "model.pt")
    (variants / "ts" / "report.json").write_text(json.dumps({"format": "torch", "path": "model.pt"}))
    (variants / "pickled").mkdir()
    torch.save(run.model, variants / "pickled" / "model.pth")
    (variants / "pickled" / "report.json").write_text(json.dumps({"format": "torch", "path": "model.pth"}))
    (variants / "junk").mkdir()
    (variants / "junk" / "report.json").write_text("{not json")
    assert [v.name for v in find_variants(fresh_run)] == ["int8", "pickled", "ts"]

    report = benchmark(fresh_run, batch_sizes=(1, 2), threads=1, backends=["eager", "variants"], warmup=1, iters=3)
    rows = {(r["backend"], r["batch_size"]): r for r in report.results}
    assert rows[("variant:int8", 1)]["max_abs_diff"] <= 1e-4 and rows[("variant:int8", 1)]["size_mb"] > 0
    assert "fixed batch of 1" in rows[("variant:int8", 2)]["error"]
    assert rows[("variant:ts", 2)]["latency_ms_p50"] > 0 and rows[("variant:ts", 2)]["max_abs_diff"] <= 1e-4
    assert "not TorchScript" in rows[("variant:pickled", 1)]["error"]


def test_an_onnx_file_is_benchmarked_on_its_own(run_dir: Path, tmp_path: Path) -> None:
    run = load_run(run_dir)
    res = export_onnx(run.model, run.example_input(2), tmp_path / "m.onnx", exporter="torchscript", dynamic_batch=True)
    report = benchmark(res.path, batch_sizes=(3,), threads=1, backends=["eager", "onnxruntime"], warmup=0, iters=3)
    assert [(r["backend"], r["batch_size"]) for r in report.results] == [("onnxruntime", 3)]
    assert report.to_dict()["input_shape"] == [1, 40] and report.best_speedup(3) is None
    assert not (tmp_path / "bench.json").exists()  # a file is not a run: bench.json only where --out says


def test_the_fastest_backend_within_the_requirement_is_marked() -> None:
    def row(backend: str, b: int, p50: float, p95: float) -> dict:
        return {"backend": backend, "batch_size": b, "latency_ms_p50": p50, "latency_ms_p95": p95}

    results = [row("eager", 1, 8.0, 12.0), row("onnxruntime", 1, 3.0, 9.0), row("compile", 1, 2.0, 20.0),
               row("onnxruntime", 32, 1.0, 1.0)]  # fmt: skip
    requirement = {"text": "p95 <10ms", "max_ms": 10.0, "batch_size": 1, "compared_on": "latency_ms_p95"}
    expected = {"ms": 4.0, "range_ms": [2.0, 12.0], "batch_size": 1}
    rep = BenchReport(source="x", results=results, threads=1, requirement=requirement, expected_latency=expected)
    _judge(rep)
    assert rep.fastest_meeting_requirement == "onnxruntime"  # compile has the best p50 but misses at p95
    assert [r.get("meets_requirement") for r in results] == [False, True, False, None]
    assert rep.expected_latency["measured_over_expected"] == 2.0 and rep.expected_latency["within_range"]
    assert rep.best_speedup(1) == ("compile", 4.0)


def test_bad_arguments_are_one_line_errors(run_dir: Path) -> None:
    with pytest.raises(InvalidInputError, match="unknown nope"):
        benchmark(run_dir, backends=["eager", "nope"])
    with pytest.raises(InvalidInputError, match="positive integers"):
        benchmark(run_dir, batch_sizes=(0, 8))


@pytest.mark.slow
def test_torch_compile_reports_its_cold_compile_apart(fresh_run: Path) -> None:
    report = benchmark(fresh_run, batch_sizes=(1,), threads=1, backends=["eager", "compile"], warmup=1, iters=5)
    row = next(r for r in report.results if r["backend"] == "compile")
    assert not row.get("error"), row
    assert row["compile_s"] > 0.5 and row["latency_ms_p50"] * 1e-3 < row["compile_s"]
    assert row["max_abs_diff"] <= 1e-4


def test_a_shipped_baseline_that_cannot_be_timed_here_says_why(tmp_path: Path) -> None:
    from dlexpert.deploy.bench import _deliverable_runner
    from dlexpert.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="reads raw text"):
        _deliverable_runner(tmp_path, "text")
    with pytest.raises(InvalidInputError, match="predates `layout`; run evaluate again"):
        _deliverable_runner(tmp_path, None)
