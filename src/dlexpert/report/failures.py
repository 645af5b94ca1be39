"""Failure analysis (seed Step 7: "analyze failure cases (which classes/samples are error-prone)").

The most confidently wrong samples, the most confused class pairs, the classes with the lowest recall, and a PNG
grid of the wrong inputs (images drawn as images, sequences as line plots) with their true and predicted labels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..schema.evaluation import ConfusedPair, Confusion, Failures, WrongExample

__all__ = ["analyze_failures", "plot_failure_grid"]


def analyze_failures(
    y: np.ndarray,
    proba: np.ndarray,
    classes: list[str],
    confusion: Confusion,
    *,
    ids: list[str] | None = None,
    n_examples: int = 12,
    n_pairs: int = 5,
    n_classes: int = 3,
) -> Failures:
    y = np.asarray(y, dtype=np.int64)
    pred = proba.argmax(axis=1)
    conf = proba.max(axis=1)
    wrong = np.flatnonzero(pred != y)
    order = wrong[np.argsort(-conf[wrong], kind="stable")][:n_examples]
    examples = [
        WrongExample(
            index=int(i),
            id=ids[i] if ids and i < len(ids) else None,
            true=classes[y[i]],
            predicted=classes[pred[i]],
            confidence=float(conf[i]),
            true_probability=float(proba[i, y[i]]),
        )
        for i in order
    ]
    m = np.asarray(confusion.matrix)
    support = m.sum(axis=1)
    off = [(int(m[t, p]), t, p) for t in range(len(m)) for p in range(len(m)) if t != p and m[t, p] > 0]
    off.sort(key=lambda v: (-v[0], v[1], v[2]))
    pairs = [
        ConfusedPair(true=classes[t], predicted=classes[p], count=c, rate=c / max(1, int(support[t])))
        for c, t, p in off[:n_pairs]
    ]
    recall = [(m[i, i] / support[i], i) for i in range(len(m)) if support[i] > 0]
    recall.sort(key=lambda ri: (ri[0], -support[ri[1]], ri[1]))  # ties: the class with more test samples first
    prone = [
        f"{classes[i]} (recall {r:.3f}, {int(support[i] - m[i, i])}/{int(support[i])} wrong)"
        for r, i in recall[:n_classes]
        if r < 1.0
    ]
    return Failures(n_errors=len(wrong), confidently_wrong=examples, confused_pairs=pairs, error_prone_classes=prone)


def plot_failure_grid(x: Any, failures: Failures, modality: str, path: str | Path, *, cols: int = 6) -> Path | None:
    """A grid of the most confidently wrong inputs, titled "true -> predicted (confidence)". Images are (C, H, W)
    in [0, 1]; sequences (C, L) are drawn as lines. Returns None when there is nothing to draw (no errors, or text
    and tables, whose inputs are not pictures)."""
    if not failures.confidently_wrong or modality not in ("image", "sequence"):
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..diagnose.report import save_png

    shown = failures.confidently_wrong
    cols = min(cols, len(shown))
    rows = (len(shown) + cols - 1) // cols
    fig = Figure(figsize=(1.9 * cols, 2.1 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, ex in zip(axes.flat, shown, strict=False):
        sample = np.asarray(x[ex.index], dtype=np.float32)
        if modality == "image":
            img = sample.transpose(1, 2, 0) if sample.shape[0] in (1, 3, 4) else sample
            if img.shape[-1] == 1:
                ax.imshow(img[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            else:
                ax.imshow(np.clip(img[..., :3], 0.0, 1.0), interpolation="nearest")
        else:
            ax.set_axis_on()
            ax.set_xticks([])
            ax.set_yticks([])
            for channel in sample.reshape(-1, sample.shape[-1]):
                ax.plot(channel, linewidth=1.0)
        ax.set_title(f"{ex.true} -> {ex.predicted}\n({ex.confidence:.2f})", fontsize=8, color="#b00020")
    fig.suptitle("Most confidently wrong test samples: true -> predicted (confidence)", fontsize=10)
    return save_png(fig, path)
