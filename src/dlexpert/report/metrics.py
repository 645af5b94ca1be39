"""Metrics from predictions, by task type. scikit-learn computes the standard ones; calibration is written here.

`TASK_METRICS` maps a task type to its metric function, so detection (mAP) and segmentation (IoU/Dice) add an entry
without touching `evaluate`. Every function takes numpy arrays and returns plain Python numbers.

Example:
    >>> import numpy as np
    >>> proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> m = classification_metrics(np.array([0, 1, 1]), proba, ["cat", "dog"])
    >>> round(m.metrics["accuracy"], 3), m.confusion.matrix
    (0.667, [[1, 0], [1, 1]])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..schema.evaluation import Calibration, CalibrationBin, ClassResult, Confusion

__all__ = [
    "ECE_BINS",
    "TASK_METRICS",
    "ClassificationResult",
    "calibration",
    "classification_metrics",
    "regression_metrics",
]

# 15 equal-width bins, as in Guo et al. 2017 ("On Calibration of Modern Neural Networks", arXiv 1706.04599).
ECE_BINS = 15
# |accuracy - confidence| below this ECE is called well calibrated (Guo et al. report 0.5-2% for calibrated models).
WELL_CALIBRATED_ECE = 0.02


@dataclass
class ClassificationResult:
    metrics: dict[str, float]
    per_class: list[ClassResult]
    confusion: Confusion
    calibration: Calibration


def classification_metrics(
    y: np.ndarray, proba: np.ndarray, classes: list[str], *, top_k: tuple[int, ...] = (3, 5)
) -> ClassificationResult:
    """Accuracy, top-k, precision/recall/F1 (per class; macro, micro and weighted), balanced accuracy, one-vs-rest
    AUROC, log loss, a confusion matrix and calibration, for labels `y` (N,) and probabilities `proba` (N, C).

    Classes absent from `y` get support 0 and AUROC None; macro and weighted averages run over the classes present
    in `y` (scikit-learn's `labels=`), so a class the test set lacks does not count as a zero; micro averages count
    every prediction, so they equal accuracy.
    """
    from sklearn import metrics as skm

    y = np.asarray(y, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    n, c = proba.shape
    pred = proba.argmax(axis=1)
    present = np.unique(y)
    out: dict[str, float] = {"accuracy": float((pred == y).mean())}
    for k in top_k:
        if k < c:
            topk = np.argsort(-proba, axis=1)[:, :k]
            out[f"top{k}_accuracy"] = float((topk == y[:, None]).any(axis=1).mean())
    out["balanced_accuracy"] = float(np.mean([(pred[y == i] == i).mean() for i in present]))
    for avg in ("macro", "micro", "weighted"):
        # Micro counts every prediction, one of an absent class too (so it equals accuracy); macro and weighted
        # average over the classes the test set has.
        labels = np.arange(c) if avg == "micro" else present
        p, r, f, _ = skm.precision_recall_fscore_support(y, pred, labels=labels, average=avg, zero_division=0)
        out[f"precision_{avg}"], out[f"recall_{avg}"], out[f"f1_{avg}"] = float(p), float(r), float(f)
    picked = np.clip(proba[np.arange(n), y], 1e-12, 1.0)
    out["log_loss"] = float(-np.log(picked).mean())

    aurocs = _auroc_per_class(y, proba)
    valid = [a for a in aurocs if a is not None]
    if valid:
        out["auroc_ovr_macro"] = float(np.mean(valid))
        weights = np.bincount(y, minlength=c)
        out["auroc_ovr_weighted"] = float(
            sum(a * weights[i] for i, a in enumerate(aurocs) if a is not None)
            / sum(weights[i] for i, a in enumerate(aurocs) if a is not None)
        )

    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=np.arange(c), average=None, zero_division=0)
    per_class = [
        ClassResult(
            name=classes[i],
            support=int(s[i]),
            precision=float(p[i]),
            recall=float(r[i]),
            f1=float(f[i]),
            auroc=aurocs[i],
        )
        for i in range(c)
    ]
    matrix = skm.confusion_matrix(y, pred, labels=np.arange(c))
    cal = calibration(y, proba)
    out["ece"] = cal.ece
    return ClassificationResult(
        metrics=out,
        per_class=per_class,
        confusion=Confusion(labels=list(classes), matrix=matrix.astype(int).tolist()),
        calibration=cal,
    )


def _auroc_per_class(y: np.ndarray, proba: np.ndarray) -> list[float | None]:
    """One-vs-rest AUROC per class; None where the class has no positive or no negative test sample."""
    from sklearn.metrics import roc_auc_score

    res: list[float | None] = []
    for i in range(proba.shape[1]):
        positive = y == i
        if positive.all() or not positive.any():
            res.append(None)
        else:
            res.append(float(roc_auc_score(positive, proba[:, i])))
    return res


def calibration(y: np.ndarray, proba: np.ndarray, n_bins: int = ECE_BINS) -> Calibration:
    """Expected calibration error of the top-1 confidence (Guo et al. 2017, Eq. 3): the sample-weighted mean over
    equal-width bins of |accuracy - mean confidence|, plus the bins themselves for a reliability diagram."""
    y = np.asarray(y, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    conf = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bin i holds (edges[i], edges[i+1]]; confidence 0 (impossible for a softmax) would fall in bin 0.
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    bins, ece, mce = [], 0.0, 0.0
    for i in range(n_bins):
        mask = which == i
        count = int(mask.sum())
        if count:
            acc, mean_conf = float(correct[mask].mean()), float(conf[mask].mean())
            gap = abs(acc - mean_conf)
            ece += gap * count / len(y)
            mce = max(mce, gap)
            bins.append(
                CalibrationBin(
                    lower=float(edges[i]), upper=float(edges[i + 1]), count=count, confidence=mean_conf, accuracy=acc
                )
            )
        else:
            bins.append(CalibrationBin(lower=float(edges[i]), upper=float(edges[i + 1]), count=0))
    mean_conf, acc = float(conf.mean()), float(correct.mean())
    if ece < WELL_CALIBRATED_ECE:
        verdict = f"well calibrated (ECE {ece:.3f} < {WELL_CALIBRATED_ECE})"
    elif mean_conf > acc:
        verdict = (
            f"overconfident: mean confidence {mean_conf:.3f} vs accuracy {acc:.3f} (ECE {ece:.3f}); "
            "temperature scaling on the validation split fixes most of it (Guo et al. 2017)"
        )
    else:
        verdict = (
            f"underconfident: mean confidence {mean_conf:.3f} vs accuracy {acc:.3f} (ECE {ece:.3f}); common causes "
            "are label smoothing, mixup or a model stopped early; temperature scaling (T < 1) sharpens it"
        )
    return Calibration(
        ece=float(ece), mce=float(mce), n_bins=n_bins, mean_confidence=mean_conf, bins=bins, verdict=verdict
    )


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, MAPE (percent, over targets with |y| > 1e-8; None-free: omitted when every target is ~0) and R^2.

    Example:
        >>> regression_metrics(np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 3.0]))["mae"]
        0.6666666666666666
    """
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    err = pred - y
    out = {"mae": float(np.abs(err).mean()), "rmse": float(math.sqrt((err * err).mean()))}
    nonzero = np.abs(y) > 1e-8
    if nonzero.any():
        out["mape"] = float(100.0 * np.abs(err[nonzero] / y[nonzero]).mean())
    var = float(((y - y.mean()) ** 2).sum())
    if var > 0:
        out["r2"] = float(1.0 - (err * err).sum() / var)
    return out


# Task type -> metric function. Detection (mAP) and segmentation (IoU/Dice) register here.
TASK_METRICS: dict[str, Callable[..., Any]] = {
    "classification": classification_metrics,
    "regression": regression_metrics,
}
