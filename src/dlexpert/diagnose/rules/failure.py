"""Runs that failed without a NaN: the loss climbs above where it started (divergence), nothing moves (stuck), or
the logged values are impossible (invalid_loss).

Both were reported healthy on real logs (issue 13's corpus: a Whisper fine-tune whose eval loss rose 90% after its
warm-up and stayed there; a loss frozen at 0.250005 for 230 of 240 points; validation accuracy at 0.48-0.54 on a
binary task for 100 evaluations).
"""

from __future__ import annotations

import math
import re

import numpy as np

from ...schema.diagnosis import Finding
from .._registry import register_rule
from ..history import RunHistory
from ._common import (
    CHANCE_BAND,
    LR_RESTART_RATIO,
    Curve,
    accuracy_rose,
    at,
    classes_at_loss,
    epoch_or_step,
    finding,
    fits_the_training_set,
    fmt,
    get_curve,
    has_digits,
    loss_progress,
    median_filter,
    most_common,
    n_classes,
    significant_digits,
    solutions,
    unrecognised_losses,
    unrecognised_scores,
    val_acc_at_chance,
)

# Heuristic: a curve is judged from this many points on (fewer cannot tell a trend from noise).
MIN_POINTS = 6
# Heuristic: the loss "rose" when the median of its last 25% is this much above the median of its first 15% (a
# warm-up transient is inside the first 15%) or, on an epoch axis, above its first epoch when that is lower (an
# epoch's value is already its batches' mean; issue 13, blind23: a DINO pretraining at 3.16, then 6.76 and 6.93 =
# ln 1024 for 23 epochs), and above its running minimum by DIVERGE_ABOVE_MIN.
DIVERGE_RISE = 1.2
DIVERGE_ABOVE_MIN = 1.5
# ... or its running median went down to 60% of its start or lower and the last quarter has given back 75% or more of
# that drop: what it learned is undone (issue 13's corpus: a binary fine-tune from 0.67 down to 0.31, then back to
# 0.65-0.76 = ln 2 as its LR rose; blind30: a 150-epoch model from 27 down to 6.8, then a jump to 48 at epoch 95 and
# 23 over the last quarter, 80% of the drop given back).
DIVERGE_LEARNED = 0.6
DIVERGE_UNDONE = 0.75
# ... or the last quarter is 10x or more above the lowest running median and still climbing: a loss that starts
# orders of magnitude high (an unscaled regression) can undo what it learned without coming back to its start (issue
# 13, blind11: an MSE from 1e13 down to 1.6e8 at epoch 4, then up to 1.2e10 over the last 5 epochs).
DIVERGE_FAR_ABOVE_LEARNED = 10.0
# ... or it spent at least half the points after its best 10x or more above what it learned, however it ends: a blow-up
# that lasts most of the run is a divergence even if the loss finds its way back (issue 13, blind14: a forecaster's loss
# 0.088 at epoch 1, up to 4329 at epoch 35, above 1 until epoch 141 of 144, 0.25 at the end).
DIVERGE_SUSTAINED_SHARE = 0.5
# Heuristic: "flat" = the last half of the curve spans less than this fraction of its level (a loss frozen at a
# constant; float32 noise is ~1e-7).
STUCK_REL_RANGE = 1e-3
# Heuristic: a train loss whose every point, from the first log on, lies within 1.5% of its median over 20 or more
# logs, and that ends no lower than it began, never learned (issue 13, blind7: a Phi-3 fine-tune logged 4.673-4.706 at
# all 34 logs of its epoch). A run that learns moves more than that between its first logs and its last.
FLAT_RUN_REL_RANGE = 0.015
FLAT_RUN_MIN_POINTS = 20
# Heuristic: a train loss whose every point, from the first log on, lies within STUCK_REL_RANGE (0.1%) of its median
# over 6 or more logs never moved (issue 13, blind21: a SimCLR run at 5.5410-5.5425, ln 255, for all 7 logs of its
# first epoch, top-1 accuracy at chance). A run that learns moves more than that between its first logs.
FROZEN_RUN_MIN_POINTS = MIN_POINTS
# Heuristic: a stretch of 20 or more consecutive train-loss logs, and at least a tenth of them, that repeat the same
# value to the fourth significant digit (within 0.01%) is a model whose outputs stopped changing, even when the run
# later leaves it: per-batch losses of a model that learns differ from batch to batch in the third digit (issue 13,
# tune_text: SwAV launches sat at 3.9120-3.9121 = ln 50, the uniform assignment, for 60 epochs, then a restart left).
FROZEN_STRETCH_REL_RANGE = 1e-4
FROZEN_STRETCH_MIN_POINTS = 20
FROZEN_STRETCH_MIN_SHARE = 0.1
FROZEN_STRETCH_MIN_DIGITS = 4
# ... at a level that is not the floor a converged loss reaches: at least this share of the first logged loss (a
# fine-tune at 0.0001 for 59 logs, down from 0.85, has converged; issue 13's tune half).
FROZEN_STRETCH_MIN_LEVEL = 0.05
# Heuristic: a validation loss within 3% of ln(C) (C = 2 when the log does not say) at every one of >= 5
# evaluations, while the best validation accuracy stays within 0.15 of chance: the model outputs the uniform guess.
CHANCE_LOSS_BAND = 0.03
CHANCE_MIN_EVALS = 5
CHANCE_ACC_MARGIN = 0.15
# Heuristic: a run frozen from its first evaluation: a validation loss within STUCK_REL_RANGE of its level, or an
# accuracy identical to 1e-6, at every one of >= FROZEN_EVALS evaluations (issue 13's corpus: val loss 681.58 ->
# 681.07 over 5 epochs; 615.2858 -> 615.2847 over 65; val accuracy 0.0797 at all 4 evaluations of a 10-class run).
# An accuracy frozen at FROZEN_MAX_ACC or above is a solved task, not a stuck one.
FROZEN_EVALS = 4
FROZEN_ACC_TOL = 1e-6
FROZEN_MAX_ACC = 0.99
# ... the accuracy may leave its frozen value at 1 evaluation in 10 (issue 13, blind11: val accuracy 0.7615207 at 298
# of 300 epochs, 0.7604 at the other two, with val F1 frozen at 0.27863).
FROZEN_SHARE = 0.9
# Heuristic: the train loss is one value, to all its printed digits (5 or more significant ones), at PINNED_SHARE of the
# points of its second half (>= FLAT_RUN_MIN_POINTS): a saturated output whose loss no longer depends on the weights
# (issue 13, blind11: exactly 3.3917625 at 2425 of 2542 logs, 2.3917625 at 105). A converged loss printed with few
# digits (0.0012) repeats without being frozen.
REPEAT_MIN_DIGITS = 5
# Heuristic: a loss exactly 0 at every one of >= ZERO_POINTS points optimises nothing (a masked-out or detached loss).
# A nonzero train loss identical at every one of >= MIN_POINTS points from the first is frozen the same way: even a
# converged loss was higher at its first log (issue 13, blind19: a VICReg ViT run at exactly 24.75 at all 9 logs,
# beside ResNet runs of the same ablation falling 21.3 -> 20.1).
ZERO_POINTS = 3
# ... except a classification term of a detector, which is 0 by construction with one class: YOLOv5 adds it only
# "if self.nc > 1" (ultralytics/yolov5 utils/loss.py, ComputeLoss.__call__; issue 13, blind8: two single-class
# detectors with cls_loss exactly 0 at every epoch and mAP@0.5 0.87).
SINGLE_CLASS_TERM = re.compile(r"(?<![a-z])cls(?![a-z])", re.IGNORECASE)
# ... and a regularisation term while the training loss learns: exactly 0 from the first point is a weight of 0, a
# penalty switched off by design (issue 13, blind18: a regression whose `reg_loss`, `RegLoss` and `RegLoss_val` are 0.0
# at all 100 epochs while its MSE falls 0.90 -> 0.012).
REGULARISER_TERM = re.compile(r"reg(?:ulari[sz]ation)?[_ ]?loss|penalty|(?<![a-z0-9])l[12][_ ]?(?:loss|reg)",
                              re.IGNORECASE)  # fmt: skip
