"""How well the model fits: overfitting (val loss turns up), the val/train gap, and underfitting (no learning)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...schema.diagnosis import Finding, Severity
from .._registry import register_rule
from ..history import RunHistory
from ._common import (
    ACC_ROSE,
    FITS_TRAIN_ACC,
    Curve,
    accuracy_gain,
    at,
    classes_at_loss,
    classes_from_initial_loss,
    epoch_or_step,
    finding,
    fits_the_training_set,
    fmt,
    frozen_val_acc,
    get_curve,
    initial_train_loss,
    mann_kendall_z,
    median_filter,
    n_classes,
    onset_of_final_run,
    printed_step,
    recent,
    scaled_confidence,
    second_diff_noise,
    solutions,
    step_or_epoch,
    steps_per_epoch,
    trend,
)


def _val_curve(h: RunHistory) -> Curve | None:
    """The val loss curve on an axis that also has the train loss (epoch first), else on any axis.

    Hugging Face (per-epoch eval) and hand-written JSON-lines logs carry the val loss on both axes but the train loss
    on the step axis only: judged there, the val curve is compared with the train loss at the same steps.
    """
    for axis in ("epoch", "step"):
        v = get_curve(h, "val_loss", axis, min_points=2)
        if v is not None and get_curve(h, "train_loss", axis, min_points=2) is not None:
            return v
    return get_curve(h, "val_loss", "epoch", min_points=2) or get_curve(h, "val_loss", "step", min_points=2)


def _train_at(h: RunHistory, v: Curve) -> np.ndarray | None:
    """The de-noised train loss at the val curve's x values (same axis only), or None."""
    t = get_curve(h, "train_loss", v.axis, min_points=2)
    if t is None:
        return None
    tt = trend(t)
    return np.interp(v.x, tt.x, tt.y)


# ------------------------------------------------------------------------------------------------ overfitting

# problems.yaml overfitting: val loss rises for "3-5+ consecutive evaluations" after its minimum; AUTOTRAINER
# (monitor.py `loss_issue`, test_turn_bad) counts consecutive epochs with train down and val up.
OVERFIT_PATIENCE = 3
# Heuristic: at least 5 evaluations before a minimum-then-rise shape means anything.
OVERFIT_MIN_EVALS = 5
# Heuristic: val must end >= 5% above its minimum (median of the last 3 evaluations) ...
OVERFIT_MIN_RISE = 0.05
# ... and by more than 3 robust sigmas of its own evaluation-to-evaluation noise (heuristic).
OVERFIT_NOISE_SIGMAS = 3.0
# Heuristic: most post-minimum moves are up (a trend, not one bad evaluation).
OVERFIT_UP_FRACTION = 0.5
# A noisy val curve that stays up (issue 13: minimum 0.232, then 6 of the next 7 evaluations > 10% above it) fails the
# noise and up-moves tests above; a sign test does not: at least 5 evaluations after the minimum, two thirds of them
# more than 10% above it, and their median too (heuristics, set on the real-log corpus's tuning half).
OVERFIT_ABOVE_MIN_EVALS = 5
OVERFIT_ABOVE_FRACTION = 2 / 3
OVERFIT_ABOVE_RISE = 0.10
# ... and so does one that creeps up through its noise: at least 8 evaluations from the minimum on, with an upward
# Mann-Kendall trend significant at 1% one-sided (z >= 2.326) and the same 10% rise (issue 13, blind27: a small CNN's
# val loss 0.548 at epoch 7, then 0.56, 0.61, 0.59, 0.59, 0.59, 0.56, 0.64, 0.60, 0.64, 0.61, 0.70, 0.67 while the
# train loss falls 0.55 -> 0.37: z = 2.87, though only 5 of 12 moves go up and 4 of 12 evaluations are 10% above the
# minimum). The 8 evaluations and the 1% level are heuristics.
OVERFIT_TREND_MIN_EVALS = 8
OVERFIT_TREND_Z = 2.326
# Heuristic: a warning (act now) needs the val loss this far above its best; a smaller rise is reported as info, with
# the advice to keep the best checkpoint. On the real-log corpus's tuning logs the clearly overfitting runs ended
# 21-186% above their minimum, and healthy runs with early stopping's usual wobble 6-8% (issue 13).
OVERFIT_WARN_RISE = 0.15
# A run too short for the tests above (fewer than OVERFIT_MIN_EVALS evaluations: a 3-epoch fine-tune) overfits when
# its val loss rises at every evaluation after its minimum, by OVERFIT_SHORT_RISE in all, while the train loss falls
# (issue 13's corpus: eval loss 0.255 -> 0.288 -> 0.375 while train loss 0.308 -> 0.142). Heuristic.
OVERFIT_SHORT_MIN_EVALS = 3
OVERFIT_SHORT_RISE = 0.30
# The same rise held by every one of at least OVERFIT_HELD_EVALS evaluations after the lowest single one also overfits,
# on a run of any length: the smoothing above takes a lone minimum for noise (issue 13, blind8: val loss 0.694, 0.547,
# 0.324, then 0.583, 0.791, 1.155, 0.740 while the train loss falls 0.215 -> 0.020 and val accuracy drops from 0.90).
OVERFIT_HELD_EVALS = 4
# ... and so does a run that ends climbing: every evaluation after the lowest one higher than the one before, at least
# 2 of them, the last OVERFIT_SHORT_RISE above the lowest (issue 13, blind14: val loss 1.204, 1.028, 0.993, 1.182, 1.490
# while the train loss falls 1.88 -> 0.17).
OVERFIT_CLIMB_EVALS = 2
# The noise a rise must clear is the smaller of the whole curve's and that after the minimum, when at least
# OVERFIT_NOISE_TAIL evaluations follow it: early swings (a small validation set before the model settles) do not hide
# a steady climb afterwards (issue 13, blind25: val loss 0.157 -> 0.363 -> 0.159 in the first 11 epochs, then 0.159 ->
# 0.213 over the last 8 while the train loss falls to 2e-4). Heuristic.
OVERFIT_NOISE_TAIL = 6
# Heuristic: train loss "keeps falling" = >= 2% lower at the end than at the val minimum (seed Step 5: train/val
# curves diverge).
TRAIN_STILL_FALLING = 0.02
# Heuristic: a rise of the val loss smaller than 0.1% of the loss scale (ln C, else the first loss) is the noise of a
# loss that has reached zero, however large in relative terms (issue 13, blind12: a val loss 5e-6 -> 1.8e-5, "+258%",
# at 100% val accuracy, on a run that started at 5.59).
OVERFIT_MIN_OF_SCALE = 1e-3
# Heuristic: a rise of at most two units of the last digit the log prints is rounding, not a trend (issue 13, blind25:
# a val loss printed to 4 decimals at 0.0003 at its best and 0.0005 after, having fallen 150x from 0.0766).
OVERFIT_PRINTED_UNITS = 2

