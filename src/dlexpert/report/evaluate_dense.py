"""Seed Step 7 for segmentation and detection: the test split's figures beside Step 4's baselines, the classes most
confused, and pictures of the worst images (issue 15).

`report.evaluate.evaluate_run` calls `evaluate_segmentation` or `evaluate_detection` for a run of that task; the
result is the same `Evaluation` (evaluation.json) as classification's, with the task's figures in `metrics`.

Segmentation:
- `miou` (background included, as Pascal VOC and torchmetrics), `dice` (mean over the foreground classes),
  `pixel_accuracy`, and `iou/<class>` for each class;
- `per_class`: each class's pixel precision, recall and F1 (F1 is the class's Dice), support in pixels;
- `confusion`: pixels, true class by predicted class;
- `baseline.majority`: every pixel the most frequent training class; `baseline.linear`: a logistic regression on each
  pixel's RGB, fitted on training pixels: what colour alone separates, with no shape and no context;
- `failures`: the class pairs most confused, the classes with the lowest IoU, and the worst images drawn (image, truth,
  prediction) in `figures/failures.png`.

Detection: COCO `map`, `map50`, `map75`, AP by object size, `mar_100` and `ap/<class>`; `per_class` precision, recall
and F1 at IoU 0.5 and score 0.5; `confusion` of boxes with a background row (false detections) and column (missed
objects); `baseline.majority` one whole-image box of the most frequent class, `baseline.linear` colour blobs (a
logistic regression on each pixel's RGB, its connected regions as boxes); the images with the most errors drawn with
their true and predicted boxes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.dense import IGNORE_INDEX, DenseData, DenseSample, mask_array
from ..data.dense._torch import read_rgb
from ..schema.evaluation import (
    BaselineResult,
    Baselines,
    ClassResult,
    ConfusedPair,
    Confusion,
    Failures,
    WorstImage,
)
from .dense_metrics import segmentation_metrics

# Training pixels the RGB logistic regression is fitted on (a random sample: 200k pixels fit in ~3 s on 2 cores).
PIXELS_FOR_LOGISTIC = 200_000
WORST_IMAGES = 6  # drawn in figures/failures.png
MAX_PAIRS = 10


def predict_masks(
    model: Any, dataset: Any, *, sizes: Sequence[tuple[int, int]] | None = None, batch_size: int = 16
) -> list[np.ndarray]:
    """(H, W) uint8 class maps: the argmax of the model's per-pixel logits over `dataset`'s images, in order. With
    `sizes` (each image's own height and width), logits are first resized bilinearly to them, so an image the
    dataset resized is scored at its own size against its own mask."""
    import torch
    from torch.nn.functional import interpolate

    model.eval()
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for x, _ in torch.utils.data.DataLoader(dataset, batch_size=batch_size):
            for logits in model(x):
                size = sizes[len(out)] if sizes is not None else tuple(logits.shape[-2:])
                if tuple(logits.shape[-2:]) != tuple(size):
                    logits = interpolate(logits[None], size=size, mode="bilinear", align_corners=False)[0]
                out.append(logits.argmax(0).to(torch.uint8).numpy())
    return out


def majority_masks(data: DenseData, samples: Sequence[DenseSample]) -> tuple[list[np.ndarray], int]:
    """Every pixel of each of `samples` labelled with the most frequent class of the training masks; and that class."""
    counts = np.zeros(256, np.int64)
    for s in data.train:
        counts += np.bincount(mask_array(s).ravel(), minlength=256)
    top = int(counts[: len(data.classes)].argmax())
    return [np.full((s.height, s.width), top, np.uint8) for s in samples], top


def colour_classifier(
    samples: Sequence[DenseSample], truth_of: Callable[[DenseSample], np.ndarray], n_labels: int, *, seed: int
) -> Any:
    """A scikit-learn LogisticRegression from a pixel's RGB to its label (0..n_labels-1), fitted on about
    PIXELS_FOR_LOGISTIC labelled pixels drawn at random in equal numbers from each of `samples` (`truth_of` gives a
    sample's (H, W) labels; other values are not fitted); None when those pixels hold a single label."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    per_image = -(-PIXELS_FOR_LOGISTIC // len(samples))  # the same share of every image, never all of a big set
    rgb_parts, label_parts = [], []
    for sample in samples:
        labels = truth_of(sample).ravel()
        labelled = np.flatnonzero(labels < n_labels)
        pick = rng.choice(labelled, size=min(per_image, len(labelled)), replace=False)
        rgb_parts.append(_pixels(sample)[pick])
        label_parts.append(labels[pick])
    rgb, labels = np.concatenate(rgb_parts), np.concatenate(label_parts)
    if len(np.unique(labels)) < 2:
        return None
    return LogisticRegression(max_iter=300).fit(rgb, labels)


def colour_masks(data: DenseData, samples: Sequence[DenseSample], *, seed: int) -> list[np.ndarray]:
    """Each pixel of `samples` classified from its RGB alone by `colour_classifier`, fitted on the training masks."""
    clf = colour_classifier(data.train, mask_array, len(data.classes), seed=seed)
    if clf is None:
        return majority_masks(data, samples)[0]
    return [clf.predict(_pixels(s)).reshape(s.height, s.width).astype(np.uint8) for s in samples]


def _pixels(sample: DenseSample) -> np.ndarray:
    """(H * W, 3) float32 RGB in [0, 1]: the colour classifier's input."""
    return read_rgb(sample).reshape(-1, 3).astype(np.float32) / 255


def segmentation_baselines(
    data: DenseData, samples: Sequence[DenseSample], truth: list[np.ndarray], *, seed: int
) -> Baselines:
    """Step 4's baselines for segmentation, scored on `samples` against `truth` like the model."""
    k = len(data.classes)
    majority, top = majority_masks(data, samples)
    colour = colour_masks(data, samples, seed=seed)
    n_pixels = min(PIXELS_FOR_LOGISTIC, sum(s.width * s.height for s in data.train))
    return Baselines(
        majority=BaselineResult(
            model="majority class per pixel",
            metrics=_headline(segmentation_metrics(majority, truth, k)),
            how=f"every pixel labelled {data.classes[top]!r}, the most frequent class of the training masks",
        ),
        linear=BaselineResult(
            model="logistic regression on pixel colour",
            metrics=_headline(segmentation_metrics(colour, truth, k)),
            how=f"scikit-learn LogisticRegression on the RGB of up to {n_pixels:,} random training pixels; no shape, "
            "no context: what colour alone separates",
        ),
    )


def segmentation_report(
    predicted: list[np.ndarray], truth: list[np.ndarray], classes: list[str]
) -> tuple[dict[str, float], list[ClassResult], Confusion]:
    """(metrics, per-class pixel precision/recall/F1, pixel confusion) of `predicted` against `truth`."""
    m = segmentation_metrics(predicted, truth, len(classes), class_names=classes)
    metrics = _headline(m)
    per_class_iou: dict[str, float | None] = m["iou_per_class"]  # type: ignore[assignment]
    metrics |= {f"iou/{c}": v for c, v in per_class_iou.items() if v is not None}
    confusion = np.asarray(m["confusion"], dtype=np.int64)
    tp = np.diag(confusion).astype(np.float64)
    support, predicted_n = confusion.sum(axis=1), confusion.sum(axis=0)
    rows = []
    for c, name in enumerate(classes):
        precision = tp[c] / predicted_n[c] if predicted_n[c] else 0.0
        recall = tp[c] / support[c] if support[c] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(ClassResult(name=name, support=int(support[c]), precision=precision, recall=recall, f1=f1))
    return metrics, rows, Confusion(labels=list(classes), matrix=confusion.tolist())


def segmentation_failures(
    predicted: list[np.ndarray], truth: list[np.ndarray], samples: Sequence[DenseSample], confusion: Confusion,
    metrics: dict[str, float],
) -> Failures:  # fmt: skip
    """The pixel confusions between classes (largest share of the true class first), the classes with the lowest IoU,
    and the images with the lowest pixel accuracy."""
    pairs = confused_pairs(confusion)
    ious = sorted(((v, k.removeprefix("iou/")) for k, v in metrics.items() if k.startswith("iou/")))
    worst = sorted(
        (
            WorstImage(id=s.image_id, index=i, score=_pixel_accuracy(p, t), errors=_wrong(p, t))
            for i, (p, t, s) in enumerate(zip(predicted, truth, samples, strict=True))
        ),
        key=lambda w: w.score,
    )[:WORST_IMAGES]
    return Failures(
        n_errors=sum(_wrong(p, t) for p, t in zip(predicted, truth, strict=True)),
        unit="pixels",
        confidently_wrong=[],
        confused_pairs=pairs,
        error_prone_classes=[f"{name} (IoU {v:.3f})" for v, name in ious[:3]],
        worst_images=worst,
    )


def confused_pairs(confusion: Confusion) -> list[ConfusedPair]:
    """Every off-diagonal cell of `confusion`, the largest share of its true class first, at most MAX_PAIRS."""
    m = np.asarray(confusion.matrix, dtype=np.int64)
    support = np.maximum(m.sum(axis=1), 1)
    cells = [(i, j) for i in range(len(m)) for j in range(len(m)) if i != j and m[i, j] > 0]
    pairs = [
        ConfusedPair(true=confusion.labels[i], predicted=confusion.labels[j], count=int(m[i, j]),
                     rate=float(m[i, j] / support[i]))
        for i, j in cells
    ]  # fmt: skip
    return sorted(pairs, key=lambda p: -p.rate)[:MAX_PAIRS]


def plot_segmentation_failures(
    samples: Sequence[DenseSample], predicted: list[np.ndarray], truth: list[np.ndarray], failures: Failures,
    classes: list[str], path: str | Path,
) -> Path | None:  # fmt: skip
    """A row per worst image: the image, the true mask over it, the predicted mask over it, in one colour per class
    (void pixels black in the truth)."""
    if not failures.worst_images:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..diagnose.report import save_png

    palette = _palette(len(classes))
    rows = failures.worst_images
    fig = Figure(figsize=(7.5, 2.5 * len(rows)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows), 3, squeeze=False)
    for r, w in enumerate(rows):
        image = read_rgb(samples[w.index]).astype(np.float32) / 255
        panels = (("image", None), ("truth", truth[w.index]), ("prediction", predicted[w.index]))
        for c, (title, mask) in enumerate(panels):
            ax = axes[r][c]
            ax.imshow(image if mask is None else 0.4 * image + 0.6 * palette[np.minimum(mask, len(classes))])
            ax.set_xticks([])
            ax.set_yticks([])
            label = f"{w.id}\npixel accuracy {w.score:.3f}" if c == 0 else title
            ax.set_title(label, fontsize=8)
    handles = [_patch(palette[i], name) for i, name in enumerate(classes)]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(6, len(classes)), fontsize=8)
    return save_png(fig, path)


def _headline(m: dict[str, Any]) -> dict[str, float]:
    return {k: float(m[k]) for k in ("miou", "dice", "pixel_accuracy") if m.get(k) is not None}


def _pixel_accuracy(p: np.ndarray, t: np.ndarray) -> float:
    counted = t != IGNORE_INDEX
    return float((p[counted] == t[counted]).mean()) if counted.any() else 1.0


def _wrong(p: np.ndarray, t: np.ndarray) -> int:
    return int(((p != t) & (t != IGNORE_INDEX)).sum())


def _palette(n: int) -> np.ndarray:
    """(n + 1, 3) colours: class 0 (background) dark grey, the others from matplotlib's tab10/tab20, void black."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    colours = [(0.25, 0.25, 0.25)] + [cmap(i % cmap.N)[:3] for i in range(n - 1)] + [(0.0, 0.0, 0.0)]
    return np.asarray(colours, dtype=np.float32)


def _patch(colour: np.ndarray, label: str) -> Any:
    from matplotlib.patches import Patch

    return Patch(color=tuple(colour), label=label)


def evaluate_segmentation(
    model: Any, data: DenseData, test_set: Any, *, fig_dir: Path | None, seed: int, say: Any
) -> tuple[dict[str, float], dict[str, Any], dict[str, Path]]:
    """(metrics, the Evaluation's other sections, figures written) for a segmentation model on `data.test`."""
    say(f"predicting {len(test_set)} test images")
    predicted = predict_masks(model, test_set, sizes=[(s.height, s.width) for s in data.test])
    truth = [mask_array(s) for s in data.test]
    metrics, per_class, confusion = segmentation_report(predicted, truth, list(data.classes))
    say("baselines")
    baselines = segmentation_baselines(data, data.test, truth, seed=seed)
    baselines.summary = [_versus(metrics, b) for b in (baselines.majority, baselines.linear) if b is not None]
    failures = segmentation_failures(predicted, truth, data.test, confusion, metrics)
    figs: dict[str, Path] = {}
    if fig_dir is not None:
        from .figures import plot_confusion

        fig_dir.mkdir(exist_ok=True)
        figs["confusion"] = plot_confusion(confusion, fig_dir / "confusion.png", unit="pixels")
        grid = plot_segmentation_failures(data.test, predicted, truth, failures, list(data.classes),
                                          fig_dir / "failures.png")  # fmt: skip
        if grid is not None:
            figs["failures"] = grid
    fields = {"per_class": per_class, "confusion": confusion, "failures": failures, "baseline": baselines}
    return metrics, fields, figs


def _versus(metrics: dict[str, float], b: BaselineResult) -> str:
    ours, theirs = metrics["miou"], b.metrics["miou"]
    return f"mIoU {ours:.3f} vs {theirs:.3f} for the {b.model} ({ours - theirs:+.3f})"


# --- detection

MATCH_IOU = 0.5  # a prediction matches a true box at IoU >= 0.5 (Pascal VOC; COCO's loosest threshold)
SCORE_SHOWN = 0.5  # predictions at or above this score count in the confusion, per-class table and pictures
DETECTION_SUMMARY = ("map", "map50", "map75", "map_small", "map_medium", "map_large", "mar_100")


def predict_boxes(model: Any, dataset: Any, *, batch_size: int = 16) -> list[dict[str, np.ndarray]]:
    """A torchvision detector's eval-mode boxes, scores and labels per image (`engine.detect`), labels shifted to
    0..K-1."""
    from ..engine.loop import detect

    predictions, _ = detect(model, dataset, batch_size=batch_size)
    return [{"boxes": d["boxes"].numpy(), "scores": d["scores"].numpy(), "labels": d["labels"].numpy() - 1}
            for d in predictions]  # fmt: skip


def evaluate_detection(
    model: Any, data: DenseData, test_set: Any, *, fig_dir: Path | None, seed: int, say: Any
) -> tuple[dict[str, float], dict[str, Any], dict[str, Path]]:
    """(metrics, the Evaluation's other sections, figures written) for a detector on `data.test`."""
    from .dense_metrics import detection_metrics

    say(f"predicting {len(test_set)} test images")
    predicted = predict_boxes(model, test_set)
    truth = [{"boxes": s.boxes, "labels": s.labels} for s in data.test]
    classes = list(data.classes)
    m = detection_metrics(predicted, truth, classes)
    metrics = {k: float(m[k]) for k in DETECTION_SUMMARY if isinstance(m.get(k), float)}  # type: ignore[arg-type]
    per_class_ap: dict[str, float] = m["per_class_ap"]  # type: ignore[assignment]
    metrics |= {f"ap/{c}": float(v) for c, v in per_class_ap.items() if v is not None}
    confusion, per_class = _box_confusion(predicted, truth, classes)
    say("baselines")
    baselines = _detection_baselines(data, truth, classes, seed=seed)
    baselines.summary = [
        f"mAP {metrics.get('map', 0.0):.3f} vs {b.metrics.get('map', 0.0):.3f} for the {b.model}"
        for b in (baselines.majority, baselines.linear)
        if b is not None
    ]
    failures = _detection_failures(predicted, truth, data.test, confusion)
    figs: dict[str, Path] = {}
    if fig_dir is not None:
        from .figures import plot_confusion

        fig_dir.mkdir(exist_ok=True)
        figs["confusion"] = plot_confusion(confusion, fig_dir / "confusion.png", unit="boxes")
        grid = plot_detection_failures(data.test, predicted, truth, failures, classes, fig_dir / "failures.png")
        if grid is not None:
            figs["failures"] = grid
    fields = {"per_class": per_class, "confusion": confusion, "failures": failures, "baseline": baselines}
    return metrics, fields, figs


def _matches(pred: dict[str, np.ndarray], true: dict[str, np.ndarray]) -> tuple[list[tuple[int, int]], list[int]]:
    """Greedy one-to-one matching at IoU >= MATCH_IOU, highest score first, whatever the classes: (true index,
    prediction index) pairs, and the shown predictions left unmatched (false positives)."""
    import torch
    from torchvision.ops import box_iou

    keep = np.flatnonzero(pred["scores"] >= SCORE_SHOWN)
    keep = keep[np.argsort(-pred["scores"][keep])]
    if len(true["boxes"]) == 0 or len(keep) == 0:
        return [], keep.tolist()
    iou = box_iou(torch.as_tensor(true["boxes"], dtype=torch.float32),
                  torch.as_tensor(pred["boxes"][keep], dtype=torch.float32)).numpy()  # fmt: skip
    pairs, used = [], set()
    for j in range(len(keep)):
        free = [i for i in np.argsort(-iou[:, j]) if i not in used and iou[i, j] >= MATCH_IOU]
        if free:
            used.add(int(free[0]))
            pairs.append((int(free[0]), int(keep[j])))
    matched = {p for _, p in pairs}
    return pairs, [int(p) for p in keep if p not in matched]


def _box_confusion(
    predicted: list[dict[str, np.ndarray]], truth: list[dict[str, np.ndarray]], classes: list[str]
) -> tuple[Confusion, list[ClassResult]]:
    """Boxes, true class by predicted class at IoU >= 0.5 and score >= 0.5, with a "background" row and column: a
    missed object is predicted as background, a false positive is a background box predicted as a class."""
    k = len(classes)
    m = np.zeros((k + 1, k + 1), np.int64)  # index k: background
    for pred, true in zip(predicted, truth, strict=True):
        pairs, unmatched = _matches(pred, true)
        matched_true = {i for i, _ in pairs}
        for i, j in pairs:
            m[int(true["labels"][i]), int(pred["labels"][j])] += 1
        for i in range(len(true["labels"])):
            if i not in matched_true:
                m[int(true["labels"][i]), k] += 1
        for j in unmatched:
            m[k, int(pred["labels"][j])] += 1
    rows = []
    for c, name in enumerate(classes):
        tp, support, shown = int(m[c, c]), int(m[c].sum()), int(m[:, c].sum())
        precision, recall = (tp / shown if shown else 0.0), (tp / support if support else 0.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(ClassResult(name=name, support=support, precision=precision, recall=recall, f1=f1))
    return Confusion(labels=[*classes, "background"], matrix=m.tolist()), rows


def _detection_baselines(
    data: DenseData, truth: list[dict[str, np.ndarray]], classes: list[str], *, seed: int
) -> Baselines:
    """Step 4's baselines for detection: the floor (one whole-image box of the most frequent training class per
    test image) and colour blobs (`colour_blob_boxes`), scored like the model."""
    from .dense_metrics import detection_metrics

    def headline(predicted: list[dict[str, np.ndarray]]) -> dict[str, float]:
        m = detection_metrics(predicted, truth, classes)
        return {k: float(m[k]) for k in ("map", "map50") if isinstance(m.get(k), float)}  # type: ignore[arg-type]

    counts = np.bincount(np.concatenate([s.labels for s in data.train]).astype(int), minlength=len(classes))
    top = int(counts.argmax())
    whole = [{"boxes": np.array([[0, 0, s.width, s.height]], np.float32), "scores": np.ones(1, np.float32),
              "labels": np.array([top])} for s in data.test]  # fmt: skip
    majority = BaselineResult(
        model="whole-image box of the most frequent class",
        metrics=headline(whole),
        how=f"one box per test image, the whole image, labelled {classes[top]!r} (the most frequent training class): "
        "what knowing nothing about where objects are scores",
    )
    clf = colour_classifier(data.train, box_pixel_labels, len(classes) + 1, seed=seed)
    if clf is None:
        return Baselines(majority=majority, skipped=["colour blobs: the training boxes hold no pixels to fit on"])
    min_area = _smallest_blob(data.train)
    blobs = [colour_blob_boxes(clf, s, min_area=min_area) for s in data.test]
    n_pixels = min(PIXELS_FOR_LOGISTIC, sum(s.width * s.height for s in data.train))
    linear = BaselineResult(
        model="colour blobs (logistic regression on pixel colour)",
        metrics=headline(blobs),
        how=f"scikit-learn LogisticRegression on the RGB of up to {n_pixels:,} random training pixels (the central "
        "half of each box as its class, pixels outside every box as background); each class's connected regions "
        f"of at least {min_area} px (scipy.ndimage, after a 3x3 opening) become its boxes, scored by their mean "
        "probability: what colour alone finds, with no shape and no context",
    )
    return Baselines(majority=majority, linear=linear)


def box_pixel_labels(sample: DenseSample) -> np.ndarray:
    """(H, W) pixel labels a detection sample's boxes imply for the colour baseline: 0 outside every box, 1 + the
    class in the central half of each box (where its object is, whatever its shape), IGNORE_INDEX in the rest of a
    box (object or background: unknown). Smaller boxes are drawn last, so an object in front keeps its centre."""
    labels = np.zeros((sample.height, sample.width), np.uint8)
    boxes = np.asarray(sample.boxes, np.float64).reshape(-1, 4)
    for x0, y0, x1, y1 in boxes:
        labels[int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))] = IGNORE_INDEX
    for i in np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])):
        x0, y0, x1, y1 = boxes[i]
        dx, dy = (x1 - x0) / 4, (y1 - y0) / 4
        labels[int(y0 + dy) : int(np.ceil(y1 - dy)), int(x0 + dx) : int(np.ceil(x1 - dx))] = sample.labels[i] + 1
    return labels


