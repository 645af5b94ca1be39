"""`dlexpert run` for a forecasting task (issue 16): profile the series, plan, backtest the candidates, ship the
winner, and write the run folder.

RUN_DIR/
    task.yaml, profile.json, plan.json, decisions.json    as every run; decisions.forecast is what runs
    models/<name>/backtest/, models/<name>/final/         each deep forecaster's engine runs (config.yaml,
                                                          metrics.jsonl, tb/, checkpoints/)
    forecasts.csv                                         every candidate's test forecast beside the truth
    evaluation.json                                       the shipped model's MASE, sMAPE, MAE, RMSE; `forecast`:
                                                          every candidate's backtest and test figures, per series
    figures/forecasts.png, figures/error_by_step.png
    MODEL_CARD.md
"""

from __future__ import annotations

import datetime
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data._util import require
from ..data.forecast import ForecastData, is_forecast_builtin, load_forecast
from ..data.forecast.profile import profile_forecast
from ..errors import InvalidInputError
from ..rundir import RunDir
from ..schema import TaskSpec
from ..schema.decisions import Decisions, ForecastPlan
from ..schema.evaluation import BaselineResult, Baselines, Evaluation
from ..schema.forecast import CandidateScore
from .choose import ForecastOutcome, backtest_scope, deep_inputs, deep_window, forecast_and_choose, tree_setup
from .deep import LEARNING_RATE, MAX_BATCH, MAX_EPOCHS, PATIENCE, STEP_BUDGET
from .export import save_windows
from .gbm import LEARNING_RATE as GBM_RATE
from .gbm import MODEL_FILE, N_ESTIMATORS, NUM_LEAVES
from .roster import DEEP_MODELS, GBM_MODEL, SELECTION, baseline_names
from .stats import MODEL_HOW

FORECASTS_CSV = "forecasts.csv"


@dataclass
class ForecastRun:
    out_dir: Path
    evaluation: Evaluation
    outcome: ForecastOutcome
    wall_time_s: float


def is_forecasting(spec: TaskSpec, data: str) -> bool:
    """Whether `dlexpert run` forecasts: the spec's task is forecasting, or the data is the built-in series set."""
    return spec.task.family == "forecasting" or is_forecast_builtin(data)


def run_forecast(
    spec: TaskSpec, *, data: str, out_dir: str | Path, horizon: int | None = None, test: str | None = None,
    target: str | None = None, id_col: str | None = None, time_col: str | None = None, freq: str | None = None,
    exog: Sequence[str] | None = None, known_future: Sequence[str] = (), seed: int = 0, epochs: int | None = None,
    monitor: bool = True, progress: Callable[[str], None] | None = None,
) -> ForecastRun:  # fmt: skip
    """The whole forecasting job into `out_dir` (see the module doc)."""
    from ..advisor import advise_with_decisions
    from ..pipeline import fill_from_profile

    require("statsforecast", extra="forecast", what="a forecasting run (its statistical baselines)")
    for module in ("mlforecast", "lightgbm"):
        require(module, extra="forecast", what="a forecasting run (its global LightGBM)")
    t0 = time.perf_counter()
    say = progress or (lambda _: None)
    run_dir = RunDir(out_dir)
    if (run_dir / RunDir.EVALUATION).exists() or (run_dir.path / "models").exists():
        raise InvalidInputError(f"{run_dir.path}: already holds a run; choose a new --out folder")
    text = " ".join(filter(None, [spec.task.specificTask, spec.data.size, spec.data.distribution]))
    series = load_forecast(data, horizon=horizon, test=test, text=text, id_col=id_col, time_col=time_col,
                           target=target, freq=freq, exog=exog, known_future=known_future)  # fmt: skip
    profile = profile_forecast(series)
    filled = fill_from_profile(spec, profile)
    plan, decisions = advise_with_decisions(filled, profile=profile, assume_defaults=True, runnable_here=True)
    carried_out = forecast_plan(series, decisions, epochs=epochs)  # refuses data too short to backtest: no files yet
    decisions = decisions.model_copy(update={"forecast": carried_out})
    run_dir.path.mkdir(parents=True, exist_ok=True)
    run_dir.write_model(RunDir.PROFILE, profile)
    run_dir.write_task(filled)
    run_dir.write_plan(plan.model_copy(update={"decisions": decisions}))
    run_dir.write_decisions(decisions)
    say(profile.describe())
    outcome = forecast_and_choose(series, out_dir=run_dir.path, seed=seed, deep_models=carried_out.deep,
                                  epochs=epochs, monitor=monitor, say=say)  # fmt: skip
    csv = write_forecasts(run_dir.path / FORECASTS_CSV, series, outcome)
    save_windows(run_dir.path, deep_inputs(series), window=carried_out.window, horizon=series.horizon)
    figures = _figures(run_dir.path, series, outcome)
    evaluation = _evaluation(run_dir.path, series, outcome, csv, figures)
    run_dir.write_model(RunDir.EVALUATION, evaluation)
    from ..report.card_forecast import write_forecast_card

    write_forecast_card(run_dir.path)
    return ForecastRun(out_dir=run_dir.path, evaluation=evaluation, outcome=outcome,
                       wall_time_s=time.perf_counter() - t0)  # fmt: skip


