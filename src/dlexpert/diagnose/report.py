"""The doctor's report: a `Diagnosis` as markdown, and the run's curves as a PNG with each finding marked.

Example:
    >>> from dlexpert.diagnose import diagnose_history, read_history  # doctest: +SKIP
    >>> h = read_history("runs/m1"); d = diagnose_history(h)  # doctest: +SKIP
    >>> print(render_markdown(d))  # doctest: +SKIP
    >>> plot_history(h, d, "runs/m1/curves.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError
from ..schema.diagnosis import Diagnosis, Finding
from .history import Axis, RunHistory, Series

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# --- markdown

_MAX_LIST = 8  # evidence lists longer than this show their first items and a count


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        shown = ", ".join(_fmt(v) for v in value[:_MAX_LIST])
        more = f", ... ({len(value)} in all)" if len(value) > _MAX_LIST else ""
        return f"[{shown}{more}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    return str(value)


def _where(f: Finding) -> str:
    if f.began_at is None:
        return "whole run"
    at = f"{f.began_at:g}"
    return f"{f.axis} {at}" if f.axis else at


def render_markdown(diagnosis: Diagnosis) -> str:
    """A readable report: the verdict, each finding (issue, severity, where it began, diagnosis, evidence,
    solutions numbered), then what was read: series, unknown series and warnings."""
    d = diagnosis
    lines = [f"# Training diagnosis: {d.source}", ""]
    n = len(d.findings)
    if d.healthy:
        tail = f" ({n} note{'s' * (n != 1)} below)" if n else ""
        lines.append(f"**Healthy**: no finding of severity warning or error{tail}.")
    else:
        counts = {s: sum(f.severity == s for f in d.findings) for s in ("error", "warning", "info")}
        parts = ", ".join(f"{c} {s}{'s' * (c != 1)}" for s, c in counts.items() if c)
        lines.append(f"**{n} finding{'s' * (n != 1)}** ({parts}).")
    for i, f in enumerate(d.findings, start=1):
        lines += ["", f"## {i}. {f.issue} ({f.severity})", ""]
        lines.append(f"- **Began at:** {_where(f)}")
        lines.append(f"- **Diagnosis:** {f.diagnosis}")
        if f.confidence < 1.0:
            lines.append(f"- **Confidence:** {f.confidence:.2f}")
        if f.evidence:
            lines.append("- **Evidence:**")
            lines += [f"  - `{k}`: {_fmt(v)}" for k, v in f.evidence.items()]
        if f.solution:
            lines += ["", "**Solutions** (most effective first):", ""]
            lines += [f"{j}. {s}" for j, s in enumerate(f.solution, start=1)]
        rule = f"rule `{f.rule}`" + (f"; thresholds from {f.source}" if f.source else "")
        lines += ["", f"_{rule}_"]
    lines += ["", "## Series read", ""]
    known = [s for s in d.series if s not in set(d.unknown_series)]
    lines.append(", ".join(f"`{s}`" for s in known) if known else "none that the rules understand")
    if d.unknown_series:
        lines += ["", "## Unknown series (kept, not used by the rules)", ""]
        lines.append(", ".join(f"`{s}`" for s in d.unknown_series))
    if d.warnings:
        lines += ["", "## Warnings", ""]
        lines += [f"- {w}" for w in d.warnings]
    if d.actions:
        lines += ["", "## Actions taken", ""]
        lines += [f"- {_fmt(a)}" for a in d.actions]
    return "\n".join(lines) + "\n"


# --- plot

# Panels, top to bottom, each drawn when the history has one of its series.
PANELS: tuple[tuple[str, tuple[str, ...], bool], ...] = (  # title, series, log scale when all values are positive
    ("loss", ("train_loss", "val_loss"), False),
    ("accuracy", ("train_acc", "val_acc"), False),
    ("learning rate", ("lr",), True),
    ("gradient norm", ("grad_norm",), True),
)
_SEVERITY_COLOR = {"error": "tab:red", "warning": "tab:orange", "info": "tab:gray"}


def _steps_per_epoch(history: RunHistory) -> float | None:
    """From `meta`, else from a series logged on both axes (its last step over its number of epochs)."""
    spe = history.meta.get("steps_per_epoch")
    if isinstance(spe, (int, float)) and spe > 0:
        return float(spe)
    for (name, axis), s in history.series.items():
        other = history.get(name, "epoch") if axis == "step" else None
        if other is not None and len(s) and len(other) and max(s.x) > 0:
            return max(s.x) / (max(other.x) + 1)
    return None


def _to_axis(x: float, source: Axis, target: Axis, spe: float | None) -> float | None:
    """An x on `source` as an x on `target` (the end of epoch e is step (e + 1) * steps_per_epoch)."""
    if source == target:
        return x
    if spe is None:
        return None
    return (x + 1) * spe if target == "step" else x / spe - 1


def _panel_axis(history: RunHistory, names: tuple[str, ...]) -> Axis:
    present = [n for n in names if history.has(n)]
    return "epoch" if all(history.has(n, "epoch") for n in present) else "step"


def _draw_series(ax: Axes, s: Series, axis: Axis, spe: float | None, label: str) -> bool:
    moved = [_to_axis(x, s.axis, axis, spe) for x in s.x]
    xs = [x for x in moved if x is not None]
    if len(xs) != len(moved):
        return False
    fx = [x for x, y in zip(xs, s.y, strict=True) if math.isfinite(y)]
    fy = [y for y in s.y if math.isfinite(y)]
    ax.plot(fx, fy, label=label, marker="." if len(fy) < 50 else None, linewidth=1.2)
    bad = [x for x, y in zip(xs, s.y, strict=True) if not math.isfinite(y)]
    if bad:  # NaN/Inf are evidence: marked along the top of the panel
        top = ax.get_xaxis_transform()
        ax.plot(bad, [0.97] * len(bad), "x", color="tab:red", transform=top, label=f"{label} NaN/Inf")
    return True


def plot_history(history: RunHistory, diagnosis: Diagnosis, path: str | Path) -> Path:
    """Draw loss, accuracy, learning rate and gradient norm (those present) with a vertical line, labelled by
    issue, where each finding began. Written atomically as PNG. Matplotlib is imported here only (Agg canvas)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise InvalidInputError("--plot needs matplotlib: pip install 'dlexpert[diagnose]'") from None

    out = Path(path)
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidInputError(f"{out}: folder {parent} does not exist")
    panels = [(t, names, log) for t, names, log in PANELS if any(history.has(n) for n in names)]
    if not panels:  # nothing canonical to draw: the first unknown series, so the plot is never empty
        first = next(iter(history), None)
        if first is not None:
            panels = [(first.name, (first.name,), False)]
    spe = _steps_per_epoch(history)
    fig = Figure(figsize=(9, 2.6 * max(1, len(panels))), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(max(1, len(panels)), 1, squeeze=False)[:, 0]
    for ax, (title, names, log) in zip(axes, panels, strict=False):
        axis = _panel_axis(history, names)
        values: list[float] = []
        for name in names:
            for a in ("step", "epoch"):
                s = history.get(name, a)  # type: ignore[arg-type]
                if s is None or not len(s):
                    continue
                if a != axis and history.has(name, axis):
                    continue  # the same series at the panel's granularity is already drawn
                label = name if a == axis else f"{name} (per {a})"
                if _draw_series(ax, s, axis, spe, label):
                    values += [y for y in s.y if math.isfinite(y)]
        if log and values and min(values) > 0:
            ax.set_yscale("log")
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_xlabel(axis)
        ax.grid(alpha=0.3)
        for f in diagnosis.findings:
            if f.began_at is None:
                continue
            x = _to_axis(f.began_at, f.axis or axis, axis, spe)
            if x is None:
                continue
            ax.axvline(x, color=_SEVERITY_COLOR[f.severity], linestyle="--", linewidth=1)
            ax.text(x, 0.9, f" {f.issue}", transform=ax.get_xaxis_transform(), color=_SEVERITY_COLOR[f.severity],
                    fontsize=8, rotation=90, va="top")  # fmt: skip
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="best")
    verdict = "healthy" if diagnosis.healthy else f"{len(diagnosis.findings)} finding(s)"
    fig.suptitle(f"{diagnosis.source}: {verdict}", fontsize=11)
    return save_png(fig, out)


def save_png(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Render a matplotlib figure to PNG and write it atomically."""
    import io

    from .._io import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return atomic_write_bytes(path, buf.getvalue())