def colour_blob_boxes(clf: Any, sample: DenseSample, *, min_area: int) -> dict[str, np.ndarray]:
    """Boxes, scores and labels (0..K-1) of one image from `clf` (pixel colour to 0 = background or 1 + class): each
    class's connected regions of at least `min_area` px after a 3x3 opening, scored by their mean probability."""
    from scipy import ndimage

    proba = clf.predict_proba(_pixels(sample)).reshape(sample.height, sample.width, -1)
    guess = proba.argmax(-1)
    boxes, scores, labels = [], [], []
    for column, label in enumerate(clf.classes_):
        if label == 0:
            continue
        regions, _ = ndimage.label(ndimage.binary_opening(guess == column))
        for k, (rows, cols) in enumerate(ndimage.find_objects(regions), start=1):
            inside = regions[rows, cols] == k
            if inside.sum() >= min_area:
                boxes.append([cols.start, rows.start, cols.stop, rows.stop])
                scores.append(float(proba[rows, cols, column][inside].mean()))
                labels.append(int(label) - 1)
    return {"boxes": np.asarray(boxes, np.float32).reshape(-1, 4), "scores": np.asarray(scores, np.float32),
            "labels": np.asarray(labels, np.int64)}  # fmt: skip


def _smallest_blob(samples: Sequence[DenseSample]) -> int:
    """The fewest pixels a colour blob needs to count as an object: a quarter of the 5th percentile of the training
    boxes' areas (at least 4 px), so speckle is not an object and the small objects are."""
    boxes = np.concatenate([np.asarray(s.boxes, np.float64).reshape(-1, 4) for s in samples])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return max(4, int(np.percentile(areas, 5) / 4)) if len(areas) else 4


