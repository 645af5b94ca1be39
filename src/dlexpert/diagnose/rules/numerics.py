"""Numerical failures: NaN/Inf values (and divergence to absurd values), and sudden loss spikes."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ...schema.diagnosis import Finding
from .._registry import register_rule
from ..history import Axis, RunHistory
from ._common import (
    AXES,
    LR_RESTART_RATIO,
    MAD_TO_SIGMA,
    Curve,
    at,
    current_lr,
    epoch_or_step,
    finding,
    fmt,
    get_curve,
    scaled_confidence,
    solutions,
    trailing_stats,
    unrecognised_losses,
)

# ------------------------------------------------------------------------------------------------ nan_inf

# Series whose non-finite values mean the run broke. `nonfinite` is the monitors' sentinel (1.0 = NaN/Inf seen).
NAN_LOSS_SERIES = ("train_loss", "val_loss")
NAN_GRAD_SERIES = ("grad_norm", "nonfinite")
# AUTOTRAINER (Zhang et al., ICSE 2021; AutoTrainer/utils/monitor.py `loss_issue`) treats a loss >= 1e5 like NaN.
DIVERGED_LOSS = 1e5
# Heuristic: ... and only when it is also >= 1000x the first finite loss, so a regression MSE on unscaled targets
# that simply starts large is not called a divergence.
DIVERGED_FACTOR = 1e3
# problems.yaml nan_inf: "if the gradient norm grew by more than ~10x its running median in the preceding steps it
# is an explosion" (then clipping and a lower lr come first).
GRAD_SURGE_FACTOR = 10.0
# Heuristic: without a logged gradient norm, a loss that rose >= 3x above its running median just before the NaN
# tells the same story (divergence), so clipping and a lower lr come first as well.
LOSS_SURGE_FACTOR = 3.0
# How many finite values before the onset are reported as evidence (and compared with the earlier median).
PRE_ONSET_POINTS = 5
# PyTorch AMP (torch.amp.GradScaler docs): with fp16 loss scaling, steps whose gradients overflow are skipped and
# the scale is lowered, so a few isolated Inf gradient norms with a finite loss are expected. Heuristic limit: up to
# 5% of the logged gradient norms.
AMP_SKIP_FRACTION = 0.05

NAN_SOURCE = (
    "seed Step 5 (NaN/Inf); Amazon SageMaker Debugger ExplodingTensor (any non-finite tensor); AUTOTRAINER "
    "(Zhang et al., ICSE 2021) nan_loss incl. loss >= 1e5; problems.yaml nan_inf (grad norm > ~10x running median)"
)


def _first_bad(h: RunHistory, name: str, axis: Axis) -> tuple[float, float] | None:
    """(x, value) of the first non-finite (or, for losses, diverged; for `nonfinite`, flagged) point."""
    s = h.get(name, axis)
    if s is None or len(s) == 0:
        return None
    first_finite = next((v for v in s.y if math.isfinite(v)), None)

    def diverged(v: float) -> bool:
        return first_finite is not None and v >= DIVERGED_LOSS and v >= DIVERGED_FACTOR * abs(first_finite)

    came_back = math.isfinite(s.y[-1]) and not diverged(float(s.y[-1]))  # then a huge value was a spike (loss_spike)
    for x, v in zip(s.x, s.y, strict=True):
        if not math.isfinite(v):
            return x, v
        if name == "nonfinite" and v >= 0.5:
            return x, math.nan
        if name in NAN_LOSS_SERIES and diverged(v) and not came_back:
            return x, v
    return None


def _nonfinite_fraction(h: RunHistory, name: str, axis: Axis) -> tuple[float, bool]:
    """(fraction of non-finite/flagged points, whether the last point is bad) of one series."""
    s = h.get(name, axis)
    if s is None or len(s) == 0:
        return 0.0, False
    y = np.asarray(s.y, dtype=float)
    bad = ~np.isfinite(y)
    if name == "nonfinite":
        bad |= np.nan_to_num(y, nan=1.0) >= 0.5
    return float(bad.mean()), bool(bad[-1])


@register_rule(issue="nan_inf")
def nan_or_inf(h: RunHistory) -> Finding | None:
    """Symptom: the loss (or the gradient norm) becomes NaN or Inf, or the loss diverges to absurd values (>= 1e5 and
    1000x its start), and training is effectively over from that step on.
    Cause: usually an explosion (learning rate too high, no gradient clipping: the gradient norm surges just before),
    or a numerically unsafe operation (log(0), division by ~0, exp overflow, fp16 overflow); when the very first loss
    is already NaN, bad input data (NaN/Inf in inputs or targets) is the usual cause.
    Remedy: lower the learning rate 10x and clip gradients (max_norm=1.0) when the gradient norm surged first; check
    inputs and targets with torch.isfinite and use numerically stable losses (cross_entropy on logits) when the first
    loss is already bad; resume from the last checkpoint with a finite loss rather than continuing.
    """
    events: list[tuple[int, float, str, float]] = []  # (axis order: step first, x, series, value)
    losses = (*NAN_LOSS_SERIES, *unrecognised_losses(h))
    for name in (*losses, *NAN_GRAD_SERIES):
        for order, axis in enumerate(AXES):  # the finer axis first: it dates the onset more precisely
            bad = _first_bad(h, name, axis)
            if bad is not None:
                events.append((order, bad[0], name, bad[1]))
    for (name, axis), s in h.series.items():
        if name.startswith("grad_norm/") and len(s):
            x = s.first_nonfinite()
            if x is not None:
                events.append((0 if axis == "step" else 1, x, name, math.nan))
    if not events:
        return None
    events.sort(key=lambda e: (e[0], e[1], e[2] not in NAN_LOSS_SERIES))
    order, onset, series, value = events[0]
    axis = AXES[order]
    loss_broke = any(e[2] in losses for e in events)
    diverged = math.isfinite(value)

    # The story before the onset: the last finite losses and gradient norms, and how the norm moved.
    loss_c = get_curve(h, "train_loss", axis)
    grad_c = get_curve(h, "grad_norm", axis)
    loss_before = _before(loss_c, onset)
    grad_before = _before(grad_c, onset)
    surge = _surge(grad_c, onset)
    loss_surge = _surge(loss_c, onset)
    train_s = h.get("train_loss", axis)
    first_is_bad = bool(train_s is not None and len(train_s) and (train_s.x[0] == onset and series == "train_loss"))
    evidence: dict[str, object] = {
        "onset": onset,
        "axis": axis,
        "series": series,
        "value": value,
        "loss_before": loss_before,
        "grad_norm_before": grad_before,
        "grad_norm_surge": surge,
        "loss_surge": loss_surge,
        "first_loss_nonfinite": first_is_bad,
        "also_in": sorted({e[2] for e in events[1:] if e[2] != series}),
    }

    if not loss_broke:
        # Only gradients were non-finite: with finite losses around them these can be fp16 loss-scale overflows
        # that GradScaler skips; persistent ones are not.
        frac, last_bad = _nonfinite_fraction(h, series if series in NAN_GRAD_SERIES else "grad_norm", axis)
        evidence["nonfinite_fraction"] = frac
        if frac <= AMP_SKIP_FRACTION and not last_bad:
            return finding(
                issue="nan_inf",
                rule="nan_or_inf",
                severity="info",
                diagnosis=(
                    f"{series} was NaN/Inf at {at(axis, onset)} ({frac:.1%} of logged values) while the loss stayed "
                    "finite; isolated overflows like this are what fp16 GradScaler skips. If you do not train in fp16, "
                    "treat it as an early sign of instability."
                ),
                evidence=evidence,
                source=NAN_SOURCE,
                solution=solutions("nan_inf", first=("GradScaler", "clipping")),
                axis=axis,
                began_at=onset,
                confidence=0.5,
            )

    lr = current_lr(h, before=onset, axis=axis)
    notes = {"Reduce learning rate": f"lr {fmt(lr)} -> {fmt(lr / 10)}"} if lr else {}
    first: tuple[str, ...]
    if first_is_bad:
        first = ("Check input data", "numerical stability")
        why = "the very first logged loss is already non-finite, which points at the data or the loss, not at training"
    elif surge is not None and surge >= GRAD_SURGE_FACTOR:
        first = ("gradient clipping", "Reduce learning rate")
        why = f"the gradient norm rose {fmt(surge)}x above its running median just before: a gradient explosion"
    elif surge is None and loss_surge is not None and loss_surge >= LOSS_SURGE_FACTOR:
        first = ("gradient clipping", "Reduce learning rate")
        why = f"the loss rose {fmt(loss_surge)}x above its running median just before: the run was diverging"
    elif grad_c is None:
        first = ()
        why = "no gradient norm was logged to tell an explosion from an unsafe operation or a bad batch: check both"
    else:
        first = ()
        why = "no gradient surge was logged before it, so check for an unsafe operation or a bad batch as well"
    what = f"diverged to {fmt(value)}" if diverged else f"became {value}"
    before = f"; the last finite train losses were {', '.join(fmt(v) for v in loss_before)}" if loss_before else ""
    return finding(
        issue="nan_inf",
        rule="nan_or_inf",
        severity="error",
        diagnosis=f"{series} {what} at {at(axis, onset)}{before}; {why}.",
        evidence=evidence,
        source=NAN_SOURCE,
        solution=solutions("nan_inf", first=first, notes=notes),
        axis=axis,
        began_at=onset,
        confidence=1.0,
    )


def _before(c: Curve | None, onset: float) -> list[float]:
    if c is None:
        return []
    return [float(v) for v in c.y[c.x < onset][-PRE_ONSET_POINTS:]]


def _surge(c: Curve | None, onset: float) -> float | None:
    """Largest value in the last points before the onset, relative to the median of the points before those."""
    if c is None:
        return None
    y = c.y[c.x < onset]
    if len(y) < 3:
        return None
    k = min(PRE_ONSET_POINTS, len(y) // 2)
    base = float(np.median(y[:-k]))
    return float(np.max(y[-k:]) / base) if base > 0 else None


# --------------------------------------------------------------------------------------------- loss_spike

# problems.yaml loss_spike: compare with the running median of the previous ~100 steps; PaLM (Chowdhery et al.,
# arXiv 2204.02311, Sec. 5.1) likewise rewinds ~100 steps before a spike.
SPIKE_WINDOW = 100
# Heuristic: points of baseline needed before a spike can be judged.
SPIKE_MIN_HISTORY = 10
# problems.yaml loss_spike: more than ~5 robust (MAD) standard deviations above the running median.
SPIKE_SIGMAS = 5.0
# Heuristic: ... and at least 50% above the running median, so a very smooth curve's small blips do not count.
SPIKE_MIN_JUMP = 0.5
# Heuristic: ... or 15% for a per-epoch loss: a mean over a whole epoch's batches does not jump that far by noise
# (issue 13, blind27: a ViT's ImageNet train loss 4.50 -> 5.31 in one epoch, its 384-pixel top-1 77.6% -> 54.1%, still
# 12.8 points under its peak 100 epochs later).
SPIKE_MIN_JUMP_EPOCH = 0.15
# Heuristic: ... and such a spike is an event (a warning) when it takes back a quarter or more of the progress made
# before it (peak less the lowest loss so far, over the first epoch's loss less that lowest): the ViT above undid
# 34%, while epoch means of losses near zero blip by 9-14% of theirs (issue 13's tuning logs: 0.0001 -> 0.042 after
# starting at 0.45; 0.030 -> 0.086 after starting at 0.44).
SPIKE_UNDONE_SHARE = 0.25
# Heuristic: a spike lasting >= 3 logged points, one above where the loss started (it undid the training so far), a
# spike of a per-epoch train loss that undid SPIKE_UNDONE_SHARE of the progress made before it, or several spikes one
# of which reached >= 3x the running median, is a real event (warning); one brief spike that recovered below the
# initial loss is reported as info (one bad batch).
SPIKE_LARGE_RATIO = 3.0
SPIKE_LONG_POINTS = 3
# Heuristic: recovered when the loss is back within 2 sigmas of the baseline within 20 logged points.
SPIKE_RECOVER_POINTS = 20
SPIKE_RECOVER_SIGMAS = 2.0
# problems.yaml loss_spike: "spikes that recur and grow precede divergence" (heuristic count: 3).
SPIKE_REPEAT = 3
# A brief spike of a per-step loss that came back and stayed below where the loss started, on a curve whose batches
# already scatter by HARD_BATCH_NOISE of its level or more (robust sigma over the running median), is a hard batch: the
# heavy tail of a noisy per-batch loss, which a MAD sigma underestimates, of a model still better than at its start.
# However many there are, they are no warning (issue 13's corpus: 6 runs, MNIST, Fashion-MNIST, CIFAR-10, cats vs dogs,
# fundus images and a tabular model, three healthy and three overfitting, warned of 3-8 one-point spikes to 0.03-1.0 of
# per-batch losses that started at 0.09-2.3, with a scatter of 16-130% of their level). A large-batch LLM loss
# scatters by a few percent, so its one-point jumps stay events; a per-epoch loss averages its batches, so its spikes
# do too (blind17's grokking run). The 10% is a heuristic.
HARD_BATCH_NOISE = 0.10
# A spike where the lr jumped up at the same time (warm restarts, SGDR: Loshchilov & Hutter, arXiv 1608.03983) is
# the schedule's doing, not instability (`_common.LR_RESTART_RATIO`).
# A brief spike (fewer than SPIKE_LONG_POINTS points) whose jump is under this share of the loss's initial level (the
# median of its first INITIAL_POINTS values) is batch noise on a loss that is already near zero, not an event: a
# per-batch loss going 0.0003 -> 0.016 after starting at 0.7 (issue 13's corpus: 6 of the 7 false alarms were relative
# detectors firing on small losses). An LLM's spike from 2.0 to 3.5 after starting at 10.8 is 14% and still counts.
INITIAL_POINTS = 3
SPIKE_MIN_JUMP_OF_INITIAL = 0.10
# Heuristic: SPIKE_NOISE_MIN_EVENTS or more "spikes" at more than SPIKE_NOISE_RATE of the judged points of a per-step
# curve are its own heavy-tailed batch noise (a per-step loss on tiny batches), which a MAD sigma underestimates, not
# events (issue 13's corpus: 597 in 5,286 per-step points of a healthy run). A per-epoch loss averages its batches, so
# its spikes are events however many there are (blind17: a grokking run's epoch loss jumping 10-150x its level 12
# times, each time recovering).
SPIKE_NOISE_MIN_EVENTS = 10
SPIKE_NOISE_RATE = 0.02
# The running window in logged points is at most SPIKE_WINDOW and at most this share of the curve, so a short curve
# logged every 50 steps compares a point with its recent level, not with the start of the run (heuristic).
SPIKE_WINDOW_SHARE = 0.2
# Step curves need this many points, epoch curves this many (heuristic).
SPIKE_MIN_STEP_POINTS = 30
SPIKE_MIN_EPOCH_POINTS = 12

# Heuristic: a validation-loss spike is judged only when it is the curve's one spike and reaches 3x its running median.
VAL_SPIKE_RATIO = 3.0
# Heuristic: a single value 20x the median of the rest of a >= 6-point curve is a spike wherever it falls.
EXTREME_RATIO = 20.0
EXTREME_MIN_POINTS = 6
# ... and so is every excursion of a validation loss that jumps EXTREME_RATIO above the evaluation before it and falls
# EXTREME_RATIO below its peak within EXCURSION_BACK evaluations: over 1.3 decades up and down, whatever the curve does
# around it (issue 13, blind12: a val loss 5.58 -> 6.6e12 -> 5.48 -> 166879 -> 5.53; another 0.0156 -> 42 -> 35.8 ->
# 2.4 -> 0.079, later 0.0024 -> 0.947 -> 1.8e-5, while the train loss falls throughout). As for the brief spikes, the
# jump must be SPIKE_MIN_JUMP_OF_INITIAL of where the curve started (blind19: a val loss that started at 2.24 going
# 0.00057 -> 0.164 -> 0.0029 at 97-100% validation accuracy is a near-zero loss's noise).
EXCURSION_BACK = 3

SPIKE_SOURCE = (
    "problems.yaml loss_spike (running median of ~100 steps, > ~5 MAD sigmas); Chowdhery et al., PaLM, arXiv "
    "2204.02311 Sec. 5.1; Amazon SageMaker Debugger StepOutlier (outliers vs sigma); thresholds 1.5x/3x are heuristics"
)


@dataclass(frozen=True)
class _Spike:
    x: float  # where it started
    peak: float
    baseline: float  # running median before it
    ratio: float  # peak / baseline
    sigmas: float  # (peak - baseline) / robust sigma
    points: int  # logged points above the threshold
    recovered: bool | None  # None: too close to the end to tell


def _jump_floor(y: np.ndarray) -> float:
    """The smallest jump a brief spike or an excursion must make: SPIKE_MIN_JUMP_OF_INITIAL of where the curve
    started (the median of its first INITIAL_POINTS values)."""
    return SPIKE_MIN_JUMP_OF_INITIAL * abs(float(np.median(y[:INITIAL_POINTS])))


def _spike_events(c: Curve) -> list[_Spike]:
    """Spikes that matter: sustained ones (`SPIKE_LONG_POINTS`), and brief ones whose jump is a real share of where
    the loss started (`SPIKE_MIN_JUMP_OF_INITIAL`); none when they are the curve's noise (`SPIKE_NOISE_RATE`)."""
    floor = _jump_floor(c.y)
    events = [e for e in _raw_spikes(c) if e.points >= SPIKE_LONG_POINTS or e.peak - e.baseline > floor]
    noise = (
        c.axis == "step"
        and len(events) >= SPIKE_NOISE_MIN_EVENTS
        and len(events) > SPIKE_NOISE_RATE * (len(c) - SPIKE_MIN_HISTORY)
    )
    return [] if noise else events


