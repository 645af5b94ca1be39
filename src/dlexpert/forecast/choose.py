"""Model choice by rolling-origin backtest (issue 16): statsforecast's baselines, a global LightGBM, the deep
forecasters and an ensemble are scored on the same windows at the end of the training data; the run ships the lowest
backtest MASE. A learned global model (trees or a network) that loses to AutoETS there is never shipped (Hyndman &
Athanasopoulos, FPP3, Sec. 5.10 and 13.4; Makridakis et al. 2018, "Statistical and Machine Learning forecasting
methods", PLOS ONE: simple statistical methods often win on short series).

Backtest: `windows` origins one horizon apart, the last one a horizon before the training data ends. The
statistical models and the trees are refitted at every origin; each deep model is trained once on the data before the
first origin and forecasts every window from the values before it (a learned model with no training rows or window
there is skipped, and the run says so). Then every candidate is fitted on the whole training data (the deep ones
trained again, their last horizon the validation target) and scored on the test horizon. The ensemble averages the
three best candidates of the backtest that may ship on their own: a learned model that lost to AutoETS is not one of
them. A candidate whose backtest forecasts are not finite ranks last.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..data.forecast import MIN_HISTORY, ForecastData, window_length
from ..errors import InvalidInputError
from ..schema.forecast import CandidateScore, ForecastSection, SeriesScore
from . import gbm
from .deep import train_deep, trainable
from .metrics import POINT_METRICS, interval_scores, mase_scale, set_errors
from .roster import AUTO_ETS, DEEP_MODELS, ENSEMBLE_SIZE, GBM_MODEL, MAX_WINDOWS, SEASONAL_NAIVE
from .stats import LEVELS
from .windows import channel_stack


@dataclass
class Candidate:
    name: str
    kind: str  # baseline | gbm | deep | ensemble
    backtest: list[list[np.ndarray]]  # [window][series]
    final: list[np.ndarray] | None = None  # [series], the test-horizon forecast
    intervals: dict[str, list[np.ndarray]] | None = None
    members: tuple[str, ...] = ()
    run_dir: Path | None = None  # a deep model's engine run, the tree model's saved trees
    fit_s: float = 0.0
    residuals: np.ndarray | None = None  # (windows x backtested series, H) |error| / MASE scale, from the backtest
    series_mase: dict[int, float] | None = None  # backtested series (index in the training data) -> mean MASE


@dataclass
class ForecastOutcome:
    section: ForecastSection
    metrics: dict[str, float]
    forecasts: dict[str, list[np.ndarray]]  # every candidate's test-horizon forecast, [series]
    intervals: dict[str, list[np.ndarray]] | None  # the shipped model's "lo-80", "hi-80"... bounds, [series]


LEARNED = ("gbm", "deep")  # candidate kinds that must beat AutoETS in the backtest to ship


class BacktestScope(NamedTuple):
    windows: int  # rolling origins, one horizon apart
    series: list[int]  # the training series backtested: those with room for every window


def backtest_scope(data: ForecastData) -> BacktestScope:
    """Rolling origins that leave a backtested series at least two seasons and MIN_HISTORY points before the first
    (AutoETS cannot fit fewer than 7; statsforecast raises "tiny datasets"); series shorter than that plus one
    horizon are forecast and tested but not backtested."""
    need = max(2 * data.season, MIN_HISTORY)
    series = [i for i, s in enumerate(data.train) if len(s) >= need + data.horizon]
    if not series:
        longest = max(len(s) for s in data.train)
        raise InvalidInputError(f"{data.source}: no series has {need + data.horizon} training points (the longest "
                                f"has {longest}): too short to backtest a horizon of {data.horizon}; shorten the "
                                "horizon")  # fmt: skip
    room = (min(len(data.train[i]) for i in series) - need) // data.horizon
    return BacktestScope(int(max(1, min(MAX_WINDOWS, room))), series)


def deep_window(data: ForecastData) -> int:
    """The past values every deep forecaster reads, in the backtest and the final fit alike."""
    return window_length(data.horizon, data.season, [len(s) for s in data.train])


def tree_setup(data: ForecastData, scope: BacktestScope) -> gbm.GbmSetup | None:
    """The global LightGBM's features for this data, fixed by the histories before the first backtest origin (the
    backtest and the final fit read the same ones); None when those give too few rows to grow trees."""
    return gbm.gbm_setup(data, [len(data.train[i]) - scope.windows * data.horizon for i in scope.series])


def deep_inputs(data: ForecastData, *, to_forecast: bool = False) -> list[np.ndarray]:
    """Each training series as the deep forecasters read it, a (C, n) `windows.channel_stack`: its values, its
    past-only columns, its columns known ahead; `to_forecast`: those extended by the test horizon's known values."""
    return [
        channel_stack(
            s.values, horizon=data.horizon, past=[s.exog[c] for c in data.exog_past],
            future=[np.concatenate([s.exog[c], t.exog[c]]) if to_forecast else s.exog[c] for c in data.exog_future],
        )
        for s, t in zip(data.train, data.test, strict=True)
    ]  # fmt: skip


