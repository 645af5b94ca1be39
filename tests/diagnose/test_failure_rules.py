"""divergence and stuck: the failed runs real logs showed and the other rules called healthy (issue 13)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dlexpert.diagnose import diagnose_history
from dlexpert.diagnose.rules._common import has_digits, significant_digits, val_acc_at_chance
from dlexpert.diagnose.rules.failure import _frozen_stretch, divergence, invalid_loss, stuck

from .test_rules import history, step_run


def test_a_fine_tune_whose_loss_climbs_after_warm_up_diverges() -> None:
    steps = np.arange(1, 41, dtype=float)
    loss = np.concatenate([np.linspace(1.3, 1.24, 8), np.linspace(1.3, 2.16, 32)])  # 1.24 -> 2.16 at LR 3e-3
    f = divergence(history({"train_loss@step": (steps, loss)}))
    assert f is not None and f.severity == "warning" and f.evidence["late"] > 1.5 * f.evidence["best"]
    assert "did not recover" in f.diagnosis


def test_an_epoch_loss_that_doubles_after_the_first_epoch_and_stays_there_diverges() -> None:
    """A self-distillation pretraining whose epoch loss goes 3.16 -> 6.76 -> 6.93 (ln 1024, the uniform output) and
    stays: the first epoch is already a mean over its batches, so the rise from it is not a warm-up transient."""
    epochs = np.arange(25, dtype=float)
    loss = np.concatenate([[3.156, 6.764, 6.880, 6.905], 6.931 + 0.0002 * np.sin(np.arange(21))])
    f = divergence(history({"train_loss@epoch": (epochs, loss)}))
    assert f is not None and f.evidence["early"] < 3.2 and f.evidence["best_at"] == 0
    steps = np.arange(25, dtype=float)  # the same values per step: a warm-up transient may sit in the first ones
    assert divergence(history({"train_loss@step": (steps, loss)})) is None


def test_a_healthy_run_and_an_overfitting_one_do_not_diverge() -> None:
    st, loss, _, _ = step_run(600)
    assert divergence(history({"train_loss@step": (st, loss)})) is None
    epochs = np.arange(20, dtype=float)
    train = np.linspace(1.0, 0.05, 20)
    val = np.concatenate([np.linspace(1.0, 0.4, 8), np.linspace(0.45, 1.2, 12)])  # rises while train falls
    assert divergence(history({"train_loss@epoch": (epochs, train), "val_loss@epoch": (epochs, val)})) is None


def test_a_frozen_loss_and_chance_accuracy_are_stuck() -> None:
    steps = np.arange(1, 75, dtype=float)
    frozen = stuck(history({"train_loss@step": (steps, np.full(74, 16.74222755432129))}))
    assert frozen is not None and frozen.issue == "stuck" and "16.74" in frozen.diagnosis
    evals = np.arange(30, dtype=float)
    acc = 0.5 + 0.03 * np.sin(evals)  # binary, 0.47-0.53 for 30 evaluations
    assert stuck(history({"val_acc@epoch": (evals, acc)})) is not None
    near_ln2 = math.log(2) * (1 + 0.01 * np.cos(np.arange(7)))  # val loss at the uniform guess, 7 epochs
    val_acc = np.array([0.41, 0.49, 0.58, 0.55, 0.6, 0.52, 0.5])
    chance = stuck(history({"val_loss@epoch": (np.arange(7.0), near_ln2), "val_acc@epoch": (np.arange(7.0), val_acc)}))
    assert chance is not None and "uniform guess" in chance.diagnosis


def test_accuracy_at_chance_for_a_whole_run_is_stuck_not_slow_convergence() -> None:
    """Issue 13, blind27: a YOLOv8 binary classifier whose top-1 accuracy (Ultralytics' `metrics/accuracy_top1`) stays
    at 0.46-0.56 for 50 epochs while its loss drifts 0.73 -> 0.67 around ln 2: stuck, and no slow-convergence warning
    (nothing converges to speed up)."""
    epochs = np.arange(1, 51, dtype=float)
    h = history({
        "train_loss@epoch": (epochs, np.linspace(0.729, 0.669, 50)),
        "val_acc@epoch": (epochs, 0.51 + 0.045 * np.sin(1.7 * epochs)),
    })  # fmt: skip
    found = {f.issue: f.severity for f in diagnose_history(h).findings}
    assert found.get("stuck") == "warning" and found.get("slow_convergence") is None
    # A 10-class run at a learning rate far too low: its accuracy stays inside the chance band but climbs at every
    # epoch, and its loss falls steadily: slow convergence, not stuck.
    twelve = np.arange(1, 13, dtype=float)
    slow = history({
        "train_loss@epoch": (twelve, np.linspace(2.311, 2.292, 12)),
        "val_acc@epoch": (twelve, np.linspace(0.087, 0.142, 12)),
    }, n_classes=10)  # fmt: skip
    found = {f.issue: f.severity for f in diagnose_history(slow).findings}
    assert found.get("slow_convergence") == "warning"
    assert val_acc_at_chance(slow) is None and val_acc_at_chance(h) is not None


def test_a_loss_that_never_leaves_its_first_level_is_stuck() -> None:
    """A fine-tune whose logged loss stays within 1% of where it started over a whole epoch learned nothing."""
    steps = np.arange(20, 700, 20, dtype=float)
    flat = 4.686 + 0.015 * np.sin(steps)  # 4.671-4.701 at all 34 logs
    found = stuck(history({"train_loss@step": (steps, flat)}))
    assert found is not None and "from the first log" in found.diagnosis
    falling = np.linspace(4.75, 4.62, len(steps))  # 2.8% lower at the end: it learns, slowly
    assert stuck(history({"train_loss@step": (steps, falling)})) is None


def test_a_stretch_frozen_to_the_fourth_digit_is_stuck_even_when_the_run_leaves_it() -> None:
    """SwAV at ln 50 = 3.9120 for 60 epochs, then a restart that learns: the outputs stopped changing for a while."""
    rng = np.random.default_rng(0)
    falls = np.round(4.3 - 0.02 * np.arange(20) + 0.01 * rng.standard_normal(20), 4)
    frozen = np.round(3.91205 + 0.00004 * rng.standard_normal(60), 4)  # 3.9120-3.9121
    learns = np.round(np.linspace(3.0, 2.1, 60) * np.exp(0.02 * rng.standard_normal(60)), 4)
    loss = np.concatenate([falls, frozen, learns])
    found = stuck(history({"train_loss@step": (np.arange(len(loss), dtype=float), loss)}))
    assert found is not None and "fourth digit" in found.diagnosis and found.began_at is not None
    assert 15 <= found.began_at <= 25
    st, noisy, _, _ = step_run(140)  # per-batch losses of a learning run differ in the third digit
    assert stuck(history({"train_loss@step": (st, np.round(noisy, 4))})) is None
    converged = np.concatenate([np.linspace(0.85, 0.0002, 40), np.full(60, 0.00012345)])  # a floor, not a freeze
    assert _frozen_stretch(history({"train_loss@step": (np.arange(100.0), converged)})) is None


def test_a_learning_run_is_not_stuck_and_stays_healthy() -> None:
    st, loss, _, _ = step_run(600)
    evals = np.arange(30, dtype=float)
    h = history({"train_loss@step": (st, loss), "val_acc@epoch": (evals, np.linspace(0.5, 0.95, 30))})
    assert stuck(h) is None and diagnose_history(h).healthy


def test_a_single_class_detectors_zero_classification_term_is_not_stuck() -> None:
    """YOLOv5 adds its classification loss only with more than one class: cls_loss is 0 at every epoch by
    construction while the box loss falls and mAP rises (issue 13, blind8). A zero train loss is still stuck."""
    epochs = np.arange(100, dtype=float)
    h = history({"train/cls_loss@epoch": (epochs, np.zeros(100)),
                 "train_loss@epoch": (epochs, np.linspace(0.107, 0.036, 100))})  # fmt: skip
    assert stuck(h) is None
    assert stuck(history({"train_loss@epoch": (epochs[:10], np.zeros(10))})) is not None


def test_a_frozen_val_accuracy_while_the_train_loss_falls_is_not_stuck() -> None:
    """The model learns its training set and its validation outputs never change: constant prediction and
    overfitting say that; "stuck" (nothing learned) does not (issue 13, blind8: train 0.143 -> 0.008)."""
    epochs = np.arange(6, dtype=float)
    val_acc = np.full(6, 0.5690519)
    learning = {"train_loss@epoch": (epochs, np.array([0.143, 0.05, 0.02, 0.012, 0.0069, 0.008])),
                "val_acc@epoch": (epochs, val_acc)}  # fmt: skip
    assert stuck(history(learning)) is None
    frozen = {"train_loss@epoch": (epochs, np.array([0.69, 0.69, 0.688, 0.69, 0.689, 0.69])),
              "val_acc@epoch": (epochs, val_acc)}  # fmt: skip
    assert stuck(history(frozen)) is not None


def test_a_noisy_step_loss_whose_one_lucky_low_is_late_still_diverges() -> None:
    """Issue 13, blind16: an LM fine-tune's step loss blows up three times and ends in the third, 3x its start; its
    single lowest step falls in the last quarter, between blow-ups, and is not a sign that it still improves."""
    rng = np.random.default_rng(0)
    steps = np.arange(1, 3001, dtype=float)
    level = np.interp(steps, [1, 150, 500, 1000, 1500, 2200, 2400, 2500, 3000], [5.7, 11, 7, 6.6, 24, 22, 6.5, 6.1, 22])
    loss = level * np.exp(0.25 * rng.standard_normal(3000))
    loss[2490] = 2.0  # the lowest single step, late
    found = divergence(history({"train_loss@step": (steps, loss)}))
    assert found is not None and found.evidence["late"] > 1.2 * found.evidence["early"]
    improving = np.linspace(6.0, 2.0, 3000) * np.exp(0.25 * rng.standard_normal(3000))  # best stretch at the end
    assert divergence(history({"train_loss@step": (steps, improving)})) is None


def test_a_step_loss_that_repeats_one_cycle_exactly_is_stuck() -> None:
    """Issue 13, blind16: 5 samples, batch 1, no shuffling: every epoch gives the same five losses to every digit, so
    the weights no longer change; a run that still learns never repeats a loss exactly."""
    cycle = [0.0, 1.0, 1.5336660146713257, 9.0, 10.487272262573242]
    steps = np.arange(1500, dtype=float)
    loss = np.array([4.0, 1.0, 2.478, 8.99, 16.0] + cycle * 299)
    found = stuck(history({"train_loss@step": (steps, loss)}))
    assert found is not None and "repeats the same 5 values" in found.diagnosis
    learning = loss * np.linspace(1.0, 0.5, 1500)  # the same order of batches, each loss a little lower every epoch
    assert stuck(history({"train_loss@step": (steps, learning)})) is None


def test_exact_zeros_between_large_step_losses_are_steps_that_computed_nothing() -> None:
    """Issue 13, blind16: a LoRA LM fine-tune's step loss is exactly 0.0 at 14 of its last 45 steps and 2.5-20 at the
    others; a converged loss that prints 0 beside 0.001-0.004, or one with a single 0, is not flagged."""
    rng = np.random.default_rng(1)
    steps = np.arange(1, 75, dtype=float)
    loss = np.concatenate([10.3 - 0.03 * np.arange(29), rng.uniform(2.5, 20.0, 45)])
    loss[[31, 35, 36, 37, 40, 43, 50, 55, 58, 60, 63, 66, 70, 72]] = 0.0
    found = invalid_loss(history({"train_loss@step": (steps, loss)}))
    assert found is not None and found.severity == "error" and "exactly 0 at" in found.diagnosis
    converged = np.where(rng.random(74) < 0.3, 0.0, rng.uniform(0.001, 0.004, 74))
    assert invalid_loss(history({"train_loss@step": (steps, converged)})) is None
    one_zero = loss.copy()
    one_zero[one_zero == 0.0] = 5.0
    one_zero[60] = 0.0
    assert invalid_loss(history({"train_loss@step": (steps, one_zero)})) is None


def test_a_train_loss_that_rises_near_zero_while_train_accuracy_is_perfect_has_not_diverged() -> None:
    """Issue 13, blind16: a classifier's step loss 1e-5 to 4e-3 after epoch 9 (10x above its best stretch) while the
    training accuracy is 1.0: a few confident mistakes, not a failed run. Without the accuracy the rise still counts."""
    rng = np.random.default_rng(2)
    steps = np.arange(1, 241, dtype=float)
    loss = np.concatenate([np.geomspace(0.6, 1e-5, 80), 10 ** rng.uniform(-5, -2.4, 160)])
    loss[-40:] = 10 ** rng.uniform(-3.3, -2.4, 40)  # the last stretch sits 10-100x above the best one
    acc = np.minimum(1.0, np.concatenate([np.linspace(0.7, 1.0, 40), np.ones(200)]))
    assert divergence(history({"train_loss@step": (steps, loss), "train_acc@step": (steps, acc)})) is None
    assert divergence(history({"train_loss@step": (steps, loss)})) is not None


_LOGGED = st.floats(allow_nan=False, allow_infinity=False) | st.builds(
    round, st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 6)
)  # full-precision floats, and values as a logger rounds them (0.123, 41.5)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LOGGED, min_size=1, max_size=40), st.integers(1, 8))
def test_the_vectorised_digit_test_agrees_with_the_digit_count(values: list[float], digits: int) -> None:
    """has_digits (one numpy pass over a million-point loss) says what significant_digits says value by value."""
    expected = [significant_digits(v) >= digits for v in values]
    assert has_digits(np.array(values), digits).tolist() == expected
