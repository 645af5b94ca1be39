"""What a forecasting run measured and chose (issue 16): every candidate's errors in the rolling-origin backtest and
on the test horizon, the model it ships and why, and the shipped forecast's errors per series. It is the `forecast`
section of evaluation.json; `metrics` there holds the shipped model's test figures."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CandidateScore(_Strict):
    """One candidate: a statsforecast baseline, the global LightGBM, a deep forecaster or an ensemble, scored like the
    others."""

    model: str
    kind: Literal["baseline", "gbm", "deep", "ensemble"]
    backtest: dict[str, float] = Field(description="mase, smape, mae, rmse: the mean over backtest windows")
    test: dict[str, float] = Field(description="mase, smape, mae, rmse on the test horizon, mean over series")
    test_mase_per_series: list[float]
    backtest_mase_per_series: list[float | None] = Field(
        default_factory=list,
        description="each series' mean MASE over the backtest windows, in the order of per_series; None for a series "
        "too short to backtest",
    )
    members: list[str] = Field(default_factory=list, description="ensemble: the models it averages")
    run_dir: str | None = Field(
        None, description="deep: the engine's run folder of the final fit; gbm: the folder of its saved trees; relative"
    )
    fit_s: float | None = Field(None, description="seconds to fit (backtest and final)")


class SeriesScore(_Strict):
    id: str
    mase: float
    smape: float
    mae: float
    rmse: float
    seasonal_naive_mase: float
    auto_ets_mase: float | None = None


class ForecastSection(_Strict):
    freq: str
    season: int
    horizon: int
    horizon_source: str
    window: int = Field(description="past values a deep forecaster reads")
    backtest_windows: int = Field(description="rolling origins, one horizon apart, at the end of the training data")
    backtest_series: int = Field(description="series long enough for every window; the others are not backtested")
    candidates: list[CandidateScore]
    shipped: str
    shipped_kind: Literal["baseline", "gbm", "deep", "ensemble"]
    reason: str
    skipped: list[str] = Field(default_factory=list, description="candidates that could not be backtested, and why")
    per_series: list[SeriesScore]
    beats_seasonal_naive: float | None = Field(
        None, description="share of series whose shipped MASE is below seasonal naive's (None when it ships)"
    )
    beats_auto_ets: float | None = Field(
        None, description="share of series whose shipped MASE is below AutoETS's (None when it ships)"
    )
    intervals: dict[str, float] | None = Field(
        None, description="coverage_80, coverage_95 and scaled pinball loss of the shipped model's intervals"
    )
    interval_method: str | None = Field(None, description="how the shipped model's intervals were made")
