"""`shapes-det` and `shapes-seg`: generated detection and segmentation sets that need no download.

Each RGB image holds 1-6 filled circles, squares, triangles and crosses in random colours on a textured background (a
smooth random field plus stripes plus pixel noise), at log-uniform sizes from small (COCO "small": under 32x32 px) to
large, rotated, and overlapping: a later shape hides the part of an earlier one under it. A shape keeps its label only
while at least MIN_VISIBLE of it shows; its box is the box of its visible pixels, and the segmentation mask holds
the class of the shape on top (0 = background).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from .._builtin import SHAPE_CLASSES, shape_mask
from .._util import sha256_of_args
from ._types import DenseSample, DenseTask

MIN_VISIBLE = 0.3
# 2400 images of shapes from 5 px radius: at 3 px a cross's arm is under 1 px wide and a triangle 4.5 px across, and
# FCOS's top class on objects under 8 px was right 35% of the time (chance: 25%): their label is not in the pixels.
# With 800 images FCOS reached validation mAP50 0.87 after 1,440 steps; with 2400, 0.91 after 1,404 (issue 15).
SHAPES_DET_ARGS = {"n_images": 2400, "image_size": 128, "max_objects": 6, "radius": (5.0, 30.0), "seed": 0}
# 2400 images: a U-Net from scratch trained on 432 of the first 600 reached validation mIoU 0.49 while its training
# mIoU passed 0.84 (60 epochs, 3,240 steps); with 1,932 training images, validation followed training to 0.79 in 2,970
# steps. Telling rotated shapes of 8-40 px radius apart takes a few thousand objects, not a thousand.
SHAPES_SEG_ARGS = {"n_images": 2400, "image_size": 128, "max_objects": 4, "radius": (8.0, 40.0), "seed": 1}
_GENERATOR = "dlexpert.data.dense.make_dense_shapes v1"  # bump when the generator changes


def _shape_mask(kind: int, s: int, cx: float, cy: float, r: float, theta: float) -> np.ndarray:
    """(s, s) bool mask of one filled shape, with the geometry of the classification `shapes`."""
    grid = np.arange(s, dtype=np.float32)
    dx, dy = grid[None, :] - cx, grid[:, None] - cy
    u, v = np.cos(theta) * dx + np.sin(theta) * dy, -np.sin(theta) * dx + np.cos(theta) * dy
    return shape_mask(kind, dx, dy, u, v, np.asarray(r))


def _background(rng: np.random.Generator, s: int) -> np.ndarray:
    """(s, s, 3) float texture: a smooth random field (8x8 noise, bilinear), stripes at a random angle, pixel noise."""
    coarse = rng.uniform(0.0, 1.0, (8, 8, 3))
    pos = np.linspace(0, 7, s)
    i0 = np.floor(pos).astype(int).clip(0, 6)
    t = (pos - i0)[:, None]
    rows = coarse[i0] * (1 - t[..., None]) + coarse[i0 + 1] * t[..., None]  # (s, 8, 3)
    field = rows[:, i0] * (1 - t.T[..., None]) + rows[:, i0 + 1] * t.T[..., None]  # (s, s, 3)
    angle, period = rng.uniform(0, np.pi), rng.uniform(6, 24)
    grid = np.arange(s)
    stripes = np.sin(2 * np.pi * (np.cos(angle) * grid[None, :] + np.sin(angle) * grid[:, None]) / period)
    base = rng.uniform(0.2, 0.6, 3)
    img = base + 0.25 * (field - 0.5) + 0.08 * stripes[..., None] + rng.normal(0, 0.03, (s, s, 3))
    return img


def make_dense_shapes(
    *, n_images: int, image_size: int, max_objects: int, radius: tuple[float, float], seed: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per image: (RGB uint8 (s, s, 3), boxes (N, 4) xyxy float32, labels (N,) int64, mask (s, s) uint8 class+1).

    Example:
        >>> img, boxes, labels, mask = make_dense_shapes(n_images=1, image_size=64, max_objects=3,
        ...                                              radius=(4.0, 12.0), seed=0)[0]
        >>> img.shape, boxes.shape[1], mask.shape
        ((64, 64, 3), 4, (64, 64))
    """
    rng = np.random.default_rng(seed)
    s = image_size
    out = []
    for _ in range(n_images):
        img = _background(rng, s)
        owner = np.full((s, s), -1, np.int64)  # which object is on top at each pixel
        kinds, areas = [], []
        for k in range(int(rng.integers(1, max_objects + 1))):
            kind = int(rng.integers(len(SHAPE_CLASSES)))
            r = float(np.exp(rng.uniform(np.log(radius[0]), np.log(radius[1]))))
            cx, cy = rng.uniform(r * 0.6, s - 1 - r * 0.6, 2)  # mostly inside; a little may be cut by the border
            shape = _shape_mask(kind, s, float(cx), float(cy), r, float(rng.uniform(0, 2 * np.pi)))
            colour = rng.uniform(0, 1, 3)
            if np.abs(colour - img[shape].mean(axis=0)).max() < 0.3:  # keep each shape visible against its ground
                colour = 1.0 - colour
            img[shape] = colour + rng.normal(0, 0.03, (int(shape.sum()), 3))
            owner[shape] = k
            kinds.append(kind)
            areas.append(int(shape.sum()))
        boxes, labels = [], []
        mask = np.zeros((s, s), np.uint8)
        for k, kind in enumerate(kinds):
            visible = owner == k
            if areas[k] == 0 or visible.sum() < MIN_VISIBLE * areas[k]:
                continue  # hidden: neither labelled nor in the mask (its pixels stay background)
            ys, xs = np.nonzero(visible)
            boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
            labels.append(kind)
            mask[visible] = kind + 1
        rgb = (np.clip(img, 0, 1) * 255).astype(np.uint8)
        out.append((rgb, np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(labels, np.int64), mask))
    return out