OVERFIT_SOURCE = (
    "seed Step 5 (Overfitting: train/val curves diverge); problems.yaml overfitting (val rises 3-5+ evaluations); "
    "AUTOTRAINER (Zhang et al., ICSE 2021) test_turn_bad; Amazon SageMaker Debugger Overtraining/Overfit; "
    "5% rise, 3 sigmas, 2% train decrease are heuristics"
)


@dataclass(frozen=True)
class _ValRise:
    val: Curve
    i_min: int
    best: float
    now: float
    rise: float  # (now - best) / |best|
    n_after: int  # evaluations after the minimum
    up_fraction: float  # share of post-minimum moves that go up
    noise: float  # robust sigma of val's evaluation-to-evaluation noise
    above_fraction: float  # share of post-minimum evaluations more than OVERFIT_ABOVE_RISE above the minimum
    after_median: float  # median of the post-minimum evaluations
    train_best: float | None  # train loss at the val minimum
    train_now: float | None
    held: bool = False  # every evaluation after the lowest single one is OVERFIT_SHORT_RISE above it
    trend_z: float = 0.0  # Mann-Kendall z of the evaluations from the minimum on

    @property
    def rising(self) -> bool:
        """Risen for good: a clear upward trend above the noise, or (noisy curves) a sign test that it stays up."""
        trend_up = (
            self.n_after >= OVERFIT_PATIENCE
            and self.rise >= OVERFIT_MIN_RISE
            and self.now - self.best > OVERFIT_NOISE_SIGMAS * self.noise
            and self.up_fraction >= OVERFIT_UP_FRACTION
        )
        short = len(self.val) < OVERFIT_MIN_EVALS  # `_short_rise` already checked its own rule
        stays_up = (
            self.n_after >= OVERFIT_ABOVE_MIN_EVALS
            and self.above_fraction >= OVERFIT_ABOVE_FRACTION  # k/n and 2/3 round alike: 4/6 == 2/3
            and self.after_median >= self.best * (1 + OVERFIT_ABOVE_RISE)
        )
        creeps_up = (
            self.n_after + 1 >= OVERFIT_TREND_MIN_EVALS
            and self.trend_z >= OVERFIT_TREND_Z
            and self.rise >= OVERFIT_ABOVE_RISE
        )
        return short or trend_up or stays_up or creeps_up or self.held

    @property
    def train_falling(self) -> bool | None:
        if self.train_best is None or self.train_now is None:
            return None
        return self.train_now < self.train_best - TRAIN_STILL_FALLING * abs(self.train_best)


def _short_rise(h: RunHistory) -> _ValRise | None:
    """A short run's val loss rising at every evaluation after its minimum by OVERFIT_SHORT_RISE in all, or None."""
    v = _val_curve(h)
    if v is None or not OVERFIT_SHORT_MIN_EVALS <= len(v) < OVERFIT_MIN_EVALS:
        return None
    m = int(np.argmin(v.y))
    after = v.y[m:]
    best, now = float(v.y[m]), float(v.y[-1])
    if len(after) < 3 or best <= 0 or not (np.diff(after) > 0).all() or now < best * (1 + OVERFIT_SHORT_RISE):
        return None
    t = _train_at(h, v)
    n_after = len(after) - 1
    return _ValRise(val=v, i_min=m, best=best, now=now, rise=now / best - 1, n_after=n_after, up_fraction=1.0,
                    noise=0.0, above_fraction=1.0, after_median=float(np.median(after[1:])),
                    train_best=float(t[m]) if t is not None else None,
                    train_now=float(t[-1]) if t is not None else None)  # fmt: skip


def _val_rise(h: RunHistory) -> _ValRise | None:
    v = _val_curve(h)
    if v is None or len(v) < OVERFIT_MIN_EVALS:
        return _short_rise(h)
    y = v.y
    lowest = int(np.argmin(y))
    held = (len(y) - 1 - lowest >= OVERFIT_HELD_EVALS and y[lowest] > 0
            and bool((y[lowest + 1 :] >= y[lowest] * (1 + OVERFIT_SHORT_RISE)).all()))  # fmt: skip
    climbing = (len(y) - 1 - lowest >= OVERFIT_CLIMB_EVALS and y[lowest] > 0 and bool((np.diff(y[lowest:]) > 0).all())
                and y[-1] >= y[lowest] * (1 + OVERFIT_SHORT_RISE))  # fmt: skip
    held = held or climbing
    smooth = y if held else median_filter(y, 3)  # one unusually good evaluation is not the minimum of the curve
    m = lowest if held else int(np.argmin(smooth))
    n_after = len(y) - 1 - m
    best = float(smooth[m])
    now = float(np.median(y[-min(3, n_after) :])) if n_after else best
    moves = np.diff(y[m:])
    t = _train_at(h, v)
    return _ValRise(
        val=v,
        i_min=m,
        best=best,
        now=now,
        rise=(now - best) / abs(best) if best != 0 else math.inf,
        n_after=n_after,
        up_fraction=float(np.mean(moves > 0)) if len(moves) else 0.0,
        noise=min(second_diff_noise(y), second_diff_noise(y[m:]) if n_after >= OVERFIT_NOISE_TAIL else math.inf),
        above_fraction=float(np.mean(y[m + 1 :] > best * (1 + OVERFIT_ABOVE_RISE))) if n_after and best > 0 else 0.0,
        after_median=float(np.median(y[m + 1 :])) if n_after else best,
        train_best=float(t[m]) if t is not None else None,
        train_now=float(np.median(t[-min(3, len(t)) :])) if t is not None else None,
        held=held,
        trend_z=mann_kendall_z(y[m:]),
    )