def forecast_plan(data: ForecastData, decisions: Decisions, *, epochs: int | None = None) -> ForecastPlan:
    """What the run carries out, as values: the candidates, the backtest, the deep forecasters' recipe, and the
    plan's own model when the run does not train it (with the reason)."""
    from .stats import model_notes

    planned = decisions.training.catalog_name or decisions.model.name
    scope = backtest_scope(data)
    trees = tree_setup(data, scope)
    deep = list(DEEP_MODELS)
    if _forecasts_with_registry(decisions.model.library, decisions.model.name) and decisions.model.name not in deep:
        deep.append(decisions.model.name)  # the plan's own network runs, as one candidate among the others
    if decisions.model.name in deep and decisions.model.library == "dlexpert":
        replaces = (f"the plan's {decisions.model.name} runs as a candidate with the registry's default size and "
                    "the forecasting recipe below, not the plan's width, depth or training section, so that every "
                    "deep candidate is trained alike")  # fmt: skip
    else:
        replaces = (f"the plan's {planned} ({decisions.model.library}) is not trained: it cannot run here as a "
                    f"window-in, horizon-out forecaster, so the run backtests {f'{GBM_MODEL} and ' if trees else ''}"
                    f"dlexpert's {', '.join(deep)} against statsforecast's baselines and ships the winner")  # fmt: skip
    return ForecastPlan(
        baselines=baseline_names(data.season, exog=bool(data.exog_future)),
        deep=deep,
        trees=f"{GBM_MODEL} (mlforecast; {N_ESTIMATORS} trees of {NUM_LEAVES} leaves, learning rate {GBM_RATE:g}), "
        f"one model for all series, each differenced and standardised, reading {trees.describe()}"
        if trees
        else None,
        backtest_windows=scope.windows,
        backtest_series=len(scope.series),
        window=deep_window(data),
        selection=SELECTION,
        recipe=f"Adam lr {LEARNING_RATE:g}, cosine schedule, MSE on window-scaled targets, "
        + (f"{epochs} epochs (--epochs)" if epochs else f"about {STEP_BUDGET} steps (at most {MAX_EPOCHS} epochs)")
        + f", batch up to {MAX_BATCH}, early stopping after {PATIENCE} epochs without a better validation loss on "
        "each series' last horizon",
        replaces=replaces,
        notes=model_notes(data.season, longest=max(len(s) for s in data.train)) + _exog_notes(data),
    )  # fmt: skip


def _exog_notes(data: ForecastData) -> list[str]:
    """How the run uses the exogenous columns, in words for the plan and the card."""
    if not data.exog:
        return []
    notes = [f"the deep forecasters read {len(data.exog)} exogenous column(s) as input channels beside the target, "
             "each scaled per window like it"]  # fmt: skip
    if data.exog_future:
        notes.append(f"known ahead: {', '.join(data.exog_future)}; they enter the deep forecasters led by the "
                     "horizon (the window ending at t reads them up to t + H - 1) and AutoARIMA+X as regressors with "
                     "ARIMA errors, so the backtest says whether they help (FPP3, Ch. 10)")  # fmt: skip
    if data.exog_past:
        notes.append(f"past only: {', '.join(data.exog_past)}; the statistical models cannot use them (they need "
                     "values over the horizon), the deep forecasters read their past values")  # fmt: skip
    return notes


def _forecasts_with_registry(library: str, name: str) -> bool:
    """Whether a planned model is one of dlexpert's sequence networks, which read (C, L) windows and give one output
    per horizon step like the forecasters (gru, cnn1d, transformer_encoder...)."""
    if library != "dlexpert":
        return False
    from ..models import get_model_entry, list_models

    return (
        name in list_models()
        and "sequence" in get_model_entry(name).modalities
        and (get_model_entry(name).output == "sample")
    )


