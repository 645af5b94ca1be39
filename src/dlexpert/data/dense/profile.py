"""`profile_dense`: what a detection or segmentation set holds and what is wrong with it, before any training.

Detection: boxes per image and per class, box sizes by COCO's area ranges (small < 32^2 px, medium < 96^2, large
above; Lin et al. 2014, the COCO detection evaluation), images without objects. Segmentation: each class's share of
the labelled pixels and how many images show it. Both: class imbalance, image sizes, identical images across splits
(leakage), and every broken annotation with its file and entry.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from .._util import Problems
from ._types import IGNORE_INDEX, SPLITS, DenseData, DenseSample, mask_array

SMALL_AREA, LARGE_AREA = 32**2, 96**2  # COCO's area ranges
IMBALANCED_RATIO = 10.0  # as the classification profile: problems.yaml class_imbalance
MAX_LISTED = 50  # broken annotations and duplicate examples listed in full; the count is always complete


class DenseProfile(BaseModel):
    """The profile of a detection or segmentation dataset (`dlexpert profile` on such a folder or built-in)."""

    source: str
    task: str = Field(description="detection | segmentation")
    format: str = Field(description="coco | yolo | voc | masks | builtin")
    version: str
    classes: list[str]
    n_images: dict[str, int] = Field(description="per split, and total")
    test_source: str
    images_without_objects: int
    objects_per_class: dict[str, int] = Field(
        description="boxes (detection) or images showing the class (segmentation)"
    )
    objects_per_image: dict[str, float] | None = Field(None, description="detection: mean, median, max boxes")
    box_sizes: dict[str, int] | None = Field(None, description="detection: boxes by COCO area range")
    smallest_box_px: float | None = None
    pixel_share: dict[str, float] | None = Field(None, description="segmentation: share of the labelled pixels")
    ignored_pixel_share: float | None = None
    imbalance_ratio: float
    image_sizes: dict[str, int]
    input_shape: list[int] = Field(
        description="(3, H, W) the network reads: the images' size when all share it, else the median size"
    )
    duplicates_across_splits: int
    duplicate_examples: list[list[str]]
    n_broken: int
    broken: list[str]
    problems: list[str]
    issues: list[str]
    warnings: list[str]

    modality: str = "image"

    @property
    def n_classes(self) -> int:
        """The network's outputs: every class (segmentation's background included), as the advisor sizes a model."""
        return len(self.classes)

    @property
    def imbalanced(self) -> bool:
        return self.imbalance_ratio > IMBALANCED_RATIO

    def task_data(self) -> dict[str, str]:
        """The task spec's `data` fields filled from this profile (`plan --data DIR`)."""
        per_class = self.objects_per_class
        unit = "boxes" if self.task == "detection" else "images showing it"
        kind = "imbalanced" if self.imbalanced else "balanced"
        sizes = f"; box sizes {self.box_sizes}" if self.box_sizes else ""
        quality = [p for p in self.problems if not p.startswith("[class_imbalance]")]
        return {
            "size": f"{self.n_images['total']} labeled images",
            "distribution": f"{kind}: {len(per_class)} classes, {unit} per class "
            + ", ".join(f"{c} {k}" for c, k in per_class.items())
            + sizes,
            "quality": "; ".join(quality[:3]) or "clean (profiled)",
            "labelAvailability": f"fully labeled ({'boxes' if self.task == 'detection' else 'per-pixel masks'})",
        }

    def describe(self) -> str:
        n = self.n_images
        lines = [
            f"{self.source} ({self.task}, {self.format}): {len(self.classes)} classes, {n['train']} train / "
            f"{n['val']} val / {n['test']} test images ({self.test_source})",
            f"  {'boxes' if self.task == 'detection' else 'images'} per class: "
            + ", ".join(f"{c} {n}" for c, n in self.objects_per_class.items()),
        ]
        if self.box_sizes is not None:
            lines.append("  box sizes (COCO areas): " + ", ".join(f"{k} {v}" for k, v in self.box_sizes.items()))
        if self.pixel_share is not None:
            lines.append("  pixel share: " + ", ".join(f"{c} {v:.1%}" for c, v in self.pixel_share.items()))
        lines += [f"  problem: {p}" for p in self.problems] or ["  no problems found"]
        return "\n".join(lines)


def profile_dense(data: DenseData) -> DenseProfile:
    """Profile loaded detection/segmentation splits.

    Example:
        >>> from dlexpert.data.dense import load_dense
        >>> p = profile_dense(load_dense("shapes-seg"))
        >>> p.task, p.classes[0], p.n_images["total"]
        ('segmentation', 'background', 2400)
    """
    samples = [s for _, s in data.samples()]
    n = {name: len(data.part(name)) for name in SPLITS}
    n["total"] = sum(n.values())
    counts = _detection_counts(data, samples) if data.task == "detection" else _segmentation_counts(data, samples)
    present = [v for v in counts["objects_per_class"].values() if v > 0]
    imbalance = max(present) / min(present) if present else 1.0
    dup_count, dup_examples = _duplicates(data)
    problems, issues = _problems(data, counts, imbalance, dup_count)
    return DenseProfile(
        source=data.source,
        task=data.task,
        format=data.format,
        version=data.version,
        classes=list(data.classes),
        n_images=n,
        test_source=data.test_source,
        imbalance_ratio=round(imbalance, 4),
        image_sizes=_sizes(samples),
        input_shape=list(data.input_shape),
        duplicates_across_splits=dup_count,
        duplicate_examples=dup_examples,
        n_broken=len(data.broken),
        broken=data.broken[:MAX_LISTED],
        problems=problems,
        issues=issues,
        warnings=list(data.warnings),
        **counts,
    )