@register_rule(issue="overfitting")
def overfitting(h: RunHistory) -> Finding | None:
    """Symptom: validation loss reaches its minimum and then rises for several evaluations while the training loss
    keeps falling: the train and val curves diverge (seed Step 5).
    Cause: the model memorises the training set: too much capacity or too little data, regularisation or
    augmentation for the number of epochs trained.
    Remedy: stop at the val minimum (early stopping, keep the best checkpoint), then add augmentation (RandAugment,
    Mixup/CutMix), dropout or weight decay, reduce capacity, or get more data / a pretrained model.
    """
    r = _val_rise(h)
    if r is None or not r.rising or r.now - r.best < OVERFIT_MIN_OF_SCALE * _loss_scale(h, r.val):
        return None
    unit = printed_step(r.val.y)
    if unit is not None and r.now - r.best < (OVERFIT_PRINTED_UNITS + 0.5) * unit:
        return None
    falling = r.train_falling
    if falling is False:  # both rise: divergence or instability, which other rules describe
        return None
    v = r.val
    best_x = float(v.x[r.i_min])
    evidence: dict[str, object] = {
        "best_val_loss": r.best,
        "best_at": best_x,
        "axis": v.axis,
        "val_loss_now": r.now,
        "rise": r.rise,
        "evals_since_best": r.n_after,
        "val_noise_sigma": r.noise,
        "train_loss_at_best": r.train_best,
        "train_loss_now": r.train_now,
    }
    acc = get_curve(h, "val_acc", v.axis, min_points=2)
    tacc = get_curve(h, "train_acc", v.axis, min_points=2)
    if acc is not None:
        evidence["val_acc_best"] = float(np.max(acc.y))
        evidence["val_acc_now"] = recent(acc)
    if tacc is not None and acc is not None:
        evidence["train_val_acc_gap"] = recent(tacc) - recent(acc)
    train_txt = (
        f" while the train loss kept falling ({fmt(r.train_best)} -> {fmt(r.train_now)})"
        if falling
        else " (no train loss on the same axis to confirm that training kept improving)"
    )
    return finding(
        issue="overfitting",
        rule="overfitting",
        severity="warning" if falling and r.rise >= OVERFIT_WARN_RISE else "info",
        diagnosis=(
            f"Val loss bottomed out at {fmt(r.best)} at {at(v.axis, best_x)} and has risen {r.rise:.1%} to "
            f"{fmt(r.now)} over the {r.n_after} evaluations since{train_txt}."
            + (
                ""
                if r.rise >= OVERFIT_WARN_RISE
                else f" A rise under {OVERFIT_WARN_RISE:.0%} is mild: keep the best checkpoint; act if it keeps rising."
            )
        ),
        evidence=evidence,
        source=OVERFIT_SOURCE,
        solution=solutions(
            "overfitting",
            first=("Early Stopping",),
            notes={"Early Stopping": f"the best val loss was at {at(v.axis, best_x)}; keep that checkpoint"},
        ),
        axis=v.axis,
        began_at=best_x,
        confidence=scaled_confidence(r.rise, OVERFIT_MIN_RISE, 0.5, c_lo=0.6) * (1.0 if falling else 0.6),
    )


def _loss_scale(h: RunHistory, v: Curve) -> float:
    """What the loss is measured against: ln C (the loss of a uniform guess), else the first train loss at the val
    curve's points, else the first val loss."""
    C = n_classes(h)
    if C:
        return math.log(C)
    t = _train_at(h, v)
    return abs(float(t[0])) if t is not None else abs(float(v.y[0]))


# -------------------------------------------------------------------------------------------- train_val_gap

# seed Step 4 monitoring checklist: "Val loss and train loss gap is reasonable (< 2x)".
GAP_RATIO = 2.0
# Heuristic: judged on the last 3 evaluations (all above 2x); fewer than 3 evaluations are not judged, fewer than 5
# give at most an info (a short run's gap can still close).
GAP_LAST_EVALS = 3
GAP_MIN_EVALS_WARN = 5
# Heuristic: a ratio only matters when the absolute gap does: val - train must be >= 10% of the loss scale (ln C, or
# the first train loss). A train loss of 0.0005 against a val loss of 0.05 is 100x, but both are tiny: info only.
GAP_MIN_ABS_FRACTION = 0.10
# Heuristic: a val loss still at half the loss scale or more has learned less than half of what there was to learn.
GAP_VAL_STILL_HIGH = 0.5
# Heuristic: a gap that opened during training while validation accuracy ends within 1 point of its best, and within
# GAP_ACC_SMALL of the training accuracy when that is logged, is not costing accuracy yet: info (issue 13's corpus:
# fine-tunes ending at 4-8x with accuracy still rising, 0.891 -> 0.943; MNIST at 0.99 train vs 0.974 val).
GAP_ACC_AT_BEST = 0.01
GAP_ACC_SMALL = 0.05
# Heuristic: a training accuracy 25 points or more above the validation accuracy at the end is a gap that costs what
# the model is for, whatever the loss scale says (issue 13, blind7: a 196-class car model at 1.00 train vs 0.57 val
# accuracy, val loss 13x train and flat at 27% of the first train loss). Such a gap is reported beside overfitting
# when even the lowest val loss is over GAP_RATIO times the train loss now (issue 13, blind21: a fruit CNN at 0.91
# train vs 0.40 val accuracy, its best val loss 8x the final train loss, then rising 23%), unless the val loss ended
# 2.5x its minimum or more: then the rise is what opened the gap, and overfitting says so. Rises of 0.9-1.0 with a
# 29-65 point accuracy gap (issue 13, blind23/24/26: course-lab tweet classifiers, a Pokemon CNN, 12-105x the train
# loss) were read as both by their labellers.
GAP_ACC_LARGE = 0.25
GAP_BESIDE_RISE_MAX = 1.5