def forecast_and_choose(
    data: ForecastData, *, out_dir: Path, seed: int = 0, deep_models: Sequence[str] = DEEP_MODELS,
    epochs: int | None = None, monitor: bool = True, say: Callable[[str], None] = lambda _: None,
) -> ForecastOutcome:  # fmt: skip
    """Backtest every candidate, choose, fit the candidates on the whole training data and score them on the test;
    `epochs` overrides the deep forecasters' step budget."""
    scope, window = backtest_scope(data), deep_window(data)
    trees = tree_setup(data, scope)
    train: dict[str, Any] = {"seed": seed, "monitor": monitor, "epochs": epochs, "window": window}
    candidates, scored, skipped = _backtest(data, scope, deep_models, trees, out_dir=out_dir, train=train, say=say)
    shipped = min(candidates, key=lambda c: scored[c.name]["mase"])
    say("final fit on the whole training data")
    _fit_final(data, candidates, trees, out_dir=out_dir, train=train)
    return _outcome(data, candidates, scored, shipped, scope, out_dir, window=window, skipped=skipped)


def _backtest(
    data: ForecastData, scope: BacktestScope, deep_models: Sequence[str], trees: gbm.GbmSetup | None, *,
    out_dir: Path, train: dict[str, Any], say: Callable[[str], None],
) -> tuple[list[Candidate], dict[str, dict[str, float]], list[str]]:  # fmt: skip
    """Every candidate's forecasts at the scope's origins in its series, its backtest errors, and the learned models
    skipped (with why)."""
    from . import stats

    k, h = scope.windows, data.horizon
    part = replace(data, train=[data.train[i] for i in scope.series], test=[data.test[i] for i in scope.series])
    cuts = [[len(s) - (k - w) * h for s in part.train] for w in range(k)]  # each window's origin in each series
    say(f"backtest: {k} window(s) of {h} at the end of {len(part.train)} of {len(data.train)} series")
    candidates = [Candidate(name, "baseline", fc, fit_s=s) for name, (fc, s) in stats.backtest(part, k).items()]
    skipped = []
    if trees is None:
        skipped.append(f"{GBM_MODEL}: the histories before the first backtest origin give fewer than {gbm.MIN_ROWS} "
                       "rows with every lag feature, too few to grow trees, so it is not a candidate")  # fmt: skip
    else:
        say(f"backtest: fitting {GBM_MODEL} ({trees.describe()})")
        forecasts, seconds = gbm.backtest(part, k, trees, seed=train["seed"])
        candidates.append(Candidate(GBM_MODEL, "gbm", forecasts, fit_s=seconds))
    stacks = deep_inputs(part)
    early = [s[:, :cut] for s, cut in zip(stacks, cuts[0], strict=True)]
    if deep_models and not trainable(early, window=train["window"], horizon=h):
        shortest = min(e.shape[1] for e in early)
        skipped.append(f"{', '.join(deep_models)}: the {shortest}-point histories before the first backtest origin "
                       f"hold no training window of {h} targets before their own validation "
                       "horizon, so the deep models cannot be backtested and are not candidates")  # fmt: skip
        deep_models = ()
    for name in deep_models:
        say(f"backtest: training {name}")
        t = time.perf_counter()
        model = train_deep(name, early, horizon=h, out_dir=out_dir / "models" / name / "backtest", **train)
        windows = [model.predict([s[:, :cut] for s, cut in zip(stacks, cuts[w], strict=True)]) for w in range(k)]
        candidates.append(Candidate(name, "deep", windows, fit_s=time.perf_counter() - t))
    truth = [[s.values[cut : cut + h] for s, cut in zip(part.train, cuts[w], strict=True)] for w in range(k)]
    scales = [[mase_scale(s.values[:cut], data.season) for s, cut in zip(part.train, cuts[w], strict=True)]
              for w in range(k)]  # fmt: skip
    scored = {c.name: _backtest_score(c.backtest, truth, scales) for c in candidates}
    ensemble = _ensemble([c for c in candidates if _may_ship(c, scored)], scored)
    scored[ensemble.name] = _backtest_score(ensemble.backtest, truth, scales)
    for c in (*candidates, ensemble):
        c.residuals = np.array([np.abs(f - t) / sc for fw, tw, sw in zip(c.backtest, truth, scales, strict=True)
                                for f, t, sc in zip(fw, tw, sw, strict=True)])  # fmt: skip
        c.series_mase = dict(zip(scope.series, _per_series_mase(c.backtest, truth, scales), strict=True))
    return [*candidates, ensemble], scored, skipped


