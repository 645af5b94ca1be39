"""`dlexpert evaluate RUN_DIR [--data SRC]`: metrics, baselines, calibration, failure analysis and latency.

Seed Step 7; the library side is `dlexpert.report.evaluate`.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ._common import err_console, handle_errors, locks_run

if TYPE_CHECKING:
    from ..schema.evaluation import Evaluation


class EvaluateFormat(str, Enum):
    text = "text"
    json = "json"


@handle_errors
@locks_run("run_dir")
def evaluate(
    run_dir: Path = typer.Argument(..., help="A trained run directory (made by `dlexpert run` or `train`)."),
    data: str | None = typer.Option(
        None, "--data", help="A test set to evaluate on instead of the run's test split, read like the training data."
    ),
    latency: bool = typer.Option(True, "--latency/--no-latency", help="Time the model with `bench` (eager)."),
    figures: bool = typer.Option(True, "--figures/--no-figures", help="Write RUN_DIR/figures/*.png."),
    fmt: EvaluateFormat = typer.Option(
        EvaluateFormat.text, "--format", help="json: evaluation.json's document on stdout; text: a summary on stderr."
    ),
) -> None:
    """Evaluate a run's best weights on its test split and write RUN_DIR/evaluation.json (atomically).

    Exit codes: 0 evaluated; 2 invalid input (not a trained run, data missing, no trained class in the test set).
    """
    from ..report.evaluate import evaluate_run
    from ..rundir import RunDir

    def say(msg: str) -> None:
        err_console.print(f"[dim]{msg}[/]", markup=True, highlight=False)

    ev = evaluate_run(
        run_dir, data=data, latency=latency, figures=figures, progress=None if fmt is EvaluateFormat.json else say
    )
    if fmt is EvaluateFormat.json:
        typer.echo(ev.model_dump_json(indent=2))
        return
    print_summary(ev)
    err_console.print(f"wrote {run_dir / RunDir.EVALUATION}", markup=False)


def print_summary(ev: Evaluation) -> None:
    """The headline metrics, the baselines, calibration, failures and latency, in a few lines."""
    m = ev.metrics
    lines = [f"{ev.model} on {ev.split} ({ev.n_samples} samples):"]
    names = (
        "accuracy",
        "top5_accuracy",
        "balanced_accuracy",
        "f1_macro",
        "auroc_ovr_macro",
        "ece",
        "mae",
        "rmse",
        "mape",
    )
    lines.append("  " + ", ".join(f"{k} {m[k]:.4g}" for k in names if k in m))
    for s in ev.baseline.summary:
        lines.append(f"  {s}")
    if ev.calibration is not None:
        lines.append(f"  calibration: {ev.calibration.verdict}")
    f = ev.failures
    if f is not None:
        pairs = ", ".join(f"{p.true}->{p.predicted} x{p.count}" for p in f.confused_pairs[:3])
        lines.append(f"  {f.n_errors} errors; most confused: {pairs or 'none'}")
        if f.error_prone_classes:
            lines.append(f"  error-prone classes: {'; '.join(f.error_prone_classes)}")
    lat = ev.latency
    if lat:
        rows = ", ".join(
            f"batch {r['batch_size']}: p50 {r['latency_ms_p50']:.3g} ms" for r in lat["rows"] if r.get("latency_ms_p50")
        )
        lines.append(f"  latency (eager, {lat['threads']} thread(s)): {rows}")
    exp = ev.expected or {}
    if exp.get("target"):
        t = exp["target"]
        verdict = "unknown" if t["met"] is None else ("met" if t["met"] else "NOT met")
        lines.append(f"  target {t['text']!r}: {verdict} (measured {t['measured']})")
    for w in ev.warnings:
        lines.append(f"  warning: {w}")
    err_console.print("\n".join(lines), markup=False)
