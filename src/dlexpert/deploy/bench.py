"""Latency, throughput and memory of one model across backends, on the same inputs, with thread counts fixed.

Backends: PyTorch eager fp32 (`eager`), `torch.compile` (`compile`: cold compile time reported apart, only warm calls
timed), ONNX Runtime fp32 (`onnxruntime`: `RUN_DIR/variants/onnx` when it has a dynamic batch, else exported on the
fly into a temporary folder), ONNX Runtime with dynamic int8 quantization made on the fly (`onnxruntime-int8`: weights
int8, activations quantized per call; its accuracy is not checked here — `dlexpert compress` makes the checked int8
variant), every variant under `RUN_DIR/variants/*/` (`variant:NAME`, read from its `report.json`), and the run's
shipped baseline when a baseline won Step 4 (`deliverable`: the scikit-learn or aeon estimator of evaluation.json's
`deliverable`, predicting on the same inputs; a different model, so no output parity).

How a number is made: each call is timed alone with `time.perf_counter_ns` after warm-up calls; p50/p95/p99 are over
all timed calls (pooled across `repeats`, which are interleaved across backends so that load on a shared machine
falls on all of them alike); throughput is batch size / p50. Peak memory is the rise of the process's resident set
size (RSS, sampled every few ms) over its value before the backend was built, during its build and its first
measurement at each batch size: it includes the backend's copy of the weights and its buffers, not memory an
earlier backend freed and this one reused.

Example:
    >>> stats = measure_latency(lambda x: model(x), x, warmup=5, iters=50)  # doctest: +SKIP
    >>> stats["p50_ms"], stats["p95_ms"]  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._io import atomic_write_text
from ..errors import DlexpertError, InvalidInputError
from ..rundir import RunDir
from ._ort import file_runner, onnx_runner, onnx_session, quiet_quantizer
from ._source import Source, resolve_source
from .export import _quiet_logs
from .variants import Variant, find_variants, load_variant

__all__ = [
    "BACKENDS",
    "BenchReport",
    "Variant",
    "benchmark",
    "find_variants",
    "latency_stats",
    "measure_latency",
    "onnx_runner",
    "onnx_session",
]

BACKENDS = ("eager", "compile", "onnxruntime", "onnxruntime-int8", "variants", "deliverable")
MEMORY_METHOD = (
    "peak RSS rise over the process RSS before the backend was built, sampled every 5 ms during its build and first "
    "measurement at each batch size (includes its weights copy; eager's weights are resident before, so its figure "
    "is activations and workspace only; excludes memory an earlier backend freed)"
)


# --------------------------------------------------------------------------------------------- timing


def latency_stats(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean/min/std (ms) of timed calls; percentiles by linear interpolation (numpy's default)."""
    import numpy as np

    a = np.asarray(samples_ms, dtype=np.float64)
    if a.size == 0:
        raise ValueError("no timed calls")
    p50, p95, p99 = (float(v) for v in np.percentile(a, [50, 95, 99]))
    return {
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "mean_ms": float(a.mean()),
        "min_ms": float(a.min()),
        "std_ms": float(a.std()),
        "n_iters": int(a.size),
    }


def measure_latency(
    fn: Callable[[Any], Any],
    inputs: Any,
    *,
    warmup: int = 3,
    iters: int = 30,
    max_time_s: float | None = None,
    min_iters: int = 3,
) -> dict[str, Any]:
    """Call `fn(inputs)` `warmup` times untimed, then up to `iters` times timed, one call per sample.

    `max_time_s` stops the timed loop early (after at least `min_iters` calls) so a slow model does not take
    minutes. Returns `latency_stats` plus `total_s` and the raw `samples_ms`.

    Example:
        >>> measure_latency(lambda x: x * 2, 3, warmup=1, iters=5)["n_iters"]
        5
    """
    for _ in range(max(0, warmup)):
        fn(inputs)
    samples: list[float] = []
    start = time.perf_counter()
    for i in range(max(1, iters)):
        t0 = time.perf_counter_ns()
        fn(inputs)
        samples.append((time.perf_counter_ns() - t0) / 1e6)
        if max_time_s is not None and i + 1 >= min_iters and time.perf_counter() - start >= max_time_s:
            break
    return {**latency_stats(samples), "total_s": time.perf_counter() - start, "samples_ms": samples}