def _fit_final(
    data: ForecastData, candidates: list[Candidate], trees: gbm.GbmSetup | None, *, out_dir: Path,
    train: dict[str, Any],
) -> None:  # fmt: skip
    """Every candidate's forecast of the test horizon from the whole training data: the statistical models refitted
    (with their intervals), the trees grown again, the deep ones trained again (each series' last horizon their
    validation target, not a training one), the ensemble the mean of its members."""
    from . import stats

    by_name = {c.name: c for c in candidates}
    for name, (fc, seconds) in stats.forecast(data).items():
        c = by_name[name]
        c.final, c.intervals = fc["mean"], {key: v for key, v in fc.items() if key != "mean"}
        c.fit_s += seconds
    for c in (c for c in candidates if c.kind == "gbm"):
        assert trees is not None  # a tree candidate exists only with its features
        c.run_dir = out_dir / "models" / c.name / "final"
        c.final, seconds = gbm.forecast(data, trees, seed=train["seed"], out_dir=c.run_dir)
        c.fit_s += seconds
    histories, to_forecast = deep_inputs(data), deep_inputs(data, to_forecast=True)
    for c in (c for c in candidates if c.kind == "deep"):
        t = time.perf_counter()
        model = train_deep(c.name, histories, horizon=data.horizon, out_dir=out_dir / "models" / c.name / "final",
                           **train)  # fmt: skip
        c.final, c.run_dir = model.predict(to_forecast), model.out_dir
        c.fit_s += time.perf_counter() - t
    for c in (c for c in candidates if c.kind == "ensemble"):
        c.final = _mean([by_name[m].final for m in c.members])  # type: ignore[misc]
    scales = [mase_scale(s.values, data.season) for s in data.train]
    for c in candidates:
        if not c.intervals and c.final is not None and c.residuals is not None:  # learned models and the ensemble
            c.intervals = conformal_intervals(c.final, c.residuals, scales)


