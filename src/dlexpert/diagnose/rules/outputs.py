"""What the model outputs: the loss at initialisation against ln(C), and predictions that never change."""

from __future__ import annotations

import math

import numpy as np

from ...schema.diagnosis import Finding, Severity
from .._registry import register_rule
from ..history import RunHistory
from ._common import (
    ACC_ROSE,
    Curve,
    accuracy_gain,
    at,
    epoch_or_step,
    finding,
    fmt,
    get_curve,
    loss_progress,
    most_common,
    n_classes,
    onset_of_final_run,
    recent,
    scaled_confidence,
    significant_digits,
    solutions,
    step_or_epoch,
    unrecognised_scores,
)

# ------------------------------------------------------------------------------------------- poor_initialization

# Karpathy, "A Recipe for Training Neural Networks" (2019), "verify loss @ init": softmax cross-entropy over C classes
# starts at -log(1/C) = ln(C). TheDeepChecker (Ben Braiek & Khomh) checks the same before training (poor_init_loss).
# problems.yaml poor_initialization: flag an initial loss above ~1.5x (info here) ...
INIT_HIGH_INFO = 1.5
# ... heuristic: above 2x ln(C) the first steps are spent undoing the initialisation (warning) ...
INIT_HIGH_WARN = 2.0
# ... or below ~0.5x (only judged on a true step-0/1 loss; a trained or pretrained head explains it).
INIT_LOW = 0.5
# A logged step at or below this counts as the loss at initialisation (step 0, or step 1's pre-update loss).
INIT_MAX_STEP = 1

INIT_SOURCE = (
    "Karpathy, A Recipe for Training Neural Networks (2019), 'verify loss @ init' (ln C); TheDeepChecker (Ben Braiek "
    "& Khomh) initial-loss pre-check; problems.yaml poor_initialization (> ~1.5x or < ~0.5x); Amazon SageMaker "
    "Debugger PoorWeightInitialization; 2x (warning) is a heuristic"
)


@register_rule(issue="poor_initialization")
def poor_initialization(h: RunHistory) -> Finding | None:
    """Symptom: the first training loss of a C-class classifier is far from ln(C), the loss of a uniform guess
    (above 1.5-2x it, so the first steps are spent undoing the initialisation: a 'hockey-stick' curve; or far below).
    Cause: over-confident initial logits (large final-layer weights, non-standard initialisation, unnormalised inputs,
    a sum instead of a mean loss); a loss far below ln(C) at step 0 means a wrong class count, a different loss, an
    already-trained head, or labels leaking into the inputs.
    Remedy: use Kaiming/Xavier initialisation with zero biases, initialise the final layer small (or to the class
    prior), normalise inputs and use a mean-reduced loss; for a too-low start confirm n_classes and the loss.
    """
    C = n_classes(h)
    if C is None:
        return None
    ln_c = math.log(C)
    step = get_curve(h, "train_loss", "step")
    if step is not None:
        x0, l0, at_init = float(step.x[0]), float(step.y[0]), float(step.x[0]) <= INIT_MAX_STEP
        axis = step.axis
    else:
        ep = get_curve(h, "train_loss", "epoch")
        if ep is None:
            return None
        # An epoch mean over a falling curve is below the initial loss: a lower bound, valid for "too high" only.
        x0, l0, at_init, axis = float(ep.x[0]), float(ep.y[0]), False, ep.axis
    ratio = l0 / ln_c
    high = ratio > INIT_HIGH_INFO
    low = at_init and ratio < INIT_LOW
    if not (high or low):
        return None
    severity: Severity = "warning" if ratio > INIT_HIGH_WARN else "info"
    where = "the loss at initialisation" if at_init else f"the first logged train loss ({at(axis, x0)})"
    if high:
        bound = "" if at_init else " (an average after some training, so the initial loss was at least this high)"
        diagnosis = (
            f"{where.capitalize()} is {fmt(l0)}, {fmt(ratio)}x ln({C}) = {fmt(ln_c)}, the loss of a uniform guess"
            f"{bound}: the initial outputs are confidently wrong and the first steps are spent undoing that."
        )
        first: tuple[str, ...] = ("final layer", "standard initialisation")
    else:
        diagnosis = (
            f"The loss at initialisation is {fmt(l0)}, only {fmt(ratio)}x ln({C}) = {fmt(ln_c)}: lower than a random "
            "classifier can score. Check that n_classes and the loss are what the log says, that the head was not "
            "already trained, and that labels do not leak into the inputs."
        )
        first = ("far below",)
    return finding(
        issue="poor_initialization",
        rule="poor_initialization",
        severity=severity,
        diagnosis=diagnosis,
        evidence={
            "initial_loss": l0,
            "ln_n_classes": ln_c,
            "ratio": ratio,
            "n_classes": C,
            "at_init": at_init,
            "x": x0,
        },
        source=INIT_SOURCE,
        solution=solutions("poor_initialization", first=first),
        axis=axis,
        began_at=x0,
        confidence=scaled_confidence(ratio if high else 1 / max(ratio, 1e-9), INIT_HIGH_INFO, 4.0, c_lo=0.5),
    )