def _detection_failures(
    predicted: list[dict[str, np.ndarray]], truth: list[dict[str, np.ndarray]], samples: Sequence[DenseSample],
    confusion: Confusion,
) -> Failures:  # fmt: skip
    """The class confusions (missed objects and false positives included), the classes with the lowest recall, and
    the images with the most errors (missed + false positive + wrong class)."""
    pairs = confused_pairs(confusion)
    m = np.asarray(confusion.matrix, dtype=np.int64)
    support = np.maximum(m.sum(axis=1), 1)
    recall = [(m[c, c] / support[c], confusion.labels[c]) for c in range(len(m) - 1)]
    errors = []
    for i, (pred, true, s) in enumerate(zip(predicted, truth, samples, strict=True)):
        found, unmatched = _matches(pred, true)
        wrong = sum(int(true["labels"][a] != pred["labels"][b]) for a, b in found)
        n_err = len(true["labels"]) - len(found) + len(unmatched) + wrong
        share = (len(found) - wrong) / max(1, len(true["labels"]) + len(unmatched))
        errors.append(WorstImage(id=s.image_id, index=i, score=share, errors=n_err))
    worst = sorted((e for e in errors if e.errors), key=lambda e: -e.errors)[:WORST_IMAGES]
    return Failures(
        n_errors=sum(e.errors for e in errors),
        unit="boxes",
        confidently_wrong=[],
        confused_pairs=pairs,
        error_prone_classes=[f"{name} (recall {r:.3f})" for r, name in sorted(recall)[:3]],
        worst_images=worst,
    )


