"""`dlexpert run TASK --data SRC --out RUN_DIR`: profile, plan, train, evaluate beside baselines and write the model
card, into one run dir."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ._common import check_format, err_console, handle_errors, locks_run


@handle_errors
@locks_run("out", create=True)
def run(
    task: str = typer.Argument(..., help="Task spec in YAML or JSON; '-' reads standard input."),
    data: str = typer.Option(..., "--data", help="Built-in dataset name (see `dlexpert datasets`) or a path."),
    out: Path = typer.Option(..., "--out", help="Run directory to create."),
    target: str | None = typer.Option(None, "--target", help="Target column for CSV/Parquet/JSONL data."),
    test: str | None = typer.Option(None, "--test", help="A fixed test set; otherwise a seeded stratified split."),
    dropna: bool = typer.Option(False, "--dropna", help="Drop table rows with missing values instead of failing."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Override the plan's epochs."),
    seed: int = typer.Option(0, "--seed"),
    hardware: str | None = typer.Option(None, "--hardware", help="Hardware profile for planning, or 'auto'."),
    fmt: str = typer.Option("text", "--format", help="text: a summary on stderr; json: evaluation.json on stdout."),
    monitor: bool = typer.Option(True, "--monitor/--no-monitor", help="Live monitors and diagnosis.json (default on)."),
    auto_remedy: bool = typer.Option(
        False, "--auto-remedy", help="On NaN/Inf roll back, cut the LR 10x and clip; stop early on clear overfitting."
    ),
    horizon: int | None = typer.Option(
        None, "--horizon", min=1, help="Forecasting: steps to forecast (else the task's words, or --test's length)."
    ),
    freq: str | None = typer.Option(None, "--freq", help="Forecasting: the series' frequency (D, W, MS, QS, YS, h)."),
    id_col: str | None = typer.Option(None, "--id-col", help="Forecasting: the series id column of a long table."),
    time_col: str | None = typer.Option(None, "--time-col", help="Forecasting: the time column."),
    exog: str | None = typer.Option(
        None,
        "--exog",
        help="Forecasting: exogenous columns, comma-separated, or 'none' (default: every other "
        "numeric column of a long table).",
    ),
    known_future: str | None = typer.Option(
        None,
        "--known-future",
        help="Forecasting: exogenous columns known ahead, comma-separated (those in --test "
        "are too); their held-out values are then the known ones.",
    ),
    track: str | None = typer.Option(
        None,
        "--track",
        help="mlflow or mlflow:URI: also log the run to MLflow (default: sqlite:///mlflow.db here).",
    ),
) -> None:
    """The whole job from a task spec and data to an evaluated model with its model card and HTML report.

    A forecasting task (or the built-in `store-sales`) backtests statsforecast's baselines and dlexpert's deep
    forecasters on the same rolling origins and ships the winner."""
    from ..errors import InvalidInputError
    from ..forecast.run import is_forecasting, run_forecast
    from ..pipeline import run as run_job
    from ..rundir import RunDir
    from ..schema import load_task
    from ..schema.evaluation import headline_metric
    from ..tracking import parse_track

    check_format(fmt)
    tracking = parse_track(track)
    spec = load_task(task)
    forecast_flags = {"--horizon": horizon, "--freq": freq, "--id-col": id_col, "--time-col": time_col,
                      "--exog": exog, "--known-future": known_future}  # fmt: skip
    given = [flag for flag, value in forecast_flags.items() if value is not None]
    if given and not is_forecasting(spec, data):
        raise InvalidInputError(f"{', '.join(given)}: forecasting options, but the task is {spec.task.type!r}; say "
                                "'forecasting' in task.type, or drop them")  # fmt: skip
    if is_forecasting(spec, data):
        fr = run_forecast(spec, data=data, out_dir=out, horizon=horizon, test=test, target=target, id_col=id_col,
                          time_col=time_col, freq=freq, exog=_columns(exog, "--exog"),
                          known_future=_columns(known_future, "--known-future") or (), seed=seed, epochs=epochs,
                          monitor=monitor,
                          progress=lambda m: err_console.print(m, markup=False, highlight=False))  # fmt: skip
        if tracking is not None:
            from ..tracking import track_finished_run

            track_finished_run(tracking, RunDir(out))
        if fmt == "json":
            typer.echo((out / RunDir.EVALUATION).read_text())
            return
        f = fr.outcome.section
        err_console.print(f"shipped {f.shipped}: test MASE {fr.evaluation.metrics['mase']:.3f}; {f.reason}; "
                          f"{fr.wall_time_s:.0f} s wall; run dir {out} (evaluation.json, forecasts.csv, "
                          "MODEL_CARD.md)", markup=False, highlight=False)  # fmt: skip
        return
    r = run_job(spec, data=data, out_dir=out, target=target, test=test, dropna=dropna, epochs=epochs,
                seed=seed, hardware=hardware, monitor=monitor, auto_remedy=auto_remedy, tracking=tracking)  # fmt: skip
    for w in r.warnings:
        err_console.print(f"[yellow]warning:[/] {w}", markup=True)
    if fmt == "json":
        typer.echo((out / RunDir.EVALUATION).read_text())
        return
    key, name = headline_metric(r.decisions.model.task)
    ours, base = r.metrics.get(key), (r.baseline_metrics or {}).get(key)
    digits = 4 if key == "accuracy" else 3
    err_console.print(
        f"{r.model_name} ({r.decisions.training.recipe}): test {name} {ours:.{digits}f} vs Step-4 baseline "
        f"{base:.{digits}f}; {r.wall_time_s:.0f} s wall, peak RSS {r.peak_rss_mb:.0f} MB; run dir {out} "
        "(evaluation.json, MODEL_CARD.md, report.html)"
        if ours is not None and base is not None
        else json.dumps(r.metrics)
    )


def _columns(text: str | None, flag: str) -> list[str] | None:
    """A comma-separated column list ('none': no column); None when the option is not given."""
    from ..errors import InvalidInputError

    if text is None:
        return None
    if text.strip().lower() == "none":
        return []
    names = [c.strip() for c in text.split(",")]
    if not all(names):
        raise InvalidInputError(f"{flag} {text!r}: expected column names separated by commas, or 'none'")
    return names
