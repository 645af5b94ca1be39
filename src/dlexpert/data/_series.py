"""Tables as time series: numeric columns read as one series per row (wide) or rows read as time steps (long).

Wide: when every feature column is named like an ordered time step -- a shared prefix and consecutive integer
suffixes (t0..t99, x_1..x_50, or purely numeric names 0, 1, ...) -- each row is one series of shape (C, L): one
channel per prefix (acc_x_0..acc_x_63 and acc_y_0..acc_y_63 are two channels of 64 steps), steps in suffix order.

Long: when rows are consecutive time steps, each sample is a window of `window` consecutive rows, every numeric
feature column a channel: shape (C, window), labelled by its last row. Rows are time steps when
  - `window` is given (the caller says so), or
  - a column is named like a time index (time, timestamp, date, datetime, time_s, event_time, ...) or holds dates;
    it orders the rows (where it goes backwards a new series starts: no window straddles the reset) and is not a
    feature; or
  - without one, the table looks like a recording: few feature columns, many rows, labels that hold over long runs
    of rows, and rows that correlate with their neighbours within those runs (independent samples, even sorted by
    class, do not: their residuals from the run mean are uncorrelated).
Windows overlap (stride 1), so neighbouring windows share rows: `load_data` splits them chronologically with a gap
rather than at random (see `chronological_split`).
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError

__all__ = [
    "DEFAULT_WINDOW",
    "MIN_SERIES_LENGTH",
    "chronological_split",
    "default_window",
    "find_time_column",
    "looks_like_recording",
    "make_windows",
    "wide_layout",
]

# Windows of 32 rows unless the data is short: at 50 Hz that is 0.64 s, the order of the 1-2.56 s windows of human
# activity recognition (UCI HAR: 2.56 s at 50 Hz, Anguita et al. 2013) and of a CNN's receptive field on MNIST-1D (40).
DEFAULT_WINDOW = 32
MIN_WINDOW = 4
# A short table gets windows of at most n_rows / 20 rows, so the validation part (10% of the windows) keeps about
# half its windows after the chronological gap of window - 1 windows.
ROWS_PER_WINDOW = 20
# Wide tables: fewer ordered columns than this are read as a plain feature vector (f1, f2, f3 are features).
MIN_SERIES_LENGTH = 16
# Stride grows above this many windows, to bound memory (50k windows x 8 channels x 32 steps = 51 MB).
MAX_WINDOWS = 50_000
# The recording heuristic (no time column): thresholds for "few columns", "many rows", "labels hold" and
# "neighbouring rows correlate". Independent rows give |lag-1 autocorrelation| ~ 1/sqrt(n) (0.03 at 1,000 rows).
RECORDING_MAX_FEATURES = 16
RECORDING_MIN_ROWS = 10 * DEFAULT_WINDOW
RECORDING_MIN_RUN = DEFAULT_WINDOW // 2
RECORDING_MIN_AUTOCORR = 0.3
_TIME_WORDS = frozenset({"time", "timestamp", "date", "datetime", "ts", "timestep", "step"})
_SUFFIX = re.compile(r"^(.*?)(\d+)$")


def find_time_column(df: Any, candidates: list[str]) -> str | None:
    """The first of `candidates` named like a time index ("time", "timestamp_ms", "event_date") or holding dates."""
    pd = _pandas()
    for c in candidates:
        words = [w for w in re.split(r"[^a-z0-9]+", c.strip().lower()) if w]
        if words and (words[0] in _TIME_WORDS or words[-1] in _TIME_WORDS):
            return c
        if pd.api.types.is_datetime64_any_dtype(df[c]):
            return c
    return None


def time_order(df: Any, column: str, path: Path) -> np.ndarray:
    """The time column as int64 or float64 order keys; dates and date strings are parsed."""
    pd = _pandas()
    col = df[column]
    if pd.api.types.is_bool_dtype(col):
        raise InvalidInputError(f"{path}: time column {column!r} holds true/false values; expected times or numbers")
    if pd.api.types.is_numeric_dtype(col):
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
    else:
        parsed = pd.to_datetime(col, errors="coerce", utc=True, format="mixed")
        bad = parsed.isna().to_numpy()
        values = np.where(bad, 0, parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64, copy=False))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidInputError(
            f"{path}: time column {column!r} has {int(bad.sum())} value(s) that are not times or numbers "
            f"(first at row {row}: {col.iloc[row]!r}); fix or drop those rows"
        )
    return values


def wide_layout(features: list[str]) -> dict[str, Any] | None:
    """Feature columns named as ordered time steps -> the wide layout, else None.

    Every column must be <prefix><integer>; each prefix is a channel and all channels share one consecutive range
    of at least MIN_SERIES_LENGTH integers. `columns` lists them channel by channel, steps in integer order (the
    caller takes it out: `feature_names` keeps it).

    Example:
        >>> wide_layout([f"t{i}" for i in range(20)])["shape"]
        [1, 20]
        >>> wide_layout(["f1", "f2", "f3"]) is None
        True
    """
    groups: dict[str, dict[int, str]] = {}
    for name in features:
        m = _SUFFIX.match(name.strip())
        if m is None:
            return None
        steps = groups.setdefault(m.group(1), {})
        if int(m.group(2)) in steps:  # "t1" and "t01": not one step each
            return None
        steps[int(m.group(2))] = name
    ranges = {tuple(sorted(steps)) for steps in groups.values()}
    if len(ranges) != 1:
        return None
    steps_seq = ranges.pop()
    length = len(steps_seq)
    if length < MIN_SERIES_LENGTH or steps_seq[-1] - steps_seq[0] != length - 1:
        return None
    prefixes = list(groups)
    columns = [groups[p][i] for p in prefixes for i in steps_seq]
    first, last = steps_seq[0], steps_seq[-1]
    named = ", ".join(f"{p}{first}..{p}{last}" for p in prefixes[:4]) + (" ..." if len(prefixes) > 4 else "")
    return {
        "kind": "wide",
        "description": f"wide table: columns {named} are {length} ordered time steps; each row is one series of "
        f"{len(prefixes)} channel{'s' if len(prefixes) > 1 else ''} x {length} steps",
        "channels": [p or "(numeric names)" for p in prefixes],
        "length": length,
        "shape": [len(prefixes), length],
        "columns": columns,
    }


def looks_like_recording(df: Any, features: list[str], labels: np.ndarray) -> str | None:
    """Why rows look like consecutive time steps of a recording (see the module docstring), or None."""
    n = len(df)
    if not features or len(features) > RECORDING_MAX_FEATURES or n < RECORDING_MIN_ROWS:
        return None
    labels = np.asarray(labels)
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], change])
    mean_run = n / len(starts)
    if mean_run < RECORDING_MIN_RUN or len(starts) < 2:  # one label throughout: nothing to learn anyway
        return None
    run_id = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n)))
    same_run = run_id[1:] == run_id[:-1]
    autocorr = []
    for c in features:
        v = df[c].to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.isfinite(v).all():
            return None
        resid = v - (np.add.reduceat(v, starts) / np.diff(np.append(starts, n)))[run_id]
        denom = float((resid * resid).sum())
        if denom <= 0:
            continue
        autocorr.append(abs(float((resid[1:] * resid[:-1])[same_run].sum()) / denom))
    if not autocorr:
        return None
    r1 = float(np.median(autocorr))
    if r1 < RECORDING_MIN_AUTOCORR:
        return None
    return (
        f"no time column, but {n} rows of {len(features)} feature column(s) whose labels hold for {mean_run:.0f} rows "
        f"on average and whose neighbouring rows correlate (median lag-1 autocorrelation {r1:.2f} within label runs)"
    )


def default_window(n_rows: int) -> int:
    """DEFAULT_WINDOW rows, or n_rows / ROWS_PER_WINDOW for a short table (at least MIN_WINDOW).

    Example:
        >>> default_window(10_000), default_window(300), default_window(20)
        (32, 15, 4)
    """
    return int(min(DEFAULT_WINDOW, max(MIN_WINDOW, n_rows // ROWS_PER_WINDOW)))


def make_windows(
    values: np.ndarray, *, order: np.ndarray | None, window: int, path: Path, time_column: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Rows (n, C) in file order -> windows (N, C, window), the row index of each window's last row, its first row,
    and facts for the layout. `order` (the time column) splits the rows into series where it goes backwards.

    Raises:
        InvalidInputError: fewer rows than one window, or no stretch of rows in time order as long as one window.
    """
    n = len(values)
    if window < 2:
        raise InvalidInputError(f"window must be at least 2 rows; got {window}")
    if n < window:
        raise InvalidInputError(
            f"{path}: {n} row(s), fewer than one window of {window} rows; rows are time steps here, so give at "
            f"least {window} rows (better: {ROWS_PER_WINDOW} x {window}) or a smaller window"
        )
    bounds = [0, n]
    if order is not None:
        resets = np.flatnonzero(np.diff(order) < 0) + 1  # the time goes backwards: a new series starts
        bounds = [0, *resets.tolist(), n]
    segments = [(a, b) for a, b in itertools.pairwise(bounds) if b - a >= window]
    if not segments:
        raise InvalidInputError(
            f"{path}: time column {time_column!r} goes backwards {len(bounds) - 2} times and no stretch of rows in "
            f"time order is as long as one window ({window} rows); sort the rows by {time_column!r}"
        )
    n_windows = sum(b - a - window + 1 for a, b in segments)
    stride = max(1, math.ceil(n_windows / MAX_WINDOWS))
    starts = np.concatenate([np.arange(a, b - window + 1, stride) for a, b in segments])
    # (n - window + 1, C, window) view of every window, then the ones we keep, copied
    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)
    x = np.ascontiguousarray(view[starts], dtype=np.float32)
    facts = {
        "window": window,
        "stride": stride,
        "n_series": len(bounds) - 1,
        "n_rows_unused": int(n - sum(b - a for a, b in segments)),
    }
    return x, starts + window - 1, starts, facts