# ------------------------------------------------------------------------------------------- constant_prediction

# problems.yaml constant_prediction: "flag when one class receives > 95% of predictions".
MAJORITY_WARN = 0.95
# Heuristic: >= 99.9% of predictions are one class: the model ignores its input (error: the run is useless).
MAJORITY_ERROR = 0.999
# Heuristic: entropy of the predicted-class histogram below 5% of its maximum ln(C).
ENTROPY_FRACTION = 0.05
# Heuristic: val accuracy identical (within 1e-6) for >= 5 evaluations means the predictions do not change.
STUCK_EVALS = 5
STUCK_TOL = 1e-6
# Heuristic: "at chance" = within 2 points of 1/C; a stuck accuracy of >= 99% is a solved task, and one more than
# half-way from chance to 100% with the train loss still moving is a converged model on a small val set (not reported).
CHANCE_TOL = 0.02
STUCK_MAX_ACC = 0.99
STUCK_CONVERGED = 0.5
# Heuristic: train loss improving by < 1% over the stuck window = training is stuck as well.
STUCK_TRAIN_FLAT = 0.01
# Heuristic: val accuracy identical at >= 90% of all evaluations, never above what it scored before, while the
# training accuracy rose by ACC_ROSE or more: the model learns its training set and answers the validation set alike
# (issue 13, blind30: 58 training images fitted to 1.0 while all 14 validation images got one class, 0.571 at 21 of
# 23 epochs).
STUCK_WHILE_TRAIN_LEARNS_SHARE = 0.9
# Heuristic: the per-epoch train accuracy is one value, logged to SHARE_REPEAT_DIGITS or more significant digits, at
# SHARE_REPEAT_FRACTION or more of SHARE_REPEAT_EPOCHS or more epochs: a model that answers one class for every input
# scores exactly that class's share of the (fixed) training set at each such epoch, and a model that learns never
# repeats four digits (issue 13, blind20: a 43-class sign classifier at exactly 0.057653, its largest class's share,
# at 9 of 15 epochs, while its loss sat at the entropy of the class prior). Per-step accuracies are k / batch size and
# repeat by arithmetic, so only epochs count.
SHARE_REPEAT_EPOCHS = 8
SHARE_REPEAT_FRACTION = 0.5
SHARE_REPEAT_DIGITS = 4
# Heuristic: a binary classifier's validation accuracy at exactly p or 1 - p (the two rates a model that answers one
# class for every input scores), each at least once, at SHARE_FLIP_FRACTION or more of SHARE_FLIP_EVALS or more
# evaluations, never above the larger of them, and logged to SHARE_FLIP_DIGITS or more significant digits (a val set of
# a handful of samples repeats values by arithmetic): the model answers one class, then the other (issue 13, blind28: a
# galaxy CNN at 47/64 and 17/64 for 9 of 10 epochs while its training accuracy reached 1.0).
SHARE_FLIP_EVALS = 8
SHARE_FLIP_FRACTION = 0.8
SHARE_FLIP_DIGITS = 3

CONST_SOURCE = (
    "problems.yaml constant_prediction (> 95% of predictions one class); Karpathy, A Recipe for Training Neural "
    "Networks (input-independent baseline); Amazon SageMaker Debugger ClassImbalance / Confusion; 99.9%, 5% entropy "
    "and 5 identical evaluations are heuristics"
)


def _final_run(condition: np.ndarray) -> int:
    """How many of the last points, unbroken, meet `condition`."""
    return len(condition) - (int(np.nonzero(~condition)[0][-1]) + 1 if (~condition).any() else 0)


def _never_positive(h: RunHistory) -> Finding | None:
    """A recall exactly 0 at each of the last STUCK_EVALS evaluations or more: not one positive is found, which a model
    that answers "negative" for every input scores (issue 13, blind8: a binary segmentation run with TP = FP = 0 and
    recall, precision and F1 exactly 0 for its last 9 epochs)."""
    for name in unrecognised_scores(h):
        if "recall" not in name.lower():
            continue
        c = epoch_or_step(h, name, min_epochs=STUCK_EVALS, min_steps=STUCK_EVALS)
        if c is None or len(c) < STUCK_EVALS or c.y[-STUCK_EVALS:].any():
            continue
        zero = c.y == 0
        n_zero = _final_run(zero)
        return finding(
            issue="constant_prediction",
            rule="constant_prediction",
            severity="warning",
            diagnosis=(
                f"{name} is exactly 0 at the last {n_zero} evaluations: the model finds not one positive, what a "
                "model that predicts the negative class for every input scores."
            ),
            evidence={"series": name, "evals_at_zero": n_zero, "n_points": len(c)},
            source=CONST_SOURCE,
            axis=c.axis,
            began_at=onset_of_final_run(c, zero),
            confidence=0.7,
        )
    return None