# --------------------------------------------------------------------------------------------- memory


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        try:
            import psutil

            return int(psutil.Process().memory_info().rss)
        except Exception:
            return None


class _PeakRSS:
    """Samples RSS in a background thread while active; `peak` is the highest value seen."""

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.peak = _rss_bytes() or 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _PeakRSS:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()

    def _sample(self) -> None:
        rss = _rss_bytes()
        if rss is not None and rss > self.peak:
            self.peak = rss

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)


# --------------------------------------------------------------------------------------------- variants


def _load_torch_variant(v: Variant, src: Source) -> Any:
    """A `torch.export` program (.pt2), TorchScript, or safetensors weights: with the variant's `rebuild.json`
    through `load_variant` (pruned or distilled shapes), else into the run's architecture.
    Pickled modules are refused: nothing in a run directory is unpickled."""
    import torch

    if v.path.suffix == ".pt2":
        return torch.export.load(str(v.path)).module()
    if v.path.suffix == ".safetensors":
        if (v.path.parent / "rebuild.json").is_file():
            return load_variant(v.path.parent)
        if src.run is None:
            raise DlexpertError("safetensors weights need the run's architecture")
        from ..engine import load_weights
        from ..runs import rebuild_model

        model = rebuild_model(src.run.config)
        model.load_state_dict(load_weights(v.path))
        return model.eval()
    try:
        with _quiet_logs():
            return torch.jit.load(str(v.path), map_location="cpu")
    except Exception:
        raise DlexpertError(
            f"{v.path}: not TorchScript; save torch variants with torch.jit.save or torch.export.save (.pt2)"
        ) from None


# --------------------------------------------------------------------------------------------- report


@dataclass
class BenchReport:
    """What `dlexpert bench` measured. `to_dict()` is the JSON document (`results` rows + context)."""

    source: str
    results: list[dict[str, Any]]
    threads: int
    expected_latency: dict[str, Any] | None = None
    requirement: dict[str, Any] | None = None
    fastest_meeting_requirement: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "results": self.results,
            "expected_latency": self.expected_latency,
            "requirement": self.requirement,
            "fastest_meeting_requirement": self.fastest_meeting_requirement,
            "threads": self.threads,
            **self.context,
            "notes": self.notes,
        }

    def best_speedup(self, batch_size: int) -> tuple[str, float] | None:
        """(backend, eager p50 / backend p50) of the fastest backend at `batch_size`; None without an eager row."""
        rows = [r for r in self.results if r["batch_size"] == batch_size and r.get("latency_ms_p50")]
        eager = next((r for r in rows if r["backend"] == "eager"), None)
        if eager is None or not rows:
            return None
        best = min(rows, key=lambda r: r["latency_ms_p50"])
        return best["backend"], eager["latency_ms_p50"] / best["latency_ms_p50"]


def _expected_latency(run_dir: Path | None) -> dict[str, Any] | None:
    """The plan's batch-1 latency estimate as bench.json's `expected_latency`: `text` (the plan's sentence, with its
    basis and source), `ms`, `range_ms` [low, high] and `batch_size`. The numbers are decisions.json's
    `estimates.latency_ms`; None when the run has no plan, or the plan made no latency estimate."""
    if run_dir is None:
        return None
    run = RunDir(run_dir)
    if not run.has(RunDir.DECISIONS):
        return _expected_latency_from_text(run)
    try:
        estimates = run.decisions().estimates
    except InvalidInputError:
        return None  # as an unreadable plan.json always was: bench measures all the same, without the comparison
    lat = estimates.latency_ms
    if lat is None:
        return None
    text = _plan_latency_sentence(run)
    if text is None:  # a plan.json edited or removed since: say the same from the values
        device = f" on {estimates.latency_device}" if estimates.latency_device else ""
        text = f"{lat.value:.3g} ms (range {lat.low:.3g}-{lat.high:.3g} ms; {lat.basis}) at batch 1{device}"
    # `Estimates.latency_ms` is at batch 1 on the inference device
    return {"text": text, "ms": lat.value, "range_ms": [lat.low, lat.high], "batch_size": 1}


def _plan_latency_sentence(run: RunDir) -> str | None:
    """plan.json's `expectedPerformance.inferenceLatency`: the estimate in words, for people (never parsed here)."""
    if not run.has(RunDir.PLAN):
        return None
    try:
        expected = run.plan().expectedPerformance
    except InvalidInputError:
        return None
    return expected.inferenceLatency if expected is not None else None


