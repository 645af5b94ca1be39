"""`load_data`: read a source, make seeded stratified train/val/test splits, and compute train-only statistics."""

from __future__ import annotations

import hashlib
import math
import os
from typing import Any

import numpy as np

from .._input import some
from ..errors import InvalidInputError
from ._adapters import read_source
from ._series import chronological_split
from ._types import DataSplits, Inputs, RawData
from ._util import remap_labels, require

__all__ = ["channel_stats", "load_data", "stratified_split"]


def load_data(
    src: str | os.PathLike[str],
    *,
    target: str | None = None,
    test: str | os.PathLike[str] | None = None,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    image_size: int = 64,
    dropna: bool = False,
    text_column: str = "text",
    window: int | None = None,
    regression: bool = False,
) -> DataSplits:
    """Load a built-in dataset or user data and split it into train / validation / test.

    A table whose rows are time steps (a time column, or a recording; see `dlexpert.data._series`) becomes windows of
    consecutive rows, and those are split chronologically -- train, then validation, then test -- with the windows
    that would share rows across a boundary dropped: a shuffled split would put overlapping neighbours in train and
    test. A table whose columns are ordered time steps (t0..t99) becomes one series per row, split as usual.

    Args:
        src: a built-in name (`list_datasets()`), an image folder (one subfolder per class), a .csv/.tsv/.parquet/
            .jsonl table, or a .npz with `x` and `y` arrays.
        target: the label column of a table; "label", "target", "class" or "y" are found without it.
        test: a fixed test set read with the same adapter. Without it, a source's own test split is used (MNIST-1D,
            `x_test` in a .npz), else a seeded stratified `test_fraction` of the data.
        seed: seeds both splits.
        val_fraction: fraction of the training data held out for validation (never taken from the test set).
        test_fraction: fraction held out for testing when there is no fixed test set.
        image_size: images are resized to S x S, S their largest side capped at image_size (not upsampled).
        dropna: drop rows/samples with NaN or Inf instead of failing.
        text_column: the column that holds text; a table with it is text data.
        window: read a table's rows as time steps, in windows of this many rows (default: detected, 32 rows or
            fewer for a short table; the profile's `layout` says what was chosen).
        regression: the target column holds numbers to predict (a table, one row per sample): the splits are
            seeded random ones, and `y` holds the values (float32) with no `classes`.

    Raises:
        InvalidInputError: missing path, unreadable or empty data, a bad column, fewer than two classes.

    Example:
        >>> s = load_data("digits", seed=0)
        >>> s.x_train.shape[1:], s.n_classes, len(s.y_train) + len(s.y_val) + len(s.y_test)
        ((1, 8, 8), 10, 1797)
    """
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not (isinstance(value, int | float) and 0.0 <= value < 1.0):
            raise InvalidInputError(f"{name} must be a number in [0, 1); got {value!r}")
    if val_fraction + test_fraction >= 1.0:
        raise InvalidInputError(
            f"val_fraction + test_fraction must be below 1 to leave training data; got {val_fraction + test_fraction}"
        )
    if not isinstance(image_size, int) or image_size < 4:
        raise InvalidInputError(f"image_size must be an integer of at least 4 pixels; got {image_size!r}")

    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 2):
        raise InvalidInputError(f"window must be an integer of at least 2 rows; got {window!r}")
    _refuse_dense(src)
    raw = read_source(src, target=target, image_size=image_size, dropna=dropna, text_column=text_column, window=window,
                      regression=regression)  # fmt: skip
    warnings = list(raw.warnings)
    _check_values(raw) if raw.task == "regression" else _check_classes(raw, warnings)
    classes = list(raw.classes)
    version = raw.version
    test_source: str | None
    corrupt, missing = list(raw.corrupt_files), dict(raw.missing_values)
    sizes = list(raw.image_sizes) if raw.image_sizes is not None else None

    pool_idx = np.arange(len(raw.y))  # what train and validation are drawn from
    starts = raw.window_starts  # windows of consecutive rows: split in time order, with gaps
    width = int((raw.layout or {}).get("window") or 1)
    gaps = {"test": 0, "validation": 0}
    if test is not None:
        raw_test = read_source(
            test, target=target, image_size=image_size, dropna=dropna, text_column=text_column, like=raw
        )
        warnings += [f"test: {w}" for w in raw_test.warnings]
        classes += [c for c in raw_test.classes if c not in classes]
        y_test = raw_test.y if raw.task == "regression" else remap_labels(raw_test.y, raw_test.classes, classes)
        x_test, ids_test = _writable(raw_test.x), list(raw_test.ids)
        test_source = str(test)
        version = hashlib.sha256(f"{raw.version}+{raw_test.version}".encode()).hexdigest()
        corrupt += [f"test:{c}" for c in raw_test.corrupt_files]
        missing.update({f"test:{k}": v for k, v in raw_test.missing_values.items()})
        if sizes is not None and raw_test.image_sizes is not None:
            sizes += raw_test.image_sizes
    elif raw.x_test is not None and raw.y_test is not None:
        every = np.arange(len(raw.y_test))  # copies: built-ins hand out read-only cached arrays
        x_test, y_test, ids_test = _take(raw.x_test, every), raw.y_test[every], list(raw.ids_test or [])
        test_source = "predefined"
    else:
        if starts is not None:
            pool_idx, test_idx, gaps["test"] = chronological_split(starts, window=width, fraction=test_fraction)
        else:
            pool_idx, test_idx, split_warnings = _split(raw, raw.y, fraction=test_fraction, seed=seed, what="test")
            warnings += split_warnings
        x_test, y_test, ids_test = _take(raw.x, test_idx), raw.y[test_idx], [raw.ids[i] for i in test_idx]
        test_source = None
    unseen = "" if raw.task == "regression" else _unseen_classes(raw.y, np.asarray(y_test, dtype=np.int64), classes)
    if unseen:
        warnings.append(f"test classes absent from training: {unseen}; a model trained here cannot predict them")

    if starts is not None:
        rel_train, rel_val, gaps["validation"] = chronological_split(
            starts[pool_idx], window=width, fraction=val_fraction
        )
    else:
        rel_train, rel_val, split_warnings = _split(
            raw, raw.y[pool_idx], fraction=val_fraction, seed=seed, what="validation"
        )
        warnings += split_warnings
    train_idx, val_idx = pool_idx[rel_train], pool_idx[rel_val]
    if starts is not None:
        warnings.append(_chronological_note(raw, len(train_idx), len(val_idx), len(y_test), gaps, test_source))
        _check_chronological(raw, len(train_idx), len(val_idx), len(y_test), val_fraction, test_fraction, test_source)
    x_train, y_train = _take(raw.x, train_idx), raw.y[train_idx]
    x_val, y_val = _take(raw.x, val_idx), raw.y[val_idx]
    mean, std, stat_warnings = channel_stats(x_train, modality=raw.modality, feature_names=raw.feature_names)
    warnings += stat_warnings

    label_type = np.float32 if raw.task == "regression" else np.int64
    return DataSplits(
        x_train=x_train,
        y_train=y_train.astype(label_type),
        x_val=x_val,
        y_val=y_val.astype(label_type),
        x_test=x_test if isinstance(x_test, list) else np.ascontiguousarray(x_test),
        y_test=np.asarray(y_test, dtype=label_type),
        classes=classes,
        modality=raw.modality,
        input_shape=() if raw.modality == "text" else tuple(int(d) for d in np.asarray(raw.x).shape[1:]),
        mean=mean,
        std=std,
        source=raw.source,
        version=version,
        warnings=warnings,
        ids_train=[raw.ids[i] for i in train_idx],
        ids_val=[raw.ids[i] for i in val_idx],
        ids_test=ids_test,
        test_source=test_source,
        split={
            "seed": seed,
            "val_fraction": val_fraction,
            "test_fraction": 0.0 if test_source is not None else test_fraction,
            "test": test_source or ("chronological split" if starts is not None else _split_kind(raw)),
            "image_size": image_size if raw.modality == "image" else None,
            **({"chronological": True, "gap_windows": gaps} if starts is not None else {}),
        },
        corrupt_files=corrupt,
        missing_values=missing,
        feature_names=raw.feature_names,
        image_sizes=sizes,
        default_augment=raw.default_augment,
        layout=raw.layout,
        task=raw.task,
    )


