"""`report.dense_metrics`: detection mAP against pycocotools' COCOeval on a hand-made case, segmentation IoU/Dice on
masks counted by hand."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dlexpert.errors import DlexpertError  # noqa: E402
from dlexpert.report.dense_metrics import detection_metrics, segmentation_metrics  # noqa: E402

torch.set_num_threads(1)  # the dev machine has 2 cores; tests must not fight over them (as tests/deploy does)

# "fish" is never seen, "car" only as a false positive: it has an AP of None and stays out of the mean.
CLASSES = ["cat", "dog", "bird", "car", "fish"]
CAT, DOG, BIRD, CAR = 0, 1, 2, 3

# Four 200x200 images, xyxy pixels. Areas: small < 32^2 = 1024 <= medium < 96^2 = 9216 <= large (COCO).
TARGETS: list[dict[str, Any]] = [
    {"boxes": [[10, 10, 110, 110], [120, 20, 180, 90]], "labels": [CAT, DOG]},  # large cat, medium dog
    {"boxes": [[50, 50, 70, 66], [0, 0, 60, 80]], "labels": [BIRD, CAT]},  # small bird (320 px), medium cat
    {"boxes": [[30, 40, 150, 160], [160, 10, 180, 28]], "labels": [DOG, BIRD]},  # large dog, small bird (missed)
    {"boxes": [], "labels": []},  # nothing to find
]
PREDICTIONS: list[dict[str, Any]] = [
    {
        "boxes": [[12, 8, 108, 112], [125, 25, 185, 95], [150, 150, 190, 190]],
        "scores": [0.9, 0.8, 0.3],
        "labels": [CAT, DOG, CAT],  # the second cat is a false positive
    },
    {
        "boxes": [[52, 51, 71, 67], [5, 0, 62, 78], [100, 100, 150, 150]],
        "scores": [0.7, 0.6, 0.5],
        "labels": [BIRD, CAT, DOG],  # the dog is a false positive
    },
    {
        "boxes": [[35, 45, 150, 155], [0, 170, 20, 190]],
        "scores": [0.95, 0.4],
        "labels": [DOG, BIRD],  # the bird is in the wrong place: a false positive and a miss
    },
    {"boxes": [[20, 20, 80, 80], [90, 90, 140, 140]], "scores": [0.85, 0.55], "labels": [CAT, CAR]},
]


def as_arrays(items: list[dict[str, Any]]) -> list[dict[str, np.ndarray]]:
    """The lists above as the numpy arrays a model's post-processing gives: boxes (N, 4), scores and labels (N,)."""
    dtypes = {"boxes": np.float32, "scores": np.float32, "labels": np.int64}
    return [{k: np.asarray(v, dtype=dtypes[k]).reshape(-1, 4) if k == "boxes" else np.asarray(v, dtype=dtypes[k])
             for k, v in item.items()} for item in items]  # fmt: skip


def pycocotools_figures() -> tuple[np.ndarray, dict[str, float]]:
    """COCOeval run directly on the same case: its 12 summary stats and AP@[.5:.95] per category with ground truth."""
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    def xywh(b: list[float]) -> list[float]:
        return [b[0], b[1], b[2] - b[0], b[3] - b[1]]

    annotations = []
    for i, t in enumerate(TARGETS):
        for b, label in zip(t["boxes"], t["labels"], strict=True):
            x, y, w, h = xywh(b)
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": label + 1,
                                "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0})  # fmt: skip
    detections = [
        {"image_id": i, "category_id": label + 1, "bbox": xywh(b), "score": s}
        for i, p in enumerate(PREDICTIONS)
        for b, s, label in zip(p["boxes"], p["scores"], p["labels"], strict=True)
    ]
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress and summary
        gt = COCO()
        gt.dataset = {
            "images": [{"id": i, "width": 200, "height": 200} for i in range(len(TARGETS))],
            "annotations": annotations,
            "categories": [{"id": c + 1, "name": n} for c, n in enumerate(CLASSES)],
        }
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(detections), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    # precision: (IoU thresholds, recall points, categories, area ranges, max detections); area "all", 100 detections.
    precision = ev.eval["precision"][:, :, :, 0, -1]
    per_class = {}
    for k, name in enumerate(CLASSES):
        p = precision[:, :, k]
        if (p > -1).any():
            per_class[name] = float(p[p > -1].mean())
    return ev.stats, per_class


def test_detection_metrics_equal_pycocotools() -> None:
    pytest.importorskip("torchmetrics")
    stats, coco_per_class = pycocotools_figures()
    m = detection_metrics(as_arrays(PREDICTIONS), as_arrays(TARGETS), CLASSES)
    assert 0.3 < stats[0] < 0.9  # neither trivial nor hopeless: the case exercises misses and false positives
    # COCOeval.summarize: stats[0..5] = AP, AP50, AP75, AP small/medium/large; stats[8] = AR with 100 detections.
    for key, i in [("map", 0), ("map50", 1), ("map75", 2), ("map_small", 3), ("map_medium", 4), ("map_large", 5),
                   ("mar_100", 8)]:  # fmt: skip
        assert m[key] == pytest.approx(stats[i], abs=1e-3), key
    assert m["per_class_ap"] == pytest.approx({**coco_per_class, "car": None}, abs=1e-3)
    assert "fish" not in m["per_class_ap"]  # neither ground truth nor prediction: left out
    assert all(isinstance(m[k], float) for k in ("map", "map50", "map75", "mar_100"))