GAP_SOURCE = (
    "seed Step 4 monitoring checklist (val/train loss gap < 2x); Amazon SageMaker Debugger Overfit (compares val and "
    "train loss); judging the last 3 evaluations is a heuristic"
)


def _acc_gap(h: RunHistory) -> float:
    """Training minus validation accuracy at the end (fractions), 0 when either is not logged."""
    train, val = get_curve(h, "train_acc"), get_curve(h, "val_acc")
    if train is None or val is None:
        return 0.0
    scale = 100.0 if max(float(np.max(train.y)), float(np.max(val.y))) > 1.0 else 1.0
    return (recent(train) - recent(val)) / scale


@register_rule(issue="train_val_gap")
def train_val_gap(h: RunHistory) -> Finding | None:
    """Symptom: the validation loss is more than twice the training loss at the same point (the seed's monitoring
    checklist asks for < 2x), without the val loss turning upwards (that is overfitting); or the training accuracy
    climbs while the validation stays at a uniform guess throughout.
    Cause: the model generalises poorly (too little data or regularisation), or train and val differ: different
    preprocessing, a non-random split, or a domain difference; a gap already at the first evaluation, or a validation
    that never leaves chance, points at the data rather than at training.
    Remedy: apply the overfitting remedies (augmentation, dropout/weight decay, early stopping); check that train and
    val use identical preprocessing and come from one random or stratified split.
    """
    return _val_stays_at_chance(h) or _loss_ratio_gap(h) or _fitted_training_set_gap(h)


def _overfitting_reports_it(h: RunHistory) -> bool:
    """The val loss turned upwards by OVERFIT_WARN_RISE or more: the gap is overfitting's to report."""
    rise = _val_rise(h)
    return rise is not None and rise.rising and rise.rise >= OVERFIT_WARN_RISE


def _fitted_training_set_gap(h: RunHistory) -> Finding | None:
    """The training set is fitted (`fits_the_training_set`) and the validation accuracy ends GAP_ACC_LARGE or more
    below the training accuracy over GAP_MIN_EVALS_WARN or more evaluations, while the val loss does not rise by
    OVERFIT_WARN_RISE (that is overfitting's to report). The loss ratio misses such a gap when a regularisation term
    dominates both losses (issue 13, blind30: a 58-image classifier at train accuracy 1.0 against 0.57 on validation,
    train and val loss 4.7 and 5.7, mostly an L2 penalty)."""
    val = get_curve(h, "val_acc", min_points=GAP_MIN_EVALS_WARN)
    gap = _acc_gap(h)
    if val is None or not fits_the_training_set(h) or gap < GAP_ACC_LARGE or _overfitting_reports_it(h):
        return None
    return finding(
        issue="train_val_gap",
        rule="train_val_gap",
        severity="warning",
        diagnosis=(
            f"The model gets the training set right (training accuracy {FITS_TRAIN_ACC:.0%} or more over the last "
            f"quarter of the run) while the validation accuracy ends {fmt(100 * gap)} points lower: what it learned "
            "does not carry over to new data. The loss ratio does not show it here, which happens when a "
            "regularisation term or label smoothing dominates both losses."
        ),
        evidence={"accuracy_gap": gap, "val_acc_now": recent(val), "n_evals": len(val)},
        source=GAP_SOURCE + "; the training accuracy against the validation accuracy is the same comparison",
        solution=solutions("train_val_gap"),
        axis=val.axis,
        began_at=float(val.x[0]),
        confidence=0.7,
    )


def _val_stays_at_chance(h: RunHistory) -> Finding | None:
    """The training accuracy got more than ACC_LEARNED of the way from 1/C to 1 while the validation loss never went
    below ln C and the validation accuracy never left chance (`_val_never_beats_uniform`). The loss ratio can stay
    under 2x here (issue 13's blind9: a 5-class MLP with train balanced accuracy 0.73 and loss 1.10 against val 0.175
    and 1.71). A val loss that climbs OVERFIT_WARN_RISE or more above its minimum is overfitting's to report."""
    never = _val_never_beats_uniform(h)
    train = get_curve(h, "train_acc", min_points=GAP_LAST_EVALS)
    if never is None or never.classes is None or train is None or _overfitting_reports_it(h):
        return None
    C, lowest, best = never.classes, never.lowest, never.best_acc
    train_now = recent(train) / (100.0 if float(np.max(train.y)) > 1.0 else 1.0)
    if (train_now - 1 / C) / (1 - 1 / C) <= ACC_LEARNED:
        return None
    return finding(
        issue="train_val_gap",
        rule="train_val_gap",
        severity="warning",
        diagnosis=(
            f"The training accuracy reached {train_now:.1%} ({C} classes, {1 / C:.1%} by chance), but the validation "
            f"accuracy never rose above {best:.1%} and the val loss never went below {fmt(lowest)} (ln {C} = "
            f"{fmt(math.log(C))}, a uniform guess): nothing the model learns on the training set carries over to new "
            "data, which points at the splits (labels, preprocessing, a shift between them) before the model."
        ),
        evidence={"train_acc_now": train_now, "val_acc_best": best, "val_loss_lowest": lowest, "n_classes": C},
        source=GAP_SOURCE + "; a uniform guess scores ln C and 1/C (Karpathy, A Recipe for Training Neural Networks)",
        solution=solutions("train_val_gap", first=("identical preprocessing", "split is random")),
        axis=train.axis,
        began_at=float(train.x[0]),
        confidence=0.8,
    )


