"""How training progresses: too slowly (slow convergence) or up and down instead of down (loss oscillation)."""

from __future__ import annotations

import math

import numpy as np

from ...schema.diagnosis import Finding, Severity
from .._registry import register_rule
from ..history import RunHistory
from ._common import (
    MAD_TO_SIGMA,
    Curve,
    bin_medians,
    current_lr,
    eval_interval,
    finding,
    fits_the_training_set,
    fmt,
    frozen_val_acc,
    get_curve,
    n_classes,
    recent,
    scaled_confidence,
    solutions,
    steps_per_epoch,
    val_acc_at_chance,
)

# AUTOTRAINER (Zhang et al., ICSE 2021; monitor.py `loss_issue`, judgment_point = 0.3): curves are only judged once
# 30% of the run is done; the oscillation rule also ignores that first 30%, where large moves are normal.
JUDGE_AFTER = 0.3


def _epoch_loss(h: RunHistory, min_points: int, *, spe: int | None = None) -> Curve | None:
    """The train loss per epoch: the epoch series, or the medians of the step series grouped into epochs of `spe`
    steps (default: the steps per epoch, from meta or read off a series logged on both axes)."""
    c = get_curve(h, "train_loss", "epoch", min_points=min_points)
    if c is not None:
        return c
    spe = spe or steps_per_epoch(h)
    s = get_curve(h, "train_loss", "step", min_points=min_points)
    if s is None or spe is None:
        return None
    ep = np.floor((s.x - 1) / spe)
    keys = np.unique(ep)
    c = Curve("train_loss", "epoch", keys, np.array([float(np.median(s.y[ep == k])) for k in keys]))
    return c if len(c) >= min_points else None


def _slope(y: np.ndarray) -> float:
    """Least-squares slope per point (0 for fewer than 2 points)."""
    return float(np.polyfit(np.arange(len(y)), y, 1)[0]) if len(y) >= 2 else 0.0


# ---------------------------------------------------------------------------------------------- slow_convergence

# Heuristic: at least 8 epochs before "slow" can be told from "early".
SLOW_MIN_EPOCHS = 8
# problems.yaml slow_convergence: "< ~1% relative improvement per epoch while far from the target".
SLOW_REL_PER_EPOCH = 0.01
# ... and at least 0.01% per epoch: a loss that moves less than that has stopped, not slowed (issue 13, blind8: an
# 11-class model at ln 11 = 2.398, falling 0.001% per epoch, is the stuck rule's). Heuristic.
SLOW_REL_FLOOR = 1e-4
# Heuristic: "far from the target" = the loss is still above half of ln(C) (a uniform guess), or of its first value.
SLOW_FAR_FRACTION = 0.5
# Heuristic: a steady decline = >= 70% of the pairs of epochs in the judged window are in decreasing order (Kendall's
# concordance, robust to epoch-to-epoch noise), not a plateau.
SLOW_STEADY_FRACTION = 0.7
# Heuristic: a curve whose decrease rate halves within the judged window is levelling off at its floor (converged),
# not slow; slow convergence keeps a roughly constant (small) rate.
SLOW_DECELERATION = 0.5
# AUTOTRAINER `loss_issue` sc_accuracy: the largest epoch-to-epoch accuracy gain is below delta = 0.01 (train and val)
# while accuracy stays below the satisfying level Theta = 0.7 (AUTOTRAINER default_param).
SLOW_ACC_DELTA = 0.01
SLOW_ACC_SATISFIED = 0.7
# Slow convergence is a loss that comes down, too slowly. A loss above where it started has not converged at all
# (divergence speaks for it: issue 13, blind3, a Bayesian net's loss at 95 after starting at 0.55, "falling 0.03% per
# epoch"), and a validation accuracy identical at every evaluation says the predictions do not move while the loss
# learns the class shares (the constant-prediction and stuck rules speak for it: blind3 and blind4, 5- and 7-class
# runs frozen at 20.0% and 66.98%).

SLOW_SOURCE = (
    "seed Step 5 (Slow Convergence); problems.yaml slow_convergence (< ~1% relative improvement per epoch while far "
    "from the target); AUTOTRAINER (Zhang et al., ICSE 2021) sc_accuracy (max epoch accuracy gain < 0.01, accuracy "
    "< 0.7); 8 epochs, 0.5 ln C, 70% steady are heuristics"
)