def test_detection_metrics_accept_tensors_and_perfect_predictions_score_one() -> None:
    pytest.importorskip("torchmetrics")
    targets = [{k: torch.as_tensor(v) for k, v in t.items()} for t in as_arrays(TARGETS)]
    perfect = [{**t, "scores": torch.ones(len(t["labels"]))} for t in targets]
    m = detection_metrics(perfect, targets, CLASSES)
    assert (m["map"], m["map50"], m["map75"], m["mar_100"]) == (1.0, 1.0, 1.0, 1.0)
    assert (m["map_small"], m["map_medium"], m["map_large"]) == (1.0, 1.0, 1.0)
    assert m["per_class_ap"] == {"cat": 1.0, "dog": 1.0, "bird": 1.0}


def test_detection_metrics_refuse_empty_and_mismatched_inputs() -> None:
    with pytest.raises(DlexpertError, match="at least one image"):
        detection_metrics([], [], CLASSES)
    with pytest.raises(DlexpertError, match="one prediction per target image; got 4 predictions and 3 targets"):
        detection_metrics(as_arrays(PREDICTIONS), as_arrays(TARGETS[:3]), CLASSES)
    with pytest.raises(DlexpertError, match=r"prediction 0 has label 7; expected class indices 0\.\.4$"):
        detection_metrics([{**as_arrays(PREDICTIONS)[0], "labels": np.array([0, 7, 1])}], as_arrays(TARGETS[:1]),
                          CLASSES)  # fmt: skip


# Two 4x4 images, 3 classes, 255 = ignored. Counted by hand (rows true class, columns predicted):
#   image 0: 3 (0->0), 1 (0->1), 4 (1->1), 3 (2->2), 1 (2->0); 4 pixels ignored
#   image 1: 9 (0->0), 1 (0->1), 1 (0->2), 3 (1->1), 1 (1->0); 1 pixel ignored
TARGET = np.array([
    [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 255, 255], [2, 2, 255, 255]],
    [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 1], [255, 0, 1, 1]],
])  # fmt: skip
PREDICTED = np.array([
    [[0, 0, 1, 1], [0, 1, 1, 1], [2, 2, 2, 0], [2, 0, 1, 1]],
    [[0, 0, 0, 0], [0, 0, 0, 2], [0, 1, 1, 1], [2, 0, 0, 1]],
])  # fmt: skip
CONFUSION = [[12, 2, 1], [1, 7, 0], [1, 0, 3]]
# IoU = TP / (TP + FP + FN): class 0 12 / (12 + 2 + 3), class 1 7 / (7 + 2 + 1), class 2 3 / (3 + 1 + 1).
IOU = {"bg": 12 / 17, "road": 7 / 10, "car": 3 / 5}
# Dice = 2 TP / (2 TP + FP + FN), over the foreground classes 1 and 2.
DICE = (14 / 17 + 6 / 8) / 2


def test_segmentation_metrics_on_masks_counted_by_hand() -> None:
    m = segmentation_metrics(PREDICTED, TARGET, 3, class_names=["bg", "road", "car"])
    assert m["confusion"] == CONFUSION
    assert m["pixel_accuracy"] == pytest.approx(22 / 27)  # 27 counted pixels, 5 ignored
    assert m["iou_per_class"] == pytest.approx(IOU)
    assert m["miou"] == pytest.approx(sum(IOU.values()) / 3)
    assert m["dice"] == pytest.approx(DICE)


def test_segmentation_metrics_skip_absent_classes_and_accept_tensors_and_lists() -> None:
    m = segmentation_metrics(torch.as_tensor(PREDICTED), torch.as_tensor(TARGET), 4)
    assert m["iou_per_class"]["3"] is None  # absent from both: no IoU, and out of the means
    assert m["miou"] == pytest.approx(sum(IOU.values()) / 3)
    assert m["dice"] == pytest.approx(DICE)
    # Masks of different sizes in a list: the confusion matrices add up.
    crop = segmentation_metrics([PREDICTED[0], PREDICTED[1, :2]], [TARGET[0], TARGET[1, :2]], 3)
    assert crop["confusion"] == [[3 + 7, 1, 1], [0, 4, 0], [1, 0, 3]]
    only_bg = segmentation_metrics(np.zeros((1, 2, 2), np.int64), np.zeros((1, 2, 2), np.int64), 3)
    assert (only_bg["miou"], only_bg["dice"], only_bg["pixel_accuracy"]) == (1.0, None, 1.0)


def test_segmentation_metrics_errors_name_the_image() -> None:
    with pytest.raises(DlexpertError, match=r"image 1: predicted mask has shape \(3, 4\) but target mask has shape "
                                            r"\(4, 4\)"):  # fmt: skip
        segmentation_metrics([PREDICTED[0], PREDICTED[1, :3]], list(TARGET), 3)
    with pytest.raises(DlexpertError, match=r"image 0: predicted mask holds class 5; expected 0\.\.2$"):
        segmentation_metrics(np.where(PREDICTED == 2, 5, PREDICTED), TARGET, 3)
    with pytest.raises(DlexpertError, match="integer class indices"):
        segmentation_metrics(PREDICTED.astype(np.float32), TARGET, 3)