def _repeats_a_class_share(h: RunHistory) -> Finding | None:
    """The epoch train accuracy repeats one exact value (see SHARE_REPEAT_EPOCHS): the share of the one class the
    model answers."""
    acc = get_curve(h, "train_acc", "epoch", min_points=SHARE_REPEAT_EPOCHS)
    if acc is None or len(acc) < SHARE_REPEAT_EPOCHS:
        return None
    value, share = most_common(acc.y, tol=0.0)
    fraction = value / (100.0 if float(acc.y.max()) > 1.0 else 1.0)
    if (
        share < SHARE_REPEAT_FRACTION
        or not 0 < fraction < STUCK_MAX_ACC
        or significant_digits(value) < SHARE_REPEAT_DIGITS
    ):
        return None
    times = round(share * len(acc))
    return finding(
        issue="constant_prediction",
        rule="constant_prediction",
        severity="warning",
        diagnosis=(
            f"The train accuracy is exactly {value!r} at {times} of {len(acc)} epochs: a model that predicts one class "
            "for every input scores that class's share of the training set each time, and one that learns does not "
            "repeat a value to the last digit."
        ),
        evidence={"series": "train_acc", "value": value, "epochs_at_value": times, "n_points": len(acc)},
        source=CONST_SOURCE,
        axis=acc.axis,
        began_at=float(acc.x[int(np.argmax(acc.y == value))]),
        confidence=0.6,
    )


def _flips_between_class_rates(h: RunHistory) -> Finding | None:
    """The validation accuracy of a binary task sits at one of the two single-class rates, and at each of them at least
    once (SHARE_FLIP_EVALS)."""
    acc = epoch_or_step(h, "val_acc", min_epochs=SHARE_FLIP_EVALS, min_steps=SHARE_FLIP_EVALS)
    C = n_classes(h)
    if acc is None or len(acc) < SHARE_FLIP_EVALS or C not in (None, 2):
        return None
    scale = 100.0 if float(acc.y.max()) > 1.0 else 1.0
    y = acc.y / scale
    rate, _ = most_common(y, tol=0.0)
    rates = (rate, 1.0 - rate)
    at_each = np.abs(y[:, None] - np.array(rates)[None, :]) <= STUCK_TOL
    at_rate = at_each.any(axis=1)
    share = float(at_rate.mean())
    if (
        share < SHARE_FLIP_FRACTION
        or not at_each.any(axis=0).all()  # one rate only: an accuracy frozen at one value (the rule below)
        or not 0 < rate < 1
        or rate == 0.5
        or significant_digits(rate * scale) < SHARE_FLIP_DIGITS
        or float(y.max()) > max(rates) + STUCK_TOL
    ):
        return None
    return finding(
        issue="constant_prediction",
        rule="constant_prediction",
        severity="warning",
        diagnosis=(
            f"The validation accuracy is exactly {fmt(rates[0])} or {fmt(rates[1])} (they add up to 1) at "
            f"{int(at_rate.sum())} of {len(acc)} evaluations and never higher: the two scores a binary classifier gets "
            "by answering one class for every input, then the other."
        ),
        evidence={
            "series": "val_acc",
            "rate": rates[0],
            "other_rate": rates[1],
            "evals_at_rates": int(at_rate.sum()),
            "n_points": len(acc),
        },
        source=CONST_SOURCE,
        axis=acc.axis,
        began_at=float(acc.x[int(np.argmax(at_rate))]),
        confidence=0.6,
    )


def _frozen_while_training_learns(h: RunHistory, acc: Curve, n_stuck: int) -> bool:
    """The val accuracy's final run of one value covers STUCK_WHILE_TRAIN_LEARNS_SHARE of the evaluations and is no
    higher than any score before it, while the training accuracy rose by ACC_ROSE or more."""
    train = get_curve(h, "train_acc", min_points=STUCK_EVALS)
    before = acc.y[: len(acc) - n_stuck]
    return (
        n_stuck >= STUCK_WHILE_TRAIN_LEARNS_SHARE * len(acc)
        and len(before) > 0
        and float(acc.y[-1]) <= float(np.max(before)) + STUCK_TOL
        and train is not None
        and accuracy_gain(train) >= ACC_ROSE
    )


