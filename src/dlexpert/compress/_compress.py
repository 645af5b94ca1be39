"""`compress()`: seed Step 6 for one trained run. Measure the baseline, apply a method through the feedback loop,
save the kept variant into `RUN_DIR/variants/NAME/` with its report. The run's own files are never written.

Variant folders:

    int8/       model.onnx                                   report.json    (ONNX Runtime INT8)
    fp16/ bf16/ model.pt2  model.safetensors  rebuild.json   report.json    (half-precision weights)
    pruned/     model.pt2  model.safetensors  rebuild.json   report.json    (structured: a smaller dense network)
    sparse/     model.pt2  model.safetensors  rebuild.json   report.json    (unstructured: zeros in dense tensors)
    distilled/  model.pt2  model.safetensors  rebuild.json   report.json    (the student)

Torch variants are a `torch.export` program (`model.pt2`: what `dlexpert bench` loads, no pickle, no code needed)
and the weights as safetensors with `rebuild.json` (the architecture as `create_model`/`rebuild_model` arguments,
plus the pruned layer shapes), which `load_variant` turns back into an `nn.Module`. `size_bytes` of a torch
variant is its safetensors file, the same format as the baseline's `best.safetensors`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._io import atomic_write_text
from ..deploy.variants import VARIANT_FORMAT, load_variant
from ..errors import DlexpertError, InvalidInputError
from ..rundir import RunDir
from ..schema.decisions import record_from_config
from ._loop import LoopResult, run_feedback_loop, speedup
from ._measure import MeasureSettings, Subject, count_params, load_average, measure, onnx_predict, torch_predict
from .report import Measurement, VariantReport

__all__ = [
    "DEFAULT_FINETUNE_EPOCHS",
    "DEFAULT_MAX_DROP",
    "MAX_DROP_LIMIT",
    "METHODS",
    "compress",
    "compress_subject",
    "load_variant",
    "subject_from_run",
    "variant_name",
]

METHODS = ("int8", "fp16", "bf16", "prune", "distill")
# Accepted accuracy drop in percentage points. Quantization: < 1 point (the seed's tradeoff table: "small accuracy
# drop (<1%)"); pruning: 1-3 points typical, 2 accepted; distillation is "controllable", 3 accepted. Never more
# than 5: the seed's feedback loop treats a drop above 5% as the point to relax compression or distil instead.
DEFAULT_MAX_DROP = {"int8": 1.0, "fp16": 1.0, "bf16": 1.0, "prune": 2.0, "distill": 3.0}
MAX_DROP_LIMIT = 5.0
DEFAULT_FINETUNE_EPOCHS = 3
_NEXT_STEP = {
    "int8": "--method distill, or quantization-aware training (not implemented here)",
    "fp16": "keeping fp32 (half precision saves size only on this CPU)",
    "bf16": "keeping fp32, or --method fp16 (10 mantissa bits against bf16's 7)",
    "prune": "a lower --target-sparsity, more fine-tuning --epochs, or --method distill",
    "distill": "a larger student (--student-width/--student-depth) or more --epochs",
}


def variant_name(method: str, prune_kind: str = "structured") -> str:
    """The folder under RUN_DIR/variants/ a method writes."""
    if method == "prune":
        return "pruned" if prune_kind == "structured" else "sparse"
    return {"distill": "distilled"}.get(method, method)


def compress(
    run_dir: str | Path,
    *,
    method: str,
    data: str | None = None,
    max_drop: float | None = None,
    target_sparsity: float = 0.5,
    prune_kind: str = "structured",
    epochs: int | None = None,
    temperature: float = 4.0,
    alpha: float = 0.9,
    student_width: int | None = None,
    student_depth: int | None = None,
    calibration_samples: int = 256,
    settings: MeasureSettings | None = None,
    log: Callable[[str], None] | None = None,
) -> VariantReport:
    """Compress a trained run with `method`, keep the best variant within `max_drop` points, and report it.

    Writes `RUN_DIR/variants/NAME/` (NAME from `variant_name`) with the model and `report.json`; the run's
    checkpoints are read only (their hashes are checked before and after). Raises `InvalidInputError` (exit 2) for
    a directory without a trained model, data that cannot be reloaded (pass `data`), a method that does not apply
    to the model (the message names the layer), or options out of range.

    Example:
        >>> report = compress("runs/mnist1d", method="int8")  # doctest: +SKIP
        >>> report.size_ratio, report.accuracy_drop, report.speedup_p50  # doctest: +SKIP
        (3.3, 0.1, 6.4)
    """
    from ..runs import load_run

    check_options(method=method, max_drop=max_drop, target_sparsity=target_sparsity, prune_kind=prune_kind,
                  epochs=epochs, temperature=temperature, alpha=alpha,
                  calibration_samples=calibration_samples)  # fmt: skip
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    before = _fingerprint(run_dir)
    subject = subject_from_run(run, data=data)
    if subject.task in ("segmentation", "regression") and method in ("prune", "distill"):
        raise InvalidInputError(
            f"--method {method}: pruning and distillation retrain with a per-sample classification loss; for a "
            f"{subject.task} run use int8, fp16 or bf16"
        )
    if subject.task == "detection" and method != "int8":
        raise InvalidInputError(
            f"--method {method}: a detector is compressed through its ONNX graph (post-processing included); for a "
            "detection run use int8"
        )
    report = compress_subject(
        subject, method=method, variants_dir=run_dir / RunDir.VARIANTS, max_drop=max_drop,
        target_sparsity=target_sparsity, prune_kind=prune_kind, epochs=epochs, temperature=temperature, alpha=alpha,
        student_width=student_width, student_depth=student_depth, calibration_samples=calibration_samples,
        settings=settings, log=log,
    )  # fmt: skip
    if _fingerprint(run_dir) != before:  # a guard against our own bugs: compress must never touch the run's model
        raise DlexpertError(f"{run_dir}/{RunDir.CHECKPOINTS} changed during compress; please report this bug")
    return report


def check_options(*, method: str, max_drop: float | None, target_sparsity: float, prune_kind: str,
                  epochs: int | None, temperature: float, alpha: float, calibration_samples: int) -> None:  # fmt: skip
    """One-line errors for options out of range (the CLI also checks types)."""
    if method not in METHODS:
        raise InvalidInputError(f"--method: expected one of {', '.join(METHODS)}; got {method!r}")
    if max_drop is not None and not 0.0 <= max_drop <= MAX_DROP_LIMIT:
        raise InvalidInputError(
            f"--max-drop: accepted accuracy drop in points must be between 0 and {MAX_DROP_LIMIT:g} (beyond 5 points "
            f"the seed's feedback loop relaxes compression or distils instead); got {max_drop:g}"
        )
    if not 0.0 < target_sparsity < 1.0:
        raise InvalidInputError(
            f"--target-sparsity: must be between 0 and 1 (0.5 removes half); got {target_sparsity:g}"
        )
    if prune_kind not in ("structured", "unstructured"):
        raise InvalidInputError(f"--prune-kind: expected structured or unstructured; got {prune_kind!r}")
    if epochs is not None and epochs < 0:
        raise InvalidInputError(f"--epochs: must be 0 or more; got {epochs}")
    if method == "distill" and epochs == 0:
        raise InvalidInputError("--epochs: a distilled student needs at least one training epoch")
    if not temperature > 0:
        raise InvalidInputError(f"--temperature: must be positive (Hinton et al. use 2-20); got {temperature:g}")
    if not 0.0 <= alpha <= 1.0:
        raise InvalidInputError(f"--alpha: the weight of the soft-target loss must be in [0, 1]; got {alpha:g}")
    if calibration_samples < 1:
        raise InvalidInputError(f"--calibration-samples: must be at least 1; got {calibration_samples}")


def subject_from_run(run: Any, *, data: str | None = None) -> Subject:
    """The run's model, its splits (reloaded from the recorded source, or from `data`), recipe and constraints."""
    from ..engine import parse_train_config

    if run.task not in ("classification", "segmentation", "detection", "regression"):
        raise InvalidInputError(
            f"{run.run_dir}: compress measures the accuracy (mIoU, mAP, R2) drop, so it takes classification, "
            f"segmentation, detection and regression runs; this run's task is {run.task}"
        )
    source = data or run.config.data.source
    try:
        sets = run.datasets(data)
    except InvalidInputError as e:
        raise InvalidInputError(
            f"{run.run_dir}: cannot reload the run's data from {source!r} ({_first_line(e)}); compress needs its "
            "training split (calibration, fine-tuning) and test split (accuracy): pass --data SRC pointing to the "
            "same data"
        ) from None
    latency, size, rec = _constraints(run.run_dir)
    return Subject(
        model=run.model, train_set=sets.train, val_set=sets.val, test_set=sets.test,
        rebuild={"model_record": run.config.record().model_dump(mode="json")},
        train_cfg=parse_train_config(run.config.train, source=f"{run.run_dir}/{RunDir.CONFIG}"),
        baseline_size_bytes=run.weights_path.stat().st_size, modality=run.modality, task=run.task, name=run.model_name,
        latency_budget_ms=latency, size_limit_mb=size, recommendation=rec,
    )  # fmt: skip


