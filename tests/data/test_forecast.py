"""Forecasting data (issue 16): long and wide tables, frequency and season, the horizon from --horizon, the task's
words or --test, the profile, and one line for every kind of bad series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlexpert.data.forecast import horizon_from_text, load_forecast
from dlexpert.data.forecast.profile import profile_forecast
from dlexpert.errors import InvalidInputError


def monthly(n: int = 48, *, ids: tuple[str, ...] = ("a", "b"), seed: int = 0) -> pd.DataFrame:
    """A long table: `ids` monthly series of `n` points with a yearly cycle."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2018-01-01", periods=n, freq="MS")
    rows = []
    for k, key in enumerate(ids):
        y = 100 * (k + 1) + 10 * np.sin(2 * np.pi * np.arange(n) / 12) + rng.normal(0, 1, n)
        rows.append(pd.DataFrame({"unique_id": key, "ds": ds, "y": y}))
    return pd.concat(rows, ignore_index=True)


def write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def test_store_sales_is_daily_with_a_weekly_season_and_a_28_day_horizon() -> None:
    data = load_forecast("store-sales")
    assert (data.freq, data.season, data.horizon, len(data.train)) == ("D", 7, 28, 6)
    assert all(len(t) == 28 and t.time[0] > s.time[-1] for s, t in zip(data.train, data.test, strict=True))
    profile = profile_forecast(data)
    assert profile.seasonal_strength is not None and profile.seasonal_strength > 0.6
    assert "6 series" in profile.task_data()["size"]  # counted as series and points, not as samples


def test_long_and_wide_tables_give_the_same_series(tmp_path: Path) -> None:
    long = monthly()
    wide = long.pivot(index="ds", columns="unique_id", values="y").reset_index()
    a = load_forecast(write(long, tmp_path / "long.csv"), horizon=6)
    b = load_forecast(write(wide, tmp_path / "wide.csv"), horizon=6)
    assert (a.format, b.format) == ("long", "wide")
    assert a.freq == b.freq == "MS" and a.season == 12
    for s, t in zip(a.train + a.test, b.train + b.test, strict=True):
        assert s.id == t.id and np.array_equal(s.time, t.time) and np.allclose(s.values, t.values)


def test_the_horizon_comes_from_the_flag_the_task_or_the_test_file(tmp_path: Path) -> None:
    df = monthly(60)
    path = write(df[df.ds < "2022-07-01"], tmp_path / "train.csv")
    test = write(df[df.ds >= "2022-07-01"], tmp_path / "test.csv")
    assert load_forecast(path, horizon=3).horizon_source == "--horizon"
    stated = load_forecast(path, text="forecast sales for the next 2 quarters")
    assert stated.horizon == 6 and "next 2 quarters" in stated.horizon_source
    given = load_forecast(path, test=test)
    assert given.horizon == 6 and given.test_source == str(test)
    assert np.allclose(given.test[0].values, df[(df.unique_id == "a") & (df.ds >= "2022-07-01")].y)
    assert horizon_from_text("a 12-month horizon", freq="MS") == (12, "12-month horizon")
    assert horizon_from_text("next 28 days", freq="D") == (28, "next 28 days")
    assert horizon_from_text("classify the signals", freq="D") is None


def test_quarters_years_and_integer_steps_are_read(tmp_path: Path) -> None:
    quarters = pd.DataFrame({"Quarter": [f"{1990 + i // 4} Q{i % 4 + 1}" for i in range(40)], "x": np.arange(40.0)})
    q = load_forecast(write(quarters, tmp_path / "q.csv"), horizon=4)
    assert q.freq.startswith("QS") and q.season == 4
    years = pd.DataFrame({"year": np.arange(1900, 1960), "count": np.arange(60.0)})
    y = load_forecast(write(years, tmp_path / "y.csv"), horizon=5)
    assert y.freq.startswith("YS") and y.season == 1
    steps = pd.DataFrame({"t": np.arange(50), "v": np.arange(50.0)})
    s = load_forecast(write(steps, tmp_path / "s.csv"), horizon=5)
    assert (s.freq, s.season, s.has_calendar) == ("step", 1, False)


@pytest.mark.parametrize(
    ("change", "kwargs", "expected"),
    [
        (lambda d: d.drop(index=5), {"horizon": 6}, "series 'a': 2018-06-01 is missing"),
        (lambda d: pd.concat([d.iloc[:5], d.iloc[[4]], d.iloc[5:]]), {"horizon": 6}, "row 7: timestamp 2018-05-01"),
        (lambda d: pd.concat([d.iloc[[1, 0]], d.iloc[2:]]), {"horizon": 6}, "row 3: time goes backwards"),
        (lambda d: d.assign(y=d.y.where(d.index != 3)), {"horizon": 6}, "row 5: no value at 2018-04-01"),
        (lambda d: d.assign(y=d.y.astype(object).where(d.index != 3, "abc")), {"horizon": 6}, "row 5, column 'y'"),
        (lambda d: d, {}, "no forecast horizon"),
        (lambda d: d, {"horizon": 48}, "has 48 points; holding out a horizon of 48"),
        (lambda d: d[d.ds >= "2020-01-01"], {"horizon": 6}, "under two seasons (24 at period 12)"),
        (lambda d: d.assign(ds=d.ds.astype(str).where(d.index != 2, "soon")), {"horizon": 6}, "'soon' is not a date"),
    ],
)
def test_bad_series_get_one_line_naming_the_file_series_and_row(
    tmp_path: Path, change: object, kwargs: dict, expected: str
) -> None:
    path = write(change(monthly()), tmp_path / "sales.csv")  # type: ignore[operator]
    with pytest.raises(InvalidInputError) as info:
        load_forecast(path, **kwargs)
    message = str(info.value)
    assert expected in message and "\n" not in message, message
    assert "sales.csv" in message or "horizon" in message