def _gap_beyond_the_rise(h: RunHistory, r: _ValRise) -> bool:
    """The val loss rises (overfitting's to report), but by less than GAP_BESIDE_RISE_MAX, while even its lowest value
    is more than GAP_RATIO times the train loss now and the training accuracy ends GAP_ACC_LARGE or more above the
    validation accuracy: the rise does not explain the gap."""
    train_now = r.train_now
    return (
        train_now is not None
        and r.rise < GAP_BESIDE_RISE_MAX
        and 0 < GAP_RATIO * train_now < r.best
        and _acc_gap(h) >= GAP_ACC_LARGE
    )


def _raw_ratio_at_first_eval(h: RunHistory, v: Curve) -> float:
    """Val over the logged (not de-noised) train loss at the first evaluation: a bin median of a steep first drop
    stands for a later train loss than the first evaluation saw (issue 13, blind28: a language model's train loss
    11.05 -> 0.17 over its first five logged points, binned to 3.46 against a first val loss of 11.07)."""
    t = get_curve(h, "train_loss", v.axis, min_points=2)
    if t is None:
        return math.inf
    train = float(np.interp(v.x[0], t.x, t.y))
    return float(v.y[0]) / train if train > 0 else math.inf


def _loss_ratio_gap(h: RunHistory) -> Finding | None:
    """The val loss above GAP_RATIO times the train loss at the last evaluations, and what that gap costs."""
    v = _val_curve(h)
    if v is None or len(v) < GAP_LAST_EVALS:
        return None
    t = _train_at(h, v)
    if t is None:
        return None
    ok = (t > 0) & (v.y > 0)
    if ok.sum() < GAP_LAST_EVALS:
        return None
    ratio = Curve("val/train", v.axis, v.x[ok], v.y[ok] / t[ok])
    last = ratio.y[-GAP_LAST_EVALS:]
    if not (last > GAP_RATIO).all():
        return None
    r = _val_rise(h)
    if r is not None and r.rising and not _gap_beyond_the_rise(h, r):
        return None
    now = float(np.median(last))
    from_start = bool(ratio.y[0] > GAP_RATIO) and _raw_ratio_at_first_eval(h, v) > GAP_RATIO
    val_now, train_now = recent(v), float(np.median(t[-GAP_LAST_EVALS:]))
    scale = _loss_scale(h, v)
    small = scale > 0 and val_now - train_now < GAP_MIN_ABS_FRACTION * scale
    # Act now (warning) when the splits look different (a gap from the first evaluation) or the model learned little
    # that carries to new data (val loss still above GAP_VAL_STILL_HIGH of the loss scale). A gap that opened during
    # training while the val loss got low and does not rise is how most converged runs end (train loss near zero;
    # 6 of the 6 gap false alarms on the real-log corpus's tuning half): look at it when you have time (info). If val
    # turns upwards, that is overfitting, a warning of its own.
    val_high = scale > 0 and val_now >= GAP_VAL_STILL_HIGH * scale
    acc = get_curve(h, "val_acc", min_points=GAP_LAST_EVALS)
    acc_at_best = acc is not None and recent(acc) >= float(np.max(acc.y)) - GAP_ACC_AT_BEST * (
        100.0 if float(np.max(acc.y)) > 1.0 else 1.0
    )
    acc_at_best = acc_at_best and not from_start and _acc_gap(h) <= GAP_ACC_SMALL  # from the start: the splits'
    acc_lost = _acc_gap(h) >= GAP_ACC_LARGE
    warn = (from_start or val_high or acc_lost) and len(ratio) >= GAP_MIN_EVALS_WARN and not small and not acc_at_best
    severity: Severity = "warning" if warn else "info"
    if small:
        why = (
            f"but the absolute gap ({fmt(val_now - train_now)}) is under {GAP_MIN_ABS_FRACTION:.0%} of the loss scale "
            f"({fmt(scale)}): the ratio is large mainly because the train loss is near zero (memorised training set)"
        )
    elif acc_at_best:
        assert acc is not None
        why = (
            f"but the validation accuracy ends at {fmt(recent(acc))}, within {fmt(100 * GAP_ACC_AT_BEST)} point of its "
            f"best ({fmt(float(np.max(acc.y)))}): the gap is not costing accuracy yet; watch it"
        )
    elif from_start:
        why = (
            "it was already there at the first evaluation, which points at a difference between the splits "
            "(preprocessing, split, domain) more than at overfitting"
        )
    elif val_high:
        why = (
            f"it opened up during training and the val loss is still {val_now / scale:.0%} of the loss scale "
            f"({fmt(scale)}): what the model learned does not carry over to new data"
        )
    elif acc_lost:
        why = (
            f"it opened up during training and the training accuracy ends {fmt(100 * _acc_gap(h))} points above the "
            "validation accuracy: what the model learned does not carry over to new data"
        )
    else:
        why = (
            f"it opened up during training, but the val loss came down to {val_now / scale:.0%} of the loss scale "
            f"({fmt(scale)}) and is not rising (that would be overfitting); regularisation or more data may lower it"
        )
    return finding(
        issue="train_val_gap",
        rule="train_val_gap",
        severity=severity,
        diagnosis=(
            f"Val loss is {fmt(now)}x the train loss over the last {GAP_LAST_EVALS} evaluations "
            f"(val {fmt(val_now)} vs train {fmt(train_now)}; the checklist asks for < {fmt(GAP_RATIO)}x); {why}."
        ),
        evidence={
            "ratio_now": now,
            "ratios_last": list(last),
            "ratio_first": float(ratio.y[0]),
            "gap_from_start": from_start,
            "val_loss_now": val_now,
            "train_loss_now": train_now,
            "absolute_gap": val_now - train_now,
            "loss_scale": scale,
            "val_loss_of_scale": val_now / scale if scale > 0 else None,
            "n_evals": len(ratio),
        },
        source=GAP_SOURCE,
        solution=solutions(
            "train_val_gap", first=("identical preprocessing", "split is random") if from_start and not small else ()
        ),
        axis=v.axis,
        began_at=onset_of_final_run(ratio, ratio.y > GAP_RATIO),
        confidence=scaled_confidence(now, GAP_RATIO, 2 * GAP_RATIO, c_lo=0.6) * (0.5 if small else 1.0),
    )


