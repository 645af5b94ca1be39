"""Point-forecast errors per series and over a set (numpy only): MASE, sMAPE, MAE, RMSE, and the coverage and pinball
loss of prediction intervals.

MASE (Hyndman & Koehler 2006, "Another look at measures of forecast accuracy", Int. J. Forecasting 22(4)): the mean
absolute error over the horizon divided by the in-sample mean absolute error of the seasonal naive forecast (lag =
the season; lag 1 without one) on the series' own training part. Below 1: better than seasonal naive was in
sample. The set's figure is the mean over series, as the M4 competition reports it (Makridakis et al. 2020).
sMAPE: 200 |y - f| / (|y| + |f|) averaged (the M4 definition), 0 where both are 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

POINT_METRICS = ("mase", "smape", "mae", "rmse")


def mase_scale(history: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal naive forecast (lag `season`, or 1 when the history is too short for it); a
    constant history gives a scale of 0, replaced by its mean absolute level (or 1) so MASE stays finite."""
    lag = season if len(history) > season else 1
    scale = float(np.mean(np.abs(history[lag:] - history[:-lag]))) if len(history) > lag else 0.0
    if scale > 0:
        return scale
    level = float(np.mean(np.abs(history))) if len(history) else 0.0
    return level if level > 0 else 1.0


def point_errors(forecast: np.ndarray, truth: np.ndarray, scale: float) -> dict[str, float]:
    """MASE (with `scale` from `mase_scale`), sMAPE, MAE and RMSE of one series' forecast."""
    err = np.asarray(forecast, np.float64) - np.asarray(truth, np.float64)
    denom = np.abs(truth) + np.abs(forecast)
    smape = np.where(denom > 0, 200 * np.abs(err) / np.where(denom > 0, denom, 1), 0.0)
    mae = float(np.mean(np.abs(err)))
    return {"mase": mae / scale, "smape": float(np.mean(smape)), "mae": mae, "rmse": float(np.sqrt(np.mean(err**2)))}


def set_errors(
    forecasts: Sequence[np.ndarray], truths: Sequence[np.ndarray], scales: Sequence[float]
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """(the mean of each metric over series, each series' metrics)."""
    per_series = [point_errors(f, t, s) for f, t, s in zip(forecasts, truths, scales, strict=True)]
    return {k: float(np.mean([p[k] for p in per_series])) for k in POINT_METRICS}, per_series


def interval_scores(
    lower: np.ndarray, upper: np.ndarray, truth: np.ndarray, level: float, scale: float
) -> tuple[float, float]:
    """(coverage: the share of true values inside [lower, upper]; the mean pinball loss of the two bounds as the
    (1 - level)/2 and (1 + level)/2 quantiles, divided by `scale` like MASE)."""
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    covered = float(np.mean((truth >= lower) & (truth <= upper)))
    pinball = np.mean(_pinball(truth, lower, lo_q) + _pinball(truth, upper, hi_q)) / 2
    return covered, float(pinball / scale)


def _pinball(y: np.ndarray, q_pred: np.ndarray, q: float) -> np.ndarray:
    diff = y - q_pred
    return np.maximum(q * diff, (q - 1) * diff)
