"""`dlexpert train TASK|PLAN --data SRC --out RUN_DIR [--resume] [--nproc N]`: train what is decided.

A task spec is planned first, with the data's profile, for this machine; a plan (plan.json from `dlexpert plan
--format json` or from a run directory) is trained exactly as it says, without planning again; `--resume` continues a
run with its own decisions.json and config, whatever TASK|PLAN says.

With `--nproc N` the command re-runs itself in N processes through torchrun (`engine.distributed.launch`); each
process trains its shard of every batch, and rank 0 writes the run directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ..errors import InvalidInputError
from ._common import err_console, handle_errors, locks_run


@handle_errors
@locks_run("out", create=True)
def train(
    task: str = typer.Argument(..., help="Task spec (YAML/JSON, '-': stdin), or a plan.json/decisions.json to train."),
    data: str = typer.Option(..., "--data", help="Built-in dataset name (see `dlexpert datasets`) or a path."),
    out: Path = typer.Option(..., "--out", help="Run directory to create (or to continue with --resume)."),
    target: str | None = typer.Option(None, "--target", help="Target column for CSV/Parquet/JSONL data."),
    test: str | None = typer.Option(None, "--test", help="A fixed test set; otherwise a seeded stratified split."),
    dropna: bool = typer.Option(False, "--dropna", help="Drop table rows with missing values instead of failing."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Override the plan's epochs."),
    seed: int = typer.Option(0, "--seed"),
    resume: bool = typer.Option(False, "--resume", help="Continue a stopped run from RUN_DIR/checkpoints/last.pt."),
    hardware: str | None = typer.Option(None, "--hardware", help="Hardware profile for planning, or 'auto'."),
    nproc: int = typer.Option(1, "--nproc", min=1, max=256, help="Processes on this machine (torchrun; DDP or FSDP)."),
    monitor: bool = typer.Option(True, "--monitor/--no-monitor", help="Live monitors and diagnosis.json (default on)."),
    auto_remedy: bool = typer.Option(
        False, "--auto-remedy", help="On NaN/Inf roll back, cut the LR 10x and clip; stop early on clear overfitting."
    ),
    track: str | None = typer.Option(
        None,
        "--track",
        help="mlflow or mlflow:URI: also log the run to MLflow (default: sqlite:///mlflow.db here).",
    ),
) -> None:
    """Train the planned model; checkpoints, metrics.jsonl and TensorBoard logs go to RUN_DIR."""
    from ..pipeline import load_plan_or_task
    from ..pipeline import train as train_plan
    from ..tracking import parse_track

    tracking = parse_track(track)
    source = load_plan_or_task(task)  # bad input fails here, once, before any process starts
    if nproc > 1 and "LOCAL_RANK" not in os.environ:
        import torch

        from ..engine.checkpoint import check_run_dir

        slots = max(os.cpu_count() or 1, torch.cuda.device_count())
        if nproc > slots:
            raise InvalidInputError(f"--nproc {nproc}: this machine has {slots} CPU cores or GPUs; at most {slots} "
                                    "processes")  # fmt: skip
        check_run_dir(out, resume=resume)
        if task == "-":
            raise InvalidInputError("--nproc: the task must be a file; N processes cannot share standard input")
        from ..engine.distributed import launch

        # Workers know they are workers from torchrun's LOCAL_RANK; `--nproc` itself would clash with torchrun's
        # abbreviation matching (--nproc-per-node).
        argv = ["train", task, "--data", data, "--out", str(out), "--seed", str(seed)]
        argv += [*(["--target", target] if target else []), *(["--test", test] if test else [])]
        argv += ["--dropna"] if dropna else []
        argv += [*(["--epochs", str(epochs)] if epochs else []), *(["--hardware", hardware] if hardware else [])]
        argv += [*([] if monitor else ["--no-monitor"]), *(["--auto-remedy"] if auto_remedy else [])]
        argv += ["--track", track] if track else []
        raise typer.Exit(launch([*argv, *(["--resume"] if resume else [])], nproc=nproc))
    trained = train_plan(
        source, data=data, out_dir=out, target=target, test=test, dropna=dropna, epochs=epochs, seed=seed,
        resume=resume, hardware=hardware, monitor=monitor, auto_remedy=auto_remedy, tracking=tracking,
    )  # fmt: skip
    if os.environ.get("RANK", "0") != "0":
        return  # rank 0 reports for all
    result, record = trained.result, trained.decisions.model
    for w in trained.warnings:
        err_console.print(f"[yellow]warning:[/] {w}", markup=True)
    if result.stop_reason:
        from rich.markup import escape

        err_console.print(f"[yellow]stopped early:[/] {escape(result.stop_reason)}", markup=True, highlight=False)
    best = f"{result.best_val_metric:.4f}" if result.best_val_metric is not None else "- (no epoch finished)"
    err_console.print(
        f"trained {record.name} ({trained.decisions.training.recipe}) for {result.epochs_run} epochs in "
        f"{result.wall_time_s:.1f} s; best {result.monitor} "
        f"{best}; peak RSS {result.peak_rss_mb:.0f} MB; run dir {out}"
    )
