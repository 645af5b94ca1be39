"""Metrics for dense tasks: COCO mAP for object detection, IoU/Dice for semantic segmentation.

Detection goes through torchmetrics' `MeanAveragePrecision` on the faster-coco-eval backend, a C++ reimplementation of
pycocotools' COCOeval, so the figures are the COCO ones (tests/report/test_dense_metrics.py checks them against
pycocotools within 1e-3). Segmentation is one confusion matrix counted with numpy. Both return plain Python numbers,
with None where a figure is undefined (a class absent from both the ground truth and the predictions).

This module imports torch; nothing in the light core imports it. torchmetrics (~3 s to import) is imported by
`detection_metrics` alone.

Example:
    >>> import numpy as np
    >>> target = np.array([[[0, 1], [1, 255]]])
    >>> m = segmentation_metrics(np.array([[[0, 1], [0, 1]]]), target, 2)
    >>> m["miou"], m["pixel_accuracy"], m["confusion"]
    (0.5, 0.6666666666666666, [[1, 0], [1, 1]])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..data.dense import IGNORE_INDEX
from ..errors import DlexpertError

__all__ = ["IGNORE_INDEX", "detection_metrics", "segmentation_metrics"]

# The summary figures that `detection_metrics` returns, by torchmetrics' key. COCO's definitions
# (cocodataset.org/#detection-eval, pycocotools `COCOeval.summarize`): AP is averaged over the 10 IoU thresholds
# 0.50:0.05:0.95 and 101 recall points; `map50`/`map75` at one threshold; small/medium/large are objects of area
# < 32^2, 32^2..96^2 and > 96^2 pixels; `mar_100` is recall with at most 100 detections per image. All at 100
# detections per image.
_DETECTION_KEYS = ("map", "map_50", "map_75", "map_small", "map_medium", "map_large", "mar_100")
_DETECTION_NAMES = {"map_50": "map50", "map_75": "map75"}


def detection_metrics(
    predictions: Sequence[Mapping[str, Any]], targets: Sequence[Mapping[str, Any]], classes: Sequence[str]
) -> dict[str, object]:
    """COCO box mAP of `predictions` against `targets`, one dict per image.

    A prediction holds `boxes` (N, 4) in absolute xyxy pixels, `scores` (N,) and `labels` (N,) class indices into
    `classes`; a target holds `boxes` and `labels`. numpy arrays or torch tensors.

    Returns `map` (AP averaged over IoU 0.50:0.05:0.95, the COCO headline figure), `map50` (AP at IoU 0.5, the Pascal
    VOC figure), `map75` (AP at IoU 0.75, rewarding tight boxes), `map_small`/`map_medium`/`map_large` (AP over
    objects under 32^2, 32^2 to 96^2 and over 96^2 pixels), `mar_100` (recall averaged over the IoU thresholds with at
    most 100 detections per image) and `per_class_ap` {class name: AP@[.5:.95]}. Classes with neither ground truth nor
    prediction are left out of `per_class_ap`; a figure with nothing to measure (no small objects, a class with
    predictions but no ground truth) is None. The mean runs over the classes with ground truth, as in COCOeval.

    Example:
        >>> import numpy as np
        >>> box = np.array([[10.0, 10.0, 60.0, 60.0]])
        >>> m = detection_metrics([{"boxes": box, "scores": np.array([0.9]), "labels": np.array([0])}],
        ...                       [{"boxes": box, "labels": np.array([0])}], ["cat"])
        >>> m["map"], m["per_class_ap"]
        (1.0, {'cat': 1.0})
    """
    if not predictions or not targets:
        raise DlexpertError(
            f"detection_metrics needs at least one image; got {len(predictions)} predictions and {len(targets)} targets"
        )
    if len(predictions) != len(targets):
        raise DlexpertError(
            f"detection_metrics needs one prediction per target image; got {len(predictions)} predictions and "
            f"{len(targets)} targets"
        )
    if not classes:
        raise DlexpertError("detection_metrics needs the list of class names; got an empty list")
    preds = [_detection_item(p, i, len(classes), with_scores=True) for i, p in enumerate(predictions)]
    gts = [_detection_item(t, i, len(classes), with_scores=False) for i, t in enumerate(targets)]

    from torchmetrics.detection import MeanAveragePrecision

    metric = MeanAveragePrecision(box_format="xyxy", iou_type="bbox", class_metrics=True, backend="faster_coco_eval")
    metric.update(preds, gts)
    raw = metric.compute()

    out: dict[str, object] = {_DETECTION_NAMES.get(k, k): _coco_value(raw[k]) for k in _DETECTION_KEYS}
    # `classes` lists every label seen in the ground truth or the predictions; `map_per_class` follows its order
    # and is a 0-d tensor when only one class is seen.
    seen = raw["classes"].reshape(-1).tolist()
    per_class = raw["map_per_class"].reshape(-1).tolist()
    out["per_class_ap"] = {classes[int(c)]: _coco_value(ap) for c, ap in zip(seen, per_class, strict=True)}
    return out


def _detection_item(item: Mapping[str, Any], index: int, n_classes: int, *, with_scores: bool) -> dict[str, Any]:
    """One image's boxes/scores/labels as the tensors torchmetrics expects, after checking their shapes."""
    what = "prediction" if with_scores else "target"
    keys = ("boxes", "scores", "labels") if with_scores else ("boxes", "labels")
    missing = [k for k in keys if k not in item]
    if missing:
        raise DlexpertError(f"detection {what} {index} lacks {', '.join(missing)}; expected keys {', '.join(keys)}")
    boxes = _cpu_tensor(item["boxes"], torch.float32).reshape(-1, 4)
    labels = _cpu_tensor(item["labels"], torch.int64).reshape(-1)
    out = {"boxes": boxes, "labels": labels}
    if with_scores:
        out["scores"] = _cpu_tensor(item["scores"], torch.float32).reshape(-1)
    lengths = {k: len(v) for k, v in out.items()}
    if len(set(lengths.values())) > 1:
        raise DlexpertError(f"detection {what} {index} has {lengths}; expected one box, label (and score) per object")
    bad = [int(v) for v in labels if not 0 <= v < n_classes]
    if bad:
        raise DlexpertError(f"detection {what} {index} has label {bad[0]}; expected class indices 0..{n_classes - 1}")
    return out