@register_rule(issue="slow_convergence", online=False)
def slow_convergence(h: RunHistory) -> Finding | None:
    """Symptom: the loss keeps decreasing, but by less than 1% per epoch, while it is still far from converged (above
    half of its starting value, or of ln C); or accuracy creeps up by under 1 point per epoch and stays below 70%.
    Cause: a learning rate that is too low, a timid schedule, poor conditioning (unnormalised inputs, no normalisation
    layers), or a batch too small for the step size; a slow input pipeline makes each epoch slow as well.
    Remedy: raise the learning rate 2-3x (pick it with an LR range test) or use OneCycleLR; add normalisation layers;
    enable mixed precision and a faster data loader to make each epoch cheaper.
    """
    if frozen_val_acc(h) is not None or val_acc_at_chance(h) is not None:
        return None  # predictions that never change, or never beat chance, are the stuck rule's: nothing to speed up
    if fits_the_training_set(h):
        return None  # every training sample is right: what still falls is a regulariser, and a gap is generalisation
    reasons: list[str] = []
    evidence: dict[str, object] = {}
    began: float | None = None
    severity: Severity = "info"
    c = _epoch_loss(h, SLOW_MIN_EPOCHS)
    C = n_classes(h)
    accs = [a for a in (get_curve(h, n, "epoch", min_points=SLOW_MIN_EPOCHS) for n in ("train_acc", "val_acc")) if a]
    low_acc = bool(accs) and all(recent(a) < SLOW_ACC_SATISFIED for a in accs)
    # What the slow loss costs is judged on validation when it is logged (issue 13, blind7: a video model at 0.74
    # train but 0.50 val accuracy after 100 epochs, its loss still falling 0.2% per epoch).
    val_acc = get_curve(h, "val_acc", "epoch", min_points=SLOW_MIN_EPOCHS)
    short_of_target = low_acc or (val_acc is not None and recent(val_acc) < SLOW_ACC_SATISFIED)
    confidence = 0.5
    if c is not None:
        w = c.tail(0.5, min_points=4)
        level = float(np.mean(w.y))
        rate = -_slope(w.y) / level if level > 0 else 0.0
        half = len(w) // 2
        early, late = -_slope(w.y[: half + 1]), -_slope(w.y[half:])
        decelerating = early > 0 and late < SLOW_DECELERATION * early
        i, j = np.triu_indices(len(w), k=1)
        steady = float(np.mean(w.y[j] < w.y[i]))
        ref = math.log(C) if C else float(c.y[0])
        now = recent(c)
        far = ref > 0 and now >= SLOW_FAR_FRACTION * ref
        came_down = now < float(c.y[0])
        evidence.update(
            {
                "rel_improvement_per_epoch": rate,
                "steady_fraction": steady,
                "decelerating": decelerating,
                "loss_now": now,
                "reference_loss": ref,
                "reference": "ln(n_classes)" if C else "first epoch loss",
                "epochs": len(c),
            }
        )
        slow = SLOW_REL_FLOOR <= rate < SLOW_REL_PER_EPOCH and steady >= SLOW_STEADY_FRACTION and not decelerating
        if slow and far and came_down:
            reasons.append(
                f"over the last {len(w)} epochs the train loss fell only {rate:.2%} per epoch on average, "
                f"steadily ({steady:.0%} of epoch pairs in order) and without levelling off; at {fmt(now)} it is "
                f"still {now / ref:.0%} of {'ln(C)' if C else 'its first-epoch value'}"
                + (f", with accuracy still below {SLOW_ACC_SATISFIED:.0%}" if short_of_target and not C else "")
            )
            began = float(w.x[0])
            # Without ln(C) there is no target to be far from, unless the accuracy gives one (still below AUTOTRAINER's
            # satisfying level); otherwise a model at its capacity looks the same (info).
            severity = "warning" if C or short_of_target else "info"
            confidence = scaled_confidence(SLOW_REL_PER_EPOCH - rate, 0, SLOW_REL_PER_EPOCH, c_lo=0.55, c_hi=0.85)
    if accs:
        gains = {a.name: float(np.max(np.diff(a.y))) for a in accs}
        rising = all(recent(a) - float(a.y[0]) >= SLOW_ACC_DELTA for a in accs)
        evidence["max_epoch_acc_gain"] = gains
        if all(g < SLOW_ACC_DELTA for g in gains.values()) and rising and low_acc:
            reasons.append(
                "accuracy gains at most "
                + ", ".join(f"{g:.2%} ({n})" for n, g in gains.items())
                + f" per epoch and is still below {SLOW_ACC_SATISFIED:.0%}"
            )
            severity = "warning"
            if began is None:
                began = float(accs[0].x[int(len(accs[0]) * JUDGE_AFTER)])
    if not reasons:
        return None
    lr = current_lr(h)
    return finding(
        issue="slow_convergence",
        rule="slow_convergence",
        severity=severity,
        diagnosis="Slow convergence: " + "; ".join(reasons) + ".",
        evidence={**evidence, "lr": lr},
        source=SLOW_SOURCE,
        solution=solutions(
            "slow_convergence",
            notes={"Increase learning rate": f"lr {fmt(lr)} -> {fmt(2 * lr)}-{fmt(3 * lr)}"} if lr else {},
        ),
        axis="epoch",
        began_at=began,
        confidence=confidence,
    )


