"""What the detection and segmentation readers return: images with boxes or masks, split by image.

A `DenseSample` is one image and its annotation: boxes in absolute pixels `[x1, y1, x2, y2]` with a class index each
(detection), or the path or array of a mask holding one class index per pixel (segmentation; 255 is "ignore", as in
Pascal VOC). Images are read lazily through `DenseData.image`, so a folder of 10k photos costs nothing until used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ...errors import InvalidInputError

DenseTask = Literal["detection", "segmentation"]
SPLITS = ("train", "val", "test")
# The "void" label of Pascal VOC's segmentation masks (object borders, difficult regions; VOC2012 devkit doc, Sec. 5),
# also mmsegmentation's default `ignore_index`: such pixels count for no class.
IGNORE_INDEX = 255


@dataclass
class DenseSample:
    """One image and its annotation. `image` is a file path or an in-memory (H, W, 3) uint8 array (built-ins)."""

    image_id: str
    width: int
    height: int
    image: Path | np.ndarray
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))  # (N, 4) xyxy pixels
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (N,) class index
    mask: Path | np.ndarray | None = None  # segmentation: (H, W) class indices, 255 = ignore

    @property
    def n_objects(self) -> int:
        return len(self.labels)


@dataclass
class DenseData:
    """A detection or segmentation dataset split by image into train / val / test.

    `broken` lists annotations that cannot be trained on, each naming its file and entry (a box outside its image, a
    zero-area box, an unknown category, a mask whose size differs from its image's). The profile reports them; `run`
    and `train` refuse the data while any remain (`require_clean`). Segmentation `classes[0]` is the background.
    """

    task: DenseTask
    source: str
    format: str  # coco | yolo | voc | masks | builtin
    classes: list[str]
    train: list[DenseSample]
    val: list[DenseSample]
    test: list[DenseSample]
    version: str
    test_source: str = "seeded split by image"
    broken: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    read_mask: Callable[[DenseSample], np.ndarray] | None = None
    split: dict[str, Any] = field(default_factory=dict)  # how the splits were made: seed, fractions, the test set
    modality: str = "image"

    def part(self, name: str) -> list[DenseSample]:
        return {"train": self.train, "val": self.val, "test": self.test}[name]

    def samples(self) -> list[tuple[str, DenseSample]]:
        """(split, sample) for every image, train first."""
        return [(name, s) for name in SPLITS for s in self.part(name)]

    @property
    def n_classes(self) -> int:
        """The network's outputs: every class (segmentation's background included)."""
        return len(self.classes)

    def image_sizes(self) -> set[tuple[int, int]]:
        """The distinct (height, width) of the images of every split."""
        return {(s.height, s.width) for _, s in self.samples()}

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(3, H, W) the network reads: the images' one size, or the median height and width when sizes differ."""
        images = [s for _, s in self.samples()]
        h = int(np.median([s.height for s in images])) if images else 0
        w = int(np.median([s.width for s in images])) if images else 0
        return (3, h, w)

    def require_clean(self) -> None:
        """Refuse training data with broken annotations: one line naming the first, and how many more."""
        if self.broken:
            more = f" (and {len(self.broken) - 1} more; `dlexpert profile` lists them)" if len(self.broken) > 1 else ""
            raise InvalidInputError(f"{self.broken[0]}{more}")


def mask_array(sample: DenseSample) -> np.ndarray:
    """The sample's mask as (H, W) uint8 class indices, read from its PNG when it is a path."""
    if sample.mask is None:
        raise InvalidInputError(f"{sample.image_id}: no mask")
    if isinstance(sample.mask, np.ndarray):
        return sample.mask
    from PIL import Image

    with Image.open(sample.mask) as im:
        if im.mode == "P" or im.mode == "L":
            return np.asarray(im, dtype=np.uint8)
        if im.mode in ("I", "I;16"):
            return np.asarray(im).astype(np.int64).clip(0, 255).astype(np.uint8)
        raise InvalidInputError(
            f"{sample.mask}: mask mode {im.mode!r}; expected a single-channel PNG with one class index per pixel"
        )
