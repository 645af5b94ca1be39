"""Forecasting end to end (issue 16): statsforecast's baselines and dlexpert's global deep forecasters backtested on
the same rolling origins, the winner shipped, every candidate scored on the test horizon in MASE, sMAPE, MAE, RMSE.

Importing the package imports nothing heavy: the names below load their module on first use (PEP 562), so
`forecast.roster` serves `dlexpert plan` without torch; the deep forecasters import torch, the baselines statsforecast.
`dlexpert.data.forecast` reads the data.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .choose import BacktestScope, ForecastOutcome, backtest_scope, forecast_and_choose
    from .metrics import POINT_METRICS, interval_scores, mase_scale, point_errors, set_errors

_HOME = {"BacktestScope": "choose", "ForecastOutcome": "choose", "backtest_scope": "choose",
         "forecast_and_choose": "choose", "POINT_METRICS": "metrics", "interval_scores": "metrics",
         "mase_scale": "metrics", "point_errors": "metrics", "set_errors": "metrics"}  # fmt: skip

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


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