# --- fallback for runs made before decisions.json existed: the numbers are parsed back out of plan.json's sentence.
# A run with decisions.json never takes this path; remove it when such runs no longer need benchmarking.

_LATENCY_RE = re.compile(r"(\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*(ms|s|µs|us)\b", re.IGNORECASE)
_RANGE_RE = re.compile(r"range\s+(\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*-\s*(\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*(ms|s|µs|us)\b")


def _to_ms(value: str, unit: str) -> float:
    return float(value) * {"ms": 1.0, "s": 1000.0, "µs": 1e-3, "us": 1e-3}[unit.lower()]


def _expected_latency_from_text(run: RunDir) -> dict[str, Any] | None:
    """Fallback (runs without decisions.json): plan.json's `expectedPerformance.inferenceLatency` sentence and the
    numbers in it, read as raw JSON because an older plan.json need not validate as today's `Plan`."""
    if not run.has(RunDir.PLAN):
        return None
    try:
        plan = json.loads((run / RunDir.PLAN).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    text = ((plan.get("expectedPerformance") or {}).get("inferenceLatency")) or None
    if not text:
        return None
    out: dict[str, Any] = {"text": text, "ms": None, "range_ms": None, "batch_size": 1}
    m = _LATENCY_RE.search(text)
    if m:
        out["ms"] = _to_ms(m.group(1), m.group(2))
    r = _RANGE_RE.search(text)
    if r:
        out["range_ms"] = [_to_ms(r.group(1), r.group(3)), _to_ms(r.group(2), r.group(3))]
    b = re.search(r"at batch (\d+)", text)
    if b:
        out["batch_size"] = int(b.group(1))
    return out


def _requirement(run_dir: Path | None) -> dict[str, Any] | None:
    """task.yaml's `constraints.latencyRequirement`, parsed (max ms, percentile, batch size)."""
    if run_dir is None or not (run_dir / RunDir.TASK).is_file():
        return None
    import yaml

    try:
        task = yaml.safe_load((run_dir / RunDir.TASK).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    text = (task.get("constraints") or {}).get("latencyRequirement") if isinstance(task, dict) else None
    if not text:
        return None
    from ..schema import parse_latency

    try:
        lat = parse_latency(str(text))
    except ValueError as e:
        return {"text": str(text), "max_ms": None, "error": str(e)}
    pct = lat.percentile or 50
    key = "latency_ms_p50" if pct <= 50 else "latency_ms_p95" if pct <= 95 else "latency_ms_p99"
    return {
        "text": str(text),
        "max_ms": lat.max_ms,
        "percentile": lat.percentile,
        "batch_size": lat.batch_size,
        "hardware": lat.hardware,
        "compared_on": key,
    }


# --------------------------------------------------------------------------------------------- the stage


@dataclass
class _Backend:
    name: str
    build: Callable[[], Callable[[Any], Any]]
    cast: Callable[[Any], Any] | None = None
    fixed_batch: int | None = None
    fn: Callable[[Any], Any] | None = None
    build_s: float | None = None
    error: str | None = None
    rss_before: int | None = None
    size_bytes: int | None = None
    notes: list[str] = field(default_factory=list)
    compiled_batches: set[int] = field(default_factory=set)


def benchmark(
    source: str | Path | Source,
    *,
    batch_sizes: Sequence[int] = (1, 8, 32),
    threads: int | None = None,
    backends: Sequence[str] | None = None,
    warmup: int = 3,
    iters: int = 50,
    max_time_s: float = 2.0,
    repeats: int = 1,
    input_shape: tuple[int, ...] | None = None,
    out: str | Path | None = None,
    onnx_exporter: str = "auto",
    onnx_model: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    save: bool = True,
) -> BenchReport:
    """The `bench` stage: time every backend at every batch size on the same inputs; write `bench.json`.

    `backends` picks from `BACKENDS` (default: all; "variants" means every `RUN_DIR/variants/*`). `threads` fixes
    `torch.set_num_threads` and ORT's intra-op threads (default: torch's current setting). `out` is where
    bench.json goes (default: the run directory; nowhere for a model spec). `onnx_model` is an fp32 ONNX export of
    the same model with a dynamic batch to time as `onnxruntime` (default: `RUN_DIR/variants/onnx` when it has a
    dynamic batch, else exported now with `onnx_exporter`). `save=False` writes no bench.json (`evaluate` times
    the model this way without replacing a full `bench` report).

    Example:
        >>> report = benchmark("runs/m1", batch_sizes=(1, 32), backends=["eager", "onnxruntime"])  # doctest: +SKIP
        >>> report.best_speedup(1)  # doctest: +SKIP
        ('onnxruntime', 3.2)
    """
    import torch

    chosen = list(backends) if backends is not None else list(BACKENDS)
    unknown = [b for b in chosen if b not in BACKENDS]
    if unknown:
        raise InvalidInputError(f"--backends: unknown {', '.join(unknown)}; expected some of {', '.join(BACKENDS)}")
    sizes = sorted({int(b) for b in batch_sizes})
    if not sizes or sizes[0] < 1:
        raise InvalidInputError(f"--batch-sizes: expected positive integers such as 1,8,32; got {list(batch_sizes)}")
    src = source if isinstance(source, Source) else resolve_source(source, input_shape=input_shape)
    n_threads = int(threads) if threads else torch.get_num_threads()
    if n_threads < 1:
        raise InvalidInputError(f"--threads: expected a positive integer; got {threads}")
    say = progress or (lambda _msg: None)
    old_threads = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    tmp = tempfile.TemporaryDirectory(prefix="dlexpert-bench-")
    try:
        plan = _plan_backends(src, chosen, n_threads, Path(tmp.name), onnx_exporter, say, onnx_model)
        inputs = {b: src.inputs(b) for b in sizes}
        eager = next((be for be in plan if be.name == "eager"), None)
        samples: dict[tuple[str, int], list[float]] = {}
        rows: dict[tuple[str, int], dict[str, Any]] = {}
        # Round 0, backend by backend: build, then first measurement at each size (memory is attributable here).
        for be in plan:
            say(f"building {be.name}")
            _build(be)
            eager_fn = eager.fn if eager is not None else None
            for b in sizes:
                rows[(be.name, b)] = _measure_first(
                    be, b, inputs[b], eager_fn, warmup=warmup, iters=iters, max_time_s=max_time_s, samples=samples
                )
                row = rows[(be.name, b)]
                say(f"{be.name} batch {b}: {row.get('latency_ms_p50') or row.get('error')}")
        # Later rounds interleave backends (rotating the order) so load on a shared machine is spread evenly.
        for r in range(1, max(1, repeats)):
            for b in sizes:
                order = plan[r % len(plan) :] + plan[: r % len(plan)] if plan else []
                for be in order:
                    if be.fn is None or rows[(be.name, b)].get("error"):
                        continue
                    x = be.cast(inputs[b]) if be.cast else inputs[b]
                    stats = measure_latency(be.fn, x, warmup=1, iters=iters, max_time_s=max_time_s)
                    samples[(be.name, b)].extend(stats["samples_ms"])
        results = []
        for be in plan:
            for b in sizes:
                row = rows[(be.name, b)]
                if not row.get("error"):
                    st = latency_stats(samples[(be.name, b)])
                    row.update(
                        latency_ms_p50=_r(st["p50_ms"]),
                        latency_ms_p95=_r(st["p95_ms"]),
                        latency_ms_p99=_r(st["p99_ms"]),
                        latency_ms_mean=_r(st["mean_ms"]),
                        throughput=_r(b / (st["p50_ms"] / 1000.0)),
                        n_iters=st["n_iters"],
                    )
                results.append(row)
    finally:
        torch.set_num_threads(old_threads)
        tmp.cleanup()
    report = BenchReport(source=src.spec, results=results, threads=n_threads)
    report.expected_latency = _expected_latency(src.run_dir)
    report.requirement = _requirement(src.run_dir)
    _judge(report)
    report.context = {
        "timing": {
            "warmup": warmup,
            "iters": iters,
            "max_time_s": max_time_s,
            "repeats": repeats,
            "statistic": "percentiles over all timed calls; throughput = batch size / p50",
            "clock": "time.perf_counter_ns per call",
        },
        "memory_method": MEMORY_METHOD,
        "inputs": src.input_note,
        "input_shape": list(src.input_shape) if src.input_shape else None,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "load_average": _load_average(),
        },
        "versions": _versions(),
    }
    report.notes += [n for be in plan for n in be.notes]
    target = Path(out) if out is not None else src.run_dir
    if target is not None and save:
        target.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target / RunDir.BENCH, json.dumps(report.to_dict(), indent=2) + "\n")
    return report