def compress_subject(
    subject: Subject,
    *,
    method: str,
    variants_dir: str | Path,
    max_drop: float | None = None,
    target_sparsity: float = 0.5,
    prune_kind: str = "structured",
    epochs: int | None = None,
    temperature: float = 4.0,
    alpha: float = 0.9,
    student_width: int | None = None,
    student_depth: int | None = None,
    calibration_samples: int = 256,
    settings: MeasureSettings | None = None,
    log: Callable[[str], None] | None = None,
) -> VariantReport:
    """`compress` for a model that is not (or not only) a run directory: the benchmark's torchvision model."""
    check_options(method=method, max_drop=max_drop, target_sparsity=target_sparsity, prune_kind=prune_kind,
                  epochs=epochs, temperature=temperature, alpha=alpha,
                  calibration_samples=calibration_samples)  # fmt: skip
    say = log or (lambda _: None)
    settings = settings or MeasureSettings()
    limit = DEFAULT_MAX_DROP[method] if max_drop is None else float(max_drop)
    t0 = time.perf_counter()
    subject.model.eval()
    subject.inputs(1)  # a tokenized-text model is refused here, before any work
    say(f"measuring the baseline ({subject.name}, eager PyTorch fp32, {torch.get_num_threads()} thread(s))")
    eager = torch_predict(subject.model)
    baseline = measure(eager, subject, size_bytes=subject.baseline_size_bytes, n_params=count_params(subject.model),
                       settings=settings)  # fmt: skip
    size_mb, p50 = baseline.size_bytes / 1e6, baseline.latency_ms_p50
    say(f"  {subject.score_name} {baseline.accuracy:.4f}, {size_mb:.3f} MB, p50 {p50:.3f} ms")
    variants_dir = Path(variants_dir)
    variants_dir.mkdir(parents=True, exist_ok=True)
    name = variant_name(method, prune_kind)
    notes: list[str] = []
    reference: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=variants_dir, prefix=f".{name}-work-") as tmp:
        work = Path(tmp)
        tracks = _tracks(subject, method=method, work=work, notes=notes, reference=reference, eager=eager,
                         settings=settings, target_sparsity=target_sparsity, prune_kind=prune_kind, epochs=epochs,
                         temperature=temperature, alpha=alpha, student_width=student_width,
                         student_depth=student_depth, calibration_samples=calibration_samples, log=say)  # fmt: skip
        result = run_feedback_loop(tracks, subject=subject, baseline=baseline, baseline_predict=eager,
                                   max_drop=limit, settings=settings, log=say)  # fmt: skip
        notes += result.notes
        stage = work / "variant"
        stage.mkdir()
        saved = _save(result, stage, subject, method, notes)
        report = _report(subject, method=method, name=name, baseline=baseline, result=result, saved=saved,
                         limit=limit, notes=notes, reference=reference, seconds=time.perf_counter() - t0)  # fmt: skip
        atomic_write_text(stage / "report.json", report.model_dump_json(indent=2) + "\n")
        final = variants_dir / name
        if final.exists():
            shutil.rmtree(final)
        os.replace(stage, final)
    say(f"variant written to {variants_dir / name}")
    return report


