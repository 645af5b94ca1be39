"""Detection and semantic-segmentation data: COCO, YOLO and Pascal VOC folders, images with class-index masks, and
the built-in `shapes-det` / `shapes-seg`, split by image (issue 15).

Importing this package does not import torch; reading a folder needs Pillow (the `vision` extra).

Example:
    >>> data = load_dense("shapes-det", seed=0)
    >>> data.task, data.classes, len(data.train) + len(data.val) + len(data.test)
    ('detection', ['circle', 'square', 'triangle', 'cross'], 800)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ...errors import InvalidInputError
from .._util import require
from ._formats import dense_format, read_coco, read_masks, read_voc, read_yolo
from ._shapes import BUILTINS, SHAPE_CLASSES, builtin, builtin_task, make_dense_shapes
from ._types import IGNORE_INDEX, SPLITS, DenseData, DenseSample, DenseTask, mask_array
from .profile import DenseProfile, profile_dense

__all__ = [
    "BUILTINS",
    "IGNORE_INDEX",
    "SHAPE_CLASSES",
    "SPLITS",
    "DenseData",
    "DenseProfile",
    "DenseSample",
    "DenseTask",
    "builtin_task",
    "is_dense_source",
    "load_dense",
    "make_dense_shapes",
    "mask_array",
    "profile_dense",
]


def is_dense_source(src: str | os.PathLike[str]) -> bool:
    """Whether `src` names a built-in dense set or a folder in a detection/segmentation layout."""
    return builtin_task(str(src)) is not None or dense_format(Path(src)) is not None


def load_dense(
    src: str | os.PathLike[str],
    *,
    test: str | os.PathLike[str] | None = None,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
) -> DenseData:
    """A detection or segmentation set split by image: `test` (the same format) is the test split when given, else a
    seeded `test_fraction` of the images; `val_fraction` of the rest is the validation split.

    Raises:
        InvalidInputError: not a detection/segmentation layout, no images, a file that is not the format (one line).
    """
    task, fmt, samples, classes, version, broken, warnings = _read(src)
    if test is not None:
        t_task, _, test_samples, t_classes, t_version, t_broken, t_warnings = _read(test)
        if (t_task, t_classes) != (task, classes):
            raise InvalidInputError(
                f"{test}: the test set is {t_task} with classes {t_classes}; the training set is {task} with {classes}"
            )
        pool, test_source = samples, str(test)
        broken, warnings, version = broken + t_broken, warnings + t_warnings, _combined(version, t_version)
    else:
        pool, test_samples = _split(samples, test_fraction, seed)
        test_source = f"seeded split by image ({test_fraction:.0%}, seed {seed})"
    split = {"seed": seed, "by": "image", "val_fraction": val_fraction,
             "test": str(test) if test is not None else f"seeded ({test_fraction:.0%})"}  # fmt: skip
    train, val = _split(pool, val_fraction, seed + 1)
    if not train:
        raise InvalidInputError(f"{src}: no training images left after the split ({len(samples)} image(s) in all)")
    return DenseData(task=task, source=str(src), format=fmt, classes=classes, train=train, val=val, test=test_samples,
                     version=version, test_source=test_source, broken=broken, warnings=warnings,
                     split=split)  # fmt: skip


def _read(
    src: str | os.PathLike[str],
) -> tuple[DenseTask, str, list[DenseSample], list[str], str, list[str], list[str]]:
    """(task, format, samples, classes, version, broken, warnings) of a built-in name or a folder."""
    found = builtin(str(src))
    if found is not None:
        kind, (samples, classes, version) = found
        return kind, "builtin", samples, classes, version, [], []
    root = Path(src)
    fmt = dense_format(root)
    if fmt is None:
        raise InvalidInputError(
            f"{src}: not a detection or segmentation folder; expected annotations.json + images/ (COCO), images/ + "
            "labels/ (YOLO), Annotations/ (Pascal VOC) or images/ + masks/ (segmentation), or one of "
            f"{', '.join(BUILTINS)}"
        )
    require("PIL.Image", extra="vision", what=f"reading the {fmt} folder {root}")
    warnings: list[str] = []
    if fmt == "masks":
        samples, classes, broken, warnings = read_masks(root)
        task: DenseTask = "segmentation"
    else:
        samples, classes, broken = {"coco": read_coco, "yolo": read_yolo, "voc": read_voc}[fmt](root)
        task = "detection"
    if not samples:
        raise InvalidInputError(f"{root}: no usable images ({len(broken)} broken annotation(s); first: "
                                f"{broken[0] if broken else 'none'})")  # fmt: skip
    return task, fmt, samples, classes, _version(samples, classes), broken, warnings


def _split(samples: list[DenseSample], fraction: float, seed: int) -> tuple[list[DenseSample], list[DenseSample]]:
    """(rest, held out): a seeded random `fraction` of the images, at least one when there are two or more."""
    if fraction <= 0 or len(samples) < 2:
        return list(samples), []
    order = np.random.default_rng(seed).permutation(len(samples))
    k = min(len(samples) - 1, max(1, round(fraction * len(samples))))
    held = sorted(order[:k].tolist())
    rest = sorted(order[k:].tolist())
    return [samples[i] for i in rest], [samples[i] for i in held]


def _version(samples: list[DenseSample], classes: list[str]) -> str:
    """sha256 over the classes and each image's id, size and annotation (file contents are not read)."""
    h = hashlib.sha256("\n".join(classes).encode())
    for s in samples:
        h.update(f"{s.image_id}:{s.width}x{s.height}".encode())
        h.update(np.ascontiguousarray(s.boxes).tobytes() + np.ascontiguousarray(s.labels).tobytes())
        if isinstance(s.mask, Path):
            h.update(str(s.mask.stat().st_mtime_ns).encode())
    return h.hexdigest()


def _combined(a: str, b: str) -> str:
    return hashlib.sha256((a + b).encode()).hexdigest()