def _r(v: float) -> float:
    return float(f"{v:.4g}")


def _load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def _versions() -> dict[str, str]:
    import torch

    versions: dict[str, str] = {"torch": torch.__version__}
    try:
        import onnxruntime

        versions["onnxruntime"] = onnxruntime.__version__
    except ImportError:  # the [deploy] extra is not installed: eager and torch.compile still run
        pass
    return versions


def _plan_backends(
    src: Source,
    chosen: list[str],
    threads: int,
    tmp: Path,
    onnx_exporter: str,
    say: Callable[[str], None],
    onnx_model: str | Path | None = None,
) -> list[_Backend]:
    """The backends to time, in order, each with a lazy builder (built one at a time so memory is attributable)."""
    import torch

    from .detector import detector_eager_runner, is_detector
    from .export import eager_runner, export_detector_onnx, export_onnx, file_size

    plan: list[_Backend] = []
    variants = find_variants(src.run_dir) if src.run_dir is not None and "variants" in chosen else []
    has_model = src.model is not None
    # A detector returns boxes per image: its runners return them all, its ONNX graph takes one image per call
    detector = has_model and is_detector(src.model)
    torch_runner: Callable[[Any], Callable[[Any], Any]] = detector_eager_runner if detector else eager_runner
    if has_model and "eager" in chosen:
        plan.append(_Backend("eager", lambda: torch_runner(src.model)))
    if has_model and "compile" in chosen:

        def build_compiled() -> Callable[[Any], Any]:
            torch._dynamo.reset()
            return torch_runner(torch.compile(src.model, dynamic=False))

        plan.append(_Backend("compile", build_compiled))
        plan[-1].notes.append(
            "compile: torch.compile(dynamic=False), Inductor on CPU; compile_s is the cold first call at each batch "
            "size (not in the latency); its peak memory includes the compiler's own"
        )
    onnx_path: dict[str, Path] = {"path": Path(onnx_model)} if onnx_model is not None else {}

    def fp32_onnx() -> Path:
        """The fp32 ONNX file: the run's dynamic-batch ONNX variant if there is one, else exported now."""
        if "path" in onnx_path:
            return onnx_path["path"]
        if src.onnx_path is not None:
            onnx_path["path"] = src.onnx_path
            return src.onnx_path
        reuse = next((v for v in variants if v.name == "onnx" and v.format == "onnx" and (v.dynamic_batch or detector)),
                     None)  # fmt: skip
        if reuse is not None:
            onnx_path["path"] = reuse.path
            return reuse.path
        say("exporting to ONNX for the onnxruntime backends")
        if detector:
            res = export_detector_onnx(src.model, src.inputs(1), tmp / "model.onnx", parity_inputs=[src.inputs(1)])
            onnx_path["path"] = res.path
            return res.path
        res = export_onnx(
            src.model,
            src.inputs(2),
            tmp / "model.onnx",
            dynamic_batch=True,
            exporter=onnx_exporter,
            parity_inputs=[src.inputs(2)],
        )
        onnx_path["path"] = res.path
        return res.path

    fixed = _onnx_fixed_batch(src.onnx_path) if src.onnx_path is not None else None
    if "onnxruntime" in chosen and (has_model or src.onnx_path is not None):

        def build_ort() -> Callable[[Any], Any]:
            return file_runner(fp32_onnx(), threads)

        plan.append(_Backend("onnxruntime", build_ort, fixed_batch=fixed))
    if "onnxruntime-int8" in chosen and (has_model or src.onnx_path is not None):

        def build_int8() -> Callable[[Any], Any]:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            q = tmp / "model.int8.onnx"
            fp32 = fp32_onnx()
            # a detector's box decoding and NMS stay in float: only its weighted layers are quantized
            op_types = ["Conv", "ConvTranspose", "Gemm", "MatMul"] if detector else None
            with quiet_quantizer():
                quantize_dynamic(str(fp32), str(q), weight_type=QuantType.QInt8, op_types_to_quantize=op_types)
            return file_runner(q, threads)

        plan.append(_Backend("onnxruntime-int8", build_int8, fixed_batch=fixed))
    for v in variants:
        if v.name == "onnx" and v.dynamic_batch and "onnxruntime" in chosen:
            continue  # already timed as the `onnxruntime` backend
        cast = _caster(v.dtype)
        if v.format == "onnx":
            plan.append(
                _Backend(
                    f"variant:{v.name}",
                    _ort_builder(v.path, threads),
                    cast=cast,
                    fixed_batch=None if v.dynamic_batch or detector else int(v.batch_size or 1),
                )
            )
        else:
            plan.append(_Backend(f"variant:{v.name}", _torch_builder(v, src), cast=cast))
        plan[-1].size_bytes = file_size(v.path) if v.path.is_file() else None
    shipped = _shipped_baseline(src.run_dir) if "deliverable" in chosen else None
    if shipped is not None:
        plan.append(_Backend("deliverable", lambda: _deliverable_runner(src.run_dir, shipped.layout)))  # type: ignore[arg-type]
        plan[-1].size_bytes = file_size(src.run_dir / shipped.path)  # type: ignore[operator]
        plan[-1].notes.append(
            f"deliverable: the run ships {shipped.model} (Step 4), not the network; timed on the same inputs through "
            "its predict(), with no output parity (it is another model)"
        )
    return plan


