"""Torch datasets over `DenseData` for segmentation: (image, mask) pairs the engine trains on.

Augmentation goes through torchvision.transforms.v2 with `tv_tensors`, so a flip, a quarter turn or a resize moves the
mask and the boxes with the image (masks are resized with nearest-neighbour sampling, never blended into classes that
are not there). This module imports torch and torchvision; `dlexpert.data.dense` itself does not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from ...errors import InvalidInputError
from ._types import IGNORE_INDEX, DenseData, DenseSample, mask_array

# Images whose channel statistics are measured (the first ones of the training split): enough for a stable mean.
STATS_IMAGES = 200


def read_rgb(sample: DenseSample) -> np.ndarray:
    """(H, W, 3) uint8: an in-memory image as it is, a file through Pillow (grayscale and RGBA become RGB)."""
    if isinstance(sample.image, np.ndarray):
        return sample.image
    from PIL import Image

    with Image.open(sample.image) as im:
        return np.asarray(im.convert("RGB"))


def channel_stats(samples: Sequence[DenseSample]) -> tuple[list[float], list[float]]:
    """Per-channel mean and std (in [0, 1] units) of up to STATS_IMAGES training images."""
    pixels = np.concatenate([read_rgb(s).reshape(-1, 3) for s in samples[:STATS_IMAGES]]).astype(np.float64) / 255
    return pixels.mean(0).round(6).tolist(), np.maximum(pixels.std(0), 1e-3).round(6).tolist()


class SegmentationSet(Dataset):
    """(image (3, H, W) float normalised, mask (H, W) int64) per sample; an image of another size than `size` (an int
    for a square, or (H, W)) is resized to it first (its mask with nearest-neighbour sampling); `augment` names the
    plan's augmentation (`augmentation_steps`), applied at random.

    Example:
        >>> from dlexpert.data.dense import load_dense
        >>> data = load_dense("shapes-seg")
        >>> x, y = SegmentationSet(data.train, size=64, mean=[0.5] * 3, std=[0.25] * 3)[0]
        >>> tuple(x.shape), tuple(y.shape), y.dtype
        ((3, 64, 64), (64, 64), torch.int64)
    """

    def __init__(
        self,
        samples: Sequence[DenseSample],
        *,
        size: int | tuple[int, int] | None,
        mean: Sequence[float],
        std: Sequence[float],
        augment: Sequence[str] = (),
    ) -> None:
        self.samples = list(samples)
        self.size = (size, size) if isinstance(size, int) else size
        self.resize = v2.Resize(self.size, antialias=True) if self.size else None
        steps = augmentation_steps(augment, task="segmentation")
        self.transform = v2.Compose(steps) if steps else None
        self.mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.samples[i]
        image = tv_tensors.Image(torch.tensor(read_rgb(s)).permute(2, 0, 1))  # a copy: built-ins are read-only
        mask = tv_tensors.Mask(torch.tensor(mask_array(s), dtype=torch.long))
        if self.resize is not None and tuple(image.shape[-2:]) != self.size:
            image, mask = self.resize(image, mask)
        if self.transform is not None:
            image, mask = self.transform(image, mask)
        x = (image.float() / 255 - self.mean) / self.std
        return x.as_subclass(torch.Tensor), mask.as_subclass(torch.Tensor)


class DetectionSet(Dataset):
    """(image (3, H, W) float in [0, 1], {"boxes": (N, 4) xyxy pixels, "labels": (N,) int64 1..K}) per sample, in
    torchvision's detection convention (label 0 is the background; the detector normalises the image itself);
    `augment` (the plan's flips and quarter turns, `augmentation_steps`) moves the boxes with the image.

    Example:
        >>> from dlexpert.data.dense import load_dense
        >>> x, target = DetectionSet(load_dense("shapes-det").train)[0]
        >>> tuple(x.shape), sorted(target), int(target["labels"].min()) >= 1
        ((3, 128, 128), ['boxes', 'labels'], True)
    """

    def __init__(self, samples: Sequence[DenseSample], *, augment: Sequence[str] = ()) -> None:
        self.samples = list(samples)
        steps = augmentation_steps(augment, task="detection")
        self.transform = v2.Compose(steps) if steps else None

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        s = self.samples[i]
        image = tv_tensors.Image(torch.tensor(read_rgb(s)).permute(2, 0, 1))
        boxes = tv_tensors.BoundingBoxes(torch.tensor(s.boxes, dtype=torch.float32).reshape(-1, 4), format="XYXY",
                                         canvas_size=(s.height, s.width))  # fmt: skip
        if self.transform is not None:
            image, boxes = self.transform(image, boxes)
        labels = torch.tensor(s.labels, dtype=torch.int64) + 1
        return image.as_subclass(torch.Tensor).float() / 255, {"boxes": boxes.as_subclass(torch.Tensor),
                                                                 "labels": labels}  # fmt: skip


def detection_collate(batch: Sequence[tuple[torch.Tensor, dict[str, torch.Tensor]]]) -> tuple[list, list]:
    """A batch as torchvision's detectors take it: a list of images and a list of target dicts."""
    images, targets = zip(*batch, strict=True)
    return list(images), list(targets)


# The plan's augmentation entries this module applies (knowledge/data/recipes.yaml, as the advisor fits them to the
# data), by the name each starts with. "RandomRotate90 + vertical flips" (the advisor's, for overhead imagery) gives the
# eight dihedral transforms of the square. The multi-scale pair (RandomResize then RandomCrop, torchvision's
# segmentation reference) is for segmentation: a crop would cut boxes, which detection recipes do not plan.
AUGMENTATIONS = ("RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotate90", "RandomResize", "RandomCrop")
MULTI_SCALE = ("randomresize", "randomcrop")
VOID = IGNORE_INDEX  # the mask value a crop pads with: not scored (as in VOC)


def augmentation_steps(augment: Sequence[str], *, task: str = "segmentation") -> list[torch.nn.Module]:
    """transforms.v2 steps for a plan's augmentation entries, in the plan's order; an entry this module does not
    implement for `task` is refused in one line with the ones it does."""
    steps: list[torch.nn.Module] = []
    for entry in augment:
        name = m.group(0) if (m := re.match(r"\s*\w+", entry)) else entry
        key = name.strip().lower()
        if key not in {a.lower() for a in AUGMENTATIONS} or (task == "detection" and key in MULTI_SCALE):
            supported = [a for a in AUGMENTATIONS if task != "detection" or a.lower() not in MULTI_SCALE]
            raise InvalidInputError(
                f"augmentation {entry.strip()!r} is not implemented for {task}; supported: {', '.join(supported)}"
            )
        steps += _steps(key, entry)
    return steps


def _steps(key: str, entry: str) -> list[torch.nn.Module]:
    if key == "randomhorizontalflip":
        return [v2.RandomHorizontalFlip()]
    if key == "randomverticalflip":
        return [v2.RandomVerticalFlip()]
    if key == "randomrotate90":
        return [RandomRotate90(), v2.RandomVerticalFlip()]
    numbers = [float(v) for v in re.findall(r"\d+(?:\.\d+)?", entry)]
    if key == "randomresize" and len(numbers) == 3:  # "RandomResize(0.5-2.0x of 128)": the shorter side, at random
        low, high, base = numbers
        return [v2.RandomResize(max(1, round(low * base)), max(2, round(high * base)))]
    if key == "randomcrop" and numbers:  # "RandomCrop(128)": back to one size, padding with void where it is smaller
        return [v2.RandomCrop(int(numbers[0]), pad_if_needed=True, fill={tv_tensors.Image: 0, tv_tensors.Mask: VOID})]
    raise InvalidInputError(f"augmentation {entry.strip()!r}: expected sizes as in 'RandomResize(0.5-2.0x of 128)', "
                            "'RandomCrop(128)'")  # fmt: skip


class RandomRotate90(v2.Transform):
    """A quarter turn 0-3 times at random (albumentations' RandomRotate90), exact: `torch.rot90` on images and masks,
    the matching map on boxes. Non-square images turn 0 or 2 times only, so they keep their size."""

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        from torchvision.transforms.v2._utils import query_size

        height, width = query_size(flat_inputs)
        turns = int(torch.randint(4, ())) if height == width else 2 * int(torch.randint(2, ()))
        return {"turns": turns}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        turns = params["turns"]
        if turns == 0:
            return inpt
        if isinstance(inpt, tv_tensors.BoundingBoxes):
            return quarter_turn_boxes(inpt, turns)
        if isinstance(inpt, (tv_tensors.Image, tv_tensors.Mask)):
            return tv_tensors.wrap(torch.rot90(inpt.as_subclass(torch.Tensor), turns, dims=(-2, -1)), like=inpt)
        return inpt


def quarter_turn_boxes(boxes: tv_tensors.BoundingBoxes, turns: int) -> tv_tensors.BoundingBoxes:
    """XYXY `tv_tensors.BoundingBoxes` after `torch.rot90(image, turns, dims=(-2, -1))` of their canvas: one turn
    sends pixel (row y, column x) of an H x W image to (row W-1-x, column y) of the W x H result, so a box
    (x1, y1, x2, y2) becomes (y1, W - x2, y2, W - x1)."""
    b = boxes.as_subclass(torch.Tensor)
    height, width = boxes.canvas_size
    for _ in range(turns % 4):
        b = torch.stack((b[:, 1], width - b[:, 2], b[:, 3], width - b[:, 0]), dim=1)
        height, width = width, height
    return tv_tensors.wrap(b, like=boxes, canvas_size=(height, width))


def segmentation_sets(
    data: DenseData, *, augment: Sequence[str] = (), size: int | tuple[int, int] | None = None
) -> DenseSets:
    """Train (augmented as `augment` names), validation and test sets normalised with the training split's channel
    statistics. Images are resized to `size` where they differ from it; without `size`, images of several sizes are
    resized to their median height and width (`data.input_shape`: training batches hold one size), and the
    evaluation maps each prediction back to its image's own size (`report.evaluate_dense.predict_masks`)."""
    if size is None and len(data.image_sizes()) > 1:
        size = (data.input_shape[1], data.input_shape[2])
    mean, std = channel_stats(data.train)
    train = SegmentationSet(data.train, size=size, mean=mean, std=std, augment=augment)
    val, test = (SegmentationSet(part, size=size, mean=mean, std=std) for part in (data.val, data.test))
    return DenseSets(train, val, test)


def detection_sets(data: DenseData, *, augment: Sequence[str] = ()) -> DenseSets:
    """Train (flipped as `augment` names), validation and test sets of (image, target) pairs; the detector resizes
    and normalises the images itself (its `mean`/`std` options)."""
    train = DetectionSet(data.train, augment=augment)
    return DenseSets(train, DetectionSet(data.val), DetectionSet(data.test))


def dense_sets(data: DenseData, *, augment: Sequence[str] = (), size: int | tuple[int, int] | None = None) -> DenseSets:
    """`segmentation_sets` (at `size`) or `detection_sets` (the detector resizes itself), by the data's task."""
    if data.task == "segmentation":
        return segmentation_sets(data, augment=augment, size=size)
    return detection_sets(data, augment=augment)


class DenseSets(NamedTuple):
    train: Dataset
    val: Dataset
    test: Dataset