# ----------------------------------------------------------------------------------------------- underfitting

# Heuristic: "doesn't decrease for long" (seed Step 5) needs a long enough run: 5 epochs, or 500 optimizer steps.
UNDERFIT_MIN_EPOCHS = 5
UNDERFIT_MIN_STEPS = 500
# Heuristic: the train loss improved by less than 10% from its start: it "doesn't decrease" (seed Step 5).
UNDERFIT_IMPROVEMENT = 0.10
# Heuristic: a train loss still >= 90% of ln(C), the loss of a uniform guess over C classes (Karpathy, "A Recipe
# for Training Neural Networks"), means the model learned (almost) nothing.
UNDERFIT_NEAR_UNIFORM = 0.9
# Heuristic: below 50% of ln(C) the model clearly learned something, whatever its loss curve looks like.
UNDERFIT_LEARNED = 0.5
# seed Step 5: "accuracy below random guess" (1/C); heuristic margin of 2 points above it.
CHANCE_MARGIN = 0.02
# Heuristic: accuracy more than 20% of the way from chance to perfect = it learns something, just too little: the
# run is underfitting (warning), not useless (error); more than 50% of the way = it learned (not underfitting).
ABOVE_CHANCE = 0.2
ACC_LEARNED = 0.5
# Heuristic: a train loss still falling >= 10% over the last third of the run has only just started to learn: one
# severity level lower (the verdict may change with more epochs).
STILL_FALLING = 0.10
# Heuristic: a validation loss within 2% of ln C (C read from it by `classes_at_loss` when the log does not say) never
# beaten, with the accuracy near 1/C, is a model whose learning does not reach new data.
VAL_UNIFORM_BAND = 0.02
# Heuristic: train and val losses within 10% of each other = "both bad", not a generalisation gap.
BOTH_BAD_CLOSE = 0.10
# Heuristic: with no class count, a train loss that moved less than 10% over 5 or more epochs while the val loss is as
# bad is underfitting worth acting on (a warning) unless an accuracy says the model learned: it rose ACC_ROSE or more
# (`accuracy_gain`), or it is 80% or more (issue 13, blind12: a language model from 10.5 to 9.7 nats in 10 epochs;
# blind2/6: a 7-class model at 57% and a regression whose loss moved 0.6% in 50 epochs; healthy: Fashion-MNIST at 88%,
# a U-Net whose Dice-like loss stays near 1 while its accuracy rises 0.55 -> 0.85).
ACC_HIGH = 0.80
# Heuristic: every training and validation accuracy logged over UNDERFIT_MIN_EPOCHS or more epochs at or below 5%,
# rising less than CHANCE_MARGIN: whatever the class count, the model never gets more than 1 in 20 right, and a loss
# that falls from a saturated 17.6 to 7.9 has not taught it anything yet (issue 13, blind15: a 40-class action
# classifier at 2.4-3.6% for 9 epochs).
NEVER_SCORES = 0.05
# Heuristic: every training and validation accuracy logged over PINNED_MIN_EPOCHS or more epochs below ACC_LEARNED and
# within CHANCE_MARGIN of itself after the first epoch: the predictions stopped changing while the loss moved (issue 13,
# blind25: a translation model's token accuracy at 6.60-6.83% for 51 epochs, the commonest token's share, while its loss
# fell from 10.9 to 8.65).
PINNED_MIN_EPOCHS = 10

# problems.yaml bad_update_ratio: an update/weight ratio of ~1e-3 per step is healthy (CS231n, "ratio of
# weights:updates"), below 1e-5 the learning rate is too low: a model whose weights barely move is untrained, not too
# small.
UPDATE_RATIO_LOW = 1e-5

UNDERFIT_SOURCE = (
    "seed Step 5 (Underfitting: training loss doesn't decrease for long, accuracy below random guess); Karpathy, "
    "A Recipe for Training Neural Networks (loss of a uniform guess = ln C); AUTOTRAINER (Zhang et al., ICSE 2021) "
    "not_converge; problems.yaml bad_update_ratio (< 1e-5 per step: lr too low); 5 epochs / 500 steps, 10%, "
    "0.9 ln C are heuristics"
)


