"""The two data containers: `RawData` (what an adapter or built-in reads) and `DataSplits` (what `load_data` returns).

Shapes, per sample: image (C, H, W) float32 in [0, 1]; sequence (C, L) float32; tabular (F,) float32; text: a str.
Labels are int64 indices into `classes` (classification), or float32 values with no `classes` (regression: a table's
numeric target).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

__all__ = ["MODALITIES", "DataSplits", "Inputs", "Modality", "RawData", "Task"]

Modality = Literal["image", "sequence", "tabular", "text"]
Task = Literal["classification", "regression"]
MODALITIES: tuple[str, ...] = ("image", "sequence", "tabular", "text")

# Array inputs, or a list of strings for text.
Inputs = np.ndarray | list[str]


@dataclass
class RawData:
    """One dataset as read from its source, before splitting.

    `x_test`/`y_test`/`ids_test` hold a split the source defines itself (MNIST-1D's 4000/1000; `x_test` in a .npz).
    `ids` name each sample for reports ("cat/001.png", "data.csv#17"). `corrupt_files`, `missing_values` and
    `image_sizes` (original width, height) feed the profile. `layout` says how a table became samples (a wide or
    long time series; None for one row per feature vector). `window_starts` is set for windows of consecutive rows
    (the first row of each, in time order): those samples overlap, so `load_data` splits them chronologically.
    """

    x: Inputs
    y: np.ndarray
    classes: list[str]
    modality: Modality
    source: str
    version: str
    ids: list[str]
    warnings: list[str] = field(default_factory=list)
    x_test: Inputs | None = None
    y_test: np.ndarray | None = None
    ids_test: list[str] | None = None
    corrupt_files: list[str] = field(default_factory=list)
    missing_values: dict[str, int] = field(default_factory=dict)
    feature_names: list[str] | None = None
    image_sizes: list[tuple[int, int]] | None = None
    default_augment: str | None = None
    layout: dict[str, Any] | None = None
    window_starts: np.ndarray | None = None
    task: Task = "classification"


@dataclass
class DataSplits:
    """Train / validation / test splits with everything a model and a report need.

    `mean`/`std` are per channel (images, sequences) or per feature (tables), computed on `x_train` only; text has
    none. `version` is a sha256 of the source files' bytes (or of a built-in generator's arguments). `split` records
    how the splits were made (seed, fractions, whether the test set was given or predefined, chronological or not).
    `layout` says how a table became samples (see `RawData`).

    Example:
        >>> s = load_data("digits")  # doctest: +SKIP
        >>> s.x_train.shape[1:], s.input_shape, len(s.classes)  # doctest: +SKIP
        ((1, 8, 8), (1, 8, 8), 10)
    """

    x_train: Inputs
    y_train: np.ndarray
    x_val: Inputs
    y_val: np.ndarray
    x_test: Inputs
    y_test: np.ndarray
    classes: list[str]
    modality: Modality
    input_shape: tuple[int, ...]
    mean: list[float]
    std: list[float]
    source: str
    version: str
    warnings: list[str] = field(default_factory=list)
    ids_train: list[str] = field(default_factory=list)
    ids_val: list[str] = field(default_factory=list)
    ids_test: list[str] = field(default_factory=list)
    test_source: str | None = None
    split: dict[str, Any] = field(default_factory=dict)
    corrupt_files: list[str] = field(default_factory=list)
    missing_values: dict[str, int] = field(default_factory=dict)
    feature_names: list[str] | None = None
    image_sizes: list[tuple[int, int]] | None = None
    default_augment: str | None = None
    layout: dict[str, Any] | None = None
    task: Task = "classification"

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def regression(self) -> bool:
        """The target is a number per sample (no classes)."""
        return self.task == "regression"

    def class_counts(self, split: Literal["train", "val", "test"] = "train") -> dict[str, int]:
        """Samples per class name in one split, every class listed (zero included); empty for regression."""
        if self.regression:
            return {}
        y = {"train": self.y_train, "val": self.y_val, "test": self.y_test}[split]
        counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=len(self.classes))
        return {name: int(n) for name, n in zip(self.classes, counts, strict=True)}

    def summary(self) -> str:
        """One line: source, modality, shape, classes (or the regression target) and split sizes."""
        target = "a numeric target" if self.regression else f"{self.n_classes} classes"
        return (
            f"{self.source}: {self.modality} {tuple(self.input_shape)}, {target}, "
            f"train {len(self.y_train)} / val {len(self.y_val)} / test {len(self.y_test)}"
        )
