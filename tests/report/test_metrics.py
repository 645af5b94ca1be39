"""`report.metrics` against scikit-learn's own functions, and calibration and regression on hand-computed cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from dlexpert.report.metrics import ECE_BINS, calibration, classification_metrics, regression_metrics

N, C = 300, 5
CLASSES = ["ant", "bee", "cat", "dog", "eel"]


def random_predictions(n: int = N, c: int = C, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels and softmax probabilities that are better than chance but far from perfect."""
    rng = np.random.default_rng(seed)
    y = rng.integers(c, size=n)
    logits = rng.normal(size=(n, c))
    logits[np.arange(n), y] += 1.0
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


def test_classification_metrics_match_scikit_learn() -> None:
    y, proba = random_predictions()
    pred = proba.argmax(axis=1)
    res = classification_metrics(y, proba, CLASSES)
    m = res.metrics
    assert 0.3 < m["accuracy"] < 0.9  # the construction is neither trivial nor hopeless
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["top3_accuracy"] == pytest.approx(skm.top_k_accuracy_score(y, proba, k=3, labels=np.arange(C)))
    assert "top5_accuracy" not in m  # top-5 of 5 classes is always 1: not reported
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    for avg in ("macro", "micro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(y, pred, average=avg, zero_division=0)
        assert (m[f"precision_{avg}"], m[f"recall_{avg}"], m[f"f1_{avg}"]) == pytest.approx((p, r, f)), avg
    assert m["auroc_ovr_macro"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"))
    assert m["auroc_ovr_weighted"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr", average="weighted"))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=np.arange(C)))
    assert m["ece"] == res.calibration.ece
    assert all(isinstance(v, float) for v in m.values())  # plain numbers, JSON-ready

    matrix = skm.confusion_matrix(y, pred, labels=np.arange(C))
    assert res.confusion.labels == CLASSES
    assert res.confusion.matrix == matrix.tolist()
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=np.arange(C), average=None, zero_division=0)
    assert [row.name for row in res.per_class] == CLASSES
    assert [row.support for row in res.per_class] == matrix.sum(axis=1).tolist() == s.tolist()
    for i, row in enumerate(res.per_class):
        assert row.recall == pytest.approx(matrix[i, i] / matrix[i].sum())
        assert row.precision == pytest.approx(matrix[i, i] / matrix[:, i].sum())
        assert (row.precision, row.recall, row.f1) == pytest.approx((p[i], r[i], f[i]))
        assert row.auroc == pytest.approx(skm.roc_auc_score(y == i, proba[:, i]))


def test_top_k_counts_a_hit_anywhere_in_the_k_highest() -> None:
    proba = np.array([[0.5, 0.3, 0.1, 0.06, 0.04], [0.1, 0.2, 0.3, 0.4, 0.0], [0.6, 0.1, 0.2, 0.05, 0.05]])
    y = np.array([1, 0, 2])  # the true class is second, fourth, second
    m = classification_metrics(y, proba, CLASSES, top_k=(2,)).metrics
    assert m["accuracy"] == 0.0
    assert m["top2_accuracy"] == pytest.approx(2 / 3)
    assert m["top2_accuracy"] == pytest.approx(skm.top_k_accuracy_score(y, proba, k=2, labels=np.arange(C)))


def test_a_class_absent_from_the_test_labels_is_left_out_of_the_macro_averages() -> None:
    y, proba = random_predictions(seed=1)
    absent = 3
    keep = y != absent
    y, proba = y[keep], proba[keep]
    pred = proba.argmax(axis=1)
    assert (pred == absent).any()  # the model still predicts it sometimes: those are false positives elsewhere
    res = classification_metrics(y, proba, CLASSES)
    m = res.metrics
    row = res.per_class[absent]
    assert row.support == 0 and row.auroc is None and row.recall == 0.0
    assert res.confusion.matrix[absent] == [0] * C

    present = [i for i in range(C) if i != absent]
    rows = [res.per_class[i] for i in present]
    assert m["recall_macro"] == pytest.approx(np.mean([r.recall for r in rows]))
    assert m["precision_macro"] == pytest.approx(np.mean([r.precision for r in rows]))
    assert m["f1_macro"] == pytest.approx(np.mean([r.f1 for r in rows]))
    for avg in ("macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(y, pred, labels=present, average=avg, zero_division=0)
        assert (m[f"precision_{avg}"], m[f"recall_{avg}"], m[f"f1_{avg}"]) == pytest.approx((p, r, f)), avg
    # Micro counts the predictions of the absent class as the errors they are: it equals accuracy.
    acc = float((pred == y).mean())
    assert (m["precision_micro"], m["recall_micro"], m["f1_micro"]) == pytest.approx((acc, acc, acc))
    # Over all five classes the absent one would count as a zero recall and pull the macro average down.
    _, r_all, _, _ = skm.precision_recall_fscore_support(y, pred, labels=np.arange(C), average="macro", zero_division=0)
    assert m["recall_macro"] > r_all
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true"
        assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    aurocs = [skm.roc_auc_score(y == i, proba[:, i]) for i in present]
    assert m["auroc_ovr_macro"] == pytest.approx(np.mean(aurocs))
    assert [r.auroc for r in rows] == pytest.approx(aurocs)


def test_a_perfectly_calibrated_model_has_zero_ece() -> None:
    # 100 samples at each confidence c, of which exactly 100c are right: accuracy equals confidence in every bin.
    ys, probas = [], []
    for c in (0.6, 0.7, 0.8, 0.9, 1.0):
        n_right = round(100 * c)
        ys += [0] * n_right + [1] * (100 - n_right)
        probas += [[c, 1.0 - c]] * 100
    cal = calibration(np.array(ys), np.array(probas))
    assert cal.ece == pytest.approx(0.0, abs=1e-9) and cal.mce == pytest.approx(0.0, abs=1e-9)
    assert cal.mean_confidence == pytest.approx(0.8)
    assert cal.verdict.startswith("well calibrated")
    assert sum(b.count for b in cal.bins) == 500 and len([b for b in cal.bins if b.count]) == 5


def test_an_always_certain_model_with_70_percent_accuracy_is_overconfident_by_0_3() -> None:
    y = np.array([0] * 70 + [1] * 30)
    proba = np.tile([1.0, 0.0], (100, 1))  # always 100% sure of class 0
    cal = calibration(y, proba)
    assert cal.ece == pytest.approx(0.3) and cal.mce == pytest.approx(0.3)
    assert cal.mean_confidence == pytest.approx(1.0)
    assert cal.verdict.startswith("overconfident")
    top = cal.bins[-1]
    assert top.upper == 1.0 and top.count == 100  # confidence 1.0 falls in the last bin, (14/15, 1]
    assert top.accuracy == pytest.approx(0.7) and top.confidence == pytest.approx(1.0)


def test_an_underconfident_model_is_called_underconfident() -> None:
    y = np.zeros(50, dtype=int)
    proba = np.tile([0.55, 0.45], (50, 1))  # always right, never more than 55% sure
    cal = calibration(y, proba)
    assert cal.ece == pytest.approx(0.45)
    assert cal.verdict.startswith("underconfident")


def test_calibration_bins_cover_every_sample() -> None:
    y, proba = random_predictions(seed=2)
    cal = calibration(y, proba)
    assert cal.n_bins == ECE_BINS == len(cal.bins)
    assert sum(b.count for b in cal.bins) == N
    assert cal.bins[0].lower == 0.0 and cal.bins[-1].upper == 1.0
    assert all(a.upper == pytest.approx(b.lower) for a, b in zip(cal.bins, cal.bins[1:], strict=False))
    for b in cal.bins:
        if b.count:
            assert b.lower <= b.confidence <= b.upper
        else:
            assert b.confidence is None and b.accuracy is None
    weighted = sum(b.count * abs(b.accuracy - b.confidence) for b in cal.bins if b.count) / N
    assert cal.ece == pytest.approx(weighted)
    assert cal.mean_confidence == pytest.approx(proba.max(axis=1).mean())


def test_calibration_on_a_hand_computed_example() -> None:
    # Five bins of width 0.2. Top-1 confidences 0.9 (right), 0.85 (wrong) -> bin (0.8, 1]: confidence 0.875,
    # accuracy 0.5, gap 0.375. 0.7 (right), 0.65 (wrong), 0.75 (right) -> bin (0.6, 0.8]: confidence 0.7,
    # accuracy 2/3, gap 1/30. ECE = (2 * 0.375 + 3 / 30) / 5 = 0.17; MCE = 0.375.
    proba = np.array([[0.9, 0.1], [0.85, 0.15], [0.3, 0.7], [0.35, 0.65], [0.75, 0.25]])
    y = np.array([0, 1, 1, 0, 0])
    cal = calibration(y, proba, n_bins=5)
    assert cal.ece == pytest.approx(0.17)
    assert cal.mce == pytest.approx(0.375)
    assert cal.mean_confidence == pytest.approx(0.77)
    assert [b.count for b in cal.bins] == [0, 0, 0, 3, 2]
    assert cal.bins[3].accuracy == pytest.approx(2 / 3) and cal.bins[3].confidence == pytest.approx(0.7)
    assert cal.bins[4].accuracy == pytest.approx(0.5) and cal.bins[4].confidence == pytest.approx(0.875)
    assert cal.verdict.startswith("overconfident")  # mean confidence 0.77 > accuracy 0.6


def test_regression_metrics_on_a_hand_computed_example() -> None:
    y = np.array([1.0, 2.0, 4.0, 0.0])
    pred = np.array([1.0, 3.0, 3.0, 1.0])  # errors 0, 1, -1, 1
    m = regression_metrics(y, pred)
    assert m["mae"] == pytest.approx(0.75)
    assert m["rmse"] == pytest.approx(math.sqrt(0.75))
    # MAPE skips the zero target: mean(|0/1|, |1/2|, |1/4|) = 0.25 -> 25 percent.
    assert m["mape"] == pytest.approx(25.0)
    # R^2 = 1 - SSE / SST = 1 - 3 / 8.75 (mean 1.75).
    assert m["r2"] == pytest.approx(1 - 3 / 8.75)
    assert m["r2"] == pytest.approx(skm.r2_score(y, pred))
    assert regression_metrics(y[:, None], pred[:, None]) == m  # a (N, 1) model output reads the same


def test_regression_metrics_leave_out_what_is_undefined() -> None:
    m = regression_metrics(np.zeros(4), np.array([0.0, 1.0, -1.0, 2.0]))
    assert "mape" not in m and "r2" not in m  # every target is 0: no percentage error, no variance to explain
    assert m["mae"] == pytest.approx(1.0) and m["rmse"] == pytest.approx(math.sqrt(1.5))
    perfect = regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    assert perfect == {"mae": 0.0, "rmse": 0.0, "mape": 0.0, "r2": 1.0}