def _tracks(subject: Subject, *, method: str, work: Path, notes: list[str], reference: dict[str, Any],
            eager: Any, settings: MeasureSettings, target_sparsity: float, prune_kind: str, epochs: int | None,
            temperature: float, alpha: float, student_width: int | None, student_depth: int | None,
            calibration_samples: int, log: Callable[[str], None]) -> Any:  # fmt: skip
    if method == "int8":
        from ..deploy import file_size
        from .quantize import export_fp32_onnx, int8_tracks

        log("exporting fp32 ONNX (the starting point of ONNX Runtime quantization)")
        fp32, export_notes = export_fp32_onnx(subject, work / "fp32.onnx")
        notes += export_notes
        ref = measure(onnx_predict(fp32), subject, size_bytes=file_size(fp32), n_params=None,
                      settings=settings, against=eager)  # fmt: skip
        reference["onnxruntime_fp32"] = ref.model_dump(exclude_none=True)
        log(f"  ONNX Runtime fp32: {subject.score_name} {ref.accuracy:.4f}, p50 {ref.latency_ms_p50:.3f} ms")
        return int8_tracks(subject, work, calibration_samples=calibration_samples, notes=notes)
    if method in ("fp16", "bf16"):
        from .quantize import half_track

        return [half_track(subject, method)]
    if method == "prune":
        from .prune import prune_track

        n = DEFAULT_FINETUNE_EPOCHS if epochs is None else epochs
        return [prune_track(subject, kind=prune_kind, target=target_sparsity, epochs=n)]
    from .distill import distill_track

    return [distill_track(subject, epochs=epochs or subject.train_cfg.epochs, temperature=temperature, alpha=alpha,
                          width=student_width, depth=student_depth, log=log)]  # fmt: skip