def test_test_points_must_follow_their_series(tmp_path: Path) -> None:
    df = monthly(60)
    path = write(df[df.ds < "2022-07-01"], tmp_path / "train.csv")
    overlap = write(df[df.ds >= "2022-01-01"], tmp_path / "overlap.csv")
    with pytest.raises(InvalidInputError, match=r"inside the training data .* the test would leak"):
        load_forecast(path, test=overlap)
    missing = write(df[(df.ds >= "2022-07-01") & (df.unique_id == "a")], tmp_path / "one.csv")
    with pytest.raises(InvalidInputError, match="no test points for series 'b'"):
        load_forecast(path, test=missing)


def test_test_files_are_checked_like_training_files(tmp_path: Path) -> None:
    df = monthly(60)
    path = write(df[df.ds < "2022-07-01"], tmp_path / "train.csv")
    holed = df[df.ds >= "2022-07-01"].drop(index=df[(df.unique_id == "b") & (df.ds == "2022-09-01")].index)
    with pytest.raises(InvalidInputError, match="series 'b': 2022-09-01 is missing"):
        load_forecast(path, test=write(holed, tmp_path / "holed.csv"))
    steps = df[df.ds >= "2022-07-01"].assign(ds=lambda d: d.groupby("unique_id").cumcount() + 42)
    with pytest.raises(InvalidInputError, match="its time column holds steps; the training data's holds dates"):
        load_forecast(path, test=write(steps, tmp_path / "steps.csv"))
    with pytest.raises(InvalidInputError, match="header and no rows"):
        load_forecast(path, test=write(df.iloc[:0], tmp_path / "empty.csv"))


def test_zoned_times_keep_their_wall_clock_and_horizons_need_a_step(tmp_path: Path) -> None:
    df = monthly()
    zoned = df.assign(ds=df.ds.dt.tz_localize("Europe/Berlin").astype(str))  # "2018-01-01 00:00:00+01:00"
    data = load_forecast(write(zoned, tmp_path / "zoned.csv"), horizon=6)
    assert str(data.train[0].time[0]).startswith("2018-01-01T00:00") and data.freq == "MS"
    with pytest.raises(InvalidInputError, match="at least one step"):
        load_forecast(write(df, tmp_path / "d.csv"), text="forecast the next 0 months")
    assert horizon_from_text("use 3 years out of 10 to forecast", freq="D") is None


def test_other_numeric_columns_are_exogenous_known_ahead_when_the_test_file_holds_them(tmp_path: Path) -> None:
    df = monthly(60).assign(promo=lambda d: (d.index % 5 == 0).astype(int), temp=1.5, note="x")
    train, future = df[df.ds < "2022-07-01"], df[df.ds >= "2022-07-01"]
    path = write(train, tmp_path / "train.csv")
    held = load_forecast(path, horizon=6)  # no test file: the columns are observed only in the past
    assert held.exog_future == [] and held.exog_past == ["promo", "temp"] and held.test[0].exog == {}
    assert "'note' are not numbers" in " ".join(held.warnings)
    declared = load_forecast(path, horizon=6, known_future=["promo"])  # their held-out values are the known ones
    assert declared.exog_future == ["promo"] and len(declared.test[0].exog["promo"]) == 6
    assert np.array_equal(declared.train[0].exog["promo"], train[train.unique_id == "a"].promo.to_numpy()[:-6])
    tested = load_forecast(path, test=write(future.drop(columns="temp"), tmp_path / "test.csv"))
    assert tested.exog_future == ["promo"] and tested.exog_past == ["temp"] and tested.horizon == 6
    assert profile_forecast(tested).input_shape[0] == 3  # the target and two exogenous channels
    assert load_forecast(path, horizon=6, exog=[]).exog == []
    frame = tested.frame("train", tested.exog)
    assert list(frame.columns) == ["unique_id", "ds", "y", "promo", "temp"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"exog": ["price"]}, "--exog: no numeric column 'price'"),
        ({"known_future": ["price"]}, "--known-future: 'price' is not an exogenous column"),
    ],
)
def test_exogenous_columns_that_are_not_there_are_refused(tmp_path: Path, kwargs: dict, expected: str) -> None:
    path = write(monthly().assign(promo=0), tmp_path / "sales.csv")
    with pytest.raises(InvalidInputError, match=expected):
        load_forecast(path, horizon=6, **kwargs)


def test_a_column_known_ahead_needs_its_values_in_the_test_file_and_no_gaps(tmp_path: Path) -> None:
    df = monthly(60).assign(promo=1.0)
    path = write(df[df.ds < "2022-07-01"], tmp_path / "train.csv")
    test = write(df[df.ds >= "2022-07-01"].drop(columns="promo"), tmp_path / "test.csv")
    with pytest.raises(InvalidInputError, match=r"test\.csv: no column 'promo'; a column known ahead needs its values"):
        load_forecast(path, test=test, known_future=["promo"])
    df.loc[7, "promo"] = np.nan
    with pytest.raises(InvalidInputError, match=r"series 'a', row 9: no value of exogenous column 'promo'"):
        load_forecast(write(df, tmp_path / "holed.csv"), horizon=6)
