"""Throughput: is the model waiting for data?"""

from __future__ import annotations

import numpy as np

from ...schema.diagnosis import Finding, Severity
from .._registry import register_rule
from ..history import RunHistory
from ._common import (
    Curve,
    at,
    finding,
    fmt,
    get_curve,
    onset_of_final_run,
    robust_sigma,
    scaled_confidence,
    step_or_epoch,
)

# Heuristic: between problems.yaml data_bottleneck ("data wait exceeds ~10-20% of step time") and Amazon SageMaker
# Debugger's CPUBottleneck / IOBottleneck rules, which fire when the bottleneck holds more than 50% of the time.
DATA_WAIT_INFO = 0.15
DATA_WAIT_WARN = 0.3
DATA_WAIT_STRONG = 0.5
# Heuristic: a warning also needs the wait to cost >= 5 ms per step (median data_time). Below that, in-memory data
# (a TensorDataset indexed sample by sample) and a tiny model can show a large share with nothing to gain: worker
# processes add more inter-process overhead than they hide (Lightning issue #17410; the in-memory guidance discussed
# for PyTorch's DataLoader docs, pytorch/pytorch PR #181501), and a few ms is within a shared CPU's scheduling jitter.
DATA_WAIT_MIN_S = 0.005
# SageMaker's profiler rules wait (patience = 1000 data points) before judging because start-up is slow; here the
# first 10% of the points (worker start-up, first-epoch caching) are skipped.
WARMUP_SKIP = 0.1
MIN_POINTS = 5
# Amazon SageMaker Debugger StepOutlier: step durations beyond stddev = 3 sigmas, more than n_outliers = 10 times.
STEP_OUTLIER_SIGMAS = 3.0
STEP_OUTLIER_COUNT = 10
# Heuristic: ... and at least 2x the median step, so they are stalls worth a look.
STEP_OUTLIER_RATIO = 2.0

DATA_SOURCE = (
    "seed Step 4 checklist (data loading has no bottleneck, GPU utilisation > 80%); problems.yaml data_bottleneck "
    "(wait > ~10-20% of step time); Amazon SageMaker Debugger CPUBottleneck/IOBottleneck (threshold 50% of the time), "
    "LowGPUUtilization (p95 < 70%), StepOutlier (3 sigma, 10 outliers); 15%/30% and the 5 ms per step floor (worker "
    "IPC overhead on in-memory data: Lightning issue #17410) are heuristics"
)


def _fraction(h: RunHistory) -> Curve | None:
    """Share of each step spent waiting for data: logged directly, or data_time / batch_time."""
    f = step_or_epoch(h, "data_wait_fraction", min_points=MIN_POINTS)
    if f is not None:
        return Curve(f.name, f.axis, f.x, f.y / 100.0) if float(np.max(f.y)) > 1.0 else f
    d = step_or_epoch(h, "data_time", min_points=MIN_POINTS)
    b = step_or_epoch(h, "batch_time", min_points=MIN_POINTS)
    if d is None or b is None or d.axis != b.axis:
        return None
    xs, i, j = np.intersect1d(d.x, b.x, return_indices=True)
    if len(xs) < MIN_POINTS:
        return None
    dt, bt = d.y[i], b.y[j]
    # PyTorch's reference loops (examples/imagenet) time batch_time around the whole iteration, data included; when
    # the logged batch_time is shorter than data_time it must be compute only.
    total = bt if float(np.median(bt)) >= float(np.median(dt)) else dt + bt
    ok = total > 0
    return Curve("data_time/batch_time", d.axis, xs[ok], np.clip(dt[ok] / total[ok], 0.0, 1.0))


@register_rule(issue="data_bottleneck")
def data_bottleneck(h: RunHistory) -> Finding | None:
    """Symptom: a large share of every training step (30% or more, and at least a few milliseconds) is spent waiting
    for the next batch, so the accelerator idles; or step times show many stalls (steps far slower than the median).
    Cause: too few DataLoader workers, expensive decoding or augmentation on the CPU, reading from a slow or network
    filesystem, or no pinned memory / prefetching.
    Remedy: use DataLoader(num_workers=4-8 per GPU, persistent_workers=True, prefetch_factor=2-4, pin_memory=True),
    cache decoded data (uint8 tensors, WebDataset/FFCV shards), move augmentation to the GPU, read from local SSD,
    and raise the batch size.
    """
    f = _fraction(h)
    if f is not None:
        w = f.after(WARMUP_SKIP)
        med, p90 = float(np.median(w.y)), float(np.percentile(w.y, 90))
        if med >= DATA_WAIT_INFO:
            severity: Severity = "warning" if med >= DATA_WAIT_WARN else "info"
            dt = get_curve(h, "data_time", w.axis, min_points=MIN_POINTS)
            wait_s = float(np.median(dt.after(WARMUP_SKIP).y)) if dt is not None else None
            cheap = wait_s is not None and wait_s < DATA_WAIT_MIN_S
            if cheap:
                severity = "info"
            sps = step_or_epoch(h, "samples_per_sec")
            return finding(
                issue="data_bottleneck",
                rule="data_bottleneck",
                severity=severity,
                diagnosis=(
                    f"The training loop waits for data {med:.0%} of the time (median over {len(w)} {w.axis} points "
                    f"after start-up; 90th percentile {p90:.0%}): "
                    + (
                        "the input pipeline, not the model, sets the speed."
                        if severity == "warning"
                        else f"a large share, but only {fmt(1e3 * wait_s)} ms per step: with data in memory, worker "
                        "processes would add more overhead than they save; batch the indexing instead if it matters."
                        if cheap and wait_s is not None
                        else "noticeable, though not yet the main cost."
                    )
                ),
                evidence={
                    "median_wait_fraction": med,
                    "p90_wait_fraction": p90,
                    "series": f.name,
                    "n_points": len(w),
                    "samples_per_sec_median": float(np.median(sps.y)) if sps is not None else None,
                    "data_time_median_s": wait_s,
                },
                source=DATA_SOURCE,
                axis=w.axis,
                began_at=onset_of_final_run(w, w.y >= DATA_WAIT_INFO) or float(w.x[0]),
                confidence=scaled_confidence(med, DATA_WAIT_INFO, DATA_WAIT_STRONG, c_lo=0.4, c_hi=1.0),
            )
    b = step_or_epoch(h, "batch_time", min_points=3 * STEP_OUTLIER_COUNT)
    if b is None:
        return None
    w = b.after(WARMUP_SKIP)
    med, sig = float(np.median(w.y)), robust_sigma(w.y)
    out = (w.y > med + STEP_OUTLIER_SIGMAS * sig) & (w.y > STEP_OUTLIER_RATIO * med)
    n_out = int(out.sum())
    if n_out <= STEP_OUTLIER_COUNT:
        return None
    return finding(
        issue="data_bottleneck",
        rule="data_bottleneck",
        severity="info",
        diagnosis=(
            f"{n_out} of {len(w)} steps took more than {fmt(STEP_OUTLIER_RATIO)}x the median step time of {fmt(med)} "
            f"(first at {at(w.axis, float(w.x[int(np.argmax(out))]))}): periodic stalls such as loader restarts at "
            "epoch boundaries, checkpointing or a slow storage read."
        ),
        evidence={
            "n_outlier_steps": n_out,
            "n_steps": len(w),
            "median_batch_time": med,
            "outlier_ratio": STEP_OUTLIER_RATIO,
        },
        source=DATA_SOURCE,
        axis=w.axis,
        began_at=float(w.x[int(np.argmax(out))]),
        confidence=0.4,
    )
