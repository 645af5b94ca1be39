"""Seed Step 7 for semantic segmentation: the test split's mIoU, Dice and pixel accuracy beside Step 4's per-pixel
baselines, the classes most confused pixel for pixel, and overlays of the worst images (issue 15).

`report.evaluate.evaluate_run` calls `evaluate_segmentation` for a run whose task is segmentation; the result is the
same `Evaluation` (evaluation.json) as classification's, with the task's figures in `metrics`:
- `miou` (background included, as Pascal VOC and torchmetrics), `dice` (mean over the foreground classes),
  `pixel_accuracy`, and `iou/<class>` for each class;
- `per_class`: each class's pixel precision, recall and F1 (F1 is the class's Dice), support in pixels;
- `confusion`: pixels, true class by predicted class;
- `baseline.majority`: every pixel the most frequent training class; `baseline.linear`: a logistic regression on each
  pixel's RGB, fitted on training pixels: what colour alone separates, with no shape and no context;
- `failures`: the class pairs most confused, the classes with the lowest IoU, and the worst images drawn (image, truth,
  prediction) in `figures/failures.png`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.dense import DenseData, DenseSample, mask_array
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


def predict_masks(model: Any, dataset: Any, *, batch_size: int = 16) -> list[np.ndarray]:
    """(H, W) uint8 class maps: the argmax of the model's per-pixel logits over `dataset`'s images, in order."""
    import torch

    model.eval()
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for x, _ in torch.utils.data.DataLoader(dataset, batch_size=batch_size):
            out += list(model(x).argmax(1).to(torch.uint8).numpy())
    return out


def majority_masks(data: DenseData, samples: Sequence[DenseSample]) -> tuple[list[np.ndarray], int]:
    """Every pixel of each of `samples` labelled with the most frequent class of the training masks; and that class."""
    counts = np.zeros(256, np.int64)
    for s in data.train:
        counts += np.bincount(mask_array(s).ravel(), minlength=256)
    top = int(counts[: len(data.classes)].argmax())
    return [np.full((s.height, s.width), top, np.uint8) for s in samples], top


def colour_masks(data: DenseData, samples: Sequence[DenseSample], *, seed: int) -> list[np.ndarray]:
    """Each pixel of `samples` classified from its RGB alone by a logistic regression (scikit-learn) fitted on a
    random PIXELS_FOR_LOGISTIC labelled training pixels."""
    from sklearn.linear_model import LogisticRegression

    rgb = np.concatenate([read_rgb(s).reshape(-1, 3) for s in data.train]).astype(np.float32) / 255
    labels = np.concatenate([mask_array(s).ravel() for s in data.train])
    labelled = np.flatnonzero(labels < len(data.classes))
    pick = np.random.default_rng(seed).choice(labelled, size=min(PIXELS_FOR_LOGISTIC, len(labelled)), replace=False)
    if len(np.unique(labels[pick])) < 2:
        return majority_masks(data, samples)[0]
    clf = LogisticRegression(max_iter=300).fit(rgb[pick], labels[pick])
    return [
        clf.predict(read_rgb(s).reshape(-1, 3).astype(np.float32) / 255).reshape(s.height, s.width).astype(np.uint8)
        for s in samples
    ]


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
            how=f"scikit-learn LogisticRegression on the RGB of {n_pixels:,} random training pixels; no shape, no "
            "context: what colour alone separates",
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
    m = np.asarray(confusion.matrix, dtype=np.int64)
    support = np.maximum(m.sum(axis=1), 1)
    pairs = [
        ConfusedPair(
            true=confusion.labels[i],
            predicted=confusion.labels[j],
            count=int(m[i, j]),
            rate=float(m[i, j] / support[i]),
        )
        for i in range(len(m))
        for j in range(len(m))
        if i != j and m[i, j] > 0
    ]
    pairs.sort(key=lambda p: -p.rate)
    ious = sorted(((v, k.removeprefix("iou/")) for k, v in metrics.items() if k.startswith("iou/")))
    worst = sorted(
        (
            WorstImage(id=s.image_id, index=i, pixel_accuracy=_pixel_accuracy(p, t), wrong_pixels=_wrong(p, t))
            for i, (p, t, s) in enumerate(zip(predicted, truth, samples, strict=True))
        ),
        key=lambda w: w.pixel_accuracy,
    )[:WORST_IMAGES]
    return Failures(
        n_errors=sum(_wrong(p, t) for p, t in zip(predicted, truth, strict=True)),
        unit="pixels",
        confidently_wrong=[],
        confused_pairs=pairs[:MAX_PAIRS],
        error_prone_classes=[f"{name} (IoU {v:.3f})" for v, name in ious[:3]],
        worst_images=worst,
    )


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
            label = f"{w.id}\npixel accuracy {w.pixel_accuracy:.3f}" if c == 0 else title
            ax.set_title(label, fontsize=8)
    handles = [_patch(palette[i], name) for i, name in enumerate(classes)]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(6, len(classes)), fontsize=8)
    return save_png(fig, path)


def _headline(m: dict[str, Any]) -> dict[str, float]:
    return {k: float(m[k]) for k in ("miou", "dice", "pixel_accuracy") if m.get(k) is not None}


def _pixel_accuracy(p: np.ndarray, t: np.ndarray) -> float:
    counted = t != 255
    return float((p[counted] == t[counted]).mean()) if counted.any() else 1.0


def _wrong(p: np.ndarray, t: np.ndarray) -> int:
    return int(((p != t) & (t != 255)).sum())


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
    predicted = predict_masks(model, test_set)
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
