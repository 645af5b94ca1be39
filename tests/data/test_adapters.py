"""User data adapters: image folders, CSV/Parquet tables, .npz, text; a fixed test set; bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dlexpert.data import load_data
from dlexpert.errors import InvalidInputError

from .conftest import blob_image, save_image

# ------------------------------------------------------------------------------------------------- image folders


def test_image_folder_mixed_modes_and_sizes_with_a_corrupt_file(image_folder: Path) -> None:
    s = load_data(image_folder, image_size=24, seed=0, val_fraction=0.0, test_fraction=0.25)
    assert s.modality == "image" and s.classes == ["a", "b"]
    assert s.input_shape == (3, 24, 24)  # some images are colour, so all become RGB
    n = len(s.y_train) + len(s.y_test)
    assert n == 24  # 12 + 12 readable; the corrupt file is skipped
    assert s.corrupt_files == ["a/broken.png"]
    assert any("a/broken.png" in w and "unreadable" in w for w in s.warnings)
    assert any("non-image" in w for w in s.warnings)  # notes.txt
    assert s.x_train.dtype == np.float32 and s.x_train.min() >= 0.0 and s.x_train.max() <= 1.0
    assert len(set(s.image_sizes)) > 5  # the original sizes are recorded
    # The bright square is top-left in "a" and bottom-right in "b": the loader kept that spatial structure.
    x = np.concatenate([s.x_train, s.x_test])
    y = np.concatenate([s.y_train, s.y_test])
    top_left = x[:, :, :12, :12].mean(axis=(1, 2, 3))
    assert np.all(top_left[y == 0] > top_left[y == 1])


def test_grayscale_only_folder_stays_one_channel(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for label, name in enumerate(["x", "y"]):
        for i in range(4):
            save_image(tmp_path / name / f"{i}.png", blob_image(rng, label=label, size=(30, 30), colour=False))
    s = load_data(tmp_path, image_size=16, test_fraction=0.25, val_fraction=0.0)
    assert s.input_shape == (1, 16, 16)
    assert s.warnings == []


def test_test_folder_matches_training_channels_and_warns_about_unseen_classes(
    image_folder: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(2)
    test_root = tmp_path / "test"
    for label, name in [(0, "a"), (1, "b"), (0, "zebra")]:
        for i in range(3):
            save_image(test_root / name / f"{i}.png", blob_image(rng, label=label, size=(20, 20), colour=False))
    s = load_data(image_folder, test=test_root, image_size=16, seed=0)
    assert s.x_test.shape == (9, 3, 16, 16)  # grayscale test images converted to the training set's RGB
    assert s.classes == ["a", "b", "zebra"]
    assert s.class_counts("test") == {"a": 3, "b": 3, "zebra": 3}
    assert s.class_counts("train")["zebra"] == 0
    assert any("absent from training" in w and "'zebra'" in w for w in s.warnings)
    assert s.test_source == str(test_root)


def test_class_folder_with_one_image_warns(image_folder: Path) -> None:
    save_image(image_folder / "c" / "only.png", np.zeros((10, 10), np.uint8))
    s = load_data(image_folder, image_size=16, seed=0)
    assert any("'c'" in w and "single sample" in w for w in s.warnings)
    assert s.class_counts("train")["c"] == 1


def test_image_folder_version_is_stable_and_changes_with_a_file(image_folder: Path) -> None:
    v1 = load_data(image_folder, image_size=16).version
    assert load_data(image_folder, image_size=16).version == v1
    shutil.move(image_folder / "a" / "00.png", image_folder / "b" / "00.png")  # same bytes, another class
    v2 = load_data(image_folder, image_size=16).version
    assert v2 != v1
    (image_folder / "b" / "01.jpg").write_bytes((image_folder / "b" / "01.jpg").read_bytes()[:-1] + b"\0")
    assert load_data(image_folder, image_size=16).version != v2


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        load_data(tmp_path)


def test_folder_of_loose_images_asks_for_class_subfolders(tmp_path: Path) -> None:
    save_image(tmp_path / "1.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(InvalidInputError, match="one subfolder per class"):
        load_data(tmp_path)


def test_folder_with_only_unreadable_images_is_an_error(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.png").write_bytes(b"garbage")
    with pytest.raises(InvalidInputError, match="no readable images"):
        load_data(tmp_path)


def test_single_class_is_an_error(tmp_path: Path) -> None:
    for i in range(3):
        save_image(tmp_path / "cats" / f"{i}.png", np.full((8, 8), 10 * i, np.uint8))
    with pytest.raises(InvalidInputError, match=r"single class.*'cats'"):
        load_data(tmp_path)


def test_missing_path_is_an_error() -> None:
    with pytest.raises(InvalidInputError, match="no such file or folder") as err:
        load_data("/nonexistent/data/dir")
    assert "digits" in str(err.value)  # and it lists the built-in names
    with pytest.raises(InvalidInputError, match="did you mean 'digits'"):
        load_data("digitz")


# ------------------------------------------------------------------------------------------------------ tables


def test_csv_numeric_features_and_string_labels(table: Path) -> None:
    s = load_data(table, target="species", seed=0)
    assert s.modality == "tabular" and s.input_shape == (3,)
    assert s.feature_names == ["f1", "f2", "flag"]
    assert s.classes == ["ant", "bee", "cat"]
    assert len(s.mean) == 3 and s.x_train.dtype == np.float32


def test_csv_unknown_target_names_it_and_lists_columns(table: Path) -> None:
    with pytest.raises(InvalidInputError) as err:
        load_data(table, target="label")
    message = str(err.value)
    assert "'label'" in message and "table.csv" in message
    assert "f1, f2, flag, species" in message


def test_csv_without_target_finds_a_label_column_or_asks(tmp_path: Path, table: Path) -> None:
    df = pd.read_csv(table).rename(columns={"species": "label"})
    df.to_csv(tmp_path / "t.csv", index=False)
    s = load_data(tmp_path / "t.csv")
    assert s.classes == ["ant", "bee", "cat"] and any("'label'" in w for w in s.warnings)
    with pytest.raises(InvalidInputError, match="target=COLUMN"):
        load_data(table)  # "species" is not a name we guess


def test_text_date_and_identifier_columns_are_encoded_as_training_decided(tmp_path: Path, table: Path) -> None:
    # As tables come: a category column, a date column, a name per row, numbers with a "?" for unknown.
    df = pd.read_csv(table)
    df["colour"] = np.array(["red", "green", "blue"])[np.arange(60) % 3]
    df["day"] = pd.date_range("2020-01-01", periods=60).strftime("%Y-%m-%d")
    df["name"] = [f"sample {i}" for i in range(60)]
    df["size"] = np.arange(60).astype(str)
    df.loc[4, "size"] = "?"
    df.to_csv(tmp_path / "t.csv", index=False)
    test = df.iloc[:6].copy()
    test.loc[0, "colour"] = "purple"  # not seen in training: all zeros
    test.to_csv(tmp_path / "test.csv", index=False)
    splits = load_data(tmp_path / "t.csv", target="species", test=tmp_path / "test.csv", dropna=True)
    names = splits.feature_names
    assert names == ["f1", "f2", "flag", "colour=blue", "colour=green", "colour=red", "day", "size"]
    assert splits.layout is not None and splits.layout["encoding"]["name"] == "drop"
    assert any("'name'" in w and "dropped" in w for w in splits.warnings)
    assert any("'size'" in w and "1 non-numeric" in w for w in splits.warnings)
    assert splits.missing_values["size"] == 1  # the "?" is a missing value, dropped with --dropna
    colour = np.asarray(splits.x_test)[:, 3:6]
    assert colour.sum(axis=1).tolist().count(0.0) == 1 and set(colour.sum(axis=1)) <= {0.0, 1.0}
    day = names.index("day")
    assert np.asarray(splits.x_train)[:, day].min() >= 18262  # 2020-01-01 is day 18262 since 1970-01-01


def test_a_table_of_only_identifiers_is_one_clear_line(tmp_path: Path) -> None:
    df = pd.DataFrame({"id": [f"row {i}" for i in range(40)], "label": np.arange(40) % 2})
    df.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(InvalidInputError, match=r"t\.csv: no usable feature columns.*'id'"):
        load_data(tmp_path / "t.csv", target="label")


def test_nan_and_inf_are_errors_naming_column_and_rows_unless_dropna(tmp_path: Path, table: Path) -> None:
    df = pd.read_csv(table)
    df.loc[[3, 7], "f1"] = np.nan
    df.loc[11, "f2"] = np.inf
    df.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(InvalidInputError, match="'f1' \\(2 rows\\), 'f2' \\(1 row\\)"):
        load_data(tmp_path / "t.csv", target="species")
    s = load_data(tmp_path / "t.csv", target="species", dropna=True)
    assert len(s.y_train) + len(s.y_val) + len(s.y_test) == 57
    assert s.missing_values == {"f1": 2, "f2": 1}
    assert np.isfinite(s.x_train).all()


def test_parquet_is_read_like_csv(tmp_path: Path, table: Path) -> None:
    pd.read_csv(table).to_parquet(tmp_path / "t.parquet")
    a = load_data(table, target="species", seed=0)
    b = load_data(tmp_path / "t.parquet", target="species", seed=0)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.classes == b.classes


def test_csv_version_is_stable_and_changes_when_the_file_changes(tmp_path: Path, table: Path) -> None:
    v1 = load_data(table, target="species").version
    assert load_data(table, target="species").version == v1
    table.write_text(table.read_text().replace("ant", "ant", 1) + "0.5,0.5,False,ant\n")
    assert load_data(table, target="species").version != v1


def test_test_table_must_have_the_training_features(tmp_path: Path, table: Path) -> None:
    pd.read_csv(table).drop(columns=["f2"]).to_csv(tmp_path / "test.csv", index=False)
    with pytest.raises(InvalidInputError, match=r"missing feature column.*'f2'"):
        load_data(table, target="species", test=tmp_path / "test.csv")


def test_regression_targets_are_rejected_as_class_labels_with_a_reason(tmp_path: Path) -> None:
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "price": [1.5, 2.25, 3.0]}).to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(InvalidInputError, match=r"non-integer.*--regression"):
        load_data(tmp_path / "r.csv", target="price")


def test_a_regression_table_keeps_its_values_and_splits_at_random(tmp_path: Path) -> None:
    """Issue 12: a regression target is read as numbers (integer prices too, which the class reader would turn into
    one class per value), the splits are seeded random ones, a test table is read the same way, and categorical
    columns are encoded as for classification."""
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame({"rooms": rng.integers(1, 6, n), "area": rng.normal(80, 20, n),
                          "city": rng.choice(["a", "b"], n)})  # fmt: skip
    frame["price"] = (frame["rooms"] * 40 + frame["area"]).round().astype(int)
    frame.to_csv(tmp_path / "houses.csv", index=False)
    frame.head(30).to_csv(tmp_path / "test.csv", index=False)
    s = load_data(tmp_path / "houses.csv", target="price", regression=True)
    assert s.regression and s.classes == [] and s.y_train.dtype == np.float32
    assert len(s.y_train) + len(s.y_val) + len(s.y_test) == n and s.split["test"] == "random split"
    assert {"city=a", "city=b"} <= set(s.feature_names or [])
    assert np.isin(s.y_test, frame["price"].to_numpy()).all()
    fixed = load_data(tmp_path / "houses.csv", target="price", regression=True, test=tmp_path / "test.csv")
    assert np.array_equal(fixed.y_test, frame["price"].head(30).to_numpy(dtype=np.float32))


def test_a_regression_target_must_be_numbers_in_enough_rows(tmp_path: Path) -> None:
    rows = pd.DataFrame({"a": np.arange(30.0), "y": ["cheap", *map(str, range(29))]})
    rows.to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(InvalidInputError, match=r"'y' holds 1 non-numeric value\(s\) \(e\.g\. 'cheap'\)"):
        load_data(tmp_path / "text.csv", target="y", regression=True)
    pd.DataFrame({"a": np.arange(30.0), "y": 5.0}).to_csv(tmp_path / "flat.csv", index=False)
    with pytest.raises(InvalidInputError, match="the target is 5 in every row"):
        load_data(tmp_path / "flat.csv", target="y", regression=True)
    pd.DataFrame({"a": np.arange(8.0), "y": np.arange(8.0)}).to_csv(tmp_path / "few.csv", index=False)
    with pytest.raises(InvalidInputError, match="8 rows; a regression needs at least 20"):
        load_data(tmp_path / "few.csv", target="y", regression=True)
    with pytest.raises(InvalidInputError, match="regression target is read from a table"):
        load_data("digits", regression=True)


def test_unreadable_table_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InvalidInputError, match=r"bad\.parquet"):
        load_data(tmp_path / "bad.parquet", target="y")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InvalidInputError, match="empty"):
        load_data(tmp_path / "empty.csv", target="y")


# ------------------------------------------------------------------------------------------------ npz and text


def test_npz_layouts_decide_the_modality(tmp_path: Path) -> None:
    y = np.arange(40) % 2
    np.savez(tmp_path / "seq.npz", x=np.zeros((40, 2, 30), np.float32) + y[:, None, None], y=y)
    np.savez(tmp_path / "hwc.npz", x=np.full((40, 12, 12, 3), 255, np.uint8), y=y)
    np.savez(tmp_path / "gray.npz", x=np.zeros((40, 28, 28), np.uint8), y=y)
    assert load_data(tmp_path / "seq.npz").input_shape == (2, 30)
    hwc = load_data(tmp_path / "hwc.npz")
    assert hwc.modality == "image" and hwc.input_shape == (3, 12, 12) and hwc.x_train.max() == 1.0
    gray = load_data(tmp_path / "gray.npz")
    assert gray.input_shape == (1, 28, 28) and any("one-channel" in w for w in gray.warnings)


def test_npz_with_its_own_test_split_and_bad_keys(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "d.npz",
        x=rng.normal(size=(30, 3)),
        y=np.array(["u", "v"] * 15),
        x_test=rng.normal(size=(10, 3)),
        y_test=np.array(["u", "v"] * 5),
    )
    s = load_data(tmp_path / "d.npz")
    assert s.test_source == "predefined" and len(s.y_test) == 10 and s.classes == ["u", "v"]
    np.savez(tmp_path / "bad.npz", inputs=np.zeros((3, 2)), labels=np.zeros(3))
    with pytest.raises(InvalidInputError, match="expected arrays named 'x' and 'y'; found: inputs, labels"):
        load_data(tmp_path / "bad.npz")


def test_npz_nan_is_an_error(tmp_path: Path) -> None:
    x = np.ones((20, 2))
    x[4, 1] = np.nan
    np.savez(tmp_path / "n.npz", x=x, y=np.arange(20) % 2)
    with pytest.raises(InvalidInputError, match=r"1 sample.*NaN"):
        load_data(tmp_path / "n.npz")
    assert len(load_data(tmp_path / "n.npz", dropna=True).ids_train) > 0


def test_text_csv_and_jsonl(tmp_path: Path) -> None:
    rows = [{"text": f"{'good' if i % 2 else 'bad'} film number {i}", "sentiment": i % 2} for i in range(40)]
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    for name in ("t.csv", "t.jsonl"):
        s = load_data(tmp_path / name, target="sentiment", seed=0)
        assert s.modality == "text" and s.input_shape == ()
        assert isinstance(s.x_train, list) and all(isinstance(t, str) for t in s.x_train)
        assert s.classes == ["0", "1"] and s.mean == []
        assert len(s.x_train) == len(s.y_train)
        assert all(("good" in t) == (label == 1) for t, label in zip(s.x_test, s.y_test, strict=True))


def test_test_set_of_another_modality_is_an_error(tmp_path: Path, table: Path) -> None:
    with pytest.raises(InvalidInputError, match="test data is tabular but the training data"):
        load_data("digits", test=table, target="species")


def test_unsupported_file_type(tmp_path: Path) -> None:
    (tmp_path / "model.pt").write_bytes(b"\0")
    with pytest.raises(InvalidInputError, match=r"unsupported file type '\.pt'"):
        load_data(tmp_path / "model.pt")


def test_npz_test_split_with_a_class_absent_from_training_warns(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "d.npz",
        x=rng.normal(size=(20, 3)),
        y=np.arange(20) % 2,
        x_test=rng.normal(size=(6, 3)),
        y_test=np.array([0, 1, 2, 2, 2, 2]),
    )
    s = load_data(tmp_path / "d.npz")
    assert s.classes == ["0", "1", "2"]
    assert any("absent from training: '2' (4 samples)" in w for w in s.warnings)