# ---------------------------------------------------------------------------------------------- loss_oscillation

# AUTOTRAINER `ol_judge`: training is unstable when reversals of at least zeta happen in at least eta of the epochs;
# default_param zeta = 0.03 (on accuracy) and eta = 0.2.
OSC_ACC_SWING = 0.03
OSC_RATE = 0.2
# Heuristic: for a loss, a reversal counts when the moves into and out of it are both >= 10% of the local level
# (epoch means, or the medians of the logged steps of each epoch, which estimate them), or >= 15% on step curves cut
# into bins that ignore epoch boundaries (bin medians, which keep more noise).
OSC_LOSS_SWING = 0.10
OSC_STEP_LOSS_SWING = 0.15
# Heuristic: ... and >= 5% of the curve's whole range over the run, so the relative wobble of a loss that has
# converged near zero (0.001 -> 0.0012) is not called an oscillation.
OSC_MIN_OF_RANGE = 0.05
# Heuristic: validation curves are noisier (a finite evaluation set, and no averaging over an epoch's batches), so a
# reversal there needs a 25% move of the validation loss (or 5 accuracy points): the swings of issue 13's oscillating
# runs were 1.4-8.6 (CIFAR-10 at LR 0.1 with Adam) and 746-3535 (an unscaled regression target).
OSC_VAL_LOSS_SWING = 0.25
OSC_VAL_ACC_SWING = 0.05
# Heuristic: a validation loss spanning this many orders of magnitude (after its first evaluations) is judged on a
# log scale (issue 13's blind10: a val loss going 0.006 -> 3.2 -> 8.2 -> 0.3 -> 0.009 -> 0.05 -> 1.7 -> 0.2).
OSC_LOG_DECADES = 2.0
# ... where a reversal moves at least half a decade (3.2x) each way: across decades, 25% swings are the noise of a loss
# near zero logged to 4 decimals (blind2: a healthy val loss settling 0.0007 -> 0.0005 -> 0.0006).
OSC_LOG_SWING = 0.5
# Heuristic: a swing between two medians of logged steps counts when it is 2 standard errors of their difference.
OSC_NOISE_Z = 2.0
# Heuristic: the up-and-down movement is >= 3x the net change over the judged window (oscillation, not progress).
OSC_TV_RATIO = 3.0
# An accuracy measured on n samples (its values all multiples of 1/n, n at most OSC_GRID_MAX_N) moves by sampling
# alone by sqrt(p(1 - p) / n) (the binomial standard error); a swing counts only past OSC_NOISE_Z of those (issue 13,
# blind30: 58 training images at 0.95-1.0, 14 validation images in steps of 0.071).
OSC_GRID_MAX_N = 1000
# Heuristic: points needed in the judged window; step curves are grouped into epochs (medians) when the steps per
# epoch are known, else reduced to medians of bins of >= 10 logged points.
OSC_MIN_POINTS = 6
OSC_STEP_BIN = 10
OSC_MAX_BINS = 40
# The fewest bins whose window after the first 30% still holds OSC_MIN_POINTS of them (8 - int(0.3 * 8) = 6).
OSC_MIN_BINS = next(n for n in range(OSC_MIN_POINTS, 100) if n - int(n * JUDGE_AFTER) >= OSC_MIN_POINTS)
OSC_MIN_EPOCHS = math.ceil(OSC_MIN_POINTS / (1 - JUDGE_AFTER))