def _cpu_tensor(value: Any, dtype: torch.dtype) -> torch.Tensor:
    """A numpy array, list or tensor (on any device) as a CPU tensor: the COCO evaluation runs on the CPU anyway."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", dtype)
    return torch.as_tensor(np.asarray(value), dtype=dtype)


def _coco_value(value: Any) -> float | None:
    """A plain float, with COCOeval's -1 ("nothing to measure") as None."""
    v = float(value)
    return None if v < 0 else v


def segmentation_metrics(
    predicted: Any,
    target: Any,
    n_classes: int,
    *,
    ignore_index: int = IGNORE_INDEX,
    class_names: Sequence[str] | None = None,
) -> dict[str, object]:
    """IoU, Dice and pixel accuracy of integer masks `predicted` against `target`, from one confusion matrix.

    `predicted` and `target` are (N, H, W) numpy arrays or torch tensors, or lists of (H, W) masks whose sizes may
    differ from image to image. Pixels whose target is `ignore_index` count for nothing, whatever was predicted there
    (VOC's evaluation masks the same way); a predicted value outside 0..C-1 elsewhere is an error.

    Returns:
        `miou`: mean intersection over union, TP / (TP + FP + FN), over the classes present in the target or the
            prediction, background included: Pascal VOC's mIoU over one confusion matrix summed over the dataset
            (VOC2012 devkit `VOCevalseg.m`); mmsegmentation's `IoUMetric` and torchmetrics' `mean_iou` also leave
            out classes absent from both.
        `iou_per_class`: {class name: IoU}, None for a class absent from both.
        `dice`: mean Dice coefficient, 2 TP / (2 TP + FP + FN), over the foreground classes 1..C-1 present (class 0 is
            background, as in medical segmentation benchmarks); None when no foreground class is present.
        `pixel_accuracy`: the fraction of counted pixels whose class is right.
        `confusion`: C x C counts, rows the true class and columns the predicted one (scikit-learn's layout).

    Example:
        >>> import numpy as np
        >>> m = segmentation_metrics(np.zeros((1, 2, 2), int), np.array([[[0, 0], [0, 1]]]), 2)
        >>> m["pixel_accuracy"], m["iou_per_class"]
        (0.75, {'0': 0.75, '1': 0.0})
    """
    if n_classes < 1:
        raise DlexpertError(f"segmentation_metrics needs n_classes >= 1; got {n_classes}")
    names = [str(c) for c in range(n_classes)] if class_names is None else [str(c) for c in class_names]
    if len(names) != n_classes:
        raise DlexpertError(f"segmentation_metrics got {len(names)} class names for n_classes={n_classes}")
    confusion = _confusion(_masks(predicted, "predicted"), _masks(target, "target"), n_classes, ignore_index)
    total = int(confusion.sum())
    if total == 0:
        raise DlexpertError(f"segmentation_metrics found no pixel to count: every target pixel is {ignore_index}")

    tp = np.diag(confusion).astype(np.float64)
    fp = confusion.sum(axis=0) - tp  # predicted as c, truly another class
    fn = confusion.sum(axis=1) - tp  # truly c, predicted as another class
    union = tp + fp + fn  # 0 exactly when c is absent from both target and prediction
    present = union > 0
    iou = np.divide(tp, union, out=np.zeros_like(tp), where=present)
    dice = np.divide(2 * tp, tp + union, out=np.zeros_like(tp), where=present)
    foreground = present.copy()
    foreground[0] = False
    return {
        "miou": float(iou[present].mean()),
        "iou_per_class": {n: float(iou[c]) if present[c] else None for c, n in enumerate(names)},
        "dice": float(dice[foreground].mean()) if foreground.any() else None,
        "pixel_accuracy": float(tp.sum() / total),
        "confusion": confusion.tolist(),
    }