def conformal_intervals(
    final: list[np.ndarray], residuals: np.ndarray, scales: list[float], levels: Sequence[int] = LEVELS
) -> dict[str, list[np.ndarray]]:
    """Split-conformal intervals from the backtest (Stankeviciute, Alaa & van der Schaar 2021, "Conformal Time-series
    Forecasting", NeurIPS): at each horizon step, the level's quantile of the backtest's scaled absolute errors (with
    the finite-sample correction ceil((n + 1) L) / n), times each series' MASE scale, around its forecast. With n
    errors per step the widest attainable level is n / (n + 1): fewer errors give the largest one seen."""
    n = len(residuals)
    out: dict[str, list[np.ndarray]] = {}
    for level in levels:
        q = np.quantile(residuals, min(1.0, np.ceil((n + 1) * level / 100) / n), axis=0)
        out[f"lo-{level}"] = [f - q * sc for f, sc in zip(final, scales, strict=True)]
        out[f"hi-{level}"] = [f + q * sc for f, sc in zip(final, scales, strict=True)]
    return out


def _backtest_score(
    forecasts: list[list[np.ndarray]], truth: list[list[np.ndarray]], scales: list[list[float]]
) -> dict[str, float]:
    """Mean errors over the windows; a candidate with a non-finite forecast scores +inf (it ranks last)."""
    if not all(np.isfinite(f).all() for window in forecasts for f in window):
        return {m: float("inf") for m in POINT_METRICS}
    per_window = [set_errors(f, t, s)[0] for f, t, s in zip(forecasts, truth, scales, strict=True)]
    return {m: float(np.mean([w[m] for w in per_window])) for m in POINT_METRICS}


def _per_series_mase(
    forecasts: list[list[np.ndarray]], truth: list[list[np.ndarray]], scales: list[list[float]]
) -> list[float]:
    """Each backtested series' MASE, the mean over the windows (+inf where a forecast is not finite)."""
    per_window = [[p["mase"] for p in set_errors(f, t, s)[1]] for f, t, s in zip(forecasts, truth, scales, strict=True)]
    return [float(np.mean(m)) if np.isfinite(m).all() else float("inf") for m in zip(*per_window, strict=True)]


def _may_ship(c: Candidate, scored: dict[str, dict[str, float]]) -> bool:
    """A statistical model always may; a learned global model (deep or trees) only when it beat AutoETS in the
    backtest."""
    ets = scored.get(AUTO_ETS)
    return np.isfinite(scored[c.name]["mase"]) and (
        c.kind not in LEARNED or ets is None or scored[c.name]["mase"] < ets["mase"]
    )


def _ensemble(candidates: list[Candidate], scored: dict[str, dict[str, float]]) -> Candidate:
    """The mean of the ENSEMBLE_SIZE best candidates by backtest MASE (forecast combination: Makridakis et al. 2020,
    the M4 competition, Sec. 4: combinations beat most single methods)."""
    best = sorted(candidates, key=lambda c: scored[c.name]["mase"])[:ENSEMBLE_SIZE]
    members = tuple(c.name for c in best)
    windows = [_mean([c.backtest[w] for c in best]) for w in range(len(best[0].backtest))]
    return Candidate(f"Ensemble({', '.join(members)})", "ensemble", windows, members=members)


def _mean(forecasts: list[list[np.ndarray]]) -> list[np.ndarray]:
    return [np.mean(np.stack(parts), axis=0) for parts in zip(*forecasts, strict=True)]


