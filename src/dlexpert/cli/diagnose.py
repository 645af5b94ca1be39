"""`dlexpert diagnose SOURCE`: read any training log, run the diagnosis rules, report findings (seed Step 5)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from ._common import err_console, handle_errors


class DiagnoseFormat(str, Enum):
    json = "json"
    md = "md"


@handle_errors
def diagnose(
    source: str = typer.Argument(
        ..., help="A run directory, a log file (TensorBoard, CSV, JSONL, trainer_state.json), or a folder holding one."
    ),
    fmt: DiagnoseFormat = typer.Option(
        DiagnoseFormat.md, "--format", help="json: exactly one JSON document on stdout; md: a readable report."
    ),
    plot: Path | None = typer.Option(None, "--plot", help="Also draw the curves, findings marked, into this PNG."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the report to this file (atomically)."),
) -> None:
    """Diagnose a training run from its logs: each finding with its evidence, diagnosis and solutions.

    Exit codes: 0 diagnosed (healthy or not: findings are the output); 2 the source is missing or unreadable.
    """
    from .._io import atomic_write_text
    from ..diagnose import diagnose_history, read_history
    from ..diagnose.report import plot_history, render_markdown

    history = read_history(source)
    result = diagnose_history(history)
    text = result.model_dump_json(indent=2) if fmt is DiagnoseFormat.json else render_markdown(result)
    if plot is not None:
        plot_history(history, result, plot)
        err_console.print(f"plot written to {plot}", markup=False)
    if output is not None:
        atomic_write_text(output, text if text.endswith("\n") else text + "\n")
        err_console.print(f"diagnosis written to {output}", markup=False)
    else:
        typer.echo(text.rstrip("\n"))
    for w in result.warnings if fmt is DiagnoseFormat.json else ():
        err_console.print(f"warning: {w}", markup=False)
