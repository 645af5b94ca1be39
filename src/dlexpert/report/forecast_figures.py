"""A forecasting run's figures as PNG (matplotlib, Agg canvas): the end of each series with the shipped forecast, its
intervals and AutoETS beside the truth; and the error by horizon step of the shipped model and the baselines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..diagnose.report import save_png
from ..forecast.metrics import mase_scale

if TYPE_CHECKING:
    from ..data.forecast import ForecastData
    from ..forecast.choose import ForecastOutcome

MAX_SERIES = 12  # panels in forecasts.png: the series with the largest shipped MASE first
HISTORY_HORIZONS = 3  # history shown before the forecast, in horizons


def plot_forecasts(data: ForecastData, outcome: ForecastOutcome, path: str | Path) -> Path:
    """Up to MAX_SERIES panels, worst shipped MASE first: history, truth, the shipped forecast with its 80%/95%
    intervals when it has them, and AutoETS dashed."""
    from matplotlib.figure import Figure

    section = outcome.section
    order = sorted(range(len(data.train)), key=lambda i: -section.per_series[i].mase)[:MAX_SERIES]
    cols = min(3, len(order))
    rows = -(-len(order) // cols)
    fig = Figure(figsize=(4.2 * cols, 2.6 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    shipped, ets = outcome.forecasts[section.shipped], outcome.forecasts.get("AutoETS")
    for ax, i in zip(axes, order, strict=False):
        history, test = data.train[i], data.test[i]
        keep = min(len(history), HISTORY_HORIZONS * data.horizon)
        ax.plot(history.time[-keep:], history.values[-keep:], color="#444444", lw=1, label="history")
        ax.plot(test.time, test.values, color="black", lw=1.4, label="truth")
        for level, alpha in ((95, 0.15), (80, 0.3)):
            lo, hi = (outcome.intervals or {}).get(f"lo-{level}"), (outcome.intervals or {}).get(f"hi-{level}")
            if lo is not None and hi is not None:
                ax.fill_between(test.time, lo[i], hi[i], color="#1f77b4", alpha=alpha, lw=0, label=f"{level}% interval")
        ax.plot(test.time, shipped[i], color="#1f77b4", lw=1.6, label=section.shipped)
        if ets is not None and section.shipped != "AutoETS":
            ax.plot(test.time, ets[i], color="#d62728", lw=1, ls="--", label="AutoETS")
        ax.set_title(f"{history.id}: MASE {section.per_series[i].mase:.2f}", fontsize=8)
        ax.tick_params(labelsize=6)
        ax.tick_params(axis="x", labelrotation=30)
    for ax in axes[len(order) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(6, len(labels)), fontsize=7)
    return save_png(fig, path)


def plot_error_by_step(data: ForecastData, outcome: ForecastOutcome, path: str | Path) -> Path:
    """Mean absolute error at each horizon step, scaled per series like MASE, for the shipped model, seasonal naive
    and AutoETS: where in the horizon each one loses accuracy."""
    from matplotlib.figure import Figure

    scales = np.array([mase_scale(s.values, data.season) for s in data.train])
    truth = np.stack([s.values for s in data.test])
    fig = Figure(figsize=(6, 3.4), layout="constrained")
    ax = fig.subplots()
    steps = np.arange(1, data.horizon + 1)
    for name in dict.fromkeys([outcome.section.shipped, "SeasonalNaive", "AutoETS"]):
        if name in outcome.forecasts:
            err = np.abs(np.stack(outcome.forecasts[name]) - truth) / scales[:, None]
            ax.plot(steps, err.mean(axis=0), marker="o", ms=3, label=name)
    ax.set_xlabel("horizon step")
    ax.set_ylabel("scaled absolute error (MASE units)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return save_png(fig, path)
