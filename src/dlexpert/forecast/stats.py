"""Step 4's forecasting baselines from statsforecast (Nixtla; Garza et al. 2022), never written by hand: Naive,
SeasonalNaive, AutoETS, AutoARIMA and AutoTheta, fitted per series. `backtest` refits them at each rolling origin
(`StatsForecast.cross_validation`); `forecast` fits them on whole histories, with 80% and 95% prediction intervals."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..data.forecast import ForecastData
from .roster import SEASONAL_ARIMA_MAX, WITH_EXOG, baseline_names

LEVELS = (80, 95)
# What each baseline does, in words for evaluation.json and the card.
MODEL_HOW = {
    "SeasonalNaive": "the value one season earlier (the last value without a season)",
    "Naive": "the last value, repeated",
    "AutoETS": "exponential smoothing, error/trend/season form chosen by AICc (Hyndman et al. 2002)",
    "AutoARIMA": "ARIMA orders chosen by the Hyndman-Khandakar stepwise search (2008)",
    "AutoTheta": "the Theta family chosen by in-sample fit (Fiorucci et al. 2016)",
    "MSTL": "an STL seasonal decomposition with an ETS trend (Bandara et al. 2021), for periods over 24",
    "AutoARIMA+X": "regression on the exogenous columns known ahead with ARIMA errors, orders chosen as AutoARIMA's "
    "(dynamic regression: Hyndman & Athanasopoulos, FPP3, Ch. 10)",
}


def statistical_models(season: int, *, longest: int, exog: bool = False) -> list[Any]:
    """The baselines for this seasonal period, `roster.baseline_names`: seasonal naive (naive when there is no season),
    naive beside it when there is one, and the automatic ETS, ARIMA and Theta selections (Hyndman & Khandakar 2008;
    Fiorucci et al. 2016); above SEASONAL_ARIMA_MAX, a non-seasonal ARIMA and MSTL (an STL season with an ETS trend;
    Bandara et al. 2021, arXiv 2107.13462), as FPP3 Sec. 12.1 advises for weekly data; with `exog` (columns known
    ahead), AutoARIMA+X too, the only one that reads them, so the backtest says whether they help. ARIMA's order search
    approximates the likelihood when the `longest` series or the season is long (`arima_approximates`)."""
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, AutoTheta, Naive, SeasonalNaive

    arima_season, approximate = season if season <= SEASONAL_ARIMA_MAX else 1, arima_approximates(longest, season)
    make: dict[str, Callable[[], Any]] = {
        "SeasonalNaive": lambda: SeasonalNaive(season_length=season),
        "Naive": Naive,
        "AutoETS": lambda: AutoETS(season_length=season),
        "AutoARIMA": lambda: AutoARIMA(season_length=arima_season, approximation=approximate),
        "AutoTheta": lambda: AutoTheta(season_length=season),
        "MSTL": lambda: MSTL(season_length=season, trend_forecaster=AutoETS(model="ZZN")),
        WITH_EXOG: lambda: AutoARIMA(season_length=arima_season, approximation=approximate, alias=WITH_EXOG),
    }
    return [make[name]() for name in baseline_names(season, exog=exog)]


def arima_approximates(longest: int, season: int) -> bool:
    """R's auto.arima default, `approximation = length(x) > 150 | frequency(x) > 12` (Hyndman & Khandakar 2008, J.
    Stat. Software 27(3), Sec. 3.2): the order search scores candidates by conditional sums of squares, and only the
    chosen order is fitted by maximum likelihood. On the 4 daily series of 1,447 points of seattle_weather (period 7)
    the fit took 4.3 s with it and 43.9 s without."""
    return longest > 150 or season > 12


def model_notes(season: int, *, longest: int) -> list[str]:
    """What the run's statistical baselines do differently for this period and length, in words for the plan and the
    card."""
    notes = []
    if season > SEASONAL_ARIMA_MAX:
        notes.append(f"period {season} is over {SEASONAL_ARIMA_MAX}: AutoARIMA runs without a seasonal part (a "
                     "seasonal ARIMA at period 52 took over 6 minutes on 843 weekly points) and AutoETS fits no "
                     "seasonal form; MSTL (an STL season with an ETS trend) carries the season (Hyndman & "
                     "Athanasopoulos, FPP3, Sec. 12.1)")  # fmt: skip
    if arima_approximates(longest, season):
        notes.append(f"AutoARIMA searches its orders by conditional sums of squares and fits only the chosen one by "
                     f"maximum likelihood, R auto.arima's default for series over 150 points or periods over 12 "
                     f"(here {longest} points, period {season}; Hyndman & Khandakar 2008)")  # fmt: skip
    return notes


def _each_model(data: ForecastData) -> Iterator[tuple[str, Any, list[str]]]:
    """(name, a StatsForecast of that model alone, the exogenous columns it reads): models run one by one, so each
    one's time is its own."""
    from statsforecast import StatsForecast

    longest = max(len(s) for s in data.train)
    for model in statistical_models(data.season, longest=longest, exog=bool(data.exog_future)):
        engine = StatsForecast(models=[model], freq=data.freq if data.has_calendar else 1, n_jobs=1)
        yield repr(model), engine, data.exog_future if repr(model) == WITH_EXOG else []


@contextmanager
def _quiet() -> Iterator[None]:
    """NumPy's divide warnings from ETS fits on few points, and ARIMA's rank-deficient design matrix from an exogenous
    column that is constant before a backtest origin, are silenced: the fit's forecasts are scored like any other."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message=".*design matrix is rank-deficient")
        yield


def backtest(data: ForecastData, windows: int) -> dict[str, tuple[list[list[np.ndarray]], float]]:
    """Each model's forecasts at `windows` rolling origins spaced one horizon apart at the end of the training data,
    and its seconds: {model: ([window][series] -> (H,), seconds)}; window 0 is the earliest."""
    out = {}
    for name, engine, exog in _each_model(data):
        t = time.perf_counter()
        with _quiet():
            cv = engine.cross_validation(df=data.frame("train", exog), h=data.horizon, n_windows=windows,
                                         step_size=data.horizon)  # fmt: skip
        by_series = {key: part.sort_values(["cutoff", "ds"]) for key, part in cv.groupby("unique_id", sort=False)}
        # series end at different times, so each has its own cutoffs: window w is its w-th
        per_series = [by_series[s.id][name].to_numpy(np.float64).reshape(windows, data.horizon) for s in data.train]
        out[name] = ([[f[w] for f in per_series] for w in range(windows)], time.perf_counter() - t)
    return out


def forecast(data: ForecastData) -> dict[str, tuple[dict[str, list[np.ndarray]], float]]:
    """Each model's forecast of the `horizon` points after each training series with its intervals, and its seconds:
    {model: ({"mean": [series], "lo-80": [...], "hi-80": [...], ...}, seconds)}."""
    out = {}
    for name, engine, exog in _each_model(data):
        t = time.perf_counter()
        future = data.frame("test", exog).drop(columns="y") if exog else None
        with _quiet():
            fc = engine.forecast(df=data.frame("train", exog), h=data.horizon, level=list(LEVELS), X_df=future)
        columns = {"mean": name} | {f"{side}-{lv}": f"{name}-{side}-{lv}" for lv in LEVELS for side in ("lo", "hi")}
        parts = {key: [fc.loc[fc["unique_id"] == s.id, col].to_numpy(np.float64) for s in data.train]
                 for key, col in columns.items() if col in fc.columns}  # fmt: skip
        out[name] = (parts, time.perf_counter() - t)
    return out
