"""`profile_forecast`: what a set of series holds before any model is fitted (issue 16).

Per set: series count and lengths, frequency and seasonal period, the horizon and where it came from, the strength of
trend and seasonality (Wang, Smith & Hyndman 2006, "Characteristic-based clustering for time series data", the
F_T and F_S of Hyndman & Athanasopoulos, FPP3, Sec. 4.3: 1 - Var(remainder) / Var(component + remainder) of an STL
decomposition), intermittency (the share of zeros), the spread of scales between series, and the training windows a
global network would see.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from .._util import Problems, require
from ._types import ForecastData, Series, window_length

INTERMITTENT_ZEROS = 0.3  # a series with more zeros than this is intermittent (Croston-type demand)
SCALE_SPREAD_LIMIT = 100.0  # series whose levels differ more than this need per-series scaling
STRONG_SEASON = 0.64  # F_S above this is a strong season (FPP3's examples call 0.6-0.7 and up strong)


class ForecastProfile(BaseModel):
    """The profile of a forecasting set (`dlexpert profile` on a series table or the built-in `store-sales`)."""

    source: str
    task: str = "forecasting"
    format: str = Field(description="long | wide | builtin")
    version: str
    freq: str = Field(description="pandas offset alias, or 'step' for integer time")
    season: int = Field(description="seasonal period in steps (1: none)")
    horizon: int
    horizon_source: str
    test_source: str
    n_series: int
    lengths: dict[str, int] = Field(description="training points per series: min, median, max")
    n_train_points: int
    trend_strength: float | None = Field(None, description="median over series of F_T (0-1)")
    seasonal_strength: float | None = Field(None, description="median over series of F_S (0-1); None without season")
    zero_share: float = Field(description="share of zero values over all training points")
    intermittent_series: int
    scale_spread: float = Field(description="90th / 10th percentile of the series' mean absolute level")
    exog_future: list[str] = Field(default_factory=list, description="exogenous columns known over the horizon")
    exog_past: list[str] = Field(default_factory=list, description="exogenous columns observed only in the past")
    input_shape: list[int] = Field(
        description="(C, L): the window a deep forecaster reads, the target and each exogenous column (C) over L steps"
    )
    problems: list[str]
    issues: list[str]
    warnings: list[str]
    modality: str = "forecast"

    @property
    def n_classes(self) -> int:
        """The network's outputs, as the advisor sizes a model: one per horizon step."""
        return self.horizon

    def task_data(self) -> dict[str, str]:
        """The task spec's `data` fields filled from this profile (`plan --data FILE`): the size counts series and
        points, never the points as independent samples."""
        season = f", season {self.season}" if self.season > 1 else ""
        return {
            "size": f"{self.n_series} series x {self.lengths['median']} points ({self.n_train_points:,} points; "
            f"{self.freq}{season}), horizon {self.horizon}",
            "quality": "; ".join(self.problems[:3]) or "clean (profiled)",
        }

    def describe(self) -> str:
        lengths = self.lengths
        strength = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
        lines = [
            f"{self.source} (forecasting, {self.format}): {self.n_series} series of {lengths['min']}-{lengths['max']} "
            f"points (median {lengths['median']}), frequency {self.freq}, season {self.season}",
            f"  horizon {self.horizon} ({self.horizon_source}); test: {self.test_source}",
            f"  trend strength {strength(self.trend_strength)}, seasonal strength {strength(self.seasonal_strength)}, "
            f"zeros {self.zero_share:.1%}, scale spread {self.scale_spread:.3g}x",
        ]
        if self.exog_future or self.exog_past:
            lines.append(f"  exogenous: known ahead {', '.join(self.exog_future) or 'none'}; past only "
                         f"{', '.join(self.exog_past) or 'none'}")  # fmt: skip
        lines += [f"  problem: {p}" for p in self.problems] or ["  no problems found"]
        return "\n".join(lines)


