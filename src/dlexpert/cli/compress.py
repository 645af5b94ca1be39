"""`dlexpert compress RUN_DIR --method int8|fp16|bf16|prune|distill`: a smaller or faster variant, measured.

Seed Step 6; the library side is `dlexpert.compress`.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from ..rundir import RunDir
from ._common import err_console, handle_errors, locks_run


class CompressMethod(str, Enum):
    int8 = "int8"
    fp16 = "fp16"
    bf16 = "bf16"
    prune = "prune"
    distill = "distill"


class PruneKind(str, Enum):
    structured = "structured"
    unstructured = "unstructured"


class CompressFormat(str, Enum):
    text = "text"
    json = "json"


@handle_errors
@locks_run("run_dir")
def compress(
    run_dir: Path = typer.Argument(..., help="A trained run directory (made by `dlexpert run` or `train`)."),
    method: CompressMethod = typer.Option(
        ..., "--method", help="int8 (ONNX Runtime), fp16/bf16 (PyTorch), prune, or distill (a smaller student)."
    ),
    target_sparsity: float = typer.Option(
        0.5, "--target-sparsity", help="prune: fraction of channels (structured) or weights (unstructured) to remove."
    ),
    prune_kind: PruneKind = typer.Option(
        PruneKind.structured, "--prune-kind", help="structured: fewer channels, a smaller network; unstructured: zeros."
    ),
    max_drop: float | None = typer.Option(
        None,
        "--max-drop",
        help="Accepted accuracy drop in points (default 1 for int8/fp16/bf16, 2 prune, 3 distill; at most 5). "
        "Beyond it, gentler settings are tried.",
    ),
    data: str | None = typer.Option(None, "--data", help="Reload the run's data from here (when it has moved)."),
    epochs: int | None = typer.Option(
        None, "--epochs", help="prune: fine-tuning epochs (3); distill: student training epochs (the run's)."
    ),
    temperature: float = typer.Option(4.0, "--temperature", help="distill: softmax temperature T of the KD loss."),
    alpha: float = typer.Option(0.9, "--alpha", help="distill: weight of the soft-target term (1 - alpha: labels)."),
    student_width: int | None = typer.Option(None, "--student-width", min=1, help="distill: the student's width."),
    student_depth: int | None = typer.Option(None, "--student-depth", min=1, help="distill: the student's depth."),
    calibration_samples: int = typer.Option(
        256, "--calibration-samples", help="int8: training samples that calibrate the activation ranges."
    ),
    fmt: CompressFormat = typer.Option(
        CompressFormat.text, "--format", help="json: the variant's report.json on stdout; text: a summary on stderr."
    ),
) -> None:
    """Compress a trained model, measure it beside the original, and keep it only if accuracy holds.

    Writes RUN_DIR/variants/NAME/ (int8, fp16, bf16, pruned, sparse or distilled) with the model and report.json;
    the run's own checkpoints are never modified. Exit codes: 0 done (the report says whether the accuracy limit was
    met); 2 invalid input (no trained model, data gone, a layer the method cannot handle, an option out of range).
    """
    from ..compress import compress as run_compress

    quiet = fmt is CompressFormat.json
    report = run_compress(
        run_dir, method=method.value, data=data, max_drop=max_drop, target_sparsity=target_sparsity,
        prune_kind=prune_kind.value, epochs=epochs, temperature=temperature, alpha=alpha, student_width=student_width,
        student_depth=student_depth, calibration_samples=calibration_samples,
        log=None if quiet else (lambda m: err_console.print(m, markup=False, highlight=False)),
    )  # fmt: skip
    if quiet:
        typer.echo(report.model_dump_json(indent=2))
    else:
        _summary(report, run_dir)
    if not report.met_max_drop:
        err_console.print(f"warning: no setting met the {report.max_drop:g}-point limit; see `decision`", markup=False)


def _summary(r: object, run_dir: Path) -> None:
    from ..compress import VariantReport

    assert isinstance(r, VariantReport)
    rows = [
        ("", "size MB", r.metric, "p50 ms", "p95 ms", "best throughput"),
        ("baseline (eager fp32)", f"{r.baseline_size_bytes / 1e6:.3f}", f"{r.baseline_accuracy:.4f}",
         f"{r.baseline_latency_ms_p50:.3f}", f"{r.baseline_latency_ms_p95:.3f}",
         f"{r.baseline_throughput_samples_per_s:,.0f}/s @ {r.baseline_throughput_batch_size}"),
        (f"{r.name} ({r.format})", f"{r.size_bytes / 1e6:.3f}", f"{r.accuracy:.4f}", f"{r.latency_ms_p50:.3f}",
         f"{r.latency_ms_p95:.3f}", f"{r.throughput_samples_per_s:,.0f}/s @ {r.throughput_batch_size}"),
        ("ratio", f"{r.size_ratio:.2f}x smaller", f"{_pts(r.accuracy_drop)} pts", f"{r.speedup_p50:.2f}x", "", ""),
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.append(f"decision: {r.decision}")
    lines.append(f"assessment: {r.assessment}")
    lines += [f"note: {n}" for n in r.notes]
    lines.append(f"tried ({len(r.tried)}):")
    lines += [f"  [{'kept' if a.kept else '    '}] {a.setting}: {r.metric} {a.accuracy:.4f} "
              f"({_pts(a.accuracy_drop)} pts), {a.size_bytes / 1e6:.3f} MB, p50 {a.latency_ms_p50:.3f} ms; {a.why}"
              for a in r.tried]  # fmt: skip
    lines.append(f"written to {RunDir(run_dir) / RunDir.VARIANTS / r.name}/ ({r.path}, report.json)")
    err_console.print("\n".join(lines), markup=False, highlight=False)


def _pts(drop: float) -> str:
    """An accuracy change in points, signed, without a "-0.00"."""
    return f"{round(-drop, 2) + 0.0:+.2f}"
