"""Splits: seeded, stratified, disjoint; validation from training data; statistics from the training split only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dlexpert.data import channel_stats, load_data, stratified_split
from dlexpert.errors import InvalidInputError


def test_stratified_split_keeps_class_proportions() -> None:
    s = load_data("digits", seed=0, test_fraction=0.2, val_fraction=0.1)
    total = {c: s.class_counts("train")[c] + s.class_counts("val")[c] + s.class_counts("test")[c] for c in s.classes}
    for c in s.classes:
        assert abs(s.class_counts("test")[c] - 0.2 * total[c]) <= 1.0, c
        train_pool = total[c] - s.class_counts("test")[c]
        assert abs(s.class_counts("val")[c] - 0.1 * train_pool) <= 1.0, c
    assert len(s.y_test) == 360  # ceil(0.2 * 1797)


def test_splits_are_disjoint_cover_everything_and_depend_on_the_seed() -> None:
    a = load_data("shapes", seed=0)
    ids = [*a.ids_train, *a.ids_val, *a.ids_test]
    assert len(ids) == len(set(ids)) == 2000
    b = load_data("shapes", seed=0)
    c = load_data("shapes", seed=1)
    assert a.ids_test == b.ids_test and a.ids_val == b.ids_val
    assert a.ids_test != c.ids_test
    assert a.split["seed"] == 0 and a.split["test"] == "stratified split"


def test_single_sample_class_warns_and_stays_in_training(tmp_path: Path) -> None:
    y = np.array([0] * 30 + [1] * 30 + [2])
    x = np.random.default_rng(0).normal(size=(61, 3)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    s = load_data(tmp_path / "d.npz", seed=0)
    assert any("'2'" in w and "single sample" in w for w in s.warnings)
    assert s.class_counts("train")["2"] == 1
    assert s.class_counts("test")["2"] == 0 and s.class_counts("val")["2"] == 0


def test_tiny_split_falls_back_to_unstratified_with_a_warning() -> None:
    y = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    keep, out, warnings = stratified_split(y, fraction=0.2, seed=0)  # 2 samples cannot hold 5 classes
    assert len(out) == 2 and len(keep) == 8
    assert warnings and "without stratification" in warnings[0]


def test_stats_come_from_the_training_split_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=(200, 4)).astype(np.float32)
    y = np.arange(200) % 2
    np.savez(tmp_path / "train.npz", x=x, y=y)
    x_test = rng.normal(2.0, 3.0, size=(50, 4)).astype(np.float32)
    np.savez(tmp_path / "test.npz", x=x_test, y=np.arange(50) % 2)
    np.savez(tmp_path / "shifted.npz", x=x_test * 100 + 1000, y=np.arange(50) % 2)  # a wildly different test set

    a = load_data(tmp_path / "train.npz", test=tmp_path / "test.npz", seed=0)
    b = load_data(tmp_path / "train.npz", test=tmp_path / "shifted.npz", seed=0)
    assert a.mean == b.mean and a.std == b.std  # the test set does not move the statistics
    np.testing.assert_allclose(a.mean, a.x_train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(a.std, a.x_train.std(axis=0), rtol=1e-5)
    pooled = np.concatenate([b.x_train, b.x_val, b.x_test]).mean(axis=0)
    assert np.all(np.abs(pooled - np.asarray(b.mean)) > 10)  # stats over all data would differ enormously
    # Validation data is held out of the statistics as well.
    assert not np.allclose(a.mean, np.concatenate([a.x_train, a.x_val]).mean(axis=0), rtol=1e-7, atol=0)


def test_channel_stats_per_channel_and_constant_channel() -> None:
    x = np.zeros((10, 2, 4, 4), np.float32)
    x[:, 0] = np.arange(10, dtype=np.float32)[:, None, None]
    mean, std, warnings = channel_stats(x, modality="image")
    assert mean == [4.5, 0.0]
    assert std[0] == pytest.approx(np.arange(10).std()) and std[1] == 1.0
    assert warnings and "channel 1" in warnings[0]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"val_fraction": 1.5}, "val_fraction"),
        ({"test_fraction": -0.1}, "test_fraction"),
        ({"image_size": 2}, "image_size"),
    ],
)
def test_bad_split_arguments_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        load_data("digits", **kwargs)


def test_fractions_must_leave_training_data() -> None:
    with pytest.raises(InvalidInputError, match="val_fraction \\+ test_fraction"):
        load_data("digits", val_fraction=0.5, test_fraction=0.5)


def test_zero_validation_fraction_gives_an_empty_validation_split() -> None:
    s = load_data("digits", val_fraction=0.0)
    assert len(s.y_val) == 0 and s.x_val.shape == (0, 1, 8, 8)