def profile_forecast(data: ForecastData) -> ForecastProfile:
    """Profile loaded forecasting data.

    Example:
        >>> from dlexpert.data.forecast import load_forecast
        >>> p = profile_forecast(load_forecast("store-sales"))
        >>> p.n_series, p.season, p.seasonal_strength > 0.5
        (6, 7, True)
    """
    lengths = np.array([len(s) for s in data.train])
    strengths = [_strengths(s, data.season) for s in data.train]
    trend = [t for t, _ in strengths if t is not None]
    seasonal = [v for _, v in strengths if v is not None]
    values = np.concatenate([s.values for s in data.train])
    zeros = [float(np.mean(s.values == 0)) for s in data.train]
    levels = np.array([np.mean(np.abs(s.values)) for s in data.train])
    spread = float(np.percentile(levels, 90) / max(np.percentile(levels, 10), 1e-12)) if len(levels) > 1 else 1.0
    profile = ForecastProfile(
        source=data.source,
        format=data.format,
        version=data.version,
        freq=data.freq,
        season=data.season,
        horizon=data.horizon,
        horizon_source=data.horizon_source,
        test_source=data.test_source,
        n_series=len(data.train),
        lengths={"min": int(lengths.min()), "median": int(np.median(lengths)), "max": int(lengths.max())},
        n_train_points=int(lengths.sum()),
        trend_strength=round(float(np.median(trend)), 4) if trend else None,
        seasonal_strength=round(float(np.median(seasonal)), 4) if seasonal else None,
        zero_share=round(float(np.mean(values == 0)), 4),
        intermittent_series=sum(z > INTERMITTENT_ZEROS for z in zeros),
        scale_spread=round(spread, 4),
        exog_future=list(data.exog_future),
        exog_past=list(data.exog_past),
        input_shape=[1 + len(data.exog), window_length(data.horizon, data.season, lengths.tolist())],
        problems=[],
        issues=[],
        warnings=list(data.warnings),
    )
    found = _problems(profile)
    return profile.model_copy(update={"problems": found.problems, "issues": found.issues})


def _strengths(series: Series, season: int) -> tuple[float | None, float | None]:
    """(F_T, F_S) of one series from an STL decomposition (statsmodels), F_S None without a season; (None, None) for
    a series too short to decompose."""
    y = series.values
    if season > 1 and len(y) >= 2 * season + 1:
        STL = require("statsmodels.tsa.seasonal", extra="forecast", what="the profile's season strength").STL

        fit = STL(y, period=season, robust=True).fit()
        trend, seasonal, remainder = fit.trend, fit.seasonal, fit.resid
    elif len(y) >= 7:
        window = max(3, min(len(y) // 4, 13) | 1)  # an odd centred moving average as the trend
        trend = np.convolve(np.pad(y, window // 2, mode="edge"), np.ones(window) / window, mode="valid")
        seasonal, remainder = None, y - trend
    else:
        return None, None
    var_r = float(np.var(remainder))
    f_t = max(0.0, 1 - var_r / max(float(np.var(trend + remainder)), 1e-12))
    f_s = None if seasonal is None else max(0.0, 1 - var_r / max(float(np.var(seasonal + remainder)), 1e-12))
    return f_t, f_s


def _problems(p: ForecastProfile) -> Problems:
    found = Problems()
    if p.intermittent_series:
        found.add(None, f"{p.intermittent_series} of {p.n_series} series are intermittent (over "
                        f"{INTERMITTENT_ZEROS:.0%} zeros): MASE and sMAPE are unstable there; Croston/TSB methods "
                        "and a zero-aware loss fit them better")  # fmt: skip
    if p.scale_spread > SCALE_SPREAD_LIMIT:
        found.add(None, f"series levels differ {p.scale_spread:.3g}x (90th/10th percentile): a global network needs "
                        "per-series scaling (it gets it), and errors are compared in MASE, not MAE")  # fmt: skip
    if p.horizon > p.lengths["min"] // 2:
        found.add(None, f"the horizon {p.horizon} is over half the shortest history ({p.lengths['min']} points): few "
                        "backtest windows fit, and model choice is noisy")  # fmt: skip
    if p.season > 1 and p.seasonal_strength is not None and p.seasonal_strength < 0.3:
        found.add(None, f"weak seasonality at period {p.season} (F_S {p.seasonal_strength:.2f}): seasonal naive may "
                        "be a poor baseline; naive and ETS without a season are fitted too")  # fmt: skip
    return found
