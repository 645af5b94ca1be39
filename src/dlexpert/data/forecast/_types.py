"""The typed forecasting data every later stage reads: series split in time into a training part and the H points
that follow it (issue 16)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Series:
    """One series: `time` as datetime64[ns] (a calendar) or int64 steps (no calendar), `values` float64, in order;
    `exog` its exogenous columns by name, float64 arrays aligned with `values`."""

    id: str
    time: np.ndarray
    values: np.ndarray
    exog: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class ForecastData:
    """Series to forecast `horizon` steps ahead: `train[i]` is the history of a series, `test[i]` the `horizon` points
    that follow it (held out from the end of each series, or read from `--test`).

    `freq` is a pandas offset alias ("MS", "D", "h"...), or "step" for series indexed by integers; `season` the
    seasonal period in steps (12 for months, 7 for days, 1 when there is none).

    Exogenous columns: `exog_future` are known ahead (a promotion calendar, a holiday, a law's start), so every test
    series carries their values over the horizon; `exog_past` are observed only up to each series' end."""

    source: str
    format: str  # long | wide | builtin
    freq: str
    season: int
    horizon: int
    horizon_source: str
    train: list[Series]
    test: list[Series]
    version: str
    test_source: str
    warnings: list[str] = field(default_factory=list)
    split: dict[str, Any] = field(default_factory=dict)
    exog_future: list[str] = field(default_factory=list)
    exog_past: list[str] = field(default_factory=list)
    task: str = "forecasting"
    modality: str = "forecast"

    @property
    def has_calendar(self) -> bool:
        return self.freq != "step"

    @property
    def exog(self) -> list[str]:
        return [*self.exog_future, *self.exog_past]

    def frame(self, part: str = "train", exog: Sequence[str] = ()) -> Any:
        """The part as one long pandas DataFrame, `unique_id, ds, y` (statsforecast's layout), then the `exog`
        columns."""
        import pandas as pd

        series = self.train if part == "train" else self.test
        columns = {
            "unique_id": np.concatenate([np.full(len(s), s.id, dtype=object) for s in series]),
            "ds": np.concatenate([s.time for s in series]),
            "y": np.concatenate([s.values for s in series]),
        }
        return pd.DataFrame(columns | {c: np.concatenate([s.exog[c] for s in series]) for c in exog})


def window_length(horizon: int, season: int, lengths: Sequence[int]) -> int:
    """L: twice the horizon, and two seasons where that is longer (up to four horizons), so the input sees the
    cycle it continues (N-BEATS reads 2H-7H); capped so the median series still holds a full window before its
    validation window."""
    wanted = max(2 * horizon, min(2 * season, 4 * horizon))
    room = int(np.median(lengths)) - 2 * horizon
    return max(horizon, min(wanted, room)) if room > 0 else max(1, min(wanted, int(np.median(lengths)) - horizon))