def _outcome(
    data: ForecastData, candidates: list[Candidate], scored: dict[str, dict[str, float]], shipped: Candidate,
    scope: BacktestScope, out_dir: Path, *, window: int, skipped: list[str],
) -> ForecastOutcome:  # fmt: skip
    truth = [s.values for s in data.test]
    scales = [mase_scale(s.values, data.season) for s in data.train]
    tested = {c.name: set_errors(c.final, truth, scales) for c in candidates if c.final is not None}
    rows = [
        CandidateScore(
            model=c.name,
            kind=c.kind,  # type: ignore[arg-type]
            backtest=scored[c.name],
            test=tested[c.name][0],
            test_mase_per_series=[p["mase"] for p in tested[c.name][1]],
            backtest_mase_per_series=[(c.series_mase or {}).get(i) for i in range(len(data.train))],
            members=list(c.members),
            run_dir=str(c.run_dir.relative_to(out_dir)) if c.run_dir else None,
            fit_s=round(c.fit_s, 3) if c.kind != "ensemble" else None,
        )
        for c in candidates
    ]
    naive, ets = tested[SEASONAL_NAIVE][1], tested[AUTO_ETS][1]
    mine = tested[shipped.name][1]
    per_series = [
        SeriesScore(id=s.id, **mine[i], seasonal_naive_mase=naive[i]["mase"], auto_ets_mase=ets[i]["mase"])
        for i, s in enumerate(data.train)
    ]
    share = lambda base: float(np.mean([m["mase"] < b["mase"] for m, b in zip(mine, base, strict=True)]))  # noqa: E731
    section = ForecastSection(
        freq=data.freq,
        season=data.season,
        horizon=data.horizon,
        horizon_source=data.horizon_source,
        window=window,
        backtest_windows=scope.windows,
        backtest_series=len(scope.series),
        candidates=rows,
        shipped=shipped.name,
        shipped_kind=shipped.kind,  # type: ignore[arg-type]
        reason=_reason(shipped, scored, [c.name for c in candidates if c.kind in LEARNED]),
        skipped=skipped,
        per_series=per_series,
        beats_seasonal_naive=share(naive) if shipped.name != SEASONAL_NAIVE else None,
        beats_auto_ets=share(ets) if shipped.name != AUTO_ETS else None,
        intervals=_interval_figures(shipped, truth, scales),
        interval_method=(
            "the statistical model's own prediction intervals (statsforecast)"
            if shipped.kind == "baseline"
            else f"split-conformal: the backtest's {0 if shipped.residuals is None else len(shipped.residuals)} "
            "scaled absolute errors per horizon "
            "step, their quantile at each level times the series' MASE scale"
        ),
    )
    forecasts = {c.name: c.final for c in candidates if c.final is not None}
    return ForecastOutcome(section=section, metrics=tested[shipped.name][0], forecasts=forecasts,
                           intervals=shipped.intervals or None)  # fmt: skip


def _reason(shipped: Candidate, scored: dict[str, dict[str, float]], learned: list[str]) -> str:
    ranked = sorted(scored.items(), key=lambda kv: kv[1]["mase"])
    others = ", ".join([f"{name} {s['mase']:.3f}" for name, s in ranked if name != shipped.name][:3])
    text = f"lowest backtest MASE: {shipped.name} {scored[shipped.name]['mase']:.3f} (then {others})"
    ets = scored[AUTO_ETS]["mase"]
    losers = [n for n in learned if scored[n]["mase"] >= ets]
    if losers:
        text += f"; {', '.join(losers)} did not beat AutoETS ({ets:.3f}) in backtest, so cannot ship, alone or averaged"
    return text


def _interval_figures(shipped: Candidate, truth: list[np.ndarray], scales: list[float]) -> dict[str, float] | None:
    if not shipped.intervals:
        return None
    out: dict[str, float] = {}
    pinball = []
    for level in (80, 95):
        lo, hi = shipped.intervals.get(f"lo-{level}"), shipped.intervals.get(f"hi-{level}")
        if lo is None or hi is None:
            return None
        scores = [interval_scores(a, b, t, level / 100, s) for a, b, t, s in zip(lo, hi, truth, scales, strict=True)]
        out[f"coverage_{level}"] = float(np.mean([c for c, _ in scores]))
        pinball += [p for _, p in scores]
    out["scaled_pinball"] = float(np.mean(pinball))
    return out
