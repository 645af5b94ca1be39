"""Torch datasets over `DenseData` for segmentation: (image, mask) pairs the engine trains on.

Augmentation goes through torchvision.transforms.v2 with `tv_tensors`, so a flip or a resize moves the mask with the
image (masks are resized with nearest-neighbour sampling, never blended into classes that are not there). This module
imports torch and torchvision; `dlexpert.data.dense` itself does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from ...errors import InvalidInputError
from ._types import DenseData, DenseSample, mask_array

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
    """(image (3, S, S) float normalised, mask (S, S) int64) per sample, resized to `size` when set (masks with
    nearest-neighbour sampling); `flips` are applied at random when set.

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
        size: int | None,
        mean: Sequence[float],
        std: Sequence[float],
        flips: Sequence[str] = (),
    ) -> None:
        from torchvision.transforms import v2

        self.samples = list(samples)
        steps: list[torch.nn.Module] = [v2.Resize((size, size), antialias=True)] if size else []
        steps += [v2.RandomHorizontalFlip()] if "horizontal" in flips else []
        steps += [v2.RandomVerticalFlip()] if "vertical" in flips else []
        self.transform = v2.Compose(steps) if steps else None
        self.mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        from torchvision import tv_tensors

        s = self.samples[i]
        image = tv_tensors.Image(torch.tensor(read_rgb(s)).permute(2, 0, 1))  # a copy: built-ins are read-only
        mask = tv_tensors.Mask(torch.tensor(mask_array(s), dtype=torch.long))
        if self.transform is not None:
            image, mask = self.transform(image, mask)
        x = (image.float() / 255 - self.mean) / self.std
        return x.as_subclass(torch.Tensor), mask.as_subclass(torch.Tensor)


class DetectionSet(Dataset):
    """(image (3, H, W) float in [0, 1], {"boxes": (N, 4) xyxy pixels, "labels": (N,) int64 1..K}) per sample, in
    torchvision's detection convention (label 0 is the background; the detector normalises the image itself);
    `flips` move the boxes with the image (`tv_tensors.BoundingBoxes`).

    Example:
        >>> from dlexpert.data.dense import load_dense
        >>> x, target = DetectionSet(load_dense("shapes-det").train)[0]
        >>> tuple(x.shape), sorted(target), int(target["labels"].min()) >= 1
        ((3, 128, 128), ['boxes', 'labels'], True)
    """

    def __init__(self, samples: Sequence[DenseSample], *, flips: Sequence[str] = ()) -> None:
        from torchvision.transforms import v2

        self.samples = list(samples)
        steps: list[torch.nn.Module] = [v2.RandomHorizontalFlip()] if "horizontal" in flips else []
        steps += [v2.RandomVerticalFlip()] if "vertical" in flips else []
        self.transform = v2.Compose(steps) if steps else None

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        from torchvision import tv_tensors

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


# The plan's augmentation names this module applies (knowledge/data/recipes.yaml), as SegmentationSet's flips.
FLIPS = {"randomhorizontalflip": "horizontal", "randomverticalflip": "vertical"}


def plan_flips(augment: Sequence[str]) -> tuple[str, ...]:
    """The flips a plan's augmentation list asks for; any other transform is refused with the ones supported."""
    names = [a.split("(")[0].strip() for a in augment]
    unknown = [n for n in names if n.lower() not in FLIPS]
    if unknown:
        raise InvalidInputError(
            f"augmentation {', '.join(unknown)} is not implemented for detection and segmentation; supported: "
            "RandomHorizontalFlip, RandomVerticalFlip"
        )
    return tuple(FLIPS[n.lower()] for n in names)


def segmentation_sets(data: DenseData, *, augment: Sequence[str] = (), size: int | None = None) -> DenseSets:
    """Train (augmented as `augment` names), validation and test sets normalised with the training split's channel
    statistics. Images of several sizes need `size` (training batches hold one size); without it they are refused."""
    sizes = {(s.height, s.width) for _, s in data.samples()}
    if size is None and len(sizes) > 1:
        raise InvalidInputError(
            f"{data.source}: segmentation images of {len(sizes)} sizes; training batches need one size, so resize the "
            "images and masks to one size first"
        )
    mean, std = channel_stats(data.train)
    train = SegmentationSet(data.train, size=size, mean=mean, std=std, flips=plan_flips(augment))
    val, test = (SegmentationSet(part, size=size, mean=mean, std=std) for part in (data.val, data.test))
    return DenseSets(train, val, test)


def detection_sets(data: DenseData, *, augment: Sequence[str] = ()) -> DenseSets:
    """Train (flipped as `augment` names), validation and test sets of (image, target) pairs; the detector resizes
    and normalises the images itself (its `mean`/`std` options)."""
    train = DetectionSet(data.train, flips=plan_flips(augment))
    return DenseSets(train, DetectionSet(data.val), DetectionSet(data.test))


def dense_sets(data: DenseData, *, augment: Sequence[str] = ()) -> DenseSets:
    """`segmentation_sets` or `detection_sets`, by the data's task."""
    return (segmentation_sets if data.task == "segmentation" else detection_sets)(data, augment=augment)


class DenseSets(NamedTuple):
    train: Dataset
    val: Dataset
    test: Dataset