# --------------------------------------------------------------------------------------------- saving


def _save(result: LoopResult, stage: Path, subject: Subject, method: str, notes: list[str]) -> dict[str, Any]:
    """Write the kept artifact into `stage`; returns the report's format/path/dtype/weights/size."""
    from ..deploy import file_size
    from .quantize import copy_onnx

    built = result.chosen.built
    if isinstance(built.artifact, Path):
        copy_onnx(built.artifact, stage / "model.onnx")
        saved = {"format": "onnx", "path": "model.onnx", "size_bytes": file_size(stage / "model.onnx")}
        if subject.task == "detection":  # the detector's graph takes one image per call (deploy.detector)
            saved.update(dynamic_batch=False, batch_size=1)
        return saved
    from safetensors.torch import save_file

    from ._measure import state_for_saving

    module: nn.Module = built.artifact
    dtype = {"fp16": "float16", "bf16": "bfloat16"}.get(method, "float32")
    save_file(state_for_saving(module), str(stage / "model.safetensors"))
    rebuild: dict[str, Any] = {"format": VARIANT_FORMAT, "rebuild": subject.rebuild, "dtype": dtype}
    if "student" in built.extra:
        student = record_from_config({"model_config": built.extra["student"]})
        rebuild["rebuild"] = {"model_record": student.model_dump(mode="json")}
    if built.extra.get("modules"):
        rebuild["modules"] = built.extra["modules"]
    if built.extra.get("keep_float"):
        rebuild["keep_float"] = built.extra["keep_float"]
    atomic_write_text(stage / "rebuild.json", json.dumps(rebuild, indent=2) + "\n")
    path = "model.safetensors"
    example = subject.inputs(2).to(getattr(torch, dtype))
    try:
        program = torch.export.export(module.eval(), (example,), dynamic_shapes=({0: torch.export.Dim("batch")},))
        torch.export.save(program, str(stage / "model.pt2"))
        path = "model.pt2"
    except Exception as e:  # the weights and rebuild.json still describe the model fully
        notes.append(f"torch.export failed ({_first_line(e)}); the variant is model.safetensors + rebuild.json")
    return {"format": "torch", "path": path, "dtype": dtype, "weights": "model.safetensors",
            "size_bytes": (stage / "model.safetensors").stat().st_size}  # fmt: skip


