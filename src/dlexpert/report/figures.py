"""The evaluation's figures as PNG: a reliability diagram and a confusion matrix (matplotlib, Agg canvas)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..diagnose.report import save_png
from ..schema.evaluation import Calibration, Confusion

__all__ = ["plot_confusion", "plot_reliability"]

# Above this many classes the cells carry no numbers (they would not be readable).
_ANNOTATE_MAX_CLASSES = 20


def plot_reliability(cal: Calibration, path: str | Path) -> Path:
    """Accuracy against mean confidence per bin, the diagonal of perfect calibration, and the bin counts below."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2, 5.6), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    width = 1.0 / cal.n_bins
    filled = [b for b in cal.bins if b.count]
    centers = [(b.lower + b.upper) / 2 for b in filled]
    top.bar(
        centers,
        [b.accuracy for b in filled],
        width=width * 0.95,
        color="#3b6ea5",
        edgecolor="white",
        label="accuracy in bin",
    )
    acc = [b.accuracy or 0.0 for b in filled]
    conf = [b.confidence or 0.0 for b in filled]
    top.bar(
        centers,
        [abs(c - a) for a, c in zip(acc, conf, strict=True)],
        bottom=[min(a, c) for a, c in zip(acc, conf, strict=True)],
        width=width * 0.95,
        color="none",
        edgecolor="#d95f02",
        hatch="///",
        linewidth=0.8,
        label="gap to mean confidence",
    )
    top.plot([0, 1], [0, 1], linestyle="--", color="gray", linewidth=1, label="perfect calibration")
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.set_title(f"Reliability diagram: ECE {cal.ece:.3f}, MCE {cal.mce:.3f} ({cal.n_bins} bins)", fontsize=10)
    top.legend(fontsize=8, loc="upper left")
    top.grid(alpha=0.3)
    bottom.bar(
        [(b.lower + b.upper) / 2 for b in cal.bins], [b.count for b in cal.bins], width=width * 0.95, color="#777777"
    )
    bottom.set_yscale("symlog")
    bottom.set_xlabel("confidence (top-1 probability)")
    bottom.set_ylabel("samples")
    bottom.set_xlim(0, 1)
    return save_png(fig, path)


def plot_confusion(confusion: Confusion, path: str | Path, *, unit: str = "samples") -> Path:
    """Row-normalised confusion matrix (recall on the diagonal), annotated with counts for up to 20 classes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    m = np.asarray(confusion.matrix, dtype=np.float64)
    n = len(m)
    rates = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    size = min(12.0, 3.0 + 0.45 * n)
    fig = Figure(figsize=(size + 1.2, size), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    im = ax.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(im, ax=ax, shrink=0.8, label="fraction of the true class")
    if n <= _ANNOTATE_MAX_CLASSES:
        labels = [str(v)[:14] for v in confusion.labels]
        ax.set_xticks(range(n), labels, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(n), labels, fontsize=8)
        for i in range(n):
            for j in range(n):
                if m[i, j]:
                    ax.text(
                        j,
                        i,
                        f"{int(m[i, j])}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if rates[i, j] > 0.5 else "black",
                    )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix ({int(m.sum())} test {unit})", fontsize=10)
    return save_png(fig, path)