# Heuristic: an accuracy whose judged window never gets 15 points above chance (1/C) is a stuck run's noise; the stuck
# and underfitting rules speak for it (issue 13's corpus: 4-class runs at 0.23-0.32 accuracy, loss at ln 4).
OSC_AT_CHANCE = 0.15

OSC_SOURCE = (
    "AUTOTRAINER (Zhang et al., ICSE 2021) ol_judge / unstable_loss (zeta = 0.03 on accuracy, eta = 0.2, judged after "
    "30% of the run); problems.yaml loss_oscillation; 10%/15% loss swings and the 3x movement/progress ratio are "
    "heuristics"
)


def _median_noise(steps: Curve, per_group: float) -> float:
    """The smallest move between two group medians that the logged steps' own noise does not make by chance:
    OSC_NOISE_Z standard errors of the difference of two medians of `per_group` steps each. The per-step noise is the
    robust spread of step-to-step differences over sqrt 2, so a trend does not count as noise; the standard error of a
    median is 1.2533 sigma / sqrt n (Kenney & Keeping 1962). Issue 13's blind10: a stuck classifier whose per-batch
    loss wanders 0.35-1.35 gave epoch medians of 7 batches that "reversed" 5 times in 12 epochs."""
    diffs = np.diff(steps.y)
    sigma = MAD_TO_SIGMA * float(np.median(np.abs(diffs - np.median(diffs)))) / math.sqrt(2) if len(diffs) else 0.0
    return OSC_NOISE_Z * 1.2533 * sigma * math.sqrt(2 / max(per_group, 1.0))


def _decades(y: np.ndarray) -> float:
    """Orders of magnitude a positive curve spans (0 when any value is not positive)."""
    return float(np.log10(np.max(y) / np.min(y))) if len(y) and float(np.min(y)) > 0 else 0.0


def _log10(c: Curve) -> Curve:
    return Curve(c.name, c.axis, c.x, np.log10(c.y))


def _reversals(
    y: np.ndarray, *, relative: bool, threshold: float, floor: float = 0.0, lower_is_better: bool = True
) -> tuple[list[int], float]:
    """Indices of turning points where the move in and the move out both exceed `threshold` (relative to the local
    level when `relative`) and the absolute `floor`, and the total-variation / progress ratio of `y`. Progress is
    the net move in the good direction (down for a loss, up for an accuracy): a curve that ends worse than it began
    made none (ratio inf), however far it moved."""
    d = np.diff(y)
    sign = np.sign(d)
    turns = [i for i in range(1, len(y) - 1) if sign[i - 1] != 0 and sign[i] != 0 and sign[i - 1] != sign[i]]
    ext = [0, *turns, len(y) - 1]
    out: list[int] = []
    for k in range(1, len(ext) - 1):
        a, b, c = y[ext[k - 1]], y[ext[k]], y[ext[k + 1]]
        size = min(abs(b - a), abs(c - b))
        level = abs(float(np.mean([a, b, c]))) if relative else 1.0
        if level > 0 and size / level >= threshold and size >= floor:
            out.append(ext[k])
    progress = float(y[0] - y[-1]) if lower_is_better else float(y[-1] - y[0])
    tv = float(np.sum(np.abs(d)))
    return out, tv / progress if progress > 0 else math.inf