def plot_detection_failures(
    samples: Sequence[DenseSample], predicted: list[dict[str, np.ndarray]], truth: list[dict[str, np.ndarray]],
    failures: Failures, classes: list[str], path: str | Path,
) -> Path | None:  # fmt: skip
    """The images with the most errors: true boxes in green, predictions (score >= 0.5) in red with class and
    score."""
    if not failures.worst_images:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    from ..diagnose.report import save_png

    rows = failures.worst_images
    cols = min(3, len(rows))
    fig = Figure(figsize=(3.2 * cols, 3.4 * (-(-len(rows) // cols))), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(-(-len(rows) // cols), cols, squeeze=False).ravel()
    for ax, w in zip(axes, rows, strict=False):
        ax.imshow(read_rgb(samples[w.index]))
        for box, label in zip(truth[w.index]["boxes"], truth[w.index]["labels"], strict=True):
            x0, y0, x1, y1 = box
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="lime", lw=1.5))
            ax.text(x0, y1, classes[int(label)], color="lime", fontsize=6, va="top")
        pred = predicted[w.index]
        for box, label, score in zip(pred["boxes"], pred["labels"], pred["scores"], strict=True):
            if score >= SCORE_SHOWN:
                x0, y0, x1, y1 = box
                ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="red", lw=1.0, ls="--"))
                ax.text(x0, y0, f"{classes[int(label)]} {score:.2f}", color="red", fontsize=6, va="bottom")
        ax.set_title(f"{w.id}: {w.errors} error(s)", fontsize=8)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("green: true boxes; red dashed: predictions (score >= 0.5)", fontsize=8)
    return save_png(fig, path)