def _shipped_baseline(run_dir: Path | None) -> Any:
    """evaluation.json's `deliverable` when the run ships a baseline, else None."""
    if run_dir is None or not (run_dir / RunDir.EVALUATION).is_file():
        return None
    return RunDir(run_dir).evaluation().deliverable


def _deliverable_runner(run_dir: Path, layout: str | None) -> Callable[[Any], Any]:
    """The shipped estimator's predict() on a batch of tensors, laid out as it reads them (`strong.features`)."""
    from ..report.deliverable import load_deliverable
    from ..report.strong import features

    if layout is None or layout == "text":
        why = "it reads raw text" if layout == "text" else "its evaluation.json predates `layout`; run evaluate again"
        raise InvalidInputError(f"{run_dir}: the shipped baseline is not timed here ({why})")
    estimator = load_deliverable(run_dir)
    return lambda x: estimator.predict(features(x.numpy(), layout))


def _ort_builder(path: Path, threads: int) -> Callable[[], Callable[[Any], Any]]:
    return lambda: file_runner(path, threads)


def _torch_builder(v: Variant, src: Source) -> Callable[[], Callable[[Any], Any]]:
    from .export import eager_runner

    return lambda: eager_runner(_load_torch_variant(v, src))


def _caster(dtype: str) -> Callable[[Any], Any] | None:
    if dtype in {"float16", "fp16", "half"}:
        return lambda x: x.half() if hasattr(x, "half") and x.is_floating_point() else x
    if dtype in {"bfloat16", "bf16"}:
        return lambda x: x.bfloat16() if hasattr(x, "bfloat16") and x.is_floating_point() else x
    return None