def _sampling_noise(p: np.ndarray) -> float:
    """OSC_NOISE_Z binomial standard errors of an accuracy `p` (fractions) whose values all sit on the grid of 1/n,
    n read from its smallest step (n at most OSC_GRID_MAX_N); 0 when they sit on no such grid."""
    values = np.unique(np.round(p, 6))
    if len(values) < 2:
        return 0.0
    n = round(1 / float(np.min(np.diff(values))))
    if not 2 <= n <= OSC_GRID_MAX_N or not np.allclose(p * n, np.round(p * n), atol=1e-3):
        return 0.0
    mid = float(np.median(p))
    return OSC_NOISE_Z * math.sqrt(max(mid * (1 - mid), 1 / n) / n)


def _val_acc_holds_steady(h: RunHistory) -> bool:
    """The validation accuracy, when logged, stays within OSC_VAL_ACC_SWING over the judged window: the model's
    predictions do not swing, so neither does the model; a validation loss that does is moved by a few confident
    mistakes (issue 13, blind5: val loss 0.03-0.085 from epoch to epoch at 97.6-99.3% val accuracy)."""
    acc = get_curve(h, "val_acc", min_points=OSC_MIN_EPOCHS)
    if acc is None:
        return False
    w = acc.after(JUDGE_AFTER)
    percent = 100.0 if float(np.max(acc.y)) > 1.0 else 1.0
    return len(w) >= OSC_MIN_POINTS and float(np.max(w.y) - np.min(w.y)) / percent < OSC_VAL_ACC_SWING