def _split(
    raw: RawData, y: np.ndarray, *, fraction: float, seed: int, what: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`stratified_split` for class labels; a seeded random split for regression values (no classes to stratify)."""
    if raw.task != "regression":
        return stratified_split(y, fraction=fraction, seed=seed, what=what)
    everything = np.arange(len(y))
    n_out = math.ceil(fraction * len(y))
    if n_out == 0 or n_out >= len(y):
        return everything, np.zeros(0, dtype=np.int64), []
    model_selection = require("sklearn.model_selection", extra="train", what="splitting the data")
    keep, out = model_selection.train_test_split(everything, test_size=n_out, random_state=seed)
    return np.sort(keep), np.sort(out), []


def _split_kind(raw: RawData) -> str:
    return "random split" if raw.task == "regression" else "stratified split"


# Fewer samples than this leave a regression nothing to fit and score: 10% validation and 20% test of 20 rows are
# 2 and 4 rows.
MIN_REGRESSION_SAMPLES = 20


def _check_values(raw: RawData) -> None:
    """A regression target to learn: enough rows, and more than one value."""
    n = len(raw.y)
    if n < MIN_REGRESSION_SAMPLES:
        raise InvalidInputError(
            f"{raw.source}: {n} rows; a regression needs at least {MIN_REGRESSION_SAMPLES} to train, validate and test"
        )
    if float(np.ptp(raw.y)) == 0.0:
        raise InvalidInputError(f"{raw.source}: the target is {raw.y[0]:g} in every row; there is nothing to predict")


def _refuse_dense(src: str | os.PathLike[str]) -> None:
    """A detection or segmentation set is not classification data: say so in one line rather than reading a COCO
    folder's `images/` as a class (`pipeline.load_splits` reads dense sets for `run`, `train`, `evaluate`)."""
    from .dense import builtin_task, is_dense_source

    if is_dense_source(src):
        task = builtin_task(str(src)) or "detection or segmentation"
        raise InvalidInputError(
            f"{src}: a {task} dataset, not classification or regression data; `dlexpert profile` and `plan --data` "
            "read it, and `run`, `train` and `evaluate` train on it"
        )


def _chronological_note(
    raw: RawData, n_train: int, n_val: int, n_test: int, gaps: dict[str, int], test_source: str | None
) -> str:
    w = (raw.layout or {}).get("window")
    test = f"test: {test_source}" if test_source else "test: the last"
    dropped = gaps["test"] + gaps["validation"]
    return (
        f"{raw.source}: rows are time steps, so the windows of {w} rows are split chronologically, not shuffled "
        f"(train: the first {n_train}, validation: the next {n_val}, {test} {n_test}); {dropped} window(s) at the "
        "boundaries dropped so no row is in two splits. A shuffled split would leak: neighbouring windows share "
        "rows, so test windows would be near-copies of training windows"
    )


def _check_chronological(
    raw: RawData, n_train: int, n_val: int, n_test: int, val_fraction: float, test_fraction: float, test: str | None
) -> None:
    layout = raw.layout or {}
    parts = (("train", n_train, True), ("validation", n_val, val_fraction > 0),
             ("test", n_test, test is not None or test_fraction > 0))  # fmt: skip
    short = [name for name, n, wanted in parts if wanted and n == 0]
    if short:
        w = layout.get("window")
        raise InvalidInputError(
            f"{raw.source}: {layout.get('n_rows')} rows make {len(raw.y)} windows of {w} rows, too few for a "
            f"chronological split: the {' and '.join(short)} part{'s are' if len(short) > 1 else ' is'} empty after "
            f"the gaps of {w - 1 if w else 0} rows between parts; give more rows (about 20 x the window) or a smaller "
            "window"
        )


def _check_classes(raw: RawData, warnings: list[str]) -> None:
    n = len(raw.y)
    if n == 0:
        raise InvalidInputError(f"{raw.source}: no samples found")
    counts = np.bincount(raw.y, minlength=len(raw.classes))
    present = [c for c, k in zip(raw.classes, counts, strict=True) if k > 0]
    if len(present) < 2:
        only = f" ({present[0]!r}, {n} samples)" if present else ""
        raise InvalidInputError(f"{raw.source}: found a single class{only}; classification needs at least two classes")
    few = [f"{c!r}" for c, k in zip(raw.classes, counts, strict=True) if 0 < k < 2]
    if few:
        warnings.append(
            f"class{'es' if len(few) > 1 else ''} {', '.join(few)} ha{'ve' if len(few) > 1 else 's'} a single sample; "
            "kept in training, so it can be neither validated nor tested (add more samples)"
        )


def _unseen_classes(y_train: np.ndarray, y_test: np.ndarray, classes: list[str]) -> str:
    """Test classes with no training sample, listed with their test counts ("'zebra' (3 samples)"), or ""."""
    n_train = np.bincount(y_train, minlength=len(classes))
    n_test = np.bincount(y_test, minlength=len(classes))
    unseen = [
        f"{c!r} ({n_test[i]} sample{'s' if n_test[i] != 1 else ''})"
        for i, c in enumerate(classes)
        if n_train[i] == 0 and n_test[i] > 0
    ]
    return some(unseen, quote=False)


def _writable(x: Inputs) -> Inputs:
    if isinstance(x, list):
        return list(x)
    return x if x.flags.writeable else np.array(x)  # built-ins hand out read-only cached arrays


def _take(x: Inputs, idx: np.ndarray) -> Inputs:
    if isinstance(x, list):
        return [x[i] for i in idx]
    return np.ascontiguousarray(np.asarray(x)[idx])


def stratified_split(
    y: np.ndarray, *, fraction: float, seed: int, what: str = "test"
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Seeded stratified split of positions 0..len(y)-1 into (kept, held out, warnings).

    Classes with a single sample cannot be stratified (scikit-learn's `train_test_split` needs two per class); they
    stay in the kept part. When the held-out part is too small to hold every class, the split falls back to an
    unstratified one and says so.

    Example:
        >>> keep, out, _ = stratified_split(np.array([0, 0, 0, 0, 1, 1, 1, 1]), fraction=0.25, seed=0)
        >>> sorted(np.array([0, 0, 0, 0, 1, 1, 1, 1])[out].tolist())
        [0, 1]
    """
    y = np.asarray(y, dtype=np.int64)
    n = len(y)
    everything = np.arange(n)
    if fraction <= 0.0 or n == 0:
        return everything, np.zeros(0, dtype=np.int64), []
    counts = np.bincount(y)
    single = counts[y] < 2
    candidates = everything[~single]
    n_out = math.ceil(fraction * len(candidates))  # as train_test_split rounds a float test_size
    if n_out == 0 or n_out >= len(candidates):
        return everything, np.zeros(0, dtype=np.int64), []
    model_selection = require("sklearn.model_selection", extra="train", what="splitting the data")
    warnings: list[str] = []
    try:
        keep, out = model_selection.train_test_split(
            candidates, test_size=n_out, random_state=seed, stratify=y[candidates]
        )
    except ValueError:
        n_classes = len(np.unique(y[candidates]))
        warnings.append(
            f"the {what} split ({n_out} samples) is too small to hold all {n_classes} classes; split without "
            "stratification"
        )
        keep, out = model_selection.train_test_split(candidates, test_size=n_out, random_state=seed)
    keep = np.sort(np.concatenate([keep, everything[single]]))  # `load_data` warns about single-sample classes
    return keep, np.sort(out), warnings


def channel_stats(
    x: Inputs, *, modality: str, feature_names: list[str] | None = None
) -> tuple[list[float], list[float], list[str]]:
    """Mean and std per channel (images (N, C, H, W), sequences (N, C, L)) or per feature (tables (N, F)).

    A constant channel gets std 1 (so normalising leaves it at 0 rather than dividing by zero), with a warning.
    Text has no statistics.

    Example:
        >>> channel_stats(np.ones((4, 2, 3), np.float32), modality="sequence")[:2]
        ([1.0, 1.0], [1.0, 1.0])
    """
    if modality == "text" or isinstance(x, list):
        return [], [], []
    arr = np.asarray(x, dtype=np.float64)
    if len(arr) == 0:
        return [], [], []
    axes: Any = 0 if arr.ndim == 2 else tuple(i for i in range(arr.ndim) if i != 1)
    mean = arr.mean(axis=axes)
    std = arr.std(axis=axes)
    warnings: list[str] = []
    constant = std < 1e-12
    if constant.any():
        names = [feature_names[i] if feature_names else f"channel {i}" for i in np.flatnonzero(constant)]
        warnings.append(f"constant in training (no information; std set to 1): {', '.join(names[:20])}")
        std = np.where(constant, 1.0, std)
    return [float(v) for v in mean], [float(v) for v in std], warnings