def _detection_counts(data: DenseData, samples: list[DenseSample]) -> dict:
    per_class = Counter(int(c) for s in samples for c in s.labels)
    boxes = np.concatenate([s.boxes for s in samples]) if samples else np.zeros((0, 4), np.float32)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    per_image = np.array([s.n_objects for s in samples])
    small, large = area < SMALL_AREA, area >= LARGE_AREA
    return {
        "objects_per_class": {c: per_class.get(i, 0) for i, c in enumerate(data.classes)},
        "objects_per_image": {
            "mean": round(float(per_image.mean()), 3),
            "median": float(np.median(per_image)),
            "max": float(per_image.max()),
        },
        "box_sizes": {"small": int(small.sum()), "medium": int((~small & ~large).sum()), "large": int(large.sum())},
        "smallest_box_px": round(float(np.sqrt(area.min())), 2) if len(area) else None,
        "images_without_objects": int((per_image == 0).sum()),
    }


def _segmentation_counts(data: DenseData, samples: list[DenseSample]) -> dict:
    pixels = np.zeros(len(data.classes), np.int64)
    images = np.zeros(len(data.classes), np.int64)
    ignored = total = 0
    empty = 0
    for s in samples:
        values = mask_array(s)
        counts = np.bincount(values.ravel(), minlength=256)
        pixels += counts[: len(data.classes)]
        images += counts[: len(data.classes)] > 0
        ignored += int(counts[IGNORE_INDEX])
        total += values.size
        empty += int(counts[1 : len(data.classes)].sum() == 0)
    labelled = max(1, int(pixels.sum()))
    return {
        "objects_per_class": {c: int(images[i]) for i, c in enumerate(data.classes) if i > 0},
        "pixel_share": {c: round(float(pixels[i]) / labelled, 6) for i, c in enumerate(data.classes)},
        "ignored_pixel_share": round(ignored / max(1, total), 6),
        "images_without_objects": empty,
    }


def _sizes(samples: list[DenseSample]) -> dict[str, int]:
    w = np.array([s.width for s in samples])
    h = np.array([s.height for s in samples])
    return {"min_width": int(w.min()), "max_width": int(w.max()), "min_height": int(h.min()),
            "max_height": int(h.max()), "n_distinct": len(set(zip(w.tolist(), h.tolist(), strict=True)))}  # fmt: skip


def _digest(sample: DenseSample) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    if isinstance(sample.image, Path):
        with open(sample.image, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    else:
        h.update(np.ascontiguousarray(sample.image).tobytes())
    return h.digest()


def _duplicates(data: DenseData) -> tuple[int, list[list[str]]]:
    """Images whose bytes are identical in two splits: the count of such groups and the first few, as split:id."""
    groups: dict[bytes, list[tuple[str, str]]] = {}
    for split, s in data.samples():
        groups.setdefault(_digest(s), []).append((split, s.image_id))
    crossing = [g for g in groups.values() if len({split for split, _ in g}) > 1]
    return len(crossing), [[f"{split}:{i}" for split, i in g[:5]] for g in crossing[:10]]


def _problems(data: DenseData, counts: dict, imbalance: float, dup_count: int) -> tuple[list[str], list[str]]:
    found = Problems()
    add = found.add

    if data.broken:
        add("label_errors", f"{len(data.broken)} broken annotation(s), not trained on; first: {data.broken[0]}")
    if dup_count:
        add("data_leakage", f"{dup_count} image(s) appear in two splits with identical bytes; scores on them "
                            "overstate accuracy: deduplicate and re-split")  # fmt: skip
    per_class = counts["objects_per_class"]
    missing = [c for c, k in per_class.items() if k == 0]
    if missing:
        add(None, f"classes with no {'box' if data.task == 'detection' else 'pixel'}: {', '.join(map(repr, missing))}")
    if imbalance > IMBALANCED_RATIO:
        present = {c: k for c, k in per_class.items() if k > 0}
        big, small = max(present, key=present.__getitem__), min(present, key=present.__getitem__)
        add("class_imbalance", f"classes are imbalanced: max/min {imbalance:.1f} ({big!r} {present[big]} vs "
                               f"{small!r} {present[small]}); report per-class AP/IoU, sample by class")  # fmt: skip
    sizes = counts.get("box_sizes")
    if sizes and sum(sizes.values()) and sizes["small"] / sum(sizes.values()) > 0.5:
        share = sizes["small"] / sum(sizes.values())
        add(None, f"{share:.0%} of the boxes are small (under 32x32 px): keep the input resolution high and use a "
                  "feature pyramid (FPN) detector")  # fmt: skip
    if counts["images_without_objects"]:
        add(None, f"{counts['images_without_objects']} image(s) without any object (kept: they teach the background)")
    return found.problems, found.issues
