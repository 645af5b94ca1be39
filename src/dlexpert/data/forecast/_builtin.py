"""The built-in forecasting set, generated offline for the demo and the tests: `store-sales`, daily sales of 6 stores
over two years with a trend, a weekly cycle (weekend peaks), a yearly swing and noise whose size follows the level.
Real series for benchmarks come from packages that bundle them (benchmarks/make_forecast_corpus.py)."""

from __future__ import annotations

import numpy as np

from ._types import Series

BUILTINS = {"store-sales": "6 stores' daily sales, 2 years (730 days), weekly and yearly cycles; horizon 28 days"}
STORE_SALES_HORIZON = 28
DAYS = 730


def builtin_series(name: str) -> tuple[list[Series], int, str]:
    """(series, default horizon, frequency) of a built-in."""
    if name != "store-sales":
        raise KeyError(name)
    return store_sales(), STORE_SALES_HORIZON, "D"


def store_sales(seed: int = 0) -> list[Series]:
    """6 series of DAYS daily points from 2023-01-01 (a Sunday): level x (1 + trend) x weekly x yearly x noise."""
    rng = np.random.default_rng(seed)
    time = np.datetime64("2023-01-01", "ns") + np.arange(DAYS) * np.timedelta64(1, "D")
    t = np.arange(DAYS)
    weekday = (t + 6) % 7  # 2023-01-01 is a Sunday: Monday = 0
    series = []
    for i in range(6):
        level = rng.uniform(80, 400)
        trend = 1 + rng.uniform(-0.15, 0.35) * t / DAYS
        weekly = np.array([0.85, 0.8, 0.85, 0.95, 1.1, 1.35, 1.2])[weekday] ** rng.uniform(0.5, 1.5)
        yearly = 1 + rng.uniform(0.05, 0.25) * np.sin(2 * np.pi * (t / 365.25 + rng.uniform()))
        noise = rng.lognormal(0, rng.uniform(0.05, 0.15), DAYS)
        values = np.round(level * trend * weekly * yearly * noise, 1)
        series.append(Series(id=f"store_{i + 1}", time=time, values=values))
    return series