def _raw_spikes(c: Curve) -> list[_Spike]:
    y = c.y
    window = max(SPIKE_MIN_HISTORY, min(SPIKE_WINDOW, int(SPIKE_WINDOW_SHARE * len(y))))
    meds, sigs = trailing_stats(y, window, min_history=SPIKE_MIN_HISTORY)
    min_jump = SPIKE_MIN_JUMP_EPOCH if (c.name, c.axis) == ("train_loss", "epoch") else SPIKE_MIN_JUMP
    events: list[_Spike] = []
    i = SPIKE_MIN_HISTORY
    while i < len(y):
        med, sig = float(meds[i]), float(sigs[i])

        def high(v: float, med: float = med, sig: float = sig) -> bool:
            jump = v - med
            return jump > 0 and jump > SPIKE_SIGMAS * sig and jump > min_jump * abs(med)

        if not high(y[i]):
            i += 1
            continue
        j = i
        while j + 1 < len(y) and high(y[j + 1]):
            j += 1
        peak = float(np.max(y[i : j + 1]))
        after = y[j + 1 : j + 1 + SPIKE_RECOVER_POINTS]
        back = np.nonzero(after <= med + SPIKE_RECOVER_SIGMAS * sig + 0.05 * abs(med))[0]
        recovered: bool | None = True if len(back) else (False if len(after) >= SPIKE_RECOVER_POINTS // 4 else None)
        events.append(
            _Spike(
                x=float(c.x[i]),
                peak=peak,
                baseline=med,
                ratio=peak / med if med > 0 else math.inf,
                sigmas=(peak - med) / sig if sig > 0 else math.inf,
                points=j - i + 1,
                recovered=recovered,
            )
        )
        i = j + 1 + (int(back[0]) if len(back) else len(after))
    return events


def _lr_jumped(h: RunHistory, axis: Axis, x: float) -> bool:
    lr = get_curve(h, "lr", axis)
    if lr is None or len(lr) < 2:
        return False
    before = lr.y[lr.x < x]
    upto = lr.y[lr.x <= x]
    if len(before) < 2 or len(upto) == 0:
        return False
    return bool(upto[-1] >= LR_RESTART_RATIO * np.min(before[-5:]))


def _spiking_curve(h: RunHistory) -> tuple[Curve | None, list[_Spike]]:
    """The train loss (per step, else per epoch) and its spikes; when it has none, the validation loss when it has
    exactly one spike, of VAL_SPIKE_RATIO or more, that came back (one at the end is a rise, not a spike; issue 13's
    corpus: a val loss of 206,646 for one epoch between 57.8 and 45.8, then back to its trend). A val loss that jumps
    2x now and then is a noisy or oscillating one."""
    train = get_curve(h, "train_loss", "step", min_points=SPIKE_MIN_STEP_POINTS) or get_curve(
        h, "train_loss", "epoch", min_points=SPIKE_MIN_EPOCH_POINTS
    )
    events = [e for e in _spike_events(train) if not _lr_jumped(h, train.axis, e.x)] if train is not None else []
    if events:
        return train, events
    short_val = epoch_or_step(h, "val_loss", min_epochs=EXTREME_MIN_POINTS, min_steps=EXTREME_MIN_POINTS)
    excursions = _excursions(short_val) if short_val is not None else []
    if short_val is not None and excursions:
        return short_val, excursions
    val = get_curve(h, "val_loss", "epoch", min_points=SPIKE_MIN_EPOCH_POINTS) or get_curve(
        h, "val_loss", "step", min_points=SPIKE_MIN_EPOCH_POINTS
    )
    val_events = _spike_events(val) if val is not None else []
    if len(val_events) == 1 and val_events[0].ratio >= VAL_SPIKE_RATIO and val_events[0].recovered:
        return val, val_events
    extreme = _isolated_extreme(short_val) if short_val is not None else None
    if short_val is not None and extreme is not None:
        return short_val, [extreme]
    return train, []


def _excursions(c: Curve) -> list[_Spike]:
    """Each jump of a positive curve to EXTREME_RATIO times the point before it that falls back EXTREME_RATIO below
    its peak within EXCURSION_BACK points (the run of points in between is one spike)."""
    y = c.y
    if len(y) < EXTREME_MIN_POINTS or float(np.min(y)) <= 0:
        return []
    sigma = MAD_TO_SIGMA * float(np.median(np.abs(y - np.median(y))))
    floor = _jump_floor(y)
    events: list[_Spike] = []
    i = 1
    while i < len(y):
        before = float(y[i - 1])
        if y[i] < EXTREME_RATIO * before or y[i] - before <= floor:
            i += 1
            continue
        ahead = y[i : i + EXCURSION_BACK + 1]
        top = int(np.argmax(ahead))
        back = np.nonzero(ahead[top:] * EXTREME_RATIO <= ahead[top])[0]
        if not len(back):
            i += 1
            continue
        peak, end = float(ahead[top]), i + top + int(back[0])  # `end`: the first point back down
        sigmas = (peak - before) / sigma if sigma > 0 else math.inf
        events.append(_Spike(x=float(c.x[i]), peak=peak, baseline=before, ratio=peak / before, sigmas=sigmas,
                             points=end - i, recovered=True))  # fmt: skip
        i = end
    return events


def _isolated_extreme(c: Curve) -> _Spike | None:
    """One point EXTREME_RATIO times the median of all the others, after which the curve comes back to within 2x that
    median: a spike too early in the run for the running-median test, which needs SPIKE_MIN_HISTORY points before it
    (issue 13's corpus: a val loss of 0.33, 0.092, 789, 0.995, 0.146, ... 0.024)."""
    if len(c) < EXTREME_MIN_POINTS:
        return None
    i = int(np.argmax(c.y))
    rest = np.delete(c.y, i)
    med = float(np.median(rest))
    after = c.y[i + 1 :]
    if i == 0 or med <= 0 or c.y[i] < EXTREME_RATIO * med or not (after <= 2 * med).any():
        return None
    if float(np.sort(rest)[-1]) >= EXTREME_RATIO * med:
        return None  # more than one such point: a curve with outliers, not one event
    peak = float(c.y[i])
    sigma = MAD_TO_SIGMA * float(np.median(np.abs(rest - med)))
    sigmas = (peak - med) / sigma if sigma > 0 else math.inf
    return _Spike(x=float(c.x[i]), peak=peak, baseline=med, ratio=peak / med, sigmas=sigmas, points=1, recovered=True)


def _undid_progress(c: Curve, e: _Spike) -> bool:
    """A per-epoch train loss spike that took back SPIKE_UNDONE_SHARE or more of the progress made before it, from the
    first epoch's loss to the lowest one before the spike."""
    before = c.y[c.x < e.x]
    if (c.name, c.axis) != ("train_loss", "epoch") or len(before) < 2:
        return False
    first, lowest = float(before[0]), float(np.min(before))
    return first > lowest and (e.peak - lowest) / (first - lowest) >= SPIKE_UNDONE_SHARE


def _hard_batch(c: Curve, e: _Spike, initial: float) -> bool:
    """A brief spike of a noisy per-step loss that did not fail to recover and peaked below the loss's starting
    level (`HARD_BATCH_NOISE`)."""
    if c.axis != "step" or e.points >= SPIKE_LONG_POINTS or e.recovered is False or e.peak >= initial:
        return False
    sigma = (e.peak - e.baseline) / e.sigmas  # the robust sigma the spike was judged with
    return e.baseline > 0 and sigma >= HARD_BATCH_NOISE * e.baseline


@register_rule(issue="loss_spike")
def loss_spikes(h: RunHistory) -> Finding | None:
    """Symptom: the training loss suddenly jumps far above its recent level (more than 5 robust sigmas and 1.5x the
    running median) and then comes back down, or does not; or the validation loss does so once, by 3x or more.
    Cause: an update that was too large for the local curvature (too high a peak learning rate, no clipping, Adam
    instability in large Transformers), or a bad batch (corrupted, extremely long or duplicated samples).
    Remedy: clip gradients (max_norm=1.0), lower the peak lr and lengthen warmup; if spikes recur, restart from a
    checkpoint ~100 steps before the spike and skip the batches around it, and inspect the batch at the spike.
    """
    c, events = _spiking_curve(h)
    if c is None or not events:
        return None
    initial = float(np.median(c.y[:INITIAL_POINTS]))
    judged = [e for e in events if not _hard_batch(c, e, initial)]
    big = [e for e in judged if e.points >= SPIKE_LONG_POINTS or e.peak > initial or _undid_progress(c, e)
           or (e.ratio >= SPIKE_LARGE_RATIO and len(judged) > 1)]  # fmt: skip
    stuck = [e for e in judged if e.recovered is False]
    worst = max(events, key=lambda e: e.ratio)
    warn = bool(big or stuck or len(judged) >= SPIKE_REPEAT)
    grown = len(events) >= 2 and events[-1].ratio > events[0].ratio
    outcome = {True: "recovered", False: "did not recover", None: "is too close to the end to tell"}[worst.recovered]
    diagnosis = (
        f"{len(events)} spike(s) in the {c.name.replace('_', ' ')} per {c.axis}; the largest reached "
        f"{fmt(worst.peak)}, {fmt(worst.ratio)}x its level before it ({fmt(worst.baseline)}), at "
        f"{at(c.axis, worst.x)} and {outcome}."
    )
    if stuck:
        diagnosis += (
            f" {len(stuck)} did not come back within {SPIKE_RECOVER_POINTS} logged points (first at "
            f"{at(c.axis, stuck[0].x)}): the run diverged or jumped to a worse region there."
        )
    elif len(judged) >= SPIKE_REPEAT:
        diagnosis += " Recurring spikes" + (" that grow" if grown else "") + " often precede divergence."
    if len(judged) < len(events):
        diagnosis += (
            f" {len(events) - len(judged)} of them lasted under {SPIKE_LONG_POINTS} logged points, came back and "
            f"stayed below where the loss started ({fmt(initial)}): hard batches, not instability."
        )
    return finding(
        issue="loss_spike",
        rule="loss_spikes",
        severity="warning" if warn else "info",
        diagnosis=diagnosis,
        evidence={
            "n_spikes": len(events),
            "spikes": [asdict(e) for e in events[:10]],
            "axis": c.axis,
            "n_points": len(c),
            "window": SPIKE_WINDOW,
        },
        source=SPIKE_SOURCE,
        solution=solutions("loss_spike", first=("Restart from a checkpoint",) if len(judged) >= SPIKE_REPEAT else ()),
        axis=c.axis,
        began_at=events[0].x,
        confidence=scaled_confidence(worst.ratio, 1.5, 2 * SPIKE_LARGE_RATIO),
    )