def _masks(masks: Any, what: str) -> list[np.ndarray]:
    """(N, H, W) array, tensor, or list of (H, W) masks -> list of integer (H, W) numpy arrays."""
    if isinstance(masks, torch.Tensor):
        masks = masks.detach().cpu().numpy()
    items = list(masks) if isinstance(masks, np.ndarray) and masks.ndim == 3 else masks
    if isinstance(masks, np.ndarray) and masks.ndim != 3:
        raise DlexpertError(f"segmentation {what} masks must be (N, H, W) or a list of (H, W); got shape {masks.shape}")
    out = []
    for i, m in enumerate(items):
        a = m.detach().cpu().numpy() if isinstance(m, torch.Tensor) else np.asarray(m)
        if a.ndim != 2 or not np.issubdtype(a.dtype, np.integer):
            raise DlexpertError(
                f"segmentation {what} mask {i} must be an (H, W) array of integer class indices; "
                f"got shape {a.shape} of {a.dtype}"
            )
        out.append(a)
    if not out:
        raise DlexpertError(f"segmentation_metrics needs at least one {what} mask; got none")
    return out


def _confusion(predicted: list[np.ndarray], target: list[np.ndarray], n_classes: int, ignore_index: int) -> np.ndarray:
    """C x C pixel counts (rows true class, columns predicted), summed over the images; ignored pixels left out."""
    if len(predicted) != len(target):
        raise DlexpertError(f"segmentation_metrics got {len(predicted)} predicted masks for {len(target)} target masks")
    confusion = np.zeros(n_classes * n_classes, dtype=np.int64)
    for i, (p, t) in enumerate(zip(predicted, target, strict=True)):
        if p.shape != t.shape:
            raise DlexpertError(
                f"segmentation image {i}: predicted mask has shape {p.shape} but target mask has shape {t.shape}"
            )
        keep = t != ignore_index
        t_k, p_k = t[keep].astype(np.int64), p[keep].astype(np.int64)
        for what, v, allowed in (("target", t_k, f" or {ignore_index}"), ("predicted", p_k, "")):
            if v.size and (v.min() < 0 or v.max() >= n_classes):
                bad = int(v.min()) if v.min() < 0 else int(v.max())
                raise DlexpertError(
                    f"segmentation image {i}: {what} mask holds class {bad}; expected 0..{n_classes - 1}{allowed}"
                )
        confusion += np.bincount(t_k * n_classes + p_k, minlength=n_classes * n_classes)
    return confusion.reshape(n_classes, n_classes)
