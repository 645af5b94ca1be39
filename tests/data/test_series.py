"""Tables as time series: wide (ordered columns, one series per row) and long (rows are time steps, windows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlexpert.data import load_data, profile_dataset
from dlexpert.errors import InvalidInputError

from .synthetic import write_sensor_csv, write_wide_csv


def _row_of(split_ids: list[str]) -> list[tuple[int, int]]:
    """Window ids "file.csv#first-last" -> (first row, last row)."""
    return [tuple(int(v) for v in i.rsplit("#", 1)[1].split("-")) for i in split_ids]  # type: ignore[misc]


# ------------------------------------------------------------------------------------------------------------ wide


def test_wide_table_of_numbered_columns_is_one_series_per_row_in_step_order(tmp_path: Path) -> None:
    path = write_wide_csv(tmp_path / "wide.csv", n_per_class=20, length=24)
    df = pd.read_csv(path)
    shuffled = [*reversed([c for c in df.columns if c != "label"]), "label"]  # t23 ... t0: file order must not matter
    df[shuffled].to_csv(path, index=False)
    s = load_data(path, target="label", seed=0)
    assert s.modality == "sequence" and s.input_shape == (1, 24)
    assert s.feature_names == [f"t{i}" for i in range(24)]
    row = int(s.ids_train[0].rsplit("#", 1)[1])
    np.testing.assert_allclose(s.x_train[0, 0], df.loc[row, [f"t{i}" for i in range(24)]].to_numpy(np.float32))
    p = profile_dataset(s)
    assert p.layout is not None and p.layout["kind"] == "wide" and p.layout["shape"] == [1, 24]
    assert "t0..t23" in p.describe()
    assert not s.split.get("chronological")  # independent series: the usual stratified split


def test_wide_table_with_two_prefixes_has_two_channels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    cols = {f"acc_{axis}_{i}": rng.normal(size=30) for axis in "xy" for i in range(1, 21)}
    pd.DataFrame({**cols, "y": np.arange(30) % 2}).to_csv(tmp_path / "w.csv", index=False)
    s = load_data(tmp_path / "w.csv", seed=0)
    assert s.input_shape == (2, 20) and s.modality == "sequence"
    assert s.layout is not None and s.layout["channels"] == ["acc_x_", "acc_y_"]
    x_first = pd.read_csv(tmp_path / "w.csv").loc[int(s.ids_train[0].rsplit("#", 1)[1])]
    assert s.x_train[0, 1, 0] == pytest.approx(x_first["acc_y_1"], rel=1e-6)


@pytest.mark.parametrize(
    "columns",
    [
        ["f1", "f2", "f3"],  # too short to be a series
        [f"t{i}" for i in range(20) if i != 7],  # a step missing
        [*(f"t{i}" for i in range(20)), "age"],  # a column that is no step
        [*(f"a{i}" for i in range(20)), *(f"b{i}" for i in range(1, 21))],  # channels over different steps
    ],
)
def test_feature_columns_that_are_not_one_step_range_stay_tabular(tmp_path: Path, columns: list[str]) -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(40, len(columns))), columns=columns)
    df["label"] = np.arange(40) % 2
    df.to_csv(tmp_path / "t.csv", index=False)
    s = load_data(tmp_path / "t.csv", target="label", seed=0)
    assert s.modality == "tabular" and s.input_shape == (len(columns),) and s.layout is None


def test_test_table_follows_the_training_tables_wide_layout(tmp_path: Path) -> None:
    train = write_wide_csv(tmp_path / "train.csv", n_per_class=20, length=20)
    test = write_wide_csv(tmp_path / "test.csv", n_per_class=5, length=20, seed=1)
    s = load_data(train, target="label", test=str(test), seed=0)
    assert s.x_test.shape == (10, 1, 20) and s.test_source == str(test)


# ------------------------------------------------------------------------------------------------------------ long


def test_long_table_with_a_time_column_becomes_windows_split_in_time_order(tmp_path: Path) -> None:
    path = write_sensor_csv(tmp_path / "log.csv", n_rows=1200)
    df = pd.read_csv(path)
    s = load_data(path, target="state", seed=0)
    assert s.modality == "sequence" and s.input_shape == (2, 32)  # acc_x, acc_y as channels; `time` is no feature
    assert s.feature_names == ["acc_x", "acc_y"]
    # A window is 32 consecutive rows, channels first, labelled by its last row.
    first, last = _row_of(s.ids_train[:1])[0]
    assert last - first == 31
    np.testing.assert_allclose(s.x_train[0].T, df.loc[first:last, ["acc_x", "acc_y"]].to_numpy(np.float32))
    assert s.classes[s.y_train[0]] == df.loc[last, "state"]
    # Chronological: every training row comes before every validation row, and those before every test row.
    rows = {name: _row_of(ids) for name, ids in (("train", s.ids_train), ("val", s.ids_val), ("test", s.ids_test))}
    assert max(b for _, b in rows["train"]) < min(a for a, _ in rows["val"])
    assert max(b for _, b in rows["val"]) < min(a for a, _ in rows["test"])
    assert s.split["chronological"] and s.split["gap_windows"] == {"test": 31, "validation": 31}
    assert len(s.y_train) + len(s.y_val) + len(s.y_test) == 1200 - 31 - 2 * 31
    assert any("split chronologically" in w and "leak" in w for w in s.warnings)
    p = profile_dataset(s)
    assert p.layout is not None and p.layout["kind"] == "long" and p.layout["time_column"] == "time"
    assert p.layout["window"] == 32 and p.duplicates.n_test_in_train == 0


def test_rows_are_time_steps_without_a_time_column_when_they_look_like_a_recording(tmp_path: Path) -> None:
    s = load_data(write_sensor_csv(tmp_path / "log.csv", time_column=False), target="state", seed=0)
    assert s.input_shape == (2, 32) and s.layout is not None and "autocorrelation" in s.layout["reason"]


def test_independent_rows_sorted_by_class_stay_tabular(tmp_path: Path) -> None:
    # Long label runs (sorted by class), few columns, many rows: but neighbouring rows are independent draws.
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 400)
    df = pd.DataFrame(rng.normal(size=(1200, 3)) + 3.0 * y[:, None], columns=["a", "b", "c"])
    df["label"] = y
    df.to_csv(tmp_path / "blobs.csv", index=False)
    s = load_data(tmp_path / "blobs.csv", target="label", seed=0)
    assert s.modality == "tabular" and s.input_shape == (3,)


def test_a_time_column_that_goes_backwards_starts_a_new_series(tmp_path: Path) -> None:
    # Two recordings of 100 rows back to back; the feature is the row number, so a window's values show its rows.
    t = np.r_[np.arange(100), np.arange(100)]
    df = pd.DataFrame({"timestamp": t, "row": np.arange(200.0), "label": np.arange(200) // 50})
    df.to_csv(tmp_path / "two.csv", index=False)
    s = load_data(tmp_path / "two.csv", target="label", window=10, val_fraction=0.1, test_fraction=0.2)
    windows = np.concatenate([s.x_train, s.x_val, s.x_test])[:, 0]  # (N, 10) row numbers
    assert np.all(np.diff(windows, axis=1) == 1)
    assert not np.any((windows[:, 0] < 100) & (windows[:, -1] >= 100))  # none straddles the reset
    assert s.layout is not None and s.layout["n_series"] == 2 and s.layout["window_source"] == "given"


def test_window_is_derived_for_a_short_table_and_stated(tmp_path: Path) -> None:
    path = write_sensor_csv(tmp_path / "short.csv", n_rows=300)
    s = load_data(path, target="state", seed=0)
    assert s.input_shape == (2, 15)  # 300 rows / 20
    assert s.layout is not None and s.layout["window_source"] == "derived"
    assert "derived" in s.layout["description"]


def test_test_log_is_windowed_like_the_training_log(tmp_path: Path) -> None:
    train = write_sensor_csv(tmp_path / "train.csv", n_rows=800)
    test = write_sensor_csv(tmp_path / "test.csv", n_rows=200, seed=3)
    s = load_data(train, target="state", test=str(test), window=16, seed=0)
    assert s.x_test.shape == (200 - 15, 2, 16) and s.split["test"] == str(test)
    assert s.split["gap_windows"] == {"test": 0, "validation": 15}


# ---------------------------------------------------------------------------------------------------------- errors


def test_fewer_rows_than_one_window_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = write_sensor_csv(tmp_path / "tiny.csv", n_rows=40)
    with pytest.raises(InvalidInputError, match=r"tiny\.csv: 40 row\(s\), fewer than one window of 64 rows") as e:
        load_data(path, target="state", window=64)
    assert "\n" not in str(e.value)


def test_too_few_windows_for_a_chronological_split_says_so(tmp_path: Path) -> None:
    df = pd.DataFrame({"time": np.arange(60), "v": np.sin(np.arange(60) / 3), "label": (np.arange(60) // 10) % 2})
    df.to_csv(tmp_path / "few.csv", index=False)
    expected = r"41 windows of 20 rows, too few for a chronological split: the validation and test parts are empty"
    with pytest.raises(InvalidInputError, match=expected):
        load_data(tmp_path / "few.csv", target="label", window=20)


def test_non_numeric_sensor_column_names_the_column(tmp_path: Path) -> None:
    path = write_sensor_csv(tmp_path / "log.csv", n_rows=400)
    df = pd.read_csv(path)
    df["acc_y"] = df["acc_y"].astype(str)
    df.loc[5, "acc_y"] = "high"
    df.to_csv(path, index=False)
    with pytest.raises(InvalidInputError, match=r"log\.csv: NaN, Inf or empty values in column 'acc_y' \(1 row\)"):
        load_data(path, target="state")


def test_nan_and_inf_in_a_long_table_name_the_column(tmp_path: Path) -> None:
    path = write_sensor_csv(tmp_path / "log.csv", n_rows=400)
    df = pd.read_csv(path)
    df.loc[[3, 9], "acc_x"] = [np.nan, np.inf]
    df.to_csv(path, index=False)
    with pytest.raises(InvalidInputError, match=r"'acc_x' \(2 rows\)"):
        load_data(path, target="state")


def test_unparseable_time_column_names_the_column(tmp_path: Path) -> None:
    path = write_sensor_csv(tmp_path / "log.csv", n_rows=400)
    df = pd.read_csv(path)
    df["time"] = pd.date_range("2024-01-01", periods=400, freq="s").astype(str)
    df.loc[7, "time"] = "soon"
    df.to_csv(path, index=False)
    with pytest.raises(InvalidInputError, match=r"time column 'time' has 1 value\(s\) that are not times.*'soon'"):
        load_data(path, target="state")
    df.loc[7, "time"] = "2024-01-01 00:00:07"  # dates order the rows like numbers do
    df.to_csv(path, index=False)
    assert load_data(path, target="state").input_shape == (2, 20)


def test_shuffled_rows_with_a_time_column_ask_to_sort_them(tmp_path: Path) -> None:
    path = write_sensor_csv(tmp_path / "log.csv", n_rows=400)
    pd.read_csv(path).sample(frac=1.0, random_state=0).to_csv(path, index=False)
    with pytest.raises(InvalidInputError, match=r"no stretch of rows in time order.*sort the rows by 'time'"):
        load_data(path, target="state")


def test_bad_window_argument() -> None:
    with pytest.raises(InvalidInputError, match="window must be an integer of at least 2"):
        load_data("digits", window=1)


def test_nan_padded_series_are_read_as_shorter_series(tmp_path: Path) -> None:
    """The UCR archive pads variable-length series with trailing NaNs: a length, not missing values."""
    import pandas as pd

    long, short = [float(i) for i in range(20)], [0.0, 19 / 3, 38 / 3, 19.0] + [float("nan")] * 16
    rows = [[*long, 0], [*short, 1]] * 6
    cols = [f"t{i}" for i in range(20)] + ["label"]
    pd.DataFrame(rows, columns=cols).to_csv(tmp_path / "padded.csv", index=False)
    s = load_data(tmp_path / "padded.csv", target="label", seed=0, val_fraction=0.0, test_fraction=0.25)
    assert s.modality == "sequence" and s.input_shape == (1, 20)
    assert any("resampled to 20 steps" in w and "6 series" in w for w in s.warnings)
    stretched = np.concatenate([s.x_train, s.x_test])[np.concatenate([s.y_train, s.y_test]) == 1][0, 0]
    assert np.allclose(stretched, np.arange(20), atol=1e-4)  # 4 evenly spaced points of a line, stretched to 20

    rows[1] = [0.0, float("nan"), *[1.0] * 18, 1]  # a hole in the middle is a missing value
    pd.DataFrame(rows, columns=cols).to_csv(tmp_path / "hole.csv", index=False)
    with pytest.raises(InvalidInputError, match="NaN, Inf or empty values"):
        load_data(tmp_path / "hole.csv", target="label", seed=0)