def _samples(name: str, args: dict, with_masks: bool) -> list[DenseSample]:
    samples = []
    for i, (rgb, boxes, labels, mask) in enumerate(make_dense_shapes(**args)):
        for a in (rgb, boxes, labels, mask):
            a.flags.writeable = False
        image_id, height, width = f"{name}/{i:05d}", rgb.shape[0], rgb.shape[1]
        mask_or_none = mask if with_masks else None
        samples.append(DenseSample(image_id, width, height, rgb, boxes=boxes, labels=labels, mask=mask_or_none))
    return samples


@functools.cache  # generated once per process; the arrays are read-only, so every caller can share them
def shapes_det() -> tuple[list[DenseSample], list[str], str]:
    """Generated 128x128 RGB scenes of 1-6 circles, squares, triangles and crosses with boxes (2400 images)."""
    version = sha256_of_args(_GENERATOR, SHAPES_DET_ARGS)
    return _samples("shapes-det", SHAPES_DET_ARGS, False), list(SHAPE_CLASSES), version


@functools.cache
def shapes_seg() -> tuple[list[DenseSample], list[str], str]:
    """Generated 128x128 RGB scenes of 1-4 shapes with a class-index mask each (2400 images; 0 = background)."""
    samples = _samples("shapes-seg", SHAPES_SEG_ARGS, True)
    return samples, ["background", *SHAPE_CLASSES], sha256_of_args(_GENERATOR, SHAPES_SEG_ARGS)


BUILTINS: dict[str, tuple[DenseTask, Callable[[], tuple[list[DenseSample], list[str], str]]]] = {
    "shapes-det": ("detection", shapes_det),
    "shapes-seg": ("segmentation", shapes_seg),
}


def _entry(name: str) -> tuple[DenseTask, Callable[[], tuple[list[DenseSample], list[str], str]]] | None:
    return BUILTINS.get(name.strip().lower().replace("_", "-"))  # "shapes_det" and "Shapes-Det" name it too


def builtin_task(name: str) -> DenseTask | None:
    """The task of the built-in dense set `name`, without generating it; None for another name."""
    entry = _entry(name)
    return entry[0] if entry else None


def builtin(name: str) -> tuple[DenseTask, tuple[list[DenseSample], list[str], str]] | None:
    """(task, (samples, classes, version)) of a built-in dense set, or None for another name."""
    entry = _entry(name)
    return (entry[0], entry[1]()) if entry else None
