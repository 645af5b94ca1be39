"""Forecasting data: long (`unique_id, ds, y`) or wide tables, and the built-in `store-sales`, split in time: the last
`horizon` points of every series are the test part unless `--test` holds them (issue 16).

Importing this package does not import torch; reading a table needs pandas (the `train` extra).

Example:
    >>> data = load_forecast("store-sales")
    >>> data.freq, data.season, data.horizon, len(data.train), len(data.test[0])
    ('D', 7, 28, 6, 28)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..._input import clip
from ...errors import InvalidInputError
from ._builtin import BUILTINS, builtin_series
from ._read import check_grid, horizon_from_text, infer_frequency, read_table, series_from_table
from ._types import ForecastData, Series, window_length

__all__ = [
    "BUILTINS",
    "MIN_HISTORY",
    "ForecastData",
    "Series",
    "horizon_from_text",
    "is_forecast_builtin",
    "load_forecast",
    "window_length",
]


# Fewest training points a series may have: AutoETS needs 7 to fit (statsforecast raises "tiny datasets" below).
MIN_HISTORY = 8


def is_forecast_builtin(src: str | os.PathLike[str]) -> bool:
    return str(src) in BUILTINS


def load_forecast(
    src: str | os.PathLike[str],
    *,
    horizon: int | None = None,
    test: str | os.PathLike[str] | None = None,
    text: str | None = None,
    id_col: str | None = None,
    time_col: str | None = None,
    target: str | None = None,
    freq: str | None = None,
    exog: Sequence[str] | None = None,
    known_future: Sequence[str] = (),
) -> ForecastData:
    """Series split in time. The horizon is `horizon`, else the one `text` (the task spec's words) states ("next 28
    days"), else the points per series in `test`, else the built-in's own; `test` holds the points that follow each
    series, else the last `horizon` points of each are held out.

    Exogenous columns are a long table's other numeric columns, or those `exog` names (none when it is empty). Those
    the `test` file also holds are known ahead, and so are the `known_future` ones (without `test` their values in
    the held-out horizon are the known ones); the others are observed only in the past.

    Raises:
        InvalidInputError: one line naming the file, series, row or timestamp: an unreadable table, time going
            backwards, a duplicated timestamp, a gap, a missing value, no horizon, a horizon longer than a history, a
            series shorter than two seasons, test points that do not follow their series, an exogenous column
            that is not in the table, or one named known ahead that the test file lacks.
    """
    where = str(src)
    if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1):
        raise InvalidInputError(f"--horizon must be a whole number of steps, at least 1; got {horizon!r}")
    if is_forecast_builtin(src):
        given = freq
        layout, series, default_horizon, freq = "builtin", *builtin_series(str(src))
        if given is not None and given != freq:
            raise InvalidInputError(f"--freq {clip(given)}: the built-in {src} has a fixed frequency ({freq}); drop "
                                    "--freq")  # fmt: skip
    else:
        df = read_table(Path(src))
        layout, series, unread = series_from_table(df, where=where, id_col=id_col, time_col=time_col, target=target)
        default_horizon = None
    series, warnings = _pick_exog(series, exog, where=where, unread=unread if layout != "builtin" else [])
    freq_name, season = infer_frequency(series, where=where, freq=freq)
    test_series: list[Series] | None = None
    if test is not None:
        _, test_series, _ = series_from_table(read_table(Path(test)), where=str(test), id_col=id_col,
                                              time_col=time_col, target=target)  # fmt: skip
        _check_test_times(series, test_series, freq_name, where=str(test))
    future, past = _exog_roles(series, test_series, known_future, where=str(test))
    h, h_source = _horizon(horizon, text, test_series, default_horizon, freq=freq_name, where=where)
    if test_series is None:
        train, held = _hold_out(series, h, where=where)
        test_source = f"the last {h} points of each series"
    else:
        train, held = series, _align_test(series, test_series, h, where=str(test), freq=freq_name, warnings=warnings)
        test_source = str(test)
    held = [Series(t.id, t.time, t.values, {c: t.exog[c] for c in future}) for t in held]
    _check_lengths(train, h, season, where=where)
    split = {"by": "time", "horizon": h, "test": str(test) if test is not None else f"last {h} points"}
    return ForecastData(source=where, format=layout, freq=freq_name, season=season, horizon=h, horizon_source=h_source,
                        train=train, test=held, version=_version(train, held), test_source=test_source,
                        warnings=warnings, split=split, exog_future=future, exog_past=past)  # fmt: skip


def _pick_exog(
    series: list[Series], names: Sequence[str] | None, *, where: str, unread: list[str]
) -> tuple[list[Series], list[str]]:
    """The series with only the chosen exogenous columns (`names`, else every one read), and a warning for the
    table's columns that are read by nothing."""
    found = list(series[0].exog) if series else []
    warnings = [f"{where}: column(s) {', '.join(map(repr, unread[:5]))} are not numbers, so not read as exogenous"
                ] if unread else []  # fmt: skip
    if names is None:
        return series, warnings
    missing = [n for n in names if n not in found]
    if missing:
        raise InvalidInputError(f"--exog: no numeric column {missing[0]!r} besides the id, time and target; the "
                                f"exogenous columns found are {found[:12] or 'none'}")  # fmt: skip
    return [Series(s.id, s.time, s.values, {n: s.exog[n] for n in names}) for s in series], warnings


def _exog_roles(
    series: list[Series], test: list[Series] | None, known_future: Sequence[str], *, where: str
) -> tuple[list[str], list[str]]:
    """(known ahead, observed only in the past) exogenous columns: known ahead are those the test file holds and
    those `known_future` names (which the test file, when given, must hold)."""
    found = list(series[0].exog) if series else []
    for name in known_future:
        if name not in found:
            raise InvalidInputError(f"--known-future: {name!r} is not an exogenous column of the data; they are "
                                    f"{found[:12] or 'none'}")  # fmt: skip
    in_test = set(test[0].exog) if test else set()
    if test is not None:
        lacking = [n for n in known_future if n not in in_test]
        if lacking:
            raise InvalidInputError(f"{where}: no column {lacking[0]!r}; a column known ahead needs its values over "
                                    "the horizon in the test file")  # fmt: skip
    future = [c for c in found if c in in_test or c in known_future]
    return future, [c for c in found if c not in future]


def _horizon(
    given: int | None, text: str | None, test: list[Series] | None, default: int | None, *, freq: str, where: str
) -> tuple[int, str]:
    if given is not None:
        return given, "--horizon"
    stated = horizon_from_text(text, freq=freq) if text else None
    if stated is not None:
        return stated[0], f"the task: {stated[1]!r}"
    if test is not None:
        lengths = {len(s) for s in test}
        if len(lengths) > 1:
            raise InvalidInputError(f"--test: series hold {sorted(lengths)[:5]} points; the horizon is the points per "
                                    "series, so give every series the same number, or pass --horizon")  # fmt: skip
        return lengths.pop(), "--test (points per series)"
    if default is not None:
        return default, "the built-in's horizon"
    raise InvalidInputError(f"{where}: no forecast horizon: pass --horizon N (steps), say it in the task "
                            "(specificTask: 'forecast the next 28 days'), or give --test with the points to "
                            "forecast")  # fmt: skip


def _hold_out(series: list[Series], h: int, *, where: str) -> tuple[list[Series], list[Series]]:
    short = next((s for s in series if len(s) <= h), None)
    if short is not None:
        raise InvalidInputError(f"{where}: series {short.id!r} has {len(short)} points; holding out a horizon of {h} "
                                "leaves no history (shorten the horizon, or drop the series)")  # fmt: skip
    train = [Series(s.id, s.time[:-h], s.values[:-h], {c: v[:-h] for c, v in s.exog.items()}) for s in series]
    return train, [Series(s.id, s.time[-h:], s.values[-h:], {c: v[-h:] for c, v in s.exog.items()}) for s in series]


def _align_test(
    train: list[Series], test: list[Series], h: int, *, where: str, freq: str, warnings: list[str]
) -> list[Series]:
    """Each training series' test points, in the training order: the first `h` of them, starting one step after the
    series ends."""
    import pandas as pd

    by_id = {s.id: s for s in test}
    missing = [s.id for s in train if s.id not in by_id]
    if missing:
        raise InvalidInputError(f"{where}: no test points for series {missing[0]!r} ({len(missing)} series missing)")
    extra = len(test) - len(train)
    if extra > 0:
        warnings.append(f"{where}: {extra} test series have no training data and are not forecast")
    held = []
    for s in train:
        t = by_id[s.id]
        if len(t) < h:
            raise InvalidInputError(f"{where}: series {s.id!r} has {len(t)} test points; the horizon is {h}")
        if freq == "step":
            expected = s.time[-1] + 1
        else:
            expected = (pd.Timestamp(s.time[-1]) + pd.tseries.frequencies.to_offset(freq)).to_datetime64()
        if t.time[0] <= s.time[-1]:
            raise InvalidInputError(f"{where}: series {s.id!r}: test time {t.time[0]} is inside the training data "
                                    f"(which ends at {s.time[-1]}): the test would leak")  # fmt: skip
        if t.time[0] != expected:
            raise InvalidInputError(f"{where}: series {s.id!r}: test points start at {t.time[0]}; expected {expected}, "
                                    "one step after the training data ends")  # fmt: skip
        held.append(Series(t.id, t.time[:h], t.values[:h], {c: v[:h] for c, v in t.exog.items()}))
    return held


def _check_test_times(train: list[Series], test: list[Series], freq: str, *, where: str) -> None:
    """The test file's times are of the training data's kind (dates or steps) and on its grid, without gaps."""
    calendar = np.issubdtype(train[0].time.dtype, np.datetime64)
    if any(np.issubdtype(t.time.dtype, np.datetime64) != calendar for t in test):
        raise InvalidInputError(f"{where}: its time column holds {'steps' if calendar else 'dates'}; the training "
                                f"data's holds {'dates' if calendar else 'integer steps'}")  # fmt: skip
    check_grid(test, freq, where=where)


def _check_lengths(train: list[Series], h: int, season: int, *, where: str) -> None:
    """Every history at least as long as the horizon and MIN_HISTORY, and two seasons long when there is a season
    (the seasonal models need two full cycles to estimate one; Hyndman & Athanasopoulos, FPP3, Sec. 8.3)."""
    shortest = min(train, key=len)
    if len(shortest) < MIN_HISTORY:
        raise InvalidInputError(f"{where}: series {shortest.id!r} has {len(shortest)} training points; the "
                                f"statistical baselines need at least {MIN_HISTORY} (drop the series)")  # fmt: skip
    if len(shortest) < h:
        raise InvalidInputError(f"{where}: series {shortest.id!r} has {len(shortest)} training points, fewer than the "
                                f"horizon {h}; shorten the horizon or drop the series")  # fmt: skip
    if season > 1 and len(shortest) < 2 * season:
        raise InvalidInputError(f"{where}: series {shortest.id!r} has {len(shortest)} training points, under two "
                                f"seasons ({2 * season} at period {season}); seasonal models cannot be fitted: drop "
                                "the short series, or aggregate the data to a coarser frequency first")  # fmt: skip


def _version(train: list[Series], test: list[Series]) -> str:
    h = hashlib.sha256()
    for s in (*train, *test):
        h.update(s.id.encode())
        h.update(np.ascontiguousarray(s.time).tobytes() + np.ascontiguousarray(s.values).tobytes())
        for name, column in s.exog.items():
            h.update(name.encode() + np.ascontiguousarray(column).tobytes())
    return h.hexdigest()