@register_rule(issue="underfitting", online=False)
def underfitting(h: RunHistory) -> Finding | None:
    """Symptom: after a run long enough to learn, the training loss has barely moved from its start (or is still
    near ln C, the loss of a uniform guess) and accuracy is near or below random guessing; train and val are both bad.
    Cause: the model cannot fit its own training set: too little capacity, too much regularisation, a learning rate
    far from right, or a pipeline bug (labels misaligned with inputs, frozen parameters) - check that it can overfit a
    single small batch first.
    Remedy: increase capacity (2x width / next model size), reduce dropout and weight decay, tune the learning rate
    with an LR range test and train longer, start from a pretrained backbone; check data quality and normalisation.
    """
    c = epoch_or_step(h, "train_loss", min_epochs=UNDERFIT_MIN_EPOCHS, min_steps=10)
    if c is None:
        return None
    spe = steps_per_epoch(h) if c.axis == "step" else None
    epochs_done = float(c.x[-1]) / spe if spe else None  # a step-only log (Hugging Face, TensorBoard) counts epochs
    if c.axis == "step" and c.x[-1] - c.x[0] < UNDERFIT_MIN_STEPS and (epochs_done or 0) < UNDERFIT_MIN_EPOCHS:
        return None
    t = trend(c)
    step_c = get_curve(h, "train_loss", "step", min_points=3)
    first = float(np.median(step_c.y[:3])) if step_c is not None else float(t.y[0])
    now = recent(t)
    if first == 0:
        return None
    improvement = (first - now) / abs(first)
    C = n_classes(h)
    inferred = C is not None and classes_from_initial_loss(h) == C
    ln_c = math.log(C) if C else None
    acc = epoch_or_step(h, "train_acc", min_epochs=2, min_steps=2) or epoch_or_step(
        h, "val_acc", min_epochs=2, min_steps=2
    )
    acc_now = recent(acc) if acc is not None else None
    chance = 1.0 / C if C else None
    at_chance = chance is not None and acc_now is not None and acc_now <= chance + CHANCE_MARGIN
    near_uniform = ln_c is not None and now >= UNDERFIT_NEAR_UNIFORM * ln_c
    gain = (acc_now - chance) / (1 - chance) if chance is not None and acc_now is not None else None
    learned = (ln_c is not None and now < UNDERFIT_LEARNED * ln_c) or (gain is not None and gain > ACC_LEARNED)
    flat = improvement < UNDERFIT_IMPROVEMENT
    above_chance = gain is not None and gain > ABOVE_CHANCE
    ref = float(t.y[-(max(2, len(t) // 3) + 1)])  # where the last third of the run started
    late_drop = (ref - float(t.y[-1])) / abs(ref) if ref != 0 else 0.0
    if ln_c is not None and now < UNDERFIT_LEARNED * ln_c:
        return None  # the train loss says it learned; a val accuracy at chance is then a train/val difference
    majority = frozen_val_acc(h)
    at_majority = (
        majority is not None and acc is not None and float(np.max(acc.tail(1 / 3).y)) <= majority + CHANCE_MARGIN
    )
    val_uniform = _val_never_beats_uniform(h)
    if val_uniform is not None and now < UNDERFIT_LEARNED * val_uniform.reference:
        val_uniform = None  # the train loss learned: what does not carry over is a generalisation problem
    val = get_curve(h, "val_loss", c.axis) or step_or_epoch(h, "val_loss")
    val_now = recent(val) if val is not None else None
    both_bad = val_now is not None and now > 0 and abs(val_now - now) / now <= BOTH_BAD_CLOSE
    flat_both = (
        abs(improvement) < UNDERFIT_IMPROVEMENT
        and both_bad
        and (epochs_done or (len(c) if c.axis == "epoch" else 0)) >= UNDERFIT_MIN_EPOCHS
        and not _accuracy_says_it_learned(acc)
    )
    pinned = _pinned_accuracy(h)
    never_scores = _never_scores(h) or pinned is not None
    if at_chance or (near_uniform and not above_chance):
        severity: Severity = "error"
    elif near_uniform or (flat and not learned) or at_majority or val_uniform or never_scores:
        known = ln_c is not None or at_majority or val_uniform or flat_both or never_scores
        severity = "warning" if known else "info"  # else may be converged
    else:
        return None
    still_falling = late_drop >= STILL_FALLING and not never_scores  # a falling loss that scores nothing learns nothing
    if still_falling:
        severity = "warning" if severity == "error" else "info"
    span = f"{len(c)} epochs" if c.axis == "epoch" else f"{fmt(float(c.x[-1]))} steps"
    if epochs_done is not None:
        span += f" ({fmt(epochs_done)} epochs)"
    ratio = _update_ratio(h)
    frozen = None if ratio is None else ratio < UPDATE_RATIO_LOW
    moved = f"down {improvement:.1%}" if improvement >= 0 else f"up {-improvement:.1%}"
    parts = [f"after {span} the train loss went from {fmt(first)} to {fmt(now)} ({moved})"]
    if ln_c is not None:
        read = f" ({C} classes, read from a first loss of ln {C})" if inferred else ""
        parts.append(f"ln({C}) = {fmt(ln_c)} is what a uniform guess scores{read}")
    if acc is not None and acc_now is not None:
        parts.append(f"{acc.name} is {acc_now:.1%}" + (f" against {chance:.1%} for random guessing" if chance else ""))
    if at_majority and acc is not None:
        parts.append(
            f"val accuracy is {majority:.1%} at every evaluation (the share of the class a constant guess picks) and "
            f"{acc.name} does not rise above it: the model does not beat predicting the majority class"
        )
    if val_uniform is not None:
        u = val_uniform
        parts.append(
            f"the val loss never went below {fmt(u.lowest)}, at or above {u.said}, and the best val accuracy "
            f"{u.best_acc:.1%} is close to {u.chance_said}: nothing it learned carries over"
        )
    if pinned is not None:
        parts.append(f"every accuracy it logged stayed between {pinned[0]:.1%} and {pinned[1]:.1%} after the first "
                     f"epoch: its predictions stopped changing while the loss moved")  # fmt: skip
    elif never_scores:
        parts.append(f"no accuracy it logged is above {NEVER_SCORES:.0%} in {UNDERFIT_MIN_EPOCHS} or more epochs: "
                     "it gets fewer than 1 in 20 right")  # fmt: skip
    if both_bad:
        parts.append(f"val loss {fmt(val_now)} is as bad: the model cannot fit its own training set")
    if still_falling:
        parts.append(f"it fell {late_drop:.0%} over the last third, so it may only be starting to learn")
    if frozen:
        parts.append(
            f"each step moves the weights by only {fmt(ratio)} of their norm (~1e-3 is healthy): the learning rate is "
            "far too low"
        )
    useless = severity == "error"
    return finding(
        issue="underfitting",
        rule="underfitting",
        severity=severity,
        diagnosis=("The model is not learning: " if useless else "Underfitting: ") + "; ".join(parts) + ".",
        evidence={
            "train_loss_first": first,
            "train_loss_now": now,
            "improvement": improvement,
            "ln_n_classes": ln_c,
            "n_classes_from_initial_loss": inferred,
            "acc_now": acc_now,
            "chance_acc": chance,
            "val_loss_now": val_now,
            "train_val_close": both_bad,
            "late_drop": late_drop,
            "n_points": len(c),
            "axis": c.axis,
            "epochs_done": epochs_done,
            "update_ratio_recent": ratio,
            "weights_barely_move": frozen,
        },
        source=UNDERFIT_SOURCE,
        solution=solutions(
            "underfitting", first=_underfit_first(useless=useless, near_uniform=near_uniform or bool(frozen))
        ),
        axis=c.axis,
        began_at=float(c.x[0]),
        confidence=0.9 if useless else scaled_confidence(UNDERFIT_IMPROVEMENT - improvement, 0, 0.1, c_lo=0.5),
    )


def _never_scores(h: RunHistory) -> bool:
    """Every accuracy logged, training and validation, over UNDERFIT_MIN_EPOCHS epochs or more stays at or below
    NEVER_SCORES and rises less than CHANCE_MARGIN (see NEVER_SCORES)."""
    accs = _epoch_accuracies(h)
    if not accs or max(len(a) for a in accs) < UNDERFIT_MIN_EPOCHS:
        return False
    fractions = [a.y / (100.0 if float(np.max(a.y)) > 1.0 else 1.0) for a in accs]
    return all(float(y.max()) <= NEVER_SCORES for y in fractions) and all(
        accuracy_gain(a) < CHANCE_MARGIN for a in accs
    )


def _epoch_accuracies(h: RunHistory) -> list[Curve]:
    """The training and validation accuracies logged per epoch (2 points or more)."""
    return [a for name in ("train_acc", "val_acc") if (a := get_curve(h, name, "epoch", min_points=2)) is not None]


def _pinned_accuracy(h: RunHistory) -> tuple[float, float] | None:
    """(lowest, highest) of the accuracies after their first epoch when every one logged, training and validation,
    over PINNED_MIN_EPOCHS epochs or more stays below ACC_LEARNED within CHANCE_MARGIN (see PINNED_MIN_EPOCHS)."""
    accs = _epoch_accuracies(h)
    if not accs or min(len(a) for a in accs) < PINNED_MIN_EPOCHS:
        return None
    later = np.concatenate([a.y[1:] / (100.0 if float(np.max(a.y)) > 1.0 else 1.0) for a in accs])
    low, high = float(later.min()), float(later.max())
    return (low, high) if high < ACC_LEARNED and high - low <= CHANCE_MARGIN else None


def _accuracy_says_it_learned(acc: Curve | None) -> bool:
    """The accuracy rose ACC_ROSE or more from its first value, or ends at ACC_HIGH or more (fractions)."""
    if acc is None:
        return False
    end = float(np.median(acc.y[-3:])) / (100.0 if float(np.max(acc.y)) > 1.0 else 1.0)
    return accuracy_gain(acc) >= ACC_ROSE or end >= ACC_HIGH


@dataclass(frozen=True)
class _ValUniform:
    """A validation loss that never beat a model that learned nothing: `reference` is that model's loss (ln C when
    the class count `classes` is known, else the run's own first train loss), `said`/`chance_said` say which."""

    classes: int | None
    reference: float
    said: str
    chance_said: str
    lowest: float
    best_acc: float


def _val_never_beats_uniform(h: RunHistory) -> _ValUniform | None:
    """When over >= UNDERFIT_MIN_EPOCHS evaluations the validation loss never went below that of a model that learned
    nothing (less 2%) and the validation accuracy never got ABOVE_CHANCE of the way from chance to 1. That loss is
    ln C, C from the log or from a first val loss within 2% of ln 2..ln 5 (issue 13's corpus: val loss 0.694 -> min
    0.6915 -> 0.764 with val accuracy 56-58% on a binary task); with no class count, the run's own first train loss
    (the untrained model's), and chance is the first val accuracy (issue 13, blind18: a BERT classifier over ~17,000
    labels, first loss 9.76, whose eval loss went 9.76 -> min 9.71 -> 10.6 with eval accuracy 0% -> 1.2% while the
    train loss fell to 7.5)."""
    val = epoch_or_step(h, "val_loss", min_epochs=UNDERFIT_MIN_EPOCHS, min_steps=UNDERFIT_MIN_EPOCHS)
    acc = get_curve(h, "val_acc", min_points=2)
    if val is None or acc is None or len(val) < UNDERFIT_MIN_EPOCHS or float(val.y[0]) <= 0:
        return None
    scale = 100.0 if float(acc.y.max()) > 1.0 else 1.0
    C = n_classes(h) or classes_at_loss(float(val.y[0]), VAL_UNIFORM_BAND)
    if C is not None:
        reference, said, chance, chance_said = math.log(C), f"ln({C}) = {fmt(math.log(C))} (a uniform guess)", 1 / C, \
            f"1/{C}"  # fmt: skip
    else:
        init = initial_train_loss(h)
        if init is None or init <= 0:
            return None
        chance = float(acc.y[0]) / scale
        reference, said, chance_said = init, f"the first train loss {fmt(init)} (the untrained model's)", \
            f"its first value, {chance:.1%}"  # fmt: skip
    best = float(acc.y.max()) / scale
    lowest = float(val.y.min())
    if lowest < (1 - VAL_UNIFORM_BAND) * reference or chance >= 1 or (best - chance) / (1 - chance) > ABOVE_CHANCE:
        return None
    return _ValUniform(C, reference, said, chance_said, lowest, best)


def _update_ratio(h: RunHistory) -> float | None:
    """The current update/weight ratio (||w_after - w_before|| / ||w||): the median of the last third of the logged
    values (as the gradient rules take a current value), or None when it was not logged."""
    c = step_or_epoch(h, "update_ratio", min_points=3)
    return float(np.median(c.tail(1 / 3).y)) if c is not None else None


def _underfit_first(*, useless: bool, near_uniform: bool) -> tuple[str, ...]:
    """No learning at all: the learning rate or the data first; learning far too slowly: the learning rate first."""
    if useless:
        return ("adjust learning rate", "Check data quality")
    return ("adjust learning rate",) if near_uniform else ()