def chronological_split(starts: np.ndarray, *, window: int, fraction: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Split windows in time order into (earlier, the last `fraction`) positions, dropping the later part's windows
    that share a row with the earlier part: the gap (purging, as in purged cross-validation for time series; Lopez
    de Prado 2018, Advances in Financial Machine Learning, ch. 7). Returns (kept, held out, n dropped).

    Example:
        >>> keep, out, gap = chronological_split(np.arange(10), window=3, fraction=0.3)
        >>> keep.tolist(), out.tolist(), gap
        ([0, 1, 2, 3, 4, 5, 6], [9], 2)
    """
    n = len(starts)
    n_out = math.ceil(fraction * n) if fraction > 0 else 0
    if n_out == 0:
        return np.arange(n), np.zeros(0, dtype=np.int64), 0
    cut = n - n_out
    last_row_before = starts[cut - 1] + window - 1 if cut > 0 else -1
    later = np.arange(cut, n)
    clear = starts[later] > last_row_before
    return np.arange(cut), later[clear], int((~clear).sum())


def _pandas() -> Any:
    from ._util import require

    return require("pandas", extra="train", what="reading a table as a time series")


def resample_padded(df: Any, layout: dict[str, Any]) -> tuple[Any, int]:
    """Rows of a wide table whose series end in NaN padding (finite values, then only NaNs, per channel), each
    channel resampled to the layout's full length by linear interpolation; other rows are left as they are (a NaN
    in the middle stays a missing value). Returns the new table and how many rows were resampled.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"t0": [0.0, 0.0], "t1": [1.0, 2.0], "t2": [2.0, None], "label": [0, 1]})
        >>> out, n = resample_padded(df, {"columns": ["t0", "t1", "t2"], "shape": [1, 3]})
        >>> n, out.loc[1, ["t0", "t1", "t2"]].tolist()
        (1, [0.0, 1.0, 2.0])
    """
    columns, (n_channels, length) = layout["columns"], layout["shape"]
    block = df[columns].to_numpy(dtype=np.float64, na_value=np.nan).reshape(len(df), n_channels, length)
    finite = np.isfinite(block)
    n_finite = finite.sum(axis=-1)  # (N, C)
    prefix = np.arange(length) < n_finite[..., None]  # where a padded series would hold its values
    is_prefix = np.all(finite == prefix, axis=-1) & (n_finite >= 2)  # (N, C): values then only NaNs, 2+ values
    padded_rows = is_prefix.all(axis=1) & (n_finite < length).any(axis=1)
    if not padded_rows.any():
        return df, 0
    out = block[padded_rows].copy()
    grid = np.arange(length, dtype=np.float64)
    for series, k in zip(out.reshape(-1, length), n_finite[padded_rows].reshape(-1), strict=True):
        if k < length:
            series[:] = np.interp(np.linspace(0, k - 1, length), grid[:k], series[:k])
    df = df.copy()
    df.loc[padded_rows, columns] = out.reshape(len(out), -1)
    return df, int(padded_rows.sum())