def _output_diff(ref: Any, out: Any) -> dict[str, Any]:
    """`max_abs_diff` of a backend's output against eager's; a detector's boxes are matched box by box first
    (`deploy.detector.box_parity`), the diff is then their scores', and `boxes_matched` says how many matched."""
    import numpy as np

    if isinstance(ref, list):
        from .detector import box_parity

        p = box_parity(zip(ref, out, strict=True))
        return {"max_abs_diff": p.max_score_diff, "boxes_matched": f"{p.matched}/{p.eager_boxes}"}
    got = np.asarray(out, dtype=np.float32)
    return {"max_abs_diff": float(np.abs(got - ref).max()) if got.shape == ref.shape else None}


def _onnx_fixed_batch(path: Path) -> int | None:
    """The batch an ONNX file is fixed to; None when dynamic, or for a detector's graph (run image by image)."""
    import onnx

    from .detector import OUTPUT_NAMES

    proto = onnx.load(str(path), load_external_data=False)
    if [o.name for o in proto.graph.output] == OUTPUT_NAMES:
        return None
    init = {i.name for i in proto.graph.initializer}
    first = next(i for i in proto.graph.input if i.name not in init)
    dims = first.type.tensor_type.shape.dim
    return int(dims[0].dim_value) if dims and dims[0].dim_value > 0 else None