def write_forecasts(path: Path, data: ForecastData, outcome: ForecastOutcome) -> Path:
    """forecasts.csv: unique_id, ds, y (the truth), the shipped forecast and its intervals, then every candidate."""
    import pandas as pd

    from .._io import atomic_write_text

    shipped = outcome.section.shipped
    frame = data.frame("test")
    frame["forecast"] = np.concatenate(outcome.forecasts[shipped])
    for key, parts in (outcome.intervals or {}).items():
        frame[key] = np.concatenate(parts)
    for name, parts in outcome.forecasts.items():
        frame[name] = np.concatenate(parts)
    if isinstance(frame["ds"].iloc[0], pd.Timestamp):
        midnight = bool((frame["ds"] == frame["ds"].dt.normalize()).all())  # dates alone when every time is 00:00
        frame["ds"] = frame["ds"].dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S")
    return atomic_write_text(path, frame.to_csv(index=False, float_format="%.6g"))


def _figures(run_dir: Path, data: ForecastData, outcome: ForecastOutcome) -> dict[str, str]:
    from ..report.forecast_figures import plot_error_by_step, plot_forecasts

    fig_dir = run_dir / RunDir.FIGURES
    fig_dir.mkdir(exist_ok=True)
    written = {
        "forecasts": plot_forecasts(data, outcome, fig_dir / "forecasts.png"),
        "error_by_step": plot_error_by_step(data, outcome, fig_dir / "error_by_step.png"),
    }
    return {k: str(v.relative_to(run_dir)) for k, v in written.items()}


def _shipped_weights(run_dir: Path, shipped: CandidateScore) -> Path | None:
    """What the shipped model is, as a file: a deep forecaster's best checkpoint, the trees LightGBM saved; None for
    a statistical model or an ensemble, whose forecasts are the artefact."""
    if not shipped.run_dir:
        return None
    folder = run_dir / shipped.run_dir
    return folder / (MODEL_FILE if shipped.kind == "gbm" else "checkpoints/best.safetensors")


def _evaluation(
    run_dir: Path, data: ForecastData, outcome: ForecastOutcome, csv: Path, figures: dict[str, str]
) -> Evaluation:
    """evaluation.json: the shipped model's test figures, the statistical baselines beside it, every candidate in
    `forecast`."""
    from ..report.evaluate import environment

    section = outcome.section
    metrics = dict(outcome.metrics) | {k: v for k, v in (section.intervals or {}).items()}
    by_name = {c.model: c for c in section.candidates}
    strong = [
        BaselineResult(
            model=c.model,
            metrics=c.test,
            key=c.model,
            how=f"statsforecast {c.model}: {MODEL_HOW.get(c.model, 'fitted per series')}; backtest MASE "
            f"{c.backtest['mase']:.3f}",
        )
        for c in section.candidates
        if c.kind == "baseline"
    ]
    naive = by_name["SeasonalNaive"]
    summary = [
        f"MASE {outcome.metrics['mase']:.3f} ({section.shipped}) vs {b.metrics['mase']:.3f} for {b.model}"
        for b in strong
        if b.model != section.shipped
    ]
    if section.beats_seasonal_naive is not None:
        summary.append(f"{section.beats_seasonal_naive:.0%} of series beat seasonal naive on the test horizon")
    shipped = by_name[section.shipped]
    weights = _shipped_weights(run_dir, shipped) or csv
    return Evaluation(
        run_dir=str(run_dir),
        task="forecasting",
        split=data.test_source,
        n_samples=len(data.test) * data.horizon,
        model=section.shipped,
        model_version=hashlib.sha256(weights.read_bytes()).hexdigest(),
        weights=str(weights.relative_to(run_dir)),
        data={
            "source": data.source,
            "test": data.test_source,
            "version": data.version,
            "split": data.split,
            "n_series": len(data.train),
            "freq": data.freq,
            "season": data.season,
            "horizon": data.horizon,
        },
        metrics=metrics,
        baseline=Baselines(
            majority=BaselineResult(
                model=naive.model, metrics=naive.test, key=naive.model, how=MODEL_HOW["SeasonalNaive"]
            ),
            strong=[b for b in strong if b.model != naive.model],
            summary=summary,
        ),
        forecast=section,
        figures=figures,
        warnings=list(data.warnings),
        environment=environment(),
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )
