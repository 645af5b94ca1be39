"""profile_dataset: counts, imbalance, leakage (exact and near duplicates), corrupt files, missing values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from dlexpert.data import DataProfile, average_hash, load_data, profile_dataset

from .conftest import save_image


def test_builtin_profile_is_clean_and_json_serialisable() -> None:
    p = profile_dataset("digits", seed=0)
    assert isinstance(p, DataProfile)
    assert p.n_samples == {"train": 1293, "val": 144, "test": 360, "total": 1797}
    assert sum(p.class_counts.values()) == 1797
    assert 1.0 <= p.imbalance_ratio < 1.2
    assert p.duplicates.n_test_in_train == 0 and p.duplicates.n_conflicting_labels == 0
    assert p.near_duplicates is not None and p.near_duplicates.skipped  # 8x8 is below the hash size
    assert not any("data_leakage" in x for x in p.problems)
    assert len(p.channel_mean) == 1 and p.input_shape == [1, 8, 8]
    doc = json.loads(p.model_dump_json())
    assert doc["version"] == p.version and doc["class_counts_by_split"]["test"]["3"] > 0
    data = p.task_data()
    assert data["size"] == "1797 labeled images" and data["distribution"].startswith("balanced")


def test_injected_duplicates_across_splits_are_leakage_and_imbalance_is_measured(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = np.array([0] * 200 + [1] * 10)
    x = rng.normal(size=(210, 6)).astype(np.float32)
    x_test = rng.normal(size=(20, 6)).astype(np.float32)
    y_test = np.array([0] * 15 + [1] * 5)
    x_test[:3] = x[[5, 17, 205]]  # three test rows copied from the training data
    x[100] = x[101]  # and one duplicate within training
    np.savez(tmp_path / "train.npz", x=x, y=y)
    np.savez(tmp_path / "test.npz", x=x_test, y=y_test)

    p = profile_dataset(tmp_path / "train.npz", test=tmp_path / "test.npz", val_fraction=0.0)
    assert p.duplicates.n_test_in_train == 3
    assert p.duplicates.n_within_train == 1
    assert p.imbalance_ratio == 20.0
    assert "data_leakage" in p.issues and "class_imbalance" in p.issues
    assert any("3 test" in x and "identical" in x for x in p.problems)
    assert p.duplicates.examples[0][0].startswith(("train:", "test:"))  # cross-split groups listed first
    assert "imbalanced" in p.task_data()["distribution"]


def test_conflicting_labels_are_reported(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(40, 3))
    x[1] = x[0]
    y = np.arange(40) % 2  # rows 0 and 1 are identical but labelled 0 and 1
    np.savez(tmp_path / "d.npz", x=x, y=y)
    p = profile_dataset(tmp_path / "d.npz")
    assert p.duplicates.n_conflicting_labels == 1 and "label_errors" in p.issues


def test_near_duplicate_image_across_train_and_test(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    train, test = tmp_path / "train", tmp_path / "test"
    originals = []
    for name in ["a", "b"]:
        for i in range(10):
            img = rng.integers(0, 256, size=(32, 32), dtype=np.uint8)  # random textures: no accidental look-alikes
            originals.append(img)
            save_image(train / name / f"{i}.png", img)
        save_image(test / name / "fresh.png", rng.integers(0, 256, size=(32, 32), dtype=np.uint8))
    near = np.clip(originals[3].astype(int) + 3, 0, 255).astype(np.uint8)  # slightly brighter copy of a/3.png
    save_image(test / "a" / "copy.png", near)
    p = profile_dataset(train, test=test, image_size=32, val_fraction=0.0)
    assert p.duplicates.n_test_in_train == 0  # not byte- or pixel-identical ...
    assert p.near_duplicates is not None
    assert p.near_duplicates.n_test_near_train == 1  # ... but a near-duplicate
    pair = p.near_duplicates.examples[0]
    assert {pair["a"], pair["b"]} == {"train:a/3.png", "test:a/copy.png"}
    assert any("near-duplicates" in x for x in p.problems)


def test_average_hash_tolerates_small_changes_only() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((2, 1, 32, 32)).astype(np.float32)
    same = average_hash(np.concatenate([x[:1], x[:1] * 0.9 + 0.05]))
    assert np.array_equal(same[0], same[1])  # brightness/contrast changes keep the hash
    bits = np.unpackbits(average_hash(x), axis=1)
    assert (bits[0] != bits[1]).sum() > 50  # unrelated images differ in many of the 256 bits


def test_corrupt_files_and_missing_values_are_listed(image_folder: Path, tmp_path: Path, table: Path) -> None:
    p = profile_dataset(image_folder, image_size=16)
    assert p.corrupt_files == ["a/broken.png"]
    assert any("unreadable" in x and "a/broken.png" in x for x in p.problems)
    assert p.image_sizes is not None and p.image_sizes["min_width"] == 20 and p.image_sizes["max_height"] == 38

    df = pd.read_csv(table)
    df.loc[[1, 2], "f2"] = np.nan
    df.to_csv(tmp_path / "t.csv", index=False)
    q = profile_dataset(tmp_path / "t.csv", target="species")  # a profile reports NaN instead of failing
    assert q.missing_values == {"f2": 2}
    assert q.n_samples["total"] == 58
    assert any("'f2' (2)" in x for x in q.problems)


def test_profile_of_loaded_splits_matches_profile_of_source() -> None:
    s = load_data("shapes", seed=3)
    a, b = profile_dataset(s), profile_dataset("shapes", seed=3)
    assert a.model_dump() == b.model_dump()


def test_test_samples_identical_to_validation_samples_are_leakage() -> None:
    from dlexpert.data import DataSplits

    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 4)).astype(np.float32)
    y = np.arange(30) % 2
    s = DataSplits(
        x_train=x[:20], y_train=y[:20], x_val=x[20:25], y_val=y[20:25], x_test=np.concatenate([x[25:], x[21:22]]),
        y_test=np.concatenate([y[25:], y[21:22]]), classes=["0", "1"], modality="tabular", input_shape=(4,),
        mean=[0.0] * 4, std=[1.0] * 4, source="t", version="v",
    )  # fmt: skip
    p = profile_dataset(s)
    assert p.duplicates.n_test_in_val == 1 and p.duplicates.n_test_in_train == 0
    assert any("identical to validation" in x for x in p.problems)


def test_class_shares_that_differ_between_train_and_test_are_label_shift(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x, x_test = rng.normal(size=(400, 4)), rng.normal(size=(100, 4))
    y = np.array([0] * 200 + [1] * 200)
    np.savez(tmp_path / "train.npz", x=x, y=y)
    np.savez(tmp_path / "shifted.npz", x=x_test, y=np.array([0] * 90 + [1] * 10))  # 50/50 in training, 90/10 here
    np.savez(tmp_path / "same.npz", x=x_test, y=np.array([0] * 54 + [1] * 46))  # within sampling noise of 50/50

    shifted = profile_dataset(tmp_path / "train.npz", test=tmp_path / "shifted.npz", val_fraction=0.0)
    assert "domain_shift" in shifted.issues
    assert any(p.startswith("[domain_shift] test:") and "90%" in p for p in shifted.problems)
    same = profile_dataset(tmp_path / "train.npz", test=tmp_path / "same.npz", val_fraction=0.0)
    assert "domain_shift" not in same.issues
    assert "domain_shift" not in profile_dataset("digits", seed=0).issues  # a stratified split