# Heuristic: a frozen validation accuracy is not a stuck run when the training loss fell by half or more
# (`loss_progress`): the model learns the training set and its validation outputs do not follow (constant prediction or
# overfitting, judged by their own rules; issue 13, blind8: train loss 0.143 -> 0.008 while val accuracy stays 0.569).
TRAIN_LEARNS = 0.5
# ... or at most 1e-5 at every point from the first: no loss of an untrained model starts there (a cross-entropy starts
# near ln C), so the target leaks into the input or the loss is computed on the wrong thing (issue 13's corpus: a
# Lightning run whose train loss is 3e-6 at its first log and exactly 0 for its last 47, test accuracy 0.18).
ZERO_LOSS_TOL = 1e-5
# Heuristic: the train loss pinned at ln(C) (C = 2 when the log does not say), within PINNED_BAND, at PINNED_SHARE of
# the points of its second half: the model outputs the uniform guess (issue 13: 0.6931-0.6933 on a binary task).
PINNED_BAND = 0.01
PINNED_SHARE = 0.8
# Heuristic: a noisy per-step loss that never learned below the uniform guess: C from the log, else the C whose ln C
# the median of all FLAT_RUN_MIN_POINTS or more points is within HOVER_BAND of (`classes_at_loss`); the first tenth of
# the points at most HOVER_START above ln C, the last tenth within HOVER_BAND of it, no point PINNED_BAND below it, and
# the best validation accuracy, when logged, within CHANCE_ACC_MARGIN of 1/C (issue 13, blind19: a 3-class
# transformer fine-tune at 1.097-1.15 for 50 logs, ln 3 = 1.0986, eval accuracy 0.33). A cross-entropy that learns
# goes below ln C; one that hovers above it has not even learned the class shares.
HOVER_BAND = 0.02
HOVER_START = 0.05
# Heuristic: the last 3 evaluations (medians) at the uniform guess: val loss within 2% of ln C and accuracy within
# CHANCE_BAND of 1/C. Both must hold, so a loss that merely passes ln C on its way down does not count.
UNIFORM_LAST_EVALS = 3
UNIFORM_LOSS_BAND = 0.02
# The class count is read from the loss only up to 5 (`classes_at_loss`); the accuracy must also be within a quarter of
# 1/C (13 classes: 0.077 +- 0.019).
UNIFORM_ACC_SHARE = 0.25
# Heuristic: a score that changed at every evaluation, then repeats one value exactly at its last COLLAPSE_TAIL or more
# evaluations (and COLLAPSE_SHARE of them all), collapsed onto one output: its value no longer depends on the weights'
# small changes (issue 13, blind15: a U-Net's val Dice noisy 0.13-0.55 for 39 epochs, then exactly 0.663446 at the
# last 11 while both losses froze in the fourth decimal). A quantised accuracy (a small validation set) also repeats
# between consecutive evaluations before its tail, and is not read this way.
COLLAPSE_TAIL = 10
COLLAPSE_SHARE = 0.2
# Heuristic: the per-step train loss repeats itself with a period of CYCLE_MAX_PERIOD steps or fewer, value for value to
# every logged digit, at CYCLE_SHARE of the points of its second half (which spans CYCLE_MIN_PERIODS periods or more,
# and some value of the cycle carries REPEAT_MIN_DIGITS significant digits): the same batches in the same order give
# the same losses, so the weights no longer change (issue 13, blind16: a 5-sample pose regressor whose step losses
# repeat 0.0, 1.0, 1.5337, 9.0, 10.4873 from epoch 3 to epoch 299). Training that changes the weights never
# reproduces a loss to every digit.
CYCLE_MAX_PERIOD = 256
CYCLE_MIN_PERIODS = 5
CYCLE_SHARE = 0.9
# Heuristic: a GRPO run whose groups mostly scored alike learns from almost nothing: the advantage is each completion's
# reward minus its group's mean, 0 when all of a group's completions score the same (all right or all wrong; Shao et
# al. 2024, DeepSeekMath, arXiv 2402.03300, sec. 4.1.2; TRL's GRPOTrainer logs the share of such groups as
# `frac_reward_zero_std`). NO_SIGNAL_GROUPS or more of the groups at NO_SIGNAL_SHARE of the logged steps (>=
# MIN_POINTS), with the reward's last third no higher than its first, is a run that is not learning (issue 13,
# blind26: every group alike at 84 of 100 steps, the reward 0 there).
NO_SIGNAL_GROUPS = 0.75
NO_SIGNAL_SHARE = 2 / 3
NO_SIGNAL_SOURCE = (
    "Shao et al. 2024, DeepSeekMath (GRPO's group-relative advantage, arXiv 2402.03300); TRL documentation, GRPO "
    "Trainer logged metrics (frac_reward_zero_std); 75% and 2/3 are heuristics"
)
DIVERGE_SOURCE = "issue 13's real-log corpus (rising loss after warm-up); 1.2x and 1.5x are heuristics"
STUCK_SOURCE = "issue 13's real-log corpus (a loss frozen at a constant, accuracy at chance); thresholds are heuristics"