# --------------------------------------------------------------------------------------------- report


def _report(subject: Subject, *, method: str, name: str, baseline: Measurement, result: LoopResult,
            saved: dict[str, Any], limit: float, notes: list[str], reference: dict[str, Any],
            seconds: float) -> VariantReport:  # fmt: skip
    c = result.chosen
    m = c.measured
    extra = c.built.extra
    if "zlib_size_bytes" in extra:
        reference["zlib_compressed_size_bytes"] = extra["zlib_size_bytes"]
    if "params_removed" in extra:
        reference["params_removed"] = extra["params_removed"]
    if "history" in extra:
        reference["student"] = extra["student"]
        reference["student_history"] = extra["history"]
    if extra.get("not_pruned"):
        notes.append(f"not pruned (no Conv/Linear weight): {', '.join(extra['not_pruned'][:6])}")
    size = int(saved["size_bytes"])
    speed = speedup(m, baseline)
    base_p50 = m.paired_baseline_ms_p50 or baseline.latency_ms_p50
    base_p95 = m.paired_baseline_ms_p95 or baseline.latency_ms_p95
    if method in ("fp16", "bf16") and speed < 1:
        notes.append(
            f"{saved.get('dtype')} runs {1 / speed:.1f}x slower than fp32 on this CPU (no native half-precision "
            "arithmetic here); the variant halves the file; its speed-up is for GPUs/NPUs"
        )
    if method == "prune" and name == "sparse":
        notes.append("unstructured sparsity keeps dense tensors: the file is not smaller and dense kernels are not "
                     "faster; see reference.zlib_compressed_size_bytes for what a compressing store saves")  # fmt: skip
    return VariantReport(
        name=name, method=method, format=saved["format"], path=saved["path"], dtype=saved.get("dtype", "float32"),
        dynamic_batch=saved.get("dynamic_batch", True), batch_size=saved.get("batch_size"),
        weights=saved.get("weights"), size_bytes=size, baseline_size_bytes=baseline.size_bytes,
        size_ratio=round(baseline.size_bytes / max(size, 1), 3), accuracy=m.accuracy,
        baseline_accuracy=baseline.accuracy, accuracy_drop=c.drop, max_drop=limit, met_max_drop=result.met_max_drop,
        metric=subject.score_name.lower(), latency_ms_p50=m.latency_ms_p50, latency_ms_p95=m.latency_ms_p95,
        baseline_latency_ms_p50=base_p50, baseline_latency_ms_p95=base_p95, speedup_p50=speed,
        throughput_samples_per_s=m.throughput_samples_per_s,
        throughput_batch_size=m.throughput_batch_size,
        baseline_throughput_samples_per_s=baseline.throughput_samples_per_s,
        baseline_throughput_batch_size=baseline.throughput_batch_size, n_params=m.n_params,
        baseline_n_params=baseline.n_params, sparsity=extra.get("sparsity"),
        decision=_decision(method, result, baseline, limit, reference, size, score=subject.score_name),
        assessment=_assessment(subject, baseline), notes=notes, reference=reference, tried=result.attempts,
        threads=torch.get_num_threads(), test_samples=len(subject.test_set),  # type: ignore[arg-type]
        load_average=load_average(), seconds=round(seconds, 1),
    )  # fmt: skip