def _build(be: _Backend) -> None:
    be.rss_before = _rss_bytes()
    t0 = time.perf_counter()
    try:
        with _PeakRSS():
            be.fn = be.build()
    except DlexpertError as e:
        be.error = str(e)
    except Exception as e:
        be.error = f"{type(e).__name__}: {str(e).strip().splitlines()[0][:200] if str(e).strip() else ''}"
    be.build_s = time.perf_counter() - t0


def _measure_first(
    be: _Backend,
    b: int,
    x: Any,
    eager_fn: Callable[[Any], Any] | None,
    *,
    warmup: int,
    iters: int,
    max_time_s: float,
    samples: dict[tuple[str, int], list[float]],
) -> dict[str, Any]:

    row: dict[str, Any] = {
        "backend": be.name,
        "batch_size": b,
        "latency_ms_p50": None,
        "latency_ms_p95": None,
        "latency_ms_p99": None,
        "throughput": None,
        "peak_mem_mb": None,
        "threads": None,
    }
    if be.size_bytes is not None:
        row["size_mb"] = round(be.size_bytes / 1e6, 4)
    if be.error or be.fn is None:
        row["error"] = be.error or "not built"
        return row
    if be.fixed_batch is not None and b != be.fixed_batch:
        row["error"] = f"exported with a fixed batch of {be.fixed_batch}; re-export with --dynamic-batch"
        return row
    xin = be.cast(x) if be.cast else x
    try:
        with _PeakRSS() as mem:
            if be.name == "compile" and b not in be.compiled_batches:
                t0 = time.perf_counter()
                with _quiet_logs():  # Inductor logs its toolchain probing (e.g. "no CUDA runtime") at WARNING
                    be.fn(xin)  # cold: traces and compiles for this shape (dynamic=False specialises on it)
                row["compile_s"] = round(time.perf_counter() - t0, 3)
                be.compiled_batches.add(b)
            stats = measure_latency(be.fn, xin, warmup=warmup, iters=iters, max_time_s=max_time_s)
            out = be.fn(xin)
    except Exception as e:
        msg = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
        row["error"] = f"{type(e).__name__}: {msg}"
        return row
    samples[(be.name, b)] = list(stats["samples_ms"])
    row["latency_ms_p50"] = _r(stats["p50_ms"])  # this round's; the final figure pools every round
    import torch

    row["threads"] = torch.get_num_threads()
    if be.rss_before is not None and mem.peak:
        row["peak_mem_mb"] = round(max(0, mem.peak - be.rss_before) / 1e6, 2)
    if be.name == "compile" and "compile_s" not in row:
        row["compile_s"] = 0.0
    if eager_fn is not None and be.name not in {"eager", "deliverable"}:
        row.update(_output_diff(eager_fn(x), out))
    elif be.name == "eager":
        row["max_abs_diff"] = 0.0
    return row


def _judge(report: BenchReport) -> None:
    """Mark rows against the requirement, pick the fastest that meets it, and compare eager with the plan's estimate."""
    req = report.requirement
    if req and req.get("max_ms"):
        key, b = req["compared_on"], req["batch_size"]
        meeting = []
        for row in report.results:
            if row["batch_size"] == b and row.get(key) is not None:
                row["meets_requirement"] = row[key] <= req["max_ms"]
                if row["meets_requirement"]:
                    meeting.append(row)
        if meeting:
            best = min(meeting, key=lambda r: r[key])
            best["fastest_meeting_requirement"] = True
            report.fastest_meeting_requirement = best["backend"]
        elif not any(r["batch_size"] == b for r in report.results):
            report.notes.append(f"the requirement is at batch {b}, which was not measured; add it to --batch-sizes")
    exp = report.expected_latency
    if exp and exp.get("ms"):
        eager = next(
            (
                r
                for r in report.results
                if r["backend"] == "eager" and r["batch_size"] == exp["batch_size"] and r.get("latency_ms_p50")
            ),
            None,
        )
        if eager is not None:
            exp["measured_eager_p50_ms"] = eager["latency_ms_p50"]
            exp["measured_over_expected"] = _r(eager["latency_ms_p50"] / exp["ms"])
            lo_hi = exp.get("range_ms")
            exp["within_range"] = bool(lo_hi and lo_hi[0] <= eager["latency_ms_p50"] <= lo_hi[1])


def median(values: Sequence[float]) -> float:
    """Median of repeated figures (the benchmark script's summary statistic)."""
    return float(statistics.median(values))
