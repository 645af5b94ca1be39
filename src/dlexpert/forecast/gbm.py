"""A global gradient-boosted-trees forecaster: LightGBM on lag features, built and run by Nixtla's mlforecast, never by
hand. It is the approach that won the M5 accuracy competition (Makridakis, Spiliotis & Assimakopoulos 2022, "M5
accuracy competition: Results, findings, and conclusions", IJF 38(4): LightGBM in most of the top 50), and the one
the forecasting literature puts beside the statistical baselines and the deep networks (Januschowski et al. 2022,
"Forecasting with trees", IJF 38(4)).

One model for all series: each series is first-differenced (trees cannot extrapolate a level they have not seen) and
standardised on its own history (mlforecast's `Differences` and `LocalStandardScaler`, inverted after forecasting);
the features are the lags 1-3, one and two seasons back, the mean of the last season (at least 3 steps), calendar
fields for the frequency, and the exogenous columns known ahead. Forecasts are recursive, one step at a time. The
backtest refits at every rolling origin, like the statistical models (`MLForecast.cross_validation`).
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.forecast import ForecastData
from .roster import GBM_MODEL

N_ESTIMATORS, LEARNING_RATE, NUM_LEAVES = 200, 0.05, 15  # small trees, slow rate: LightGBM's advice for small data
MIN_ROWS = 20  # training rows (series x steps with every feature) below which no trees are grown
MODEL_FILE = "model.txt"  # LightGBM's own text format: no pickle, readable by any LightGBM
# Calendar fields (pandas attributes) per frequency, by the start of the offset alias ("MS", "QS-OCT", "15min"...):
# the first prefix that matches.
DATE_FEATURES = {"MIN": ["hour", "dayofweek"], "T": ["hour", "dayofweek"], "H": ["hour", "dayofweek"],
                 "D": ["dayofweek", "month"], "B": ["dayofweek", "month"], "W": ["month"], "M": ["month"],
                 "Q": ["quarter"]}  # fmt: skip


@dataclass(frozen=True)
class GbmSetup:
    """The features the forecaster reads, fixed once per run from the shortest history it trains on."""

    lags: list[int]
    rolling: int  # window of the rolling mean of lag 1
    date_features: list[str]
    exog: list[str]  # columns known ahead

    @property
    def warm_up(self) -> int:
        """Points of a series before its first row with every feature (the first difference costs one)."""
        return max(max(self.lags), self.rolling) + 1

    def rows(self, lengths: list[int]) -> int:
        """Training rows with every feature that histories of these lengths give."""
        return sum(max(0, n - self.warm_up) for n in lengths)

    def describe(self) -> str:
        parts = [f"lags {', '.join(map(str, self.lags))}", f"the mean of the last {self.rolling} values"]
        parts += [f"calendar {', '.join(self.date_features)}"] if self.date_features else []
        parts += [f"known-ahead {', '.join(self.exog)}"] if self.exog else []
        return "; ".join(parts)


def gbm_setup(data: ForecastData, lengths: list[int]) -> GbmSetup | None:
    """The features for histories of these `lengths` (each backtested series before the first origin): lags 1-3, and
    one and two seasons back, each where the shortest history keeps a horizon plus two rows after it; None when all
    the histories give fewer than MIN_ROWS rows with every feature."""
    season, h = data.season, data.horizon
    wanted = sorted({1, 2, 3, *([season, 2 * season] if season > 1 else [])})
    lags = [lag for lag in wanted if lag <= min(lengths) - h - 2] or [1]
    setup = GbmSetup(lags, max(season, 3), _calendar(data), list(data.exog_future))
    return setup if setup.rows(lengths) >= MIN_ROWS else None


def _calendar(data: ForecastData) -> list[str]:
    alias = re.match(r"\d*([A-Za-z]+)", data.freq) if data.has_calendar else None
    name = alias.group(1).upper() if alias else ""
    return next((fields for prefix, fields in DATE_FEATURES.items() if name.startswith(prefix)), [])


def _engine(data: ForecastData, setup: GbmSetup, *, seed: int, rows: int) -> Any:
    from lightgbm import LGBMRegressor
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean
    from mlforecast.target_transforms import Differences, LocalStandardScaler

    model = LGBMRegressor(n_estimators=N_ESTIMATORS, learning_rate=LEARNING_RATE, num_leaves=NUM_LEAVES,
                          min_child_samples=max(2, min(20, rows // 20)), random_state=seed, n_jobs=1,
                          deterministic=True, force_row_wise=True, verbosity=-1)  # fmt: skip
    return MLForecast(models={GBM_MODEL: model}, freq=data.freq if data.has_calendar else 1, lags=setup.lags,
                      lag_transforms={1: [RollingMean(window_size=setup.rolling)]}, date_features=setup.date_features,
                      target_transforms=[Differences([1]), LocalStandardScaler()])  # fmt: skip


def backtest(data: ForecastData, windows: int, setup: GbmSetup, *, seed: int) -> tuple[list[list[np.ndarray]], float]:
    """Forecasts at `windows` rolling origins one horizon apart at the end of each series, refitted at each:
    ([window][series] -> (H,), seconds); window 0 is the earliest."""
    t = time.perf_counter()
    engine = _engine(data, setup, seed=seed, rows=setup.rows([len(s) - windows * data.horizon for s in data.train]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # LightGBM's "no further splits" on tiny windows
        cv = engine.cross_validation(data.frame("train", setup.exog), n_windows=windows, h=data.horizon,
                                     step_size=data.horizon, static_features=[])  # fmt: skip
    by_series = {key: part.sort_values(["cutoff", "ds"]) for key, part in cv.groupby("unique_id", sort=False)}
    per_series = [by_series[s.id][GBM_MODEL].to_numpy(np.float64).reshape(windows, data.horizon) for s in data.train]
    return [[f[w] for f in per_series] for w in range(windows)], time.perf_counter() - t


def forecast(data: ForecastData, setup: GbmSetup, *, seed: int, out_dir: Path) -> tuple[list[np.ndarray], float]:
    """The horizon after each training series from trees fitted on the whole training data, and the seconds; the
    trees are saved as `out_dir/MODEL_FILE`."""
    from .._io import atomic_write_text

    t = time.perf_counter()
    engine = _engine(data, setup, seed=seed, rows=setup.rows([len(s) for s in data.train]))
    future = data.frame("test", setup.exog).drop(columns="y") if setup.exog else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        engine.fit(data.frame("train", setup.exog), static_features=[])
        fc = engine.predict(data.horizon, X_df=future)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / MODEL_FILE, engine.models_[GBM_MODEL].booster_.model_to_string())
    by_series = {key: part.sort_values("ds") for key, part in fc.groupby("unique_id", sort=False)}
    return [by_series[s.id][GBM_MODEL].to_numpy(np.float64) for s in data.train], time.perf_counter() - t