@register_rule(issue="constant_prediction")
def constant_prediction(h: RunHistory) -> Finding | None:
    """Symptom: the model predicts the same class for (almost) every input: over 95% of predictions are one class,
    the predicted-class entropy is ~0, or val accuracy sits at exactly the same value (often 1/C or the majority-class
    rate) for many evaluations.
    Cause: the inputs do not reach the model or carry no signal (a pipeline bug, wrong normalisation, detached or
    frozen layers), a learning rate high enough to collapse the output to the label prior, dead ReLUs, or strong class
    imbalance.
    Remedy: visualise the exact batch the model receives and check inputs vary and match labels; lower the learning
    rate; handle imbalance with a weighted loss or balanced sampling; verify the model can overfit one small batch.
    """
    C = n_classes(h)
    maj = step_or_epoch(h, "pred_majority_fraction")
    if maj is not None:
        m = recent(maj)
        if m >= MAJORITY_WARN:
            severity: Severity = "error" if m >= MAJORITY_ERROR else "warning"
            return finding(
                issue="constant_prediction",
                rule="constant_prediction",
                severity=severity,
                diagnosis=(
                    f"{m:.1%} of the model's predictions are one class (recent median of pred_majority_fraction)"
                    + (f" out of {C}" if C else "")
                    + "; unless that class is this frequent in the data, the model ignores its input."
                ),
                evidence={"pred_majority_fraction": m, "n_classes": C, "n_points": len(maj)},
                source=CONST_SOURCE,
                axis=maj.axis,
                began_at=onset_of_final_run(maj, maj.y >= MAJORITY_WARN),
                confidence=scaled_confidence(m, MAJORITY_WARN, 1.0, c_lo=0.6, c_hi=1.0),
            )
        return None
    ent = step_or_epoch(h, "pred_entropy")
    if ent is not None and C is not None:
        e = recent(ent)
        if e < ENTROPY_FRACTION * math.log(C):
            return finding(
                issue="constant_prediction",
                rule="constant_prediction",
                severity="warning",
                diagnosis=(
                    f"The entropy of the predicted classes is {fmt(e)} nats, under {ENTROPY_FRACTION:.0%} of its "
                    f"maximum ln({C}) = {fmt(math.log(C))}: the predictions (almost) never change with the input."
                ),
                evidence={"pred_entropy": e, "max_entropy": math.log(C), "n_classes": C},
                source=CONST_SOURCE,
                axis=ent.axis,
                began_at=onset_of_final_run(ent, ent.y < ENTROPY_FRACTION * math.log(C)),
                confidence=0.6,
            )
    never = _never_positive(h)
    if never is not None:
        return never
    share = _repeats_a_class_share(h) or _flips_between_class_rates(h)
    if share is not None:
        return share
    acc = epoch_or_step(h, "val_acc", min_epochs=STUCK_EVALS, min_steps=STUCK_EVALS)
    if acc is None or len(acc) < STUCK_EVALS:
        return None
    last = acc.y[-STUCK_EVALS:]
    value = float(last[-1])
    if float(np.max(last) - np.min(last)) > STUCK_TOL or value >= STUCK_MAX_ACC or value == 0:
        return None  # exactly 0 is no constant guess (that scores its class's share): invalid_loss reads it
    stuck = np.abs(acc.y - value) <= STUCK_TOL
    n_stuck = _final_run(stuck)
    began = onset_of_final_run(acc, stuck)
    p = loss_progress(h)
    train_flat = p is not None and p[2] < STUCK_TRAIN_FLAT
    severity = "warning"
    if C is not None and abs(value - 1.0 / C) <= CHANCE_TOL:
        confidence, why = 0.8, f"exactly chance level for {C} classes ({1 / C:.1%})"
    elif train_flat or n_stuck == len(acc):
        confidence = 0.6
        why = "the same value" + (" since the first evaluation" if n_stuck == len(acc) else ", while training is stuck")
    elif _frozen_while_training_learns(h, acc, n_stuck):
        confidence = 0.5
        why = "the same value, never above its earlier scores, while the training accuracy rose"
    elif C is not None and (value - 1.0 / C) / (1 - 1.0 / C) <= STUCK_CONVERGED:
        confidence, severity, why = 0.4, "info", "the same value while the training loss still moves"
    else:
        return None
    return finding(
        issue="constant_prediction",
        rule="constant_prediction",
        severity=severity,
        diagnosis=(
            f"Val accuracy has been {value:.2%} for {n_stuck} evaluations in a row, {why}: the predictions are not "
            "changing, which usually means the model predicts one class (often the majority class) for every input."
        ),
        evidence={"val_acc": value, "evals_identical": n_stuck, "n_classes": C, "chance_acc": 1 / C if C else None},
        source=CONST_SOURCE,
        axis=acc.axis,
        began_at=began,
        confidence=confidence,
    )