@register_rule(issue="loss_oscillation")
def loss_oscillation(h: RunHistory) -> Finding | None:
    """Symptom: after the first 30% of the run the training loss (or accuracy) keeps going up and down by large
    amounts instead of decreasing: reversals of >= 10% of the loss (>= 3 accuracy points) in >= 20% of the epochs,
    with far more movement than net progress; or the validation loss (accuracy) does so by >= 25% (5 points).
    Cause: a learning rate too high for the batch size (the optimiser overshoots), unnormalised inputs, noisy labels,
    or data that is not shuffled (periodic batches).
    Remedy: reduce the learning rate 2-10x, add warmup and a decaying schedule, increase the batch size (or
    accumulate gradients), normalise inputs, clip gradients, and shuffle the data every epoch.
    """
    # (curve, is a loss, swing threshold, how it was made, the smallest swing its sampling noise cannot make)
    candidates: list[tuple[Curve, bool, float, str, float]] = []
    e = get_curve(h, "train_loss", "epoch", min_points=OSC_MIN_EPOCHS)
    # Without an epoch curve, the logged steps are grouped into epochs (or, in a log that does not say how long an
    # epoch is, into the stretches between two evaluations) and each group's median stands for its mean.
    spe, per = steps_per_epoch(h), "epoch"
    if spe is None and eval_interval(h) is not None:
        spe, per = eval_interval(h), "evaluation interval"
    grouped = _epoch_loss(h, OSC_MIN_EPOCHS, spe=spe) if e is None and spe else None
    steps = get_curve(h, "train_loss", "step", min_points=3)
    if e is not None:
        candidates.append((e, True, OSC_LOSS_SWING, "epoch curve", 0.0))
    elif grouped is not None and steps is not None:
        noise = _median_noise(steps, len(steps) / len(grouped))
        candidates.append((grouped, True, OSC_LOSS_SWING, f"medians of the logged steps per {per}", noise))
    elif steps is not None and len(steps) >= OSC_STEP_BIN * OSC_MIN_BINS:
        binned = bin_medians(steps, min_per_bin=OSC_STEP_BIN, max_bins=OSC_MAX_BINS)
        noise = _median_noise(steps, len(steps) / len(binned))
        candidates.append((binned, True, OSC_STEP_LOSS_SWING, "step curve, medians of binned steps", noise))
    acc = get_curve(h, "train_acc", "epoch", min_points=OSC_MIN_EPOCHS)
    if acc is not None:
        candidates.append((acc, False, OSC_ACC_SWING, "epoch curve", 0.0))
    for name, is_loss, thr in (("val_loss", True, OSC_VAL_LOSS_SWING), ("val_acc", False, OSC_VAL_ACC_SWING)):
        val = get_curve(h, name, min_points=OSC_MIN_EPOCHS)
        if val is not None and not (is_loss and _val_acc_holds_steady(h)):
            candidates.append((val, is_loss, thr, "one point per evaluation", 0.0))
    best: tuple[Curve, list[int], float, float, bool, float, str, bool] | None = None
    C = n_classes(h)
    for c, is_loss, thr, how, noise in candidates:
        w = c.after(JUDGE_AFTER)
        if len(w) < OSC_MIN_POINTS:
            continue
        percent = 100.0 if float(np.max(c.y)) > 1.0 else 1.0
        if not is_loss and C is not None and float(np.max(w.y)) / percent <= 1 / C + OSC_AT_CHANCE:
            continue  # an accuracy that never leaves chance wobbles with the sampling, not with the learning rate
        # A validation curve's first evaluation (before much training) does not set the scale its later swings are
        # measured against; a training curve's whole range does (its converged noise is not an oscillation).
        judged = c.y[max(1, len(c) // 10) :] if c.name.startswith("val_") else c.y
        log = c.name == "val_loss" and _decades(judged) >= OSC_LOG_DECADES
        if log:
            # Swings across orders of magnitude (0.006 -> 3.2 -> 0.3) are judged on a log scale, in steps of
            # OSC_LOG_SWING decades, instead of against a floor set by the largest values.
            w, judged, thr, how = _log10(w), np.log10(judged), OSC_LOG_SWING, f"{how}, on a log scale"
        if not is_loss:
            noise = max(noise, _sampling_noise(judged / percent) * percent)
        floor = max(OSC_MIN_OF_RANGE * float(np.max(judged) - np.min(judged)), 0.0 if log else noise)
        rev, tv_ratio = _reversals(
            w.y, relative=is_loss and not log, threshold=thr, floor=floor, lower_is_better=is_loss
        )
        rate = len(rev) / len(w)
        if rate >= OSC_RATE and (best is None or rate > best[2]):
            best = (w, rev, rate, tv_ratio, is_loss, thr, how, log)
    if best is None:
        return None
    w, rev, rate, tv_ratio, is_loss, thr, how, log = best
    severity: Severity = "warning" if tv_ratio >= OSC_TV_RATIO else "info"
    lr = current_lr(h)
    unit = "log10 of the loss" if log else "of the loss level" if is_loss else "accuracy points"
    worse = (w.y[-1] > w.y[0]) if is_loss else (w.y[-1] < w.y[0])
    if worse:
        first, last = (10 ** float(w.y[0]), 10 ** float(w.y[-1])) if log else (float(w.y[0]), float(w.y[-1]))
        outcome = f"it ended worse than it began ({fmt(first)} -> {fmt(last)}): no net progress."
    elif tv_ratio > 100:
        outcome = "it made no net progress over that window."
    elif severity == "warning":
        outcome = f"it moved {fmt(tv_ratio)}x more than it progressed."
    else:
        outcome = f"it moved {fmt(tv_ratio)}x more than it progressed, so it still makes progress despite the swings."
    return finding(
        issue="loss_oscillation",
        rule="loss_oscillation",
        severity=severity,
        diagnosis=(
            f"The {w.name} ({how}) reversed direction by large amounts {len(rev)} times in {len(w)} points after the "
            f"first {JUDGE_AFTER:.0%} of the run ({rate:.0%}; AUTOTRAINER flags >= {OSC_RATE:.0%}); {outcome}"
        ),
        evidence={
            "series": w.name,
            "axis": w.axis,
            "n_reversals": len(rev),
            "n_points": len(w),
            "reversal_rate": rate,
            "movement_to_progress": tv_ratio,
            "ended_worse": worse,
            "reversal_at": [float(w.x[i]) for i in rev[:20]],
            "swing_threshold": thr,
            "swing_unit": unit,
            "lr": lr,
        },
        source=OSC_SOURCE,
        solution=solutions(
            "loss_oscillation", notes={"Reduce the learning rate": f"lr {fmt(lr)} -> {fmt(lr / 3)}"} if lr else {}
        ),
        axis=w.axis,
        began_at=float(w.x[rev[0]]),
        confidence=scaled_confidence(rate, OSC_RATE, 0.5, c_lo=0.55) * (1.0 if severity == "warning" else 0.7),
    )