def _rises(c: Curve, lr: Curve | None = None) -> tuple[float, float, float, float, str] | None:
    """(early level: the first 15%'s median, or an epoch curve's first epoch when it rose from there; where it ends;
    running minimum; x where the rise began; how the end was read: the last quarter's median, or an epoch curve's last
    epoch when that is higher) when the curve ends far above its best
    and either above its start or back near it after learning, or stayed far above it for most of the rest of the run
    while the learning rate (`lr`, when logged) did not start a new schedule, else None."""
    k_early, k_late = max(2, int(0.15 * len(c))), max(2, int(0.25 * len(c)))
    early, late = float(np.median(c.y[:k_early])), float(np.median(c.y[-k_late:]))
    first = float(c.y[0])
    # From its first epoch: an epoch's value is already its batches' mean (no warm-up transient inside it), unless the
    # learning rate restarted a schedule since.
    from_first = (c.axis == "epoch" and first < early and late > DIVERGE_RISE * first
                  and not _new_schedule(lr, float(c.x[0])))  # fmt: skip
    early = first if from_first else early
    best_i = int(np.argmin(c.y))
    best = float(c.y[best_i])
    if early <= 0 or best <= 0:
        return None
    k = max(3, (len(c) // 10) | 1)  # odd: a noisy per-step curve's lowest single value is not what it learned
    smooth = median_filter(c.y, k)
    learned = float(np.min(smooth))
    # Still improving when its best point and its best stretch are both in the last quarter: one lucky step of a noisy
    # per-step curve is not its best (issue 13, blind16: an LM fine-tune's step loss 3.17 at step 2491 of 3000, between
    # blow-ups to 20-31).
    if min(best_i, int(np.argmin(smooth))) >= len(c) - k_late or late <= DIVERGE_ABOVE_MIN * best:
        return None
    # An epoch curve's last point is itself the mean of an epoch's batches: a final epoch back at the early level has
    # undone what the run learned, whatever the quarter before it did (issue 13, blind17: a resumed 3D-CNN's epoch loss
    # 0.68 -> 0.099, then 0.955, 0.543, 0.409 and 0.72 at the end).
    final = max(late, float(c.y[-1])) if c.axis == "epoch" else late
    undone = learned <= DIVERGE_LEARNED * early and final - learned >= DIVERGE_UNDONE * (early - learned)
    climbing = late >= DIVERGE_FAR_ABOVE_LEARNED * learned and c.y[-1] > c.y[-k_late]
    sustained = float(np.mean(c.y[best_i:] >= DIVERGE_FAR_ABOVE_LEARNED * learned)) >= DIVERGE_SUSTAINED_SHARE
    if late > DIVERGE_RISE * early or undone or climbing or (sustained and not _new_schedule(lr, float(c.x[best_i]))):
        end, how = (final, "its last epoch") if final > late else (late, "median of the last quarter")
        return early, end, best, float(c.x[best_i]), how
    return None


def _new_schedule(lr: Curve | None, since: float) -> bool:
    """After `since` the learning rate climbed back to LR_RESTART_RATIO times the lowest value it had reached
    since then: a new schedule (or warm-up) started, so a loss rising with it is a restart, not a failure (issue 13,
    blind4: fine-tuning segments appended to one log, each decaying to 0 and restarting at 3.9e-5)."""
    if lr is None:
        return False
    after = lr.y[lr.x >= since]
    return len(after) > 1 and bool((after[1:] > LR_RESTART_RATIO * np.minimum.accumulate(after)[:-1]).any())


@register_rule(issue="divergence")
def divergence(h: RunHistory) -> Finding | None:
    """Symptom: the training loss (or the validation loss while training does not improve) ends well above where it
    started and far above its best value, without a NaN: the run got worse and stayed worse.
    Cause: a learning rate too high for the model once the warm-up ends (the usual cause in fine-tuning), a broken
    schedule, a data or label change mid-run, or a loss that is unbounded below or above.
    Remedy: lower the peak learning rate (3-10x) or lengthen the warm-up; restore the checkpoint from before the rise;
    add gradient clipping; check that the data and the loss did not change during the run.
    """
    for name in ("train_loss", "val_loss"):
        c = epoch_or_step(h, name, min_epochs=MIN_POINTS, min_steps=MIN_POINTS)
        if c is None or len(c) < MIN_POINTS:
            continue
        rise = _rises(c, get_curve(h, "lr", c.axis, min_points=2))
        if rise is None:
            continue
        early, late, best, began, how = rise
        if name == "val_loss" and _train_improves(h, since=began):
            continue  # train falls while validation rises: overfitting, judged by its own rule
        if name == "train_loss" and fits_the_training_set(h):
            continue  # a rise of a loss near 0 from a few confident mistakes, while every training sample is right
        return finding(
            issue="divergence",
            rule="divergence",
            severity="warning",
            diagnosis=(
                f"The {name.replace('_', ' ')} ends at {fmt(late)} ({how}), "
                + (f"{fmt(late / early)}x its early level {fmt(early)} and " if late >= early else "")
                + f"{fmt(late / best)}x its best {fmt(best)} at {at(c.axis, began)}"
                + ("" if late >= early else f", most of the way back to its early level {fmt(early)}")
                + ": the run got worse after that point and did not recover."
            ),
            evidence={"series": name, "early": early, "late": late, "best": best, "best_at": began},
            source=DIVERGE_SOURCE,
            solution=solutions("divergence"),
            axis=c.axis,
            began_at=began,
        )
    return None


def _train_improves(h: RunHistory, since: float) -> bool:
    """The train loss fell while the validation loss rose: judged from the validation minimum (`since`) on, so a
    first-epoch transient does not count as progress (issue 13's corpus: a train loss of 3.7e6 at epoch 1, then
    swinging 133-2732 while the val loss doubled)."""
    c = epoch_or_step(h, "train_loss", min_epochs=MIN_POINTS, min_steps=MIN_POINTS)
    if c is None or len(c) < MIN_POINTS:
        return True  # unknown: leave a rising validation loss to the overfitting rules
    window = c.y[c.x >= since] if int(np.sum(c.x >= since)) >= MIN_POINTS else c.y
    k = max(2, int(0.25 * len(window)))
    return float(np.median(window[-k:])) < 0.9 * float(np.median(window[:k]))


@register_rule(issue="stuck")
def stuck(h: RunHistory) -> Finding | None:
    """Symptom: nothing moves: the training loss is frozen at one value, or validation accuracy sits at chance
    (1/C; 0.5 for a binary task) through the second half of the run, or a GRPO run's groups score alike at most steps
    and its reward does not rise.
    Cause: no gradient reaches the weights (frozen or detached layers, a zero learning rate), the model predicts a
    constant (often the mean or the majority class), labels that do not match the inputs, or a learning rate so high
    the model collapsed to the prior.
    Remedy: check that the parameters change between steps and that the optimizer holds them; overfit one small
    batch; visualise inputs with their labels; lower (or, for a zero LR, set) the learning rate.
    """
    frozen = _frozen_from_the_start(h) or _ends_at_uniform_guess(h) or _collapsed_at_the_end(h) or _no_group_signal(h)
    if frozen is not None:
        return frozen
    loss = epoch_or_step(h, "train_loss", min_epochs=MIN_POINTS * 2, min_steps=MIN_POINTS * 2)
    chance_loss = math.log(n_classes(h) or 2)
    if loss is not None and len(loss) >= MIN_POINTS:
        half = loss.y[len(loss) // 2 :]
        share = float(np.mean(np.abs(half / chance_loss - 1) <= PINNED_BAND))
        if share >= PINNED_SHARE:
            return _stuck(loss, f"the train loss stays within {fmt(100 * PINNED_BAND)}% of ln(C) = "
                                f"{fmt(chance_loss)}, the loss of a uniform guess, at {fmt(100 * share)}% of the last "
                                f"{len(half)} points")  # fmt: skip
    hover = _hovers_at_uniform_guess(h, loss) if loss is not None else None
    if hover is not None:
        return hover
    frozen_run = _frozen_to_the_fourth_digit(h) or _frozen_stretch(h)
    if frozen_run is not None:
        return frozen_run
    if loss is not None and len(loss) >= FLAT_RUN_MIN_POINTS:
        level = float(np.median(np.abs(loss.y)))
        spread = float(loss.y.max() - loss.y.min())
        if level > 0 and spread < FLAT_RUN_REL_RANGE * level and loss.y[-1] >= loss.y[0] - spread / 2:
            return _stuck(loss, f"the train loss never leaves {fmt(float(loss.y.min()))}-{fmt(float(loss.y.max()))} "
                                f"({fmt(100 * spread / level)}% of its level) over all {len(loss)} points, from the "
                                f"first log, and ends at {fmt(float(loss.y[-1]))} against {fmt(float(loss.y[0]))} at "
                                "the start: nothing was learned")  # fmt: skip
    if loss is not None and len(loss) >= 2 * FLAT_RUN_MIN_POINTS:
        half = loss.y[len(loss) // 2 :]
        value, share = most_common(half, tol=0.0)
        if share >= PINNED_SHARE and significant_digits(value) >= REPEAT_MIN_DIGITS:
            return _stuck(loss, f"the train loss is exactly {value!r} at {fmt(100 * share)}% of the last {len(half)} "
                                "points")  # fmt: skip
    if loss is not None and len(loss) >= 2 * MIN_POINTS:
        half = loss.y[len(loss) // 2 :]
        level = float(np.median(np.abs(half)))
        if level > 0 and float(half.max() - half.min()) < STUCK_REL_RANGE * level:
            return _stuck(loss, f"the train loss stays at {fmt(float(np.median(half)))} (range "
                                f"{fmt(float(half.max() - half.min()))}) for the last {len(half)} points")  # fmt: skip
    cycle = _repeats_a_cycle(h)
    if cycle is not None:
        return cycle
    val = epoch_or_step(h, "val_loss", min_epochs=CHANCE_MIN_EVALS, min_steps=CHANCE_MIN_EVALS)
    if val is not None and len(val) >= CHANCE_MIN_EVALS and _near_chance_accuracy(h):
        off = float(np.abs(val.y / chance_loss - 1).max())
        if off <= CHANCE_LOSS_BAND:
            return _stuck(val, f"the validation loss stays within {fmt(100 * off)}% of ln(C) = {fmt(chance_loss)}, "
                               f"the loss of a uniform guess, for all {len(val)} evaluations")  # fmt: skip
    acc = val_acc_at_chance(h)
    if acc is None:
        return None
    half = acc.y[len(acc) // 2 :]
    span = f"{fmt(float(half.min()))}-{fmt(float(half.max()))}"
    chance = 1 / (n_classes(h) or 2)
    return _stuck(acc, f"validation accuracy stays within {fmt(CHANCE_BAND)} of chance ({fmt(chance)}) for all "
                       f"{len(acc)} evaluations (last half {span})")  # fmt: skip


def _frozen_from_the_start(h: RunHistory) -> Finding | None:
    """A loss exactly 0 throughout, a validation loss that never moves, or an accuracy identical at every evaluation
    (the validation one, else the training one): the weights never changed what the model outputs."""
    progress = loss_progress(h)  # (first, current, relative improvement) of the train loss
    learns = progress is not None and progress[2] >= TRAIN_LEARNS
    for name in ("train_loss", "val_loss", *unrecognised_losses(h)):
        c = epoch_or_step(h, name, min_epochs=ZERO_POINTS, min_steps=ZERO_POINTS)
        if c is not None and len(c) >= ZERO_POINTS and float(np.max(np.abs(c.y))) <= ZERO_LOSS_TOL:
            if name not in ("train_loss", "val_loss") and SINGLE_CLASS_TERM.search(name) and not c.y.any():
                continue  # a single-class detector's classification term
            if name not in ("train_loss", "val_loss") and name.startswith("val") and learns:
                continue  # a term off at evaluation (blind14: a VQ-VAE's val commit loss) while training learns
            if name not in ("train_loss", "val_loss") and REGULARISER_TERM.search(name) and learns:
                continue  # a penalty with weight 0
            boxes = " (no target boxes reach it: check that the label files are found and in the expected format)"
            zero = "exactly 0" if not c.y.any() else f"at most {fmt(float(np.max(np.abs(c.y))))}"
            return _stuck(c, f"the {name.replace('_', ' ')} is {zero} at all {len(c)} points, from the first: "
                             f"nothing is optimised through it{boxes if 'box' in name.lower() else ''}")  # fmt: skip
    train = epoch_or_step(h, "train_loss", min_epochs=MIN_POINTS, min_steps=MIN_POINTS)
    if train is not None and len(train) >= MIN_POINTS and train.y[0] != 0 and bool(np.all(train.y == train.y[0])):
        return _stuck(train, f"the train loss is exactly {float(train.y[0])!r} at all {len(train)} points, from the "
                             "first: no update changed what the model outputs")  # fmt: skip
    for name in [] if accuracy_rose(h) else unrecognised_scores(h):  # an accuracy that rose says the model learns
        c = epoch_or_step(h, name, min_epochs=FROZEN_EVALS, min_steps=FROZEN_EVALS)
        if c is not None and len(c) >= FROZEN_EVALS and not c.y.any():
            return _stuck(c, f"{name} is exactly 0 at all {len(c)} evaluations: the model never gets one right")
    val = epoch_or_step(h, "val_loss", min_epochs=FROZEN_EVALS, min_steps=FROZEN_EVALS)
    if val is not None and len(val) >= FROZEN_EVALS:
        level, span = float(np.median(np.abs(val.y))), float(val.y.max() - val.y.min())
        if level > 0 and span < STUCK_REL_RANGE * level:
            return _stuck(val, f"the validation loss moves only {fmt(span)} around {fmt(level)} "
                               f"({fmt(100 * span / level)}%) over all {len(val)} evaluations")  # fmt: skip
    acc = get_curve(h, "val_acc", min_points=FROZEN_EVALS) or get_curve(h, "train_acc", min_points=FROZEN_EVALS)
    if acc is not None and len(acc) >= FROZEN_EVALS:
        scale = 100.0 if float(acc.y.max()) > 1.0 else 1.0
        value, share = most_common(acc.y / scale, tol=FROZEN_ACC_TOL)
        if share >= FROZEN_SHARE and 0 < value < FROZEN_MAX_ACC and not (learns and acc.name == "val_acc"):
            what = "validation" if acc.name == "val_acc" else "training"
            times = "every one" if share == 1.0 else f"{round(share * len(acc))}"
            return _stuck(acc, f"the {what} accuracy is {fmt(value)} at {times} of the {len(acc)} evaluations")
    return None


def _collapsed_at_the_end(h: RunHistory) -> Finding | None:
    """A validation score that moved at every evaluation and then repeats one value at its last COLLAPSE_TAIL or more
    (see COLLAPSE_TAIL), while the learning rate, when logged, is not zero."""
    lr = get_curve(h, "lr", min_points=1)
    if lr is not None and float(lr.y[-1]) <= 0:
        return None  # a schedule that ends at 0 freezes the weights, and every score with them
    for name in ("val_acc", *(n for n in unrecognised_scores(h) if n.lower().startswith("val"))):
        c = epoch_or_step(h, name, min_epochs=COLLAPSE_TAIL, min_steps=COLLAPSE_TAIL)
        if c is None or len(c) < COLLAPSE_TAIL + 2:
            continue
        tail = int(np.argmax(np.append(c.y[::-1] != c.y[-1], True)))  # evaluations at the last value, from the end
        before = c.y[: len(c) - tail]
        moved = len(before) >= 2 and bool(np.all(np.diff(before) != 0))
        if tail >= COLLAPSE_TAIL and tail >= COLLAPSE_SHARE * len(c) and moved and c.y[-1] < FROZEN_MAX_ACC:
            return _stuck(c, f"{name} changed at each of the first {len(before)} evaluations, then is exactly "
                             f"{float(c.y[-1])!r} at all of the last {tail}: the model collapsed onto one output",
                          began_at=float(c.x[len(before)]))  # fmt: skip
    return None


def _repeats_a_cycle(h: RunHistory) -> Finding | None:
    """The per-step train loss repeats one cycle of values exactly through its second half (see CYCLE_MAX_PERIOD)."""
    c = get_curve(h, "train_loss", "step", min_points=2 * CYCLE_MIN_PERIODS)
    if c is None:
        return None
    half = c.y[len(c) // 2 :]
    for period in range(2, min(CYCLE_MAX_PERIOD, len(half) // CYCLE_MIN_PERIODS) + 1):
        same = float(np.mean(half[period:] == half[:-period]))
        cycle = half[-period:]
        if same >= CYCLE_SHARE and np.ptp(cycle) > 0 and max(map(significant_digits, cycle)) >= REPEAT_MIN_DIGITS:
            shown = ", ".join(fmt(float(v)) for v in cycle[:8]) + (", ..." if period > 8 else "")
            return _stuck(c, f"the train loss repeats the same {period} values ({shown}) step for step, to every "
                             f"logged digit, through the last {len(half)} steps: the same batches give the same "
                             "losses, so the weights no longer change")  # fmt: skip
    return None


def _ends_at_uniform_guess(h: RunHistory) -> Finding | None:
    """The last UNIFORM_LAST_EVALS evaluations score the uniform guess on both counts: a validation loss within
    UNIFORM_LOSS_BAND of ln C and an accuracy within CHANCE_BAND of 1/C, with C from the log or, when it does not say,
    the C whose ln C the loss sits at (issue 13's corpus: a restarted run ending at val loss 1.384, 1.375 = ln 4 with
    accuracy 0.25-0.32 on 4 classes)."""
    loss = epoch_or_step(h, "val_loss", min_epochs=UNIFORM_LAST_EVALS, min_steps=UNIFORM_LAST_EVALS)
    acc = get_curve(h, "val_acc", min_points=UNIFORM_LAST_EVALS)
    if loss is None or acc is None or len(loss) < UNIFORM_LAST_EVALS:
        return None
    level = float(np.median(loss.y[-UNIFORM_LAST_EVALS:]))
    C = n_classes(h) or classes_at_loss(level, UNIFORM_LOSS_BAND)
    if C is None:
        return None
    score = float(np.median(acc.y[-UNIFORM_LAST_EVALS:])) / (100.0 if float(acc.y.max()) > 1.0 else 1.0)
    off_loss, off_acc = abs(level / math.log(C) - 1), abs(score - 1 / C)
    if off_loss > UNIFORM_LOSS_BAND or off_acc > min(CHANCE_BAND, UNIFORM_ACC_SHARE / C):
        return None
    return _stuck(loss, f"the last {UNIFORM_LAST_EVALS} evaluations score what a uniform guess over {C} classes "
                        f"scores: val loss {fmt(level)} against ln {C} = {fmt(math.log(C))}, val accuracy "
                        f"{fmt(score)} against 1/{C} = {fmt(1 / C)}")  # fmt: skip


def _hovers_at_uniform_guess(h: RunHistory, loss: Curve) -> Finding | None:
    """The train loss starts at ln C, ends there and never goes below it (see HOVER_BAND)."""
    if len(loss) < FLAT_RUN_MIN_POINTS:
        return None
    C = n_classes(h) or classes_at_loss(float(np.median(loss.y)), HOVER_BAND)
    if C is None or not _near_chance_accuracy(h, C):
        return None
    chance_loss, tenth = math.log(C), max(3, len(loss) // 10)
    start, end = float(np.median(loss.y[:tenth])) / chance_loss, float(np.median(loss.y[-tenth:])) / chance_loss
    if start > 1 + HOVER_START or abs(end - 1) > HOVER_BAND or float(loss.y.min()) < (1 - PINNED_BAND) * chance_loss:
        return None
    return _stuck(loss, f"the train loss starts at {fmt(start * chance_loss)} and ends at {fmt(end * chance_loss)}, "
                        f"never going below {fmt(float(loss.y.min()))} over {len(loss)} points: it stays at ln {C} = "
                        f"{fmt(chance_loss)}, the loss of a uniform guess over {C} classes")  # fmt: skip


def _frozen_to_the_fourth_digit(h: RunHistory) -> Finding | None:
    """Every point of the train loss, from the first log on, within STUCK_REL_RANGE of its median (see
    FROZEN_RUN_MIN_POINTS)."""
    loss = epoch_or_step(h, "train_loss", min_epochs=FROZEN_RUN_MIN_POINTS, min_steps=FROZEN_RUN_MIN_POINTS)
    if loss is None:
        return None
    level = float(np.median(np.abs(loss.y)))
    spread = float(loss.y.max() - loss.y.min())
    if len(loss) < FROZEN_RUN_MIN_POINTS or level == 0 or spread >= STUCK_REL_RANGE * level:
        return None
    return _stuck(loss, f"the train loss never leaves {fmt(float(loss.y.min()))}-{fmt(float(loss.y.max()))} "
                        f"({fmt(100 * spread / level)}% of its level) over all {len(loss)} points, from the first "
                        "log: the weights do not change what the model outputs")  # fmt: skip


def _frozen_stretch(h: RunHistory) -> Finding | None:
    """The longest run of consecutive train-loss logs, each logged to 4 or more significant digits, that stay within
    FROZEN_STRETCH_REL_RANGE of each other (see FROZEN_STRETCH_MIN_POINTS)."""
    loss = epoch_or_step(h, "train_loss", min_epochs=FROZEN_STRETCH_MIN_POINTS, min_steps=FROZEN_STRETCH_MIN_POINTS)
    if loss is None:
        return None
    best_start, best_len = 0, 0
    start, lo, hi = 0, math.inf, -math.inf
    precise = has_digits(loss.y, FROZEN_STRETCH_MIN_DIGITS).tolist()
    for i, v in enumerate(loss.y.tolist()):
        if not precise[i]:
            start, lo, hi = i + 1, math.inf, -math.inf
            continue
        lo, hi = min(lo, v), max(hi, v)
        if hi - lo > FROZEN_STRETCH_REL_RANGE * abs(v):
            start, lo, hi = i, v, v
        if i + 1 - start > best_len:
            best_start, best_len = start, i + 1 - start
    stretch = loss.y[best_start : best_start + best_len]
    if best_len < max(FROZEN_STRETCH_MIN_POINTS, FROZEN_STRETCH_MIN_SHARE * len(loss)):
        return None
    if abs(float(np.median(stretch))) < FROZEN_STRETCH_MIN_LEVEL * abs(float(loss.y[0])):
        return None
    return _stuck(loss, f"the train loss repeats {float(np.median(stretch)):.5g} to the fourth digit "
                        f"({float(stretch.min()):.5g}-{float(stretch.max()):.5g}) for {best_len} consecutive logs "
                        "(per-batch losses of a model that learns differ in the third digit): its outputs stopped "
                        "changing", began_at=float(loss.x[best_start]))  # fmt: skip


def _near_chance_accuracy(h: RunHistory, classes: int | None = None) -> bool:
    """The best validation accuracy is within CHANCE_ACC_MARGIN of chance (True when no accuracy is logged)."""
    acc = get_curve(h, "val_acc")
    if acc is None:
        return True
    best = float(acc.y.max()) / (100.0 if float(acc.y.max()) > 1.0 else 1.0)
    return best <= 1.0 / (classes or n_classes(h) or 2) + CHANCE_ACC_MARGIN


def _no_group_signal(h: RunHistory) -> Finding | None:
    """A GRPO run whose groups scored alike at most steps (NO_SIGNAL_GROUPS) and whose reward did not rise."""
    alike = get_curve(h, "frac_reward_zero_std", min_points=MIN_POINTS)
    reward = get_curve(h, "reward", min_points=MIN_POINTS)
    if alike is None or reward is None:
        return None
    share = float(np.mean(alike.y >= NO_SIGNAL_GROUPS))
    third = max(1, len(reward) // 3)
    first, last = float(np.median(reward.y[:third])), float(np.median(reward.y[-third:]))
    if share < NO_SIGNAL_SHARE or last > first:
        return None
    what = (
        f"at {fmt(100 * share)}% of the {len(alike)} logged steps, {fmt(100 * NO_SIGNAL_GROUPS)}% or more of the "
        "groups gave every completion the same reward (all wrong or all right), so their group-relative advantage is "
        f"0 and they carry no gradient, and the reward went from {fmt(first)} (first third, median) to {fmt(last)} "
        "(last third)"
    )
    began = float(alike.x[int(np.argmax(alike.y >= NO_SIGNAL_GROUPS))])
    return _stuck(alike, what, began, source=NO_SIGNAL_SOURCE, first=("group-relative",),
                  evidence={"share_of_steps": share, "reward_first": first, "reward_last": last})  # fmt: skip


def _stuck(
    c: Curve, what: str, began_at: float | None = None, *, source: str = STUCK_SOURCE, first: tuple[str, ...] = (),
    evidence: dict[str, float] | None = None,
) -> Finding:  # fmt: skip
    """A `stuck` warning on curve `c`: `what` is the evidence in words, `first` the solutions to put first."""
    return finding(
        issue="stuck",
        rule="stuck",
        severity="warning",
        diagnosis=f"The run is stuck: {what}; the model is not learning from its inputs.",
        evidence={
            "series": c.name,
            "points": len(c),
            "first": float(c.y[0]),
            "last": float(c.y[-1]),
            **(evidence or {}),
        },
        source=source,
        solution=solutions("stuck", first=first),
        axis=c.axis,
        began_at=float(c.x[len(c) // 2]) if began_at is None else began_at,
    )


# ------------------------------------------------------------------------------------------------ invalid_loss

# Heuristic: a negative loss whose magnitude grew this much from the first quarter to the last is unbounded below
# (issue 13: -3e4 -> -6.5e7), not a likelihood that legitimately goes negative.
INVALID_GROWTH = 100.0
# Heuristic: exact zeros at 10% or more of the second half of a per-step train loss (5 or more), whose other values
# there have a median of 0.5 or more, are steps that computed nothing (issue 13, blind16: a LoRA LM fine-tune's step
# loss exactly 0.0 at 14 of its last 45 steps and 2.5-20 at the others, its learning rate frozen meanwhile).
ZERO_AMID_SHARE = 0.1
ZERO_AMID_MIN = 5
ZERO_AMID_LEVEL = 0.5
INVALID_SOURCE = (
    "PyTorch CrossEntropyLoss/NLLLoss documentation (a cross-entropy is >= 0; NLLLoss expects log-probabilities); "
    "Karpathy 2019, 'A Recipe for Training Neural Networks' (verify the loss at init: ln C for C classes); issue 13's "
    "real-log corpus (a loss from -3e4 to -6.5e7); the 100x growth is a heuristic"
)


@register_rule(issue="invalid_loss")
def invalid_loss(h: RunHistory) -> Finding | None:
    """Symptom: values no correct training produces: a classification loss below zero (a cross-entropy cannot be), a
    negative loss whose magnitude grows by orders of magnitude (unbounded below), or an accuracy below 0 or above 100%.
    Cause: the loss is fed the wrong thing (probabilities or log-probabilities where logits are expected, NLLLoss on
    raw scores, swapped arguments), a sign error in a custom loss, or a metric computed wrongly.
    Remedy: compute the loss on one batch by hand (a uniform guess over C classes gives ln C), check the loss's input
    convention and sign, and the metric code; nothing else in the log can be trusted until then.
    """
    classification = n_classes(h) is not None or any(get_curve(h, a) is not None for a in ("train_acc", "val_acc"))
    for name in ("train_loss", "val_loss"):
        c = get_curve(h, name)
        if c is None or not (c.y < 0).any():
            continue
        k = max(2, len(c) // 4)
        early, late = float(np.median(np.abs(c.y[:k]))), float(np.median(np.abs(c.y[-k:])))
        unbounded = bool((c.y[-k:] < 0).all()) and early > 0 and late >= INVALID_GROWTH * early
        if not (classification or unbounded):
            continue  # a negative loss can be legitimate (a Gaussian likelihood, an ELBO, a GAN's critic)
        first = int(np.argmax(c.y < 0))
        why = (
            f"its magnitude grew {fmt(late / early)}x, from {fmt(early)} to {fmt(late)}: the loss is unbounded below"
            if unbounded
            else "a classification loss (cross-entropy) is never negative"
        )
        return finding(
            issue="invalid_loss",
            rule="invalid_loss",
            severity="error",
            diagnosis=(
                f"The {name.replace('_', ' ')} is negative ({fmt(float(c.y.min()))} at its lowest, first below zero at "
                f"{at(c.axis, float(c.x[first]))}); {why}. The loss is computed wrongly, so no curve in this log can "
                "be read as learning."
            ),
            evidence={
                "series": name,
                "min": float(c.y.min()),
                "first_negative_at": float(c.x[first]),
                "early_magnitude": early,
                "late_magnitude": late,
                "classification": classification,
            },
            source=INVALID_SOURCE,
            solution=solutions("invalid_loss"),
            axis=c.axis,
            began_at=float(c.x[first]),
        )
    zero = _zero_accuracy(h) or _exact_zeros_between_large_losses(h)
    if zero is not None:
        return zero
    for name in ("train_acc", "val_acc"):
        c = get_curve(h, name)
        if c is not None and (float(c.y.min()) < 0 or float(c.y.max()) > 100):
            # The loss is not in question, so the training is judged from it as usual: a note, not an alarm (issue
            # 13, blind12: accuracies logged as per-epoch sums of 87-241 beside valid losses, labelled healthy).
            return finding(
                issue="invalid_loss",
                rule="invalid_loss",
                severity="info",
                diagnosis=(
                    f"The {name.replace('_', ' ')} runs from {fmt(float(c.y.min()))} to {fmt(float(c.y.max()))}, "
                    "outside 0-1 (or 0-100%): the metric is computed wrongly (a sum or count of correct predictions "
                    "instead of their share?); the loss curves do not depend on it."
                ),
                evidence={"series": name, "min": float(c.y.min()), "max": float(c.y.max())},
                source=INVALID_SOURCE,
                solution=solutions("invalid_loss"),
                axis=c.axis,
            )
    return None


def _exact_zeros_between_large_losses(h: RunHistory) -> Finding | None:
    """The per-step train loss is exactly 0 at ZERO_AMID_SHARE or more of its second half (ZERO_AMID_MIN points or
    more) while its other values there sit far from 0 (median >= ZERO_AMID_LEVEL): no batch of a model with losses
    that large scores exactly 0, so on those steps nothing was computed (every label masked, an empty batch, or an
    update skipped on overflowing fp16 gradients that logs 0)."""
    c = get_curve(h, "train_loss", "step", min_points=2 * ZERO_AMID_MIN)
    if c is None:
        return None
    start = len(c) // 2
    half = c.y[start:]
    zero = half == 0
    rest = half[~zero]
    if int(zero.sum()) < ZERO_AMID_MIN or float(zero.mean()) < ZERO_AMID_SHARE or len(rest) < ZERO_AMID_MIN:
        return None
    if float(np.median(rest)) < ZERO_AMID_LEVEL or _repeats_a_cycle(h) is not None:
        return None  # a converged loss printed as 0, or a frozen model scoring one sample exactly every epoch
    first = float(c.x[int(np.argmax(c.y == 0))])
    return finding(
        issue="invalid_loss",
        rule="invalid_loss",
        severity="error",
        diagnosis=(
            f"The train loss is exactly 0 at {int(zero.sum())} of the last {len(half)} steps (the first zero at "
            f"{at(c.axis, first)}) while its other steps there score {fmt(float(np.median(rest)))} (median, up to "
            f"{fmt(float(rest.max()))}): no batch scores 0 at that level, so those steps computed nothing (every label "
            "masked, an empty batch, or an update skipped on overflowing fp16 gradients)."
        ),
        evidence={
            "series": "train_loss",
            "zeros": int(zero.sum()),
            "points": len(half),
            "median_nonzero": float(np.median(rest)),
        },
        source=INVALID_SOURCE,
        solution=solutions("invalid_loss"),
        axis=c.axis,
        began_at=first,
    )


def _zero_accuracy(h: RunHistory) -> Finding | None:
    """An accuracy of exactly 0 at every one of >= FROZEN_EVALS evaluations: a random guess scores about 1/C and a
    constant one its class's share, so the metric is broken or the one class predicted is missing from the split
    (issue 13's corpus: train and val accuracy 0.0 at all 14 epochs of a run whose val loss moved 32-70)."""
    for name in ("val_acc", "train_acc"):
        c = get_curve(h, name, min_points=FROZEN_EVALS)
        if c is None or len(c) < FROZEN_EVALS or c.y[1:].any():
            continue
        return finding(
            issue="invalid_loss",
            rule="invalid_loss",
            severity="warning",
            diagnosis=(
                f"The {name.replace('_', ' ')} is 0 at {'every one' if not c.y.any() else f'{len(c) - 1}'} of the "
                f"{len(c)} evaluations: a random guess scores about 1/C and a constant one its class's share, so "
                "either the metric does not measure what it says (accuracy on a regression target, labels and "
                "predictions in different encodings, a shape mismatch in the comparison) or the model predicts one "
                "class the validation set does not contain (check the split)."
            ),
            evidence={"series": name, "points": len(c)},
            source=INVALID_SOURCE,
            solution=solutions("invalid_loss"),
            axis=c.axis,
        )
    return None
