"""`dlexpert train TASK --data SRC --out RUN_DIR [--resume]`: plan with the data's profile, then train the plan."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import err_console, handle_errors


@handle_errors
def train(
    task: str = typer.Argument(..., help="Task spec (YAML/JSON, '-' for stdin), or a plan.json's run folder task."),
    data: str = typer.Option(..., "--data", help="Built-in dataset name (see `dlexpert datasets`) or a path."),
    out: Path = typer.Option(..., "--out", help="Run directory to create (or to continue with --resume)."),
    target: str | None = typer.Option(None, "--target", help="Target column for CSV/Parquet/JSONL data."),
    test: str | None = typer.Option(None, "--test", help="A fixed test set; otherwise a seeded stratified split."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Override the plan's epochs."),
    seed: int = typer.Option(0, "--seed"),
    resume: bool = typer.Option(False, "--resume", help="Continue a stopped run from RUN_DIR/checkpoints/last.pt."),
    hardware: str | None = typer.Option(None, "--hardware", help="Hardware profile for planning, or 'auto'."),
) -> None:
    """Train the planned model; checkpoints, metrics.jsonl and TensorBoard logs go to RUN_DIR."""
    from ..pipeline import train as train_plan
    from ..schema import load_task

    result, _plan, choice, _ctx, model_name, warnings = train_plan(
        load_task(task), data=data, out_dir=out, target=target, test=test, epochs=epochs, seed=seed, resume=resume,
        hardware=hardware,
    )  # fmt: skip
    for w in warnings:
        err_console.print(f"[yellow]warning:[/] {w}", markup=True)
    err_console.print(
        f"trained {model_name} ({choice.recipe}) for {result.epochs_run} epochs in {result.wall_time_s:.1f} s; "
        f"best {result.monitor} "
        f"{result.best_val_metric:.4f}; peak RSS {result.peak_rss_mb:.0f} MB; run dir {out}"
    )
