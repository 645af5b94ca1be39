"""Forecasting end to end (issue 16): statsforecast's baselines and dlexpert's global deep forecasters backtested on
the same rolling origins, the winner shipped, every candidate scored on the test horizon in MASE, sMAPE, MAE, RMSE.

This package imports torch (the deep forecasters) and statsforecast lazily; `dlexpert.data.forecast` reads the data.
"""

from __future__ import annotations

from .choose import BacktestScope, ForecastOutcome, backtest_scope, forecast_and_choose
from .metrics import POINT_METRICS, interval_scores, mase_scale, point_errors, set_errors

__all__ = [
    "POINT_METRICS",
    "BacktestScope",
    "ForecastOutcome",
    "backtest_scope",
    "forecast_and_choose",
    "interval_scores",
    "mase_scale",
    "point_errors",
    "set_errors",
]
