"""Built-in datasets: shapes, class counts, value ranges, their own splits, versions, no side effects."""

from __future__ import annotations

import random

import numpy as np

from dlexpert.data import _builtin, get_dataset, load_data, make_shapes


def test_mnist1d_uses_its_own_4000_1000_split_as_sequences() -> None:
    s = load_data("mnist1d", seed=0)
    assert s.modality == "sequence"
    assert s.input_shape == (1, 40)
    assert s.x_train.shape[1:] == (1, 40) and s.x_train.dtype == np.float32
    assert len(s.y_train) + len(s.y_val) == 4000  # validation comes out of MNIST-1D's training part
    assert len(s.y_test) == 1000 and s.test_source == "predefined"
    assert len(s.y_val) == 400
    assert s.classes == [str(i) for i in range(10)]
    assert set(np.unique(s.y_test).tolist()) == set(range(10))


def test_mnist1d_generation_leaves_global_random_state_alone(tmp_path, monkeypatch) -> None:
    import mnist1d.data

    def fake_make_dataset(args):  # like the real one: seeds the global RNGs, then returns the arrays
        np.random.seed(args.seed)
        random.seed(args.seed)
        x = np.random.normal(size=(50, 40))
        return {"x": x[:40], "y": np.arange(40) % 10, "x_test": x[40:], "y_test": np.arange(10)}

    monkeypatch.setattr(mnist1d.data, "make_dataset", fake_make_dataset)  # the real one takes seconds
    monkeypatch.setenv("DLEXPERT_CACHE_DIR", str(tmp_path))  # an empty cache: the loader must generate
    np.random.seed(123)
    random.seed(123)
    expected = (np.random.random(), random.random())
    np.random.seed(123)
    random.seed(123)
    raw = _builtin.mnist1d.__wrapped__()
    assert (np.random.random(), random.random()) == expected
    assert raw.x.shape == (40, 1, 40) and raw.x.dtype == np.float32
    assert len(list(tmp_path.glob("mnist1d-*.npz"))) == 1  # and it was cached


def test_mnist1d_disk_cache_round_trips(_private_cache) -> None:
    first = _builtin.mnist1d.__wrapped__()  # bypasses the in-memory cache; writes the file if missing
    files = list(_private_cache.glob("mnist1d-*.npz"))
    assert len(files) == 1 and first.version[:16] in files[0].name
    again = _builtin.mnist1d.__wrapped__()  # read back from the file
    np.testing.assert_array_equal(again.x, first.x)
    np.testing.assert_array_equal(again.y_test, first.y_test)
    np.testing.assert_array_equal(get_dataset("mnist1d").load().x, first.x)


def test_digits_images_in_unit_range() -> None:
    s = load_data("digits", seed=0)
    assert s.modality == "image" and s.input_shape == (1, 8, 8)
    total = len(s.y_train) + len(s.y_val) + len(s.y_test)
    assert total == 1797
    assert s.n_classes == 10
    all_x = np.concatenate([s.x_train, s.x_val, s.x_test])
    assert all_x.min() == 0.0 and all_x.max() == 1.0
    assert s.default_augment == "crop"  # no flips for digits


def test_shapes_is_balanced_seeded_and_structured() -> None:
    s = load_data("shapes", seed=0)
    assert s.input_shape == (1, 32, 32) and s.classes == ["circle", "square", "triangle", "cross"]
    counts = np.bincount(np.concatenate([s.y_train, s.y_val, s.y_test]))
    assert counts.tolist() == [500, 500, 500, 500]
    x1, y1 = make_shapes(n_samples=64, seed=3)
    x2, y2 = make_shapes(n_samples=64, seed=3)
    x3, _ = make_shapes(n_samples=64, seed=4)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)
    # Real spatial structure: the foreground covers a minority of pixels, and the class is not the brightness.
    assert x1.min() >= 0.0 and x1.max() <= 1.0
    bright = (x1 > 0.5).mean(axis=(1, 2, 3))
    assert 0.02 < bright.mean() < 0.5


def test_builtin_versions_are_stable_and_distinct() -> None:
    a, b = load_data("shapes"), load_data("shapes", seed=7)
    assert a.version == b.version  # the data's version, not the split's
    assert len(a.version) == 64
    assert load_data("digits").version != a.version


def test_cached_builtin_arrays_are_read_only_but_splits_are_copies() -> None:
    raw = get_dataset("digits").load()
    assert not raw.x.flags.writeable
    s = load_data("digits")
    s.x_train[0, 0, 0, 0] = 5.0  # callers may modify their splits ...
    assert raw.x.max() == 1.0  # ... without touching the cache
    assert load_data("digits").x_train.max() == 1.0
