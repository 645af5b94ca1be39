"""Reading forecasting tables: long (`unique_id, ds, y`, as Nixtla's statsforecast and neuralforecast use) or wide (a
time column and one column per series), the frequency inferred from the timestamps, every series checked for order,
duplicates, gaps and missing values, each problem one line naming the series, row or timestamp."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..._input import check_regular_file
from ...errors import InvalidInputError
from ._types import Series

ID_COLUMNS = ("unique_id", "id", "series", "series_id", "item_id", "store", "sku")
TIME_COLUMNS = ("ds", "date", "time", "timestamp", "datetime", "month", "period", "week", "day", "year", "quarter")
TARGET_COLUMNS = ("y", "value", "target", "sales", "demand", "load")
YEARS = (1678, 2261)  # an integer time column within this range counts years (datetime64[ns] holds 1678-2262)

# Seasonal period by pandas offset class: one year of months, quarters or weeks; one week of days; one day of hours,
# minutes or seconds (divided by the offset's multiple). Hyndman & Athanasopoulos, FPP3, Sec. 2.1 ("frequency").
SEASON_PER_OFFSET = {
    "MonthBegin": 12, "MonthEnd": 12, "QuarterBegin": 4, "QuarterEnd": 4, "YearBegin": 1, "YearEnd": 1, "Week": 52,
    "Day": 7, "BusinessDay": 5, "Hour": 24, "Minute": 1440, "Second": 86400,
}  # fmt: skip


TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".jsonl", ".json")


def read_table(path: Path) -> Any:
    """A table file (CSV, TSV, Parquet, JSON lines) as a pandas DataFrame, read as every table dlexpert reads is
    (`data._adapters.read_frame`); a missing, empty or unreadable file is one line."""
    from .._adapters import read_frame

    check_regular_file(path, expected="a CSV or Parquet table of time series")
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise InvalidInputError(f"{path}: expected a {', '.join(TABLE_SUFFIXES)} table of time series; got "
                                f"{path.suffix or 'no suffix'}")  # fmt: skip
    df = read_frame(path)
    if len(df) == 0:
        raise InvalidInputError(f"{path}: the table has a header and no rows; expected one row per series and time")
    return df


def series_from_table(
    df: Any, *, where: str, id_col: str | None = None, time_col: str | None = None, target: str | None = None
) -> tuple[str, list[Series], list[str]]:
    """(layout, series, columns not read) of a long or a wide table. Long: an id column (`id_col`, or one of
    ID_COLUMNS), a time column and a target, and every other numeric column an exogenous one (`Series.exog`); wide: a
    time column and one numeric column per series (only `target` when it is given)."""
    columns = {str(c).lower(): str(c) for c in df.columns}
    df = df.rename(columns={c: str(c) for c in df.columns})
    time_name = _column(columns, time_col, TIME_COLUMNS, where=where, what="time") or str(df.columns[0])
    id_name = _column(columns, id_col, ID_COLUMNS, where=where, what="id")
    if id_name is not None:
        rest = [c for c in df.columns if c not in (time_name, id_name) and not _row_index(df[c])]
        y_name = _column(columns, target, TARGET_COLUMNS, where=where, what="target") or (
            rest[0] if len(rest) == 1 else None
        )
        if y_name is None:
            raise InvalidInputError(f"{where}: long table with columns {list(df.columns)[:8]}: name the value column "
                                    "with --target (expected one of " + ", ".join(TARGET_COLUMNS) + ")")  # fmt: skip
        times = _times(df[time_name], where=where, name=time_name)
        values = _values(df[y_name], where=where, name=y_name)
        exog = {c: _values(df[c], where=where, name=c) for c in rest if c != y_name and _is_numeric(df[c])}
        ids = df[id_name].astype(str).to_numpy()
        keys, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        rows_of = np.split(np.argsort(inverse, kind="stable"), np.cumsum(np.bincount(inverse))[:-1])
        found = [_series(str(keys[k]), times[rows_of[k]], values[rows_of[k]], rows=rows_of[k], where=where,
                         exog={c: v[rows_of[k]] for c, v in exog.items()})
                 for k in np.argsort(first)]  # fmt: skip  # series in the order the file first shows them
        return "long", found, [c for c in rest if c != y_name and c not in exog]
    named = {c.lower() for c in (*TIME_COLUMNS, *ID_COLUMNS)}  # calendar or id helper columns are not series
    value_columns = (
        [_column(columns, target, (), where=where, what="target") or target]
        if target
        else [c for c in df.columns if c != time_name and c.lower() not in named and not _row_index(df[c])]
    )
    missing = [c for c in value_columns if c not in df.columns]
    if missing:
        raise InvalidInputError(f"{where}: no column {missing[0]!r}; columns are {list(df.columns)[:12]}")
    numeric = [c for c in value_columns if _is_numeric(df[c])]
    if not numeric:
        raise InvalidInputError(f"{where}: no numeric column besides the time column {time_name!r} to forecast")
    times = _times(df[time_name], where=where, name=time_name)
    rows = np.arange(len(df))
    found = [_series(c, times, _values(df[c], where=where, name=c), rows=rows, where=where) for c in numeric]
    return "wide", found, [c for c in value_columns if c not in numeric]


def _column(columns: dict[str, str], given: str | None, known: tuple[str, ...], *, where: str, what: str) -> str | None:
    if given is not None:
        if given.lower() not in columns:
            raise InvalidInputError(f"{where}: no {what} column {given!r}; columns are {list(columns.values())[:12]}")
        return columns[given.lower()]
    return next((columns[k] for k in known if k in columns), None)


def _row_index(column: Any) -> bool:
    """A pandas-written row number ("Unnamed: 0" holding 0, 1, 2...): not a series."""
    return str(column.name).startswith("Unnamed") and bool((column.to_numpy() == np.arange(len(column))).all())


def _is_numeric(column: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(column)) and not pd.api.types.is_bool_dtype(column)


def _times(column: Any, *, where: str, name: str) -> np.ndarray:
    """datetime64[ns] timestamps, or int64 steps for integers that are not years (years become January 1st)."""
    import pandas as pd

    if column.isna().any():
        row = int(np.flatnonzero(column.isna().to_numpy())[0])
        raise InvalidInputError(f"{where}: row {row + 2}: no time in column {name!r}")
    if pd.api.types.is_integer_dtype(column):
        v = column.to_numpy(np.int64)
        if YEARS[0] <= v.min() and v.max() <= YEARS[1]:
            return pd.to_datetime(v.astype(str), format="%Y").to_numpy("datetime64[ns]")
        return v  # steps (years outside what a datetime64[ns] holds are steps too)
    text = column.astype(str).str.strip()
    quarters = text.str.fullmatch(r"\d{4}\s*-?\s*Q[1-4]")
    if quarters.all():  # "1970 Q1", "1970-Q1", "1970Q1": the quarter's first day
        return (
            pd.PeriodIndex(text.str.replace(r"[\s-]", "", regex=True), freq="Q")
            .to_timestamp()
            .to_numpy("datetime64[ns]")
        )
    wall_clock = text.str.replace(r"(?<=:\d\d)(Z|[+-]\d\d:?\d\d)$", "", regex=True)  # the times the file shows
    try:
        return pd.to_datetime(wall_clock, format="mixed").to_numpy("datetime64[ns]")
    except (ValueError, TypeError, OverflowError) as exc:
        bad = next((str(v) for v in column.astype(str) if not _parses(v)), str(exc).splitlines()[0])
        raise InvalidInputError(f"{where}: column {name!r}: {bad!r} is not a date or time; expected timestamps such "
                                "as 2024-01-31 or integer steps") from None  # fmt: skip


def _parses(text: str) -> bool:
    import pandas as pd

    try:
        pd.to_datetime(text)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def _values(column: Any, *, where: str, name: str) -> np.ndarray:
    import pandas as pd

    numbers = pd.to_numeric(column, errors="coerce")
    bad = numbers.isna() & column.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidInputError(f"{where}: row {row + 2}, column {name!r}: {column.iloc[row]!r} is not a number")
    return numbers.to_numpy(np.float64)


def _series(
    key: str, time: np.ndarray, values: np.ndarray, *, rows: np.ndarray, where: str,
    exog: dict[str, np.ndarray] | None = None,
) -> Series:  # fmt: skip
    """One series checked in file order: time strictly increasing, no missing or infinite value (exogenous ones
    included)."""
    step = np.diff(time)
    back = np.flatnonzero(step < step.dtype.type(0))
    if len(back):
        i = int(back[0]) + 1
        raise InvalidInputError(f"{where}: series {key!r}, row {rows[i] + 2}: time goes backwards ({_show(time[i])} "
                                f"after {_show(time[i - 1])}); sort each series by time")  # fmt: skip
    same = np.flatnonzero(step == step.dtype.type(0))
    if len(same):
        i = int(same[0]) + 1
        raise InvalidInputError(f"{where}: series {key!r}, row {rows[i] + 2}: timestamp {_show(time[i])} appears "
                                "twice; keep one row per series and time (sum or average the duplicates)")  # fmt: skip
    gaps = np.flatnonzero(~np.isfinite(values))
    if len(gaps):
        i = int(gaps[0])
        raise InvalidInputError(f"{where}: series {key!r}, row {rows[i] + 2}: no value at {_show(time[i])}; fill "
                                "or drop the missing values before forecasting")  # fmt: skip
    for name, column in (exog or {}).items():
        gaps = np.flatnonzero(~np.isfinite(column))
        if len(gaps):
            i = int(gaps[0])
            raise InvalidInputError(f"{where}: series {key!r}, row {rows[i] + 2}: no value of exogenous column "
                                    f"{name!r} at {_show(time[i])}; fill it, or drop the column")  # fmt: skip
    return Series(id=key, time=time, values=values, exog=exog or {})


def _offset(freq: str) -> Any:
    import pandas as pd

    try:
        return pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        raise InvalidInputError(f"--freq {freq!r}: not a pandas frequency; expected e.g. D, W, MS, QS, YS, h") from None


def check_grid(series: list[Series], freq: str, *, where: str) -> None:
    """Every series on the grid of `freq` from its first timestamp (integer steps count 1, 2, 3... for "step"), the
    first missing timestamp named."""
    import pandas as pd

    for s in series:
        if freq == "step":
            gap = np.flatnonzero(np.diff(s.time) != 1)
            if len(gap):
                i = int(gap[0])
                raise InvalidInputError(f"{where}: series {s.id!r}: step {s.time[i + 1]} follows {s.time[i]}; integer "
                                        "time must count 0, 1, 2... without gaps")  # fmt: skip
            continue
        expected = pd.date_range(s.time[0], periods=len(s), freq=_offset(freq)).to_numpy("datetime64[ns]")
        off = np.flatnonzero(expected != s.time)
        if len(off):
            i = int(off[0])
            raise InvalidInputError(f"{where}: series {s.id!r}: {_show(expected[i])} is missing (frequency "
                                    f"{freq}; the next timestamp is {_show(s.time[i])}); fill the gap or drop the "
                                    "series")  # fmt: skip


def _show(t: Any) -> str:
    """A timestamp as a person reads it: the date alone at midnight."""
    if isinstance(t, np.datetime64):
        text = str(t.astype("datetime64[s]")).replace("T", " ")
        return text.removesuffix(" 00:00:00")
    return str(int(t))


def infer_frequency(series: list[Series], *, where: str, freq: str | None = None) -> tuple[str, int]:
    """(pandas offset alias, seasonal period) of the series: `freq` when given, else inferred from the longest
    series' timestamps; "step" and 1 for integer steps. Every series must then be on that grid without gaps."""
    import pandas as pd

    if not series:
        raise InvalidInputError(f"{where}: no series to forecast")
    if not np.issubdtype(series[0].time.dtype, np.datetime64):
        check_grid(series, "step", where=where)
        return "step", 1
    if freq is None:
        longest = max(series, key=len)
        if len(longest) < 3:
            raise InvalidInputError(f"{where}: series of at most {len(longest)} points; the frequency cannot be "
                                    "inferred (pass --freq, e.g. D, W, MS)")  # fmt: skip
        freq = pd.infer_freq(pd.DatetimeIndex(longest.time))
        if freq is None:
            raise InvalidInputError(f"{where}: series {longest.id!r}: timestamps are not evenly spaced, so there are "
                                    "gaps or mixed steps; fill the gaps, or pass --freq (D, W, MS, QS, YS, h) to "
                                    "name the grid")  # fmt: skip
    offset = _offset(freq)
    check_grid(series, freq, where=where)
    kind = type(offset).__name__
    season = SEASON_PER_OFFSET.get(kind, 1)
    if offset.n > 1:
        season = max(1, season // offset.n) if season % offset.n == 0 else 1
    return offset.freqstr, season


# "next 28 days", "28-day horizon", "12 months ahead", "horizon of 6 quarters", "forecast 2 years".
_UNIT_DAYS = {"hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.4375, "quarter": 91.3125, "year": 365.25}
_STEP = r"(step|point|period|hour|day|week|month|quarter|year)s?"
_HORIZON = [
    rf"next\s+(\d+)\s*-?\s*{_STEP}",
    rf"(\d+)\s*-?\s*{_STEP}\s*(?:-|\s)?\s*(?:ahead|horizon|forecast)",
    rf"horizon\s+(?:of\s+)?(\d+)\s*-?\s*{_STEP}",
    rf"forecast(?:ing)?\s+(?:the\s+)?(?:next\s+)?(\d+)\s*-?\s*{_STEP}",
]


def horizon_from_text(text: str, *, freq: str) -> tuple[int, str] | None:
    """(steps, the words) of a horizon a spec states ("next 28 days", "a 12-month horizon"), in steps of `freq`; None
    when the text states none. A horizon finer than one step ("next 3 days" of monthly data) is refused."""
    import pandas as pd

    for pattern in _HORIZON:
        m = re.search(pattern, text.lower())
        if m is None:
            continue
        n, unit = int(m.group(1)), m.group(2)
        if n < 1:
            raise InvalidInputError(f"task: {m.group(0)!r}: a horizon needs at least one step")
        if unit in ("step", "point", "period") or freq == "step":
            return n, m.group(0)
        offset = pd.tseries.frequencies.to_offset(freq)
        step_days = _step_days(offset)
        steps = n * _UNIT_DAYS[unit] / step_days
        if steps < 1 - 1e-9:
            raise InvalidInputError(f"task: {m.group(0)!r} is shorter than one step of the data ({freq}); state the "
                                    "horizon in the data's steps, or pass --horizon")  # fmt: skip
        return max(1, round(steps)), m.group(0)
    return None


def _step_days(offset: Any) -> float:
    import pandas as pd

    kind = type(offset).__name__
    base = {"MonthBegin": 30.4375, "MonthEnd": 30.4375, "QuarterBegin": 91.3125, "QuarterEnd": 91.3125,
            "YearBegin": 365.25, "YearEnd": 365.25, "Week": 7.0, "BusinessDay": 7 / 5, "Day": 1.0, "Hour": 1 / 24,
            "Minute": 1 / 1440, "Second": 1 / 86400}.get(kind)  # fmt: skip
    if base is not None:
        return base * offset.n
    return pd.Timedelta(offset).total_seconds() / 86400