def _decision(method: str, result: LoopResult, baseline: Measurement, limit: float, reference: dict[str, Any],
              size: int, *, score: str = "accuracy") -> str:  # fmt: skip
    c = result.chosen
    m = c.measured
    speed = speedup(m, baseline)
    n = len(result.attempts)
    if not result.met_max_drop:
        return (f"no setting stayed within {limit:g} pts of the baseline ({n} measured); the most accurate, "
                f"'{c.candidate.setting}' at {c.drop:.2f} pts, is saved for inspection, not for deployment; try "
                f"{_NEXT_STEP[method]}")  # fmt: skip
    change = round(-c.drop, 2) + 0.0  # no "-0.00"
    text = (f"kept '{c.candidate.setting}': {baseline.size_bytes / max(size, 1):.2f}x smaller, {score} "
            f"{change:+.2f} pts (limit {limit:g}), {speed:.2f}x the eager fp32 speed at batch 1")  # fmt: skip
    if n > 1:
        text += f"; {n} settings measured (a gentler one only after a drop beyond the limit)"
    ort = reference.get("onnxruntime_fp32")
    if ort:
        ort_p50 = ort["latency_ms_p50"]
        ort_base = ort.get("paired_baseline_ms_p50") or baseline.latency_ms_p50
        text += (f"; ONNX Runtime fp32 alone runs at {ort_base / ort_p50:.2f}x, so INT8 itself is "
                 f"{ort_p50 / max(m.latency_ms_p50, 1e-9):.2f}x fp32 in the same runtime")  # fmt: skip
        if ort_p50 < m.latency_ms_p50:
            text += " (the fp32 ONNX export is faster here: INT8 buys size, not speed, on this CPU)"
    if c.built.extra.get("sparsity") is not None:
        text += ("; stored dense, the file keeps its size and dense kernels do the same work: a sparse format or "
                 "sparse kernels are needed to cash in the zeros")  # fmt: skip
    elif speed < 1:
        text += "; slower than eager fp32 on this CPU: worth it for its size only"
    return text


def _assessment(subject: Subject, baseline: Measurement) -> str:
    """Step 6's first question: does the baseline already meet the plan's size and latency constraints?"""
    parts = [f"baseline {baseline.size_bytes / 1e6:.3f} MB, p50 {baseline.latency_ms_p50:.3f} ms / p95 "
             f"{baseline.latency_ms_p95:.3f} ms at batch 1 on this CPU"]  # fmt: skip
    needed = []
    if subject.size_limit_mb is not None:
        ok = baseline.size_bytes / 1e6 <= subject.size_limit_mb
        parts.append(f"size limit {subject.size_limit_mb:g} MB {'met' if ok else 'NOT met'}")
        needed += [] if ok else ["size"]
    if subject.latency_budget_ms is not None:
        ok = baseline.latency_ms_p95 <= subject.latency_budget_ms
        parts.append(f"latency budget {subject.latency_budget_ms:g} ms {'met (p95)' if ok else 'NOT met (p95)'}")
        needed += [] if ok else ["latency"]
    if needed:
        verdict = f"compression is needed for {' and '.join(needed)}"
    elif subject.size_limit_mb is None and subject.latency_budget_ms is None:
        verdict = "the task sets no size or latency limit: compression is optional (done on request)"
    else:
        verdict = "the plan's constraints are already met: compression is optional (done on request)"
    text = "; ".join(parts) + f"; {verdict}"
    return text + (f"; the plan says: {subject.recommendation}" if subject.recommendation else "")


# --------------------------------------------------------------------------------------------- helpers


def _constraints(run_dir: Path) -> tuple[float | None, float | None, str | None]:
    """The task's latency budget (ms) and size limit (MB), and the plan's compression advice, when recorded."""
    latency = size = rec = None
    run = RunDir(run_dir)
    try:
        spec = run.task()
        lat, ms = spec.constraints.latency_parsed, spec.constraints.model_size_parsed
        latency, size = (lat.max_ms if lat else None), (ms.max_mb if ms else None)
    except (DlexpertError, ValueError):
        pass  # no task.yaml (a run made by `fit` directly): no constraints to judge against
    try:
        advice = run.plan().engineeringPractice.modelCompression
    except DlexpertError:
        advice = None  # no plan.json (or an unreadable one): no advice to quote
    if advice is not None:
        rec = "; ".join(f"{k}: {v}" for k, v in advice.model_dump(exclude_none=True).items())
    return latency, size, rec or None


def _fingerprint(run_dir: Path) -> dict[str, str]:
    """sha256 of every file under checkpoints/ (the run's model)."""
    out = {}
    for p in sorted((run_dir / RunDir.CHECKPOINTS).glob("*")):
        if p.is_file():
            h = hashlib.sha256()
            with p.open("rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            out[p.name] = h.hexdigest()
    return out


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:300]


def stderr_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
