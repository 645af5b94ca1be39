"""The diagnosis rules on synthetic run histories: each issue fires where it should and stays quiet on near misses,
healthy runs of any length and noise give no warning, and every registered rule passes a common check suite."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from dlexpert.diagnose import Rule, RunHistory, diagnose_history, list_rules, read_history
from dlexpert.diagnose.rules._common import mann_kendall_z
from dlexpert.knowledge import get_problem
from dlexpert.schema.diagnosis import ISSUES, SEVERITY_RANK, Finding

# A rule that divides by zero or takes log(0) on odd input fails here instead of warning in a user's report.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")
ROOT = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------------------------------------ builders


def history(series: dict[str, tuple[np.ndarray, np.ndarray]], **meta: object) -> RunHistory:
    """A RunHistory from {"name@axis": (x, y)} and meta entries."""
    h = RunHistory(source="synthetic")
    h.meta.update(meta)
    for key, (x, y) in series.items():
        name, axis = key.split("@")
        h.add(name, axis, np.asarray(x, dtype=float), np.asarray(y, dtype=float))  # type: ignore[arg-type]
    return h


def finding(h: RunHistory, issue: str) -> Finding | None:
    return next((f for f in diagnose_history(h).findings if f.issue == issue), None)


def serious(h: RunHistory) -> list[Finding]:
    return [f for f in diagnose_history(h).findings if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["warning"]]


def decay(t: np.ndarray, start: float, floor: float, tau: float) -> np.ndarray:
    return floor + (start - floor) * np.exp(-t / tau)


def healthy(
    seed: int,
    *,
    n_epochs: int,
    noise: float,
    n_classes: int | None = 10,
    spe: int | None = None,
    epoch_axis: bool = True,
    step_axis: bool = True,
    monitors: bool = True,
    scheduler: str | None = "cosine",
) -> RunHistory:
    """A run that trains well: losses decay towards a floor with val/train < 2, accuracies rise, a warmup+cosine lr,
    stable gradient norms, few dead units, a fast input pipeline. `noise` is the step loss's log-normal sigma."""
    rng = np.random.default_rng(seed)
    C = n_classes
    l0 = math.log(C) * rng.uniform(0.95, 1.15) if C else rng.uniform(0.8, 1.5)
    floor = l0 * rng.uniform(0.03, 0.3)
    tau = max(0.6, n_epochs * rng.uniform(0.12, 0.3))
    gap = rng.uniform(1.05, 1.5)
    spe = spe or int(rng.integers(20, 60))
    lr0 = float(10 ** rng.uniform(-4, -1))
    total, warm = n_epochs * spe, max(1, n_epochs * spe // 20)
    meta: dict[str, object] = {"epochs": n_epochs, "steps_per_epoch": spe, "lr": lr0}
    meta.update({"n_classes": C, "task": "classification"} if C else {"task": "regression"})
    if scheduler:
        meta["scheduler"] = scheduler

    def lr_at(step: np.ndarray) -> np.ndarray:
        if scheduler is None:
            return np.full(len(step), lr0)
        cos = 0.5 * lr0 * (1 + np.cos(np.pi * np.clip((step - warm) / max(1, total - warm), 0, 1)))
        return np.where(step < warm, lr0 * step / warm, cos)

    s: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    ep = np.arange(n_epochs, dtype=float)
    if epoch_axis:
        s["train_loss@epoch"] = (
            ep,
            decay(ep + 0.5, l0, floor, tau) * (1 + 0.01 * noise * rng.standard_normal(len(ep))),
        )
        val = decay(ep + 1, l0, floor * gap, tau) * (1 + 0.02 * rng.standard_normal(len(ep)))
        s["val_loss@epoch"] = (ep, val)
        s["lr@epoch"] = (ep, lr_at((ep + 1) * spe))
        if C:
            top = rng.uniform(0.75, 0.99)
            acc = 1 / C + (top - 1 / C) * (1 - np.exp(-(ep + 0.5) / tau))
            s["train_acc@epoch"] = (ep, np.clip(acc + 0.005 * rng.standard_normal(len(ep)), 0, 1))
            s["val_acc@epoch"] = (ep, np.clip(0.95 * acc + 0.01 * rng.standard_normal(len(ep)), 0, 1))
    if step_axis:
        st = np.arange(1, total + 1, int(rng.choice([1, 5, 10])), dtype=float)
        e = (st - 1) / spe
        s["train_loss@step"] = (st, decay(e, l0, floor, tau) * np.exp(noise * rng.standard_normal(len(st))))
        s["lr@step"] = (st, lr_at(st))
        g0, drift = 10 ** rng.uniform(-1, 1), np.exp(np.log(rng.uniform(0.3, 3)) * st / total)
        s["grad_norm@step"] = (st, g0 * drift * np.exp(0.25 * rng.standard_normal(len(st))))
        if not epoch_axis:  # Hugging Face style: evaluation on the step axis
            ev = np.arange(spe, total + 1, spe, dtype=float)
            s["val_loss@step"] = (ev, decay(ev / spe, l0, floor * gap, tau) * (1 + 0.02 * rng.standard_normal(len(ev))))
        if monitors:
            for i, layer in enumerate(("conv1", "layer1", "layer2", "fc")):
                g = g0 * (0.3 + 0.2 * i) * np.exp(0.2 * rng.standard_normal(len(st)))
                s[f"grad_norm/{layer}@step"] = (st, g)
                dead = rng.uniform(0, 0.3) + 0.02 * rng.standard_normal(len(st))
                s[f"dead_fraction/{layer}@step"] = (st, np.clip(dead, 0, 1))
            dt = rng.uniform(0.001, 0.01) * np.exp(0.3 * rng.standard_normal(len(st)))
            s["data_time@step"] = (st, dt)
            s["batch_time@step"] = (st, 0.1 * np.exp(0.1 * rng.standard_normal(len(st))) + dt)
            if C:
                maj = 1 / C + 0.3 * np.exp(-e / tau) + 0.02 * rng.standard_normal(len(st))
                s["pred_majority_fraction@step"] = (st, np.clip(maj, 0, 1))
    return history(s, **meta)


def epoch_run(
    train: np.ndarray,
    val: np.ndarray | None = None,
    *,
    train_acc: np.ndarray | None = None,
    val_acc: np.ndarray | None = None,
    **meta: object,
) -> RunHistory:
    ep = np.arange(len(train), dtype=float)
    s = {"train_loss@epoch": (ep, train)}
    for key, v in (("val_loss", val), ("train_acc", train_acc), ("val_acc", val_acc)):
        if v is not None:
            s[f"{key}@epoch"] = (np.arange(len(v), dtype=float), v)
    return history(s, **meta)


# ------------------------------------------------------------------------------- healthy runs and short runs

HEALTHY = [
    # (seed, epochs, step-loss noise, classes, extra options)
    (0, 3, 0.02, 10, {}),
    (1, 3, 0.15, 2, {}),
    (2, 4, 0.1, 100, {"step_axis": False}),
    (3, 5, 0.05, 10, {"epoch_axis": False}),
    (4, 6, 0.15, None, {}),
    (5, 8, 0.02, 10, {"scheduler": None}),
    (6, 10, 0.1, 2, {}),
    (7, 12, 0.15, 100, {"monitors": False}),
    (8, 15, 0.05, 10, {"epoch_axis": False}),
    (9, 20, 0.1, None, {"scheduler": "step"}),
    (10, 25, 0.02, 10, {}),
    (11, 30, 0.15, 2, {"step_axis": False}),
    (12, 40, 0.05, 100, {}),
    (13, 50, 0.1, 10, {"scheduler": None}),
    (14, 60, 0.15, None, {"epoch_axis": False}),
    (15, 80, 0.02, 10, {"spe": 20}),
    (16, 100, 0.1, 2, {"spe": 20}),
    (17, 120, 0.05, 10, {"spe": 20, "step_axis": False}),
    (18, 150, 0.15, 100, {"spe": 20}),
    (19, 200, 0.1, 10, {"spe": 20}),
    (20, 200, 0.05, None, {"spe": 20, "scheduler": None}),
    (21, 7, 0.15, 10, {"epoch_axis": False, "monitors": False}),
    (22, 35, 0.1, 1000, {}),
    (23, 90, 0.15, 2, {"spe": 20, "epoch_axis": False}),
]


@pytest.mark.parametrize(("seed", "n_epochs", "noise", "n_classes", "options"), HEALTHY)
def test_healthy_runs_have_no_warning(
    seed: int, n_epochs: int, noise: float, n_classes: int | None, options: dict
) -> None:
    h = healthy(seed, n_epochs=n_epochs, noise=noise, n_classes=n_classes, **options)
    assert serious(h) == []
    assert diagnose_history(h).healthy


def test_the_healthy_builder_can_fail() -> None:
    # The same builder with one fault gives a warning: the healthy tests above are not vacuous.
    h = healthy(10, n_epochs=25, noise=0.02)
    x, y = h.series[("val_loss", "epoch")].x, h.series[("val_loss", "epoch")].y
    h.add("val_loss", "epoch", x, [v if i <= 12 else y[12] * (1 + 0.05 * (i - 12)) for i, v in enumerate(y)])
    assert [f.issue for f in serious(h)] == ["overfitting"]


@pytest.mark.parametrize("seed", range(4))
def test_short_run_still_improving_is_not_judged(seed: int) -> None:
    # 3 epochs, losses still falling fast, accuracy still near chance, lr flat (no schedule in the log): too early.
    rng = np.random.default_rng(seed)
    train = np.array([2.25, 1.9, 1.6]) * (1 + 0.01 * rng.standard_normal(3))
    val = np.array([2.1, 1.85, 1.65]) * (1 + 0.01 * rng.standard_normal(3))
    h = epoch_run(train, val, train_acc=np.array([0.12, 0.2, 0.3]), val_acc=np.array([0.13, 0.22, 0.3]), n_classes=10)
    h.add("lr", "epoch", [0, 1, 2], [0.1, 0.1, 0.1])
    h.add(
        "train_loss",
        "step",
        np.arange(1, 301),
        decay(np.arange(300) / 100, 2.4, 1.5, 1.5) * np.exp(0.1 * rng.standard_normal(300)),
    )
    assert diagnose_history(h).findings == []


# ------------------------------------------------------------------------------------------------ nan_inf


def step_run(n: int, *, start: float = 2.3, floor: float = 0.4, noise: float = 0.05, seed: int = 0, **meta: object):
    """A falling step loss with log-normal noise and a stable gradient norm (the base the faults are put into)."""
    rng = np.random.default_rng(seed)
    st = np.arange(1, n + 1, dtype=float)
    loss = decay(st, start, floor, n / 4) * np.exp(noise * rng.standard_normal(n))
    grad = 1.5 * np.exp(0.2 * rng.standard_normal(n))
    return st, loss, grad, rng


def test_nan_after_gradient_explosion_is_an_error_with_clipping_first() -> None:
    st, loss, grad, _ = step_run(400, lr=0.3)
    grad[295:300] = [20.0, 60.0, 200.0, 900.0, 5e3]
    loss[300:] = np.nan
    grad[300:] = np.inf
    f = finding(history({"train_loss@step": (st, loss), "grad_norm@step": (st, grad)}, lr=0.3), "nan_inf")
    assert f is not None and f.severity == "error"
    assert (f.axis, f.began_at) == ("step", 301.0)  # index 300 is step 301
    assert f.evidence["grad_norm_surge"] > 100 and len(f.evidence["loss_before"]) == 5
    assert "clipping" in f.solution[0] and "Reduce learning rate" in f.solution[1]
    assert "0.3 -> 0.03" in f.solution[1]  # the run's own lr, 10x smaller
    assert "step 301" in f.diagnosis


def test_nan_from_the_first_step_points_at_the_data() -> None:
    st = np.arange(1, 51, dtype=float)
    f = finding(history({"train_loss@step": (st, np.full(50, np.nan))}), "nan_inf")
    assert f is not None and f.severity == "error" and f.began_at == 1.0
    assert f.evidence["first_loss_nonfinite"] is True
    assert f.solution[0].startswith("Check input data")


def test_loss_diverging_to_huge_values_counts_as_nan_inf() -> None:
    st, loss, _, _ = step_run(200)
    loss[150:] = np.geomspace(10, 1e7, 50)
    f = finding(history({"train_loss@step": (st, loss)}), "nan_inf")
    assert f is not None and f.severity == "error"
    assert 150 < f.began_at < 200 and f.evidence["value"] >= 1e5


def test_nan_only_on_the_epoch_axis_is_dated_in_epochs() -> None:
    h = epoch_run(np.array([2.3, 1.5, 1.1, np.nan, np.nan]), np.array([2.2, 1.6, 1.2, np.inf, np.nan]))
    f = finding(h, "nan_inf")
    assert f is not None and (f.axis, f.began_at, f.severity) == ("epoch", 3.0, "error")


def test_isolated_inf_gradients_with_finite_loss_are_only_info() -> None:
    # fp16 GradScaler skips overflowing steps: 2 Inf norms in 500 steps, loss fine throughout.
    st, loss, grad, _ = step_run(500)
    grad[[120, 333]] = np.inf
    f = finding(history({"train_loss@step": (st, loss), "grad_norm@step": (st, grad)}), "nan_inf")
    assert f is not None and f.severity == "info"


def test_regression_loss_that_starts_large_is_not_divergence() -> None:
    st, loss, _, _ = step_run(300, start=3e6, floor=2e5)
    assert finding(history({"train_loss@step": (st, loss)}, task="regression"), "nan_inf") is None


def test_monitor_sentinel_flag_is_read() -> None:
    st, loss, _, _ = step_run(100)
    flag = np.zeros(100)
    flag[60:] = 1.0
    f = finding(history({"train_loss@step": (st, loss), "nonfinite@step": (st, flag)}), "nan_inf")
    assert f is not None and f.severity == "error" and f.began_at == 61.0


# ----------------------------------------------------------------------------------------- exploding gradients


def test_sustained_gradient_explosion_with_rising_loss_is_a_warning() -> None:
    st, loss, grad, _ = step_run(600)
    grad[400:430] *= np.geomspace(15, 300, 30)
    loss[400:430] *= np.linspace(1.5, 3.0, 30)
    f = finding(history({"train_loss@step": (st, loss), "grad_norm@step": (st, grad)}, lr=0.1), "exploding_gradients")
    assert f is not None and f.severity == "warning"
    assert f.began_at == 401.0 and f.axis == "step"
    assert f.evidence["episodes"][0]["loss_rise"] > 1.1
    assert f.solution[0].startswith("Enable gradient-norm clipping")


@pytest.mark.parametrize("quiet", [0, 6])
def test_gradient_surge_in_the_first_logged_points_is_an_explosion(quiet: int) -> None:
    # Regression: a surge from the 5th logged point on was measured against a running median that already held it,
    # so it made a one-point episode (or none); after 6 quiet points the same surge was a warning.
    rng = np.random.default_rng(0)
    surge = [0.24, 0.26, 0.45, 0.76, 5.09, 3.22, 6.3, 5.77, 6.62, 5.36, 4.08, 5.4, 7.32, 8.05]
    grad = np.r_[np.full(quiet, 0.25), surge, 7 * np.exp(0.15 * rng.standard_normal(26))]
    st = 5.0 * np.arange(1, len(grad) + 1)
    loss = np.r_[np.full(quiet, 2.3), np.geomspace(2.3, 50, len(grad) - quiet)]
    f = finding(history({"train_loss@step": (st, loss), "grad_norm@step": (st, grad)}), "exploding_gradients")
    assert f is not None and f.severity == "warning"
    assert f.began_at == 5.0 * (quiet + 5)  # the first point above 10x the quiet level
    assert f.evidence["episodes"][0]["end"] == st[-1]  # one episode to the end, not a one-point blip


def test_gradient_norm_growing_by_orders_of_magnitude_is_a_warning() -> None:
    st, loss, grad, _ = step_run(800)
    grad *= np.geomspace(1, 5e3, 800)
    f = finding(history({"train_loss@step": (st, loss), "grad_norm@step": (st, grad)}), "exploding_gradients")
    assert f is not None and f.severity == "warning" and f.evidence["growth_late_vs_early"] > 100


def test_gradient_norm_that_rises_early_while_loss_falls_is_not_an_explosion() -> None:
    # Zero-initialised last layer: the gradient norm starts tiny and grows 30x in the first steps; loss falls.
    st, loss, grad, _ = step_run(600)
    grad *= np.minimum(1.0, 0.03 + st / 40)
    assert serious(history({"train_loss@step": (st, loss), "grad_norm@step": (st, grad)})) == []


def test_single_gradient_spike_is_not_an_explosion() -> None:
    st, loss, grad, _ = step_run(600)
    grad[300] *= 50
    assert (
        finding(history({"train_loss@step": (st, loss), "grad_norm@step": (st, grad)}), "exploding_gradients") is None
    )


def test_first_layer_gradients_far_above_the_last_with_stalled_loss() -> None:
    st = np.arange(1, 401, dtype=float)
    rng = np.random.default_rng(3)
    s = {
        "train_loss@step": (st, 2.3 * np.exp(0.05 * rng.standard_normal(400))),
        "grad_norm/embed@step": (st, 500 * np.exp(0.2 * rng.standard_normal(400))),
        "grad_norm/rnn@step": (st, 20 * np.exp(0.2 * rng.standard_normal(400))),
        "grad_norm/head@step": (st, 2 * np.exp(0.2 * rng.standard_normal(400))),
    }
    f = finding(history(s), "exploding_gradients")
    assert f is not None and f.severity == "warning"
    assert f.evidence["first_last_layer_ratio"] > 70 and f.evidence["first_layer"] == "embed"


# ----------------------------------------------------------------------------------------- vanishing gradients


def layered(first: float, last: float, loss: np.ndarray, *, seed: int = 0) -> RunHistory:
    rng = np.random.default_rng(seed)
    st = np.arange(1, len(loss) + 1, dtype=float)
    mids = np.geomspace(first, last, 5)
    s = {f"grad_norm/layer{i}@step": (st, g * np.exp(0.1 * rng.standard_normal(len(st)))) for i, g in enumerate(mids)}
    s["train_loss@step"] = (st, loss)
    return history(s, n_classes=10)


def test_vanishing_gradients_in_early_layers_with_flat_loss() -> None:
    loss = 2.3 * np.exp(0.03 * np.random.default_rng(1).standard_normal(500))
    f = finding(layered(2e-7, 1e-2, loss), "vanishing_gradients")
    assert f is not None and f.severity == "warning"
    assert f.evidence["first_last_layer_ratio"] < 1e-3 and f.evidence["first_layer"] == "layer0"
    assert f.began_at == 1.0
    assert "ReLU" in f.solution[0]


def test_small_early_gradients_while_the_loss_falls_are_not_a_warning() -> None:
    loss = decay(np.arange(500.0), 2.3, 0.2, 100)
    f = finding(layered(2e-7, 1e-2, loss), "vanishing_gradients")
    assert f is None or f.severity == "info"


def test_ratio_above_autotrainer_threshold_is_fine() -> None:
    loss = 2.3 * np.ones(500)
    assert finding(layered(5e-4, 1e-1, loss), "vanishing_gradients") is None  # ratio 5e-3 > 1e-3


def test_global_gradient_norm_below_sagemaker_threshold() -> None:
    st = np.arange(1, 301, dtype=float)
    h = history({"train_loss@step": (st, np.full(300, 0.69)), "grad_norm@step": (st, np.full(300, 3e-8))})
    f = finding(h, "vanishing_gradients")
    assert f is not None and f.severity == "warning" and f.evidence["grad_norm_recent"] < 1e-7


# ----------------------------------------------------------------------------------------------- dead ReLU


def dead_run(fracs: dict[str, np.ndarray], lr: float = 0.5) -> RunHistory:
    st = np.arange(1, len(next(iter(fracs.values()))) + 1, dtype=float)
    s = {f"dead_fraction/{k}@step": (st, v) for k, v in fracs.items()}
    s["train_loss@step"] = (st, decay(st, 2.3, 1.2, 100))
    return history(s, lr=lr)


def test_relus_dying_during_training_is_a_warning_from_when_they_died() -> None:
    layer2 = np.where(np.arange(600) < 250, 0.1, 0.8)
    f = finding(dead_run({"layer1": np.full(600, 0.05), "layer2": layer2, "fc": np.full(600, 0.1)}), "dead_relu")
    assert f is not None and f.severity == "warning"
    assert f.evidence["worst_layer"] == "layer2" and f.began_at == 251.0
    assert f.solution[0].startswith("Lower the learning rate") and "0.5 -> 0.1" in f.solution[0]


def test_a_completely_dead_layer_is_an_error_and_dead_from_the_start_blames_init() -> None:
    f = finding(dead_run({"layer1": np.full(100, 1.0), "layer2": np.full(100, 0.2)}), "dead_relu")
    assert f is not None and f.severity == "error" and f.evidence["dead_from_start"] is True
    assert "Kaiming" in f.solution[0]


def test_dead_fraction_below_sagemaker_threshold_is_fine() -> None:
    assert finding(dead_run({"layer1": np.full(300, 0.45), "layer2": np.full(300, 0.3)}), "dead_relu") is None


def test_dead_fraction_logged_in_percent() -> None:
    f = finding(dead_run({"layer1": np.full(50, 85.0)}), "dead_relu")
    assert f is not None and f.evidence["worst_fraction"] == pytest.approx(0.85)


# ------------------------------------------------------------------------------------- overfitting and the gap


def overfit_run(n: int = 30, best: int = 10, rise: float = 0.03, seed: int = 0) -> RunHistory:
    rng = np.random.default_rng(seed)
    ep = np.arange(n, dtype=float)
    train = decay(ep, 2.0, 0.05, 8) * (1 + 0.005 * rng.standard_normal(n))
    val = decay(np.minimum(ep, best), 2.1, 0.55, 4) * (1 + rise * np.maximum(0, ep - best))
    return epoch_run(train, val * (1 + 0.01 * rng.standard_normal(n)))


def test_val_rising_from_its_minimum_while_train_falls_is_overfitting() -> None:
    f = finding(overfit_run(), "overfitting")
    assert f is not None and f.severity == "warning"
    assert f.axis == "epoch" and abs(f.began_at - 10) <= 1
    assert f.evidence["rise"] > 0.3 and f.evidence["evals_since_best"] >= 15
    assert f.solution[0].startswith("Use Early Stopping") and "epoch" in f.solution[0]
    assert finding(overfit_run(), "train_val_gap") is None  # the rise is overfitting's to report


def test_overfitting_on_the_step_axis_like_hugging_face_eval_steps() -> None:
    st = np.arange(1, 3001, dtype=float)
    ev = np.arange(200, 3001, 200, dtype=float)
    rng = np.random.default_rng(2)
    val = np.where(ev <= 1000, decay(ev, 2.0, 0.6, 300), 0.62 + 0.0004 * (ev - 1000))
    h = history(
        {
            "train_loss@step": (st, decay(st, 2.2, 0.05, 600) * np.exp(0.1 * rng.standard_normal(3000))),
            "val_loss@step": (ev, val),
        }
    )
    f = finding(h, "overfitting")
    assert f is not None and f.severity == "warning" and f.axis == "step" and 800 <= f.began_at <= 1200


@pytest.mark.parametrize("seed", range(3))
def test_noisy_val_plateau_is_not_overfitting(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ep = np.arange(40, dtype=float)
    val = decay(ep, 2.1, 0.6, 5) * (1 + 0.03 * rng.standard_normal(40))
    assert finding(epoch_run(decay(ep, 2.0, 0.3, 8), val), "overfitting") is None


def test_small_val_rise_is_not_overfitting() -> None:
    assert finding(overfit_run(rise=0.002), "overfitting") is None  # ~4% over 20 epochs: under the 5% bar


@pytest.mark.parametrize(
    ("descent", "rises", "plateau", "min_rise"),
    [
        # Val bottoms out near 0.33, then 6 of the next 8 evaluations are > 10% above it, moving up and down: the trend
        # and noise tests miss it, the sign test does not. A plateau that wobbles within 10% of its minimum is not it.
        (
            [1.3, 0.9, 0.7, 0.55, 0.5, 0.45, 0.42, 0.40, 0.38, 0.36, 0.35, 0.34, 0.33, 0.335],
            [0.37, 0.45, 0.34, 0.43, 0.42, 0.46, 0.35, 0.44],
            [0.35, 0.34, 0.355, 0.345, 0.36, 0.34, 0.35, 0.345],
            0.1,
        ),
        # Early swings of a small validation set (0.157 -> 0.363 -> 0.159) widen the whole curve's noise past the
        # later steady climb; the noise after the minimum does not hide it (issue 13, blind25).
        (
            [0.28, 0.24, 0.157, 0.20, 0.363, 0.19, 0.161, 0.233, 0.177, 0.176, 0.159],
            [0.192, 0.188, 0.193, 0.196, 0.199, 0.206, 0.211, 0.213],
            [0.176, 0.178, 0.175, 0.177, 0.176, 0.178, 0.175, 0.177],
            0.15,
        ),
    ],
)
def test_a_noisy_val_that_rises_after_its_minimum_is_overfitting_and_a_plateau_is_not(
    descent: list[float], rises: list[float], plateau: list[float], min_rise: float
) -> None:
    train = decay(np.arange(len(descent) + 8, dtype=float), 1.8, 0.05, 5)
    f = finding(epoch_run(train, np.array([*descent, *rises])), "overfitting")
    assert f is not None and f.severity == "warning" and f.evidence["rise"] > min_rise
    assert finding(epoch_run(train, np.array([*descent, *plateau])), "overfitting") is None


def test_a_val_loss_creeping_up_through_its_noise_is_overfitting_and_a_wobbling_plateau_is_not() -> None:
    """Issue 13, blind27: after its minimum at epoch 7 a small CNN's val loss climbs 20-27% with noise, only 5 of 12
    moves up and 4 of 12 evaluations 10% above the minimum, while the train loss keeps falling: the trend and sign
    tests miss it, the Mann-Kendall trend test does not (z 2.9). The same values in shuffled order are a plateau."""
    descent = [0.7077, 0.6308, 0.5984, 0.6106, 0.5626, 0.5692, 0.5570, 0.5481]
    creep = [0.5600, 0.6115, 0.5876, 0.5864, 0.5857, 0.5602, 0.6394, 0.5970, 0.6429, 0.6126, 0.6964, 0.6717]
    train = np.linspace(0.874, 0.375, len(descent) + len(creep))
    f = finding(epoch_run(train, np.array([*descent, *creep])), "overfitting")
    assert f is not None and f.severity == "warning" and f.evidence["rise"] > 0.15
    wobble = [0.5600, 0.6115, 0.5602, 0.5864, 0.5857, 0.5876, 0.5600, 0.5970, 0.5610, 0.6126, 0.5750, 0.5717]
    assert finding(epoch_run(train, np.array([*descent, *wobble])), "overfitting") is None


def test_mann_kendall_z_reads_the_direction_of_a_trend() -> None:
    assert mann_kendall_z(np.arange(10.0)) > 3 and mann_kendall_z(-np.arange(10.0)) < -3
    assert abs(mann_kendall_z(np.array([1.0, 3.0, 2.0, 3.0, 1.0, 2.0]))) < 1
    assert mann_kendall_z(np.array([1.0, 2.0])) == 0.0


def test_a_rise_of_two_printed_digits_is_rounding_not_overfitting() -> None:
    """A val loss printed to 4 decimals that fell 150x to 0.0003 and then reads 0.0004-0.0005 moved by one or two units
    of its last digit; the same shape at a higher level is a real rise."""
    ep = np.arange(60, dtype=float)
    train = np.round(decay(ep, 0.07, 0.0005, 8), 4)
    val = np.round(np.r_[decay(np.arange(40.0), 0.077, 0.0002, 6), [0.0004, 0.0005, 0.0004, 0.0005] * 5], 4)
    assert finding(epoch_run(train, val), "overfitting") is None
    high = np.round(np.r_[decay(np.arange(40.0), 0.077, 0.02, 6), np.linspace(0.022, 0.035, 20)], 4)
    assert finding(epoch_run(train, high), "overfitting") is not None


def test_val_rising_for_only_two_evaluations_is_too_early() -> None:
    assert finding(overfit_run(n=12, best=9, rise=0.1), "overfitting") is None


def test_val_and_train_both_rising_is_not_overfitting() -> None:
    ep = np.arange(20, dtype=float)
    loss = np.where(ep < 10, decay(ep, 2, 0.5, 3), 0.52 * (1 + 0.1 * (ep - 10)))
    assert finding(epoch_run(loss, loss * 1.1), "overfitting") is None


def test_val_three_times_train_without_rising_is_a_gap_warning() -> None:
    ep = np.arange(15, dtype=float)
    train = decay(ep, 2.0, 0.2, 3)
    f = finding(epoch_run(train, 3 * train + 0.05), "train_val_gap")
    assert f is not None and f.severity == "warning" and f.evidence["ratio_now"] > 2.5
    assert f.evidence["gap_from_start"] is True and "preprocessing" in f.solution[0]


def test_gap_that_opens_during_training_is_a_warning_only_while_val_stays_high() -> None:
    # Val settling at 60% of the loss scale learned little that carries over: act. Val settling at 20% of it while
    # train goes to ~0 is how converged runs end (the real-log corpus's false alarms): info.
    ep = np.arange(20, dtype=float)
    train = decay(ep, 2.0, 0.05, 4)
    high = finding(epoch_run(train, decay(ep, 2.1, 1.2, 3)), "train_val_gap")
    assert high is not None and high.severity == "warning" and high.evidence["gap_from_start"] is False
    assert high.began_at is not None and high.began_at > 2 and high.evidence["val_loss_of_scale"] > 0.5
    assert high.solution[0].startswith("Apply the overfitting remedies")
    low = finding(epoch_run(train, decay(ep, 2.1, 0.4, 3)), "train_val_gap")
    assert low is not None and low.severity == "info" and "not rising" in low.diagnosis


def test_a_gap_that_costs_a_quarter_of_the_accuracy_is_a_warning() -> None:
    # Val loss at 20% of the loss scale and flat (info by the loss alone), but train accuracy 1.0 against 0.57 on
    # validation: the gap costs what the model is for.
    ep = np.arange(20, dtype=float)
    train, val = decay(ep, 2.0, 0.05, 4), decay(ep, 2.1, 0.4, 3)
    f = finding(epoch_run(train, val, train_acc=np.linspace(0.3, 1.0, 20), val_acc=np.linspace(0.3, 0.57, 20)),
                "train_val_gap")  # fmt: skip
    assert f is not None and f.severity == "warning" and "points above the validation accuracy" in f.diagnosis


def test_a_fitted_training_set_with_a_much_lower_val_accuracy_is_a_gap_whatever_the_losses_say() -> None:
    # blind30's shape: both losses dominated by a regularisation term (train 6.1 -> 4.7, val 5.8 -> 5.5 -> 5.7, a
    # ratio of 1.2 and a val rise of 3%), train accuracy 1.0 and val accuracy 0.57 to the end.
    ep = np.arange(23, dtype=float)
    train, val = decay(ep, 6.1, 4.7, 8), 5.55 + 0.0008 * (ep - 13) ** 2
    train_acc = np.minimum(1.0, np.linspace(0.55, 1.3, 23))
    f = finding(epoch_run(train, val, train_acc=train_acc, val_acc=np.full(23, 0.5714)), "train_val_gap")
    assert f is not None and f.severity == "warning" and f.evidence["accuracy_gap"] > 0.4
    assert "training set right" in f.diagnosis
    # the same losses with a validation accuracy 10 points below the training one: no gap worth a warning
    close = finding(epoch_run(train, val, train_acc=train_acc, val_acc=np.full(23, 0.9)), "train_val_gap")
    assert close is None or close.severity == "info"


def test_large_ratio_of_two_tiny_losses_is_only_info() -> None:
    # A memorised training set: train 0.0005, val 0.05 is 100x, but the gap is 2% of ln(10).
    ep = np.arange(40, dtype=float)
    f = finding(epoch_run(decay(ep, 2.0, 0.0005, 3), decay(ep, 2.1, 0.05, 3), n_classes=10), "train_val_gap")
    assert f is not None and f.severity == "info" and f.evidence["absolute_gap"] < 0.1


def test_gap_under_the_checklist_bar_and_short_gaps() -> None:
    ep = np.arange(15, dtype=float)
    train = decay(ep, 2.0, 0.2, 3)
    assert finding(epoch_run(train, 1.8 * train), "train_val_gap") is None
    short = finding(epoch_run(train[:3], 3 * train[:3]), "train_val_gap")
    assert short is not None and short.severity == "info"  # 3 evaluations: noted, not judged


def hf_eval_log(train: np.ndarray, val: list[float], *, epoch_axis: bool) -> RunHistory:
    """Hugging Face / JSON-lines layout: train loss every 5 steps (steps 5..200), val loss once per 25-step epoch on
    the step axis and, when `epoch_axis`, on the epoch axis as well (where no train loss is)."""
    st, ev = np.arange(5, 201, 5, dtype=float), np.arange(25, 201, 25, dtype=float)
    s = {"train_loss@step": (st, train), "val_loss@step": (ev, np.array(val))}
    if epoch_axis:
        s["val_loss@epoch"] = (np.arange(len(val), dtype=float), np.array(val))
    return history(s)


@pytest.mark.parametrize("epoch_axis", [True, False])
def test_val_on_both_axes_with_train_only_on_steps_is_judged_on_the_steps(epoch_axis: bool) -> None:
    # Regression: the epoch val curve was taken although the train loss exists only on the step axis, so overfitting
    # was an info ("no train loss on the same axis") and the gap was not judged at all.
    st = np.arange(5, 201, 5, dtype=float)
    val = [0.9, 0.55, 0.5, 0.52, 0.58, 0.66, 0.72, 0.78]
    f = finding(hf_eval_log(2.3 * np.exp(-st / 40) + 0.005, val, epoch_axis=epoch_axis), "overfitting")
    assert f is not None and f.severity == "warning" and f.axis == "step" and f.began_at == 75.0
    flat_val = [1.9, 1.75, 1.68, 1.65, 1.63, 1.62, 1.615, 1.61]
    g = finding(hf_eval_log(0.5 + 1.8 * np.exp(-st / 30), flat_val, epoch_axis=epoch_axis), "train_val_gap")
    assert g is not None and g.severity == "warning" and g.axis == "step"
    assert g.evidence["ratio_now"] == pytest.approx(3.2, abs=0.1)


# ------------------------------------------------------------------------------------------------ underfitting


def test_loss_stuck_at_ln_c_with_chance_accuracy_is_an_error() -> None:
    rng = np.random.default_rng(0)
    train = math.log(10) * (1 + 0.01 * rng.standard_normal(20))
    acc = 0.1 + 0.01 * rng.standard_normal(20)
    f = finding(epoch_run(train, train + 0.01, train_acc=acc, val_acc=acc, n_classes=10), "underfitting")
    assert f is not None and f.severity == "error"
    assert f.evidence["train_val_close"] is True and f.evidence["chance_acc"] == pytest.approx(0.1)
    assert "learning rate" in f.solution[0]


def test_flat_high_loss_without_chance_level_is_a_warning() -> None:
    ep = np.arange(12, dtype=float)
    train = decay(ep, 1.6, 1.5, 3)  # from 0.7 ln C to 0.65 ln C: 6% better, not near uniform, not learned
    f = finding(epoch_run(train, train * 1.05, n_classes=10), "underfitting")
    assert f is not None and f.severity == "warning"
    assert f.solution[0].startswith("Increase model capacity")


def test_loss_near_ln_c_while_accuracy_climbs_is_underfitting_not_failure() -> None:
    # Too low a learning rate: 30 epochs, loss still 0.93 ln C, but val accuracy 43% on 10 classes.
    ep = np.arange(30, dtype=float)
    train = 2.35 - 0.007 * ep
    f = finding(epoch_run(train, train - 0.1, val_acc=0.1 + 0.011 * ep, n_classes=10), "underfitting")
    assert f is not None and f.severity == "warning" and "learning rate" in f.solution[0]


def test_loss_near_ln_c_that_only_started_falling_is_not_called_useless() -> None:
    train = np.array([2.31, 2.3, 2.3, 2.29, 2.25, 2.15, 2.0])
    f = finding(epoch_run(train, n_classes=10), "underfitting")
    assert f is not None and f.severity == "warning" and f.evidence["late_drop"] >= 0.1


def test_accuracy_pinned_for_many_epochs_while_the_loss_falls_is_underfitting() -> None:
    """A translation model's token accuracy stays at the commonest token's share (6.6-6.8%) for 50 epochs while its
    loss falls 11.2 -> 8.7; a model whose accuracy keeps rising is not pinned."""
    ep = np.arange(52, dtype=float)
    loss = decay(ep, 11.2, 8.0, 30)
    pinned = np.r_[0.049, 0.066 + 0.002 * np.random.default_rng(0).random(51)]
    f = finding(history({"train_loss@epoch": (ep, loss), "train_acc@epoch": (ep, pinned),
                         "val_loss@epoch": (ep, loss * 0.99), "val_acc@epoch": (ep, pinned)}),
                "underfitting")  # fmt: skip
    assert f is not None and f.severity == "warning" and "stopped changing" in f.diagnosis
    rising = np.linspace(0.05, 0.30, 52)
    g = finding(history({"train_loss@epoch": (ep, loss), "train_acc@epoch": (ep, rising),
                         "val_loss@epoch": (ep, loss * 0.99), "val_acc@epoch": (ep, rising)}),
                "underfitting")  # fmt: skip
    assert g is None or "stopped changing" not in g.diagnosis


def test_flat_but_good_loss_of_a_fine_tune_is_not_underfitting() -> None:
    ep = np.arange(12, dtype=float)
    train = decay(ep, 0.32, 0.3, 3)  # pretrained: starts and stays low (well under ln C)
    assert finding(epoch_run(train, train * 1.1, train_acc=np.full(12, 0.92), n_classes=10), "underfitting") is None


def test_flat_regression_loss_without_reference_is_only_info() -> None:
    ep = np.arange(12, dtype=float)
    f = finding(epoch_run(decay(ep, 1.0, 0.95, 3), task="regression"), "underfitting")
    assert f is not None and f.severity == "info"


def test_underfitting_counts_the_epochs_of_a_step_only_log() -> None:
    # Regression: 220 steps of a 6-epoch Hugging Face run (38 steps per epoch) were under the 500-step minimum, so the
    # run was not judged, while its dlexpert log (epoch rows) gave an error.
    rng = np.random.default_rng(0)
    st = np.arange(5, 221, 5, dtype=float)
    loss = math.log(10) * (1 + 0.01 * rng.standard_normal(len(st)))
    f = finding(history({"train_loss@step": (st, loss)}, n_classes=10, epochs=6, steps_per_epoch=38), "underfitting")
    assert f is not None and f.severity == "error" and f.evidence["epochs_done"] == pytest.approx(220 / 38)
    assert "5.789 epochs" in f.diagnosis
    # Without the epoch length, 220 steps stay too short to judge.
    assert finding(history({"train_loss@step": (st, loss)}, n_classes=10), "underfitting") is None


def test_val_accuracy_at_chance_is_not_underfitting_when_the_train_loss_learned() -> None:
    # A shifted val split: the train loss fell far below ln C, val accuracy is at chance: a train/val difference.
    ep = np.arange(8, dtype=float)
    h = epoch_run(decay(ep, 2.3, 0.4, 2), decay(ep, 2.3, 2.2, 2), val_acc=np.full(8, 0.1), n_classes=10)
    assert finding(h, "underfitting") is None


# -------------------------------------------------------------------------------------------- slow convergence


def test_steady_but_tiny_improvement_far_from_converged_is_slow_convergence() -> None:
    ep = np.arange(30, dtype=float)
    train = 2.2 * 0.995**ep  # 0.5% per epoch, still at 0.86 ln C after 30 epochs
    f = finding(epoch_run(train, train * 1.02, n_classes=10, lr=1e-4), "slow_convergence")
    assert f is not None and f.severity == "warning"
    assert f.evidence["rel_improvement_per_epoch"] == pytest.approx(0.005, rel=0.1)
    assert f.solution[0].startswith("Increase learning rate") and "0.0002" in f.solution[0]


def test_accuracy_creeping_up_is_slow_convergence() -> None:
    ep = np.arange(20, dtype=float)
    acc = 0.3 + 0.006 * ep
    h = epoch_run(decay(ep, 2.3, 0.3, 3), train_acc=acc, val_acc=acc - 0.02)
    f = finding(h, "slow_convergence")
    assert f is not None and "accuracy gains" in f.diagnosis


def test_converged_plateau_and_fast_runs_are_not_slow() -> None:
    ep = np.arange(30, dtype=float)
    plateau = decay(ep, 2.3, 0.2, 4)
    assert finding(epoch_run(plateau, n_classes=10), "slow_convergence") is None
    fast = 2.3 * 0.9**ep
    assert finding(epoch_run(fast, n_classes=10), "slow_convergence") is None
    # Levelling off at a high floor (a small model at its capacity): decelerating, so converged, not slow.
    capped = decay(ep, 2.3, 1.5, 6)
    assert finding(epoch_run(capped, n_classes=10), "slow_convergence") is None


def test_slow_decline_without_ln_c_is_only_info() -> None:
    ep = np.arange(30, dtype=float)
    f = finding(epoch_run(1.0 * 0.995**ep, task="regression"), "slow_convergence")
    assert f is not None and f.severity == "info"


def test_slow_decline_with_validation_accuracy_short_of_the_mark_is_a_warning() -> None:
    # Train accuracy past 0.7, but validation still at 0.5: the slow loss costs what matters.
    ep = np.arange(30, dtype=float)
    run = epoch_run(1.0 * 0.995**ep, train_acc=np.linspace(0.3, 0.74, 30), val_acc=np.linspace(0.3, 0.5, 30))
    f = finding(run, "slow_convergence")
    assert f is not None and f.severity == "warning"


def test_a_loss_above_its_start_or_a_frozen_val_accuracy_is_not_slow_convergence() -> None:
    """Issue 13's corpus: a Bayesian net's loss went 0.55 -> 95 (a ramped KL term) and then fell 0.03% per epoch; 5-
    and 7-class runs kept their val accuracy at exactly 20.0% and 66.98% while the loss learned the class shares.
    Neither is a loss converging too slowly: divergence, constant prediction and stuck speak for them."""
    ep = np.arange(30, dtype=float)
    slow = 2.2 * 0.995**ep
    assert finding(epoch_run(slow, n_classes=10), "slow_convergence") is not None
    risen = np.r_[0.55, 95.0 * 0.9997 ** ep[1:]]
    assert finding(epoch_run(risen, n_classes=10), "slow_convergence") is None
    frozen = epoch_run(slow, slow * 1.02, val_acc=np.full(30, 0.66977), n_classes=10)
    assert finding(frozen, "slow_convergence") is None


# -------------------------------------------------------------------------------------------- loss oscillation


def test_epoch_loss_swinging_up_and_down_is_oscillation() -> None:
    ep = np.arange(30, dtype=float)
    train = 1.5 * (1 + 0.25 * np.sin(ep * 2.2))
    f = finding(epoch_run(train, lr=0.3), "loss_oscillation")
    assert f is not None and f.severity == "warning"
    assert f.evidence["reversal_rate"] >= 0.2 and f.began_at >= 9
    assert f.solution[0].startswith("Reduce the learning rate") and "0.3 -> 0.1" in f.solution[0]


def test_step_loss_oscillating_over_hundreds_of_steps() -> None:
    rng = np.random.default_rng(0)
    st = np.arange(1, 3001, dtype=float)
    loss = 1.2 * (1 + 0.4 * np.sign(np.sin(st / 60))) * np.exp(0.1 * rng.standard_normal(3000))
    f = finding(history({"train_loss@step": (st, loss)}), "loss_oscillation")
    assert f is not None and f.severity == "warning" and f.axis == "step"


def test_accuracy_oscillation_by_autotrainer_zeta() -> None:
    ep = np.arange(20, dtype=float)
    acc = 0.6 + 0.05 * (-1) ** ep
    f = finding(epoch_run(decay(ep, 2.3, 0.8, 3), train_acc=acc), "loss_oscillation")
    assert f is not None and f.evidence["series"] == "train_acc"


def test_wobble_of_a_converged_near_zero_loss_is_not_oscillation() -> None:
    ep = np.arange(60, dtype=float)
    train = decay(ep, 2.3, 0.0, 3) + 0.001 * (1 + 0.5 * (-1) ** ep)  # +-50% around 0.001 once converged
    assert finding(epoch_run(train), "loss_oscillation") is None


@pytest.mark.parametrize("noise", [0.1, 0.2, 0.3])
def test_minibatch_noise_is_not_oscillation(noise: float) -> None:
    rng = np.random.default_rng(1)
    st = np.arange(1, 5001, dtype=float)
    loss = decay(st, 2.3, 0.5, 800) * np.exp(noise * rng.standard_normal(5000))
    assert finding(history({"train_loss@step": (st, loss)}), "loss_oscillation") is None


def test_oscillating_loss_that_ends_higher_than_it_began_is_a_warning() -> None:
    # Regression: a net rise counted as progress (|last - first|), so a loss that swung and rose 4x over the judged
    # window was an info "still making progress despite the swings".
    loss = np.array([1.172, 0.351, 0.309, 0.341, 0.404, 0.699, 0.585, 0.469, 0.663, 0.870, 0.872, 1.236])
    f = finding(epoch_run(loss), "loss_oscillation")
    assert f is not None and f.severity == "warning"
    assert f.evidence["ended_worse"] is True and f.evidence["movement_to_progress"] == "inf"
    assert "ended worse than it began" in f.diagnosis and "still makes progress" not in f.diagnosis


def oscillating_steps(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """12 epochs of 37 steps logged every 5 steps (89 points) whose epoch level swings by ~+-40%; and the epoch-end
    steps where a val loss would be logged."""
    rng = np.random.default_rng(seed)
    st = np.arange(5, 445, 5, dtype=float)
    level = np.array([2.0, 1.0, 1.6, 0.9, 1.5, 0.8, 1.4, 0.8, 1.5, 0.9, 1.4, 0.9])
    loss = level[((st - 1) // 37).astype(int)] * np.exp(0.05 * rng.standard_normal(len(st)))
    return st, loss, np.arange(37, 445, 37, dtype=float)


def test_step_only_oscillation_is_grouped_into_epochs() -> None:
    # Regression: step-only logs (TensorBoard, Hugging Face, JSON lines) needed >= 120 points, so a 12-epoch run of
    # 89 logged points was never judged.
    st, loss, ends = oscillating_steps()
    by_meta = finding(history({"train_loss@step": (st, loss)}, steps_per_epoch=37), "loss_oscillation")
    assert by_meta is not None and by_meta.severity == "warning" and by_meta.axis == "epoch"
    assert by_meta.evidence["n_points"] == 9 and "per epoch" in by_meta.diagnosis
    # No epoch length in the log (TensorBoard), but a val loss at every epoch end: grouped by evaluation interval.
    tb = history({"train_loss@step": (st, loss), "val_loss@step": (ends, np.full(len(ends), 1.0))})
    f = finding(tb, "loss_oscillation")
    assert f is not None and f.severity == "warning" and "evaluation interval" in f.diagnosis
    # The epoch length read off a val series logged on both axes (JSON lines without meta).
    both = history(
        {
            "train_loss@step": (st, loss),
            "val_loss@step": (ends, np.ones(12)),
            "val_loss@epoch": (np.arange(12.0), np.ones(12)),
        }
    )
    g = finding(both, "loss_oscillation")
    assert g is not None and "per epoch" in g.diagnosis


# ------------------------------------------------------------------------------------------ lr not decaying


def lr_run(lr: np.ndarray, scheduler: str | None, epochs: int | None = None, spe: int = 100) -> RunHistory:
    st = np.arange(1, len(lr) + 1, dtype=float)
    meta: dict[str, object] = {"steps_per_epoch": spe}
    if scheduler:
        meta["scheduler"] = scheduler
    if epochs:
        meta["epochs"] = epochs
    return history({"lr@step": (st, lr), "train_loss@step": (st, decay(st, 2.3, 0.5, 500))}, **meta)


def test_cosine_planned_but_lr_flat_is_a_forgotten_scheduler_step() -> None:
    f = finding(lr_run(np.full(2000, 0.1), "cosine", epochs=20), "lr_not_decaying")
    assert f is not None and f.severity == "warning" and f.began_at == 1.0
    assert f.solution[0].startswith("Call scheduler.step()")


def test_warmup_then_flat_with_onecycle_planned() -> None:
    lr = np.minimum(0.1, np.arange(1, 2001) * 0.1 / 100)
    f = finding(lr_run(lr, "OneCycleLR", epochs=20), "lr_not_decaying")
    assert f is not None and f.severity == "warning" and f.began_at == 100.0


def test_cosine_with_t_max_far_too_long() -> None:
    st = np.arange(1, 2001)
    lr = 0.05 * (1 + np.cos(np.pi * st / 20000))  # T_max 10x the real run
    f = finding(lr_run(lr, "cosine", epochs=20), "lr_not_decaying")
    assert f is not None and f.severity == "warning" and f.solution[0].startswith("Set T_max")
    assert "2000 steps" in f.solution[0]


def test_lr_schedules_that_do_what_was_planned() -> None:
    st = np.arange(1, 2001)
    cosine = 0.05 * (1 + np.cos(np.pi * st / 2000))
    assert finding(lr_run(cosine, "cosine", epochs=20), "lr_not_decaying") is None
    assert finding(lr_run(np.full(2000, 0.1), "constant", epochs=20), "lr_not_decaying") is None
    # 20% into a planned 100-epoch cosine run the lr is legitimately still near its peak.
    early = 0.05 * (1 + np.cos(np.pi * st / 10000))
    assert finding(lr_run(early, "cosine", epochs=100), "lr_not_decaying") is None
    # Too short a flat stretch to judge without a planned length.
    assert finding(lr_run(np.full(300, 0.1), "cosine"), "lr_not_decaying") is None


def test_step_schedule_is_flat_until_its_milestone() -> None:
    # 40% into a planned MultiStepLR run with milestones at 50% and 75%: not dropped yet, and rightly so.
    assert finding(lr_run(np.full(4000, 0.1), "MultiStepLR", epochs=100), "lr_not_decaying") is None
    # At the end of the planned run it should have dropped.
    f = finding(lr_run(np.full(2000, 0.1), "step", epochs=20), "lr_not_decaying")
    assert f is not None and f.severity == "warning"


def test_flat_lr_without_a_plan_is_only_info() -> None:
    f = finding(lr_run(np.full(3000, 0.01), None), "lr_not_decaying")
    assert f is not None and f.severity == "info"


def test_plateau_scheduler_that_never_drops_while_val_stalls() -> None:
    ep = np.arange(30, dtype=float)
    h = epoch_run(decay(ep, 2.3, 0.5, 3), np.r_[decay(ep[:10], 2.4, 0.8, 3), np.full(20, 0.82)], scheduler="plateau")
    h.add("lr", "epoch", ep, np.full(30, 0.01))
    f = finding(h, "lr_not_decaying")
    assert f is not None and f.severity == "warning" and f.evidence["evals_since_best_val"] >= 12
    still_improving = epoch_run(decay(ep, 2.3, 0.5, 3), decay(ep, 2.4, 0.6, 12), scheduler="plateau")
    still_improving.add("lr", "epoch", ep, np.full(30, 0.01))
    assert finding(still_improving, "lr_not_decaying") is None


# -------------------------------------------------------------------------------------------- data bottleneck


def timing_run(data: float, compute: float, n: int = 400, seed: int = 0) -> RunHistory:
    rng = np.random.default_rng(seed)
    st = np.arange(1, n + 1, dtype=float)
    dt = data * np.exp(0.2 * rng.standard_normal(n))
    bt = dt + compute * np.exp(0.1 * rng.standard_normal(n))
    dt[:5] *= 20  # worker start-up: skipped
    return history({"data_time@step": (st, dt), "batch_time@step": (st, bt)})


def test_waiting_for_data_most_of_the_step_is_a_bottleneck() -> None:
    f = finding(timing_run(0.15, 0.1), "data_bottleneck")
    assert f is not None and f.severity == "warning" and 0.5 < f.evidence["median_wait_fraction"] < 0.7
    assert "num_workers" in f.solution[0]


def test_fast_loader_and_mild_waits() -> None:
    assert finding(timing_run(0.005, 0.1), "data_bottleneck") is None
    mild = finding(timing_run(0.025, 0.1), "data_bottleneck")
    assert mild is not None and mild.severity == "info"  # ~20%: noticeable, under the 30% warning bar


def test_a_large_share_of_a_tiny_wait_is_only_info() -> None:
    # Regression (healthy benchmark runs): an in-memory TensorDataset and a tiny MLP wait ~35% of a 6 ms step, i.e.
    # ~2 ms, which worker processes cannot recover: info. The same share at 30 ms per step stays a warning.
    tiny = finding(timing_run(0.002, 0.004), "data_bottleneck")
    assert tiny is not None and tiny.severity == "info" and tiny.evidence["median_wait_fraction"] > 0.3
    assert tiny.evidence["data_time_median_s"] < 0.005 and "ms per step" in tiny.diagnosis
    slow = finding(timing_run(0.03, 0.06), "data_bottleneck")
    assert slow is not None and slow.severity == "warning"


def test_logged_wait_fraction_in_percent() -> None:
    st = np.arange(1, 101, dtype=float)
    f = finding(history({"data_wait_fraction@step": (st, np.full(100, 45.0))}), "data_bottleneck")
    assert f is not None and f.severity == "warning" and f.evidence["median_wait_fraction"] == pytest.approx(0.45)


def test_many_step_time_outliers_are_noted() -> None:
    rng = np.random.default_rng(0)
    st = np.arange(1, 1001, dtype=float)
    bt = 0.1 * np.exp(0.05 * rng.standard_normal(1000))
    bt[::50] = 1.5  # a stall every 50 steps (loader restart)
    f = finding(history({"batch_time@step": (st, bt)}), "data_bottleneck")
    assert f is not None and f.severity == "info" and f.evidence["n_outlier_steps"] >= 18


# ------------------------------------------------------------------------------------------------ loss spikes


def test_large_spike_that_recovers_is_a_warning() -> None:
    st, loss, _, _ = step_run(1000, noise=0.05)
    loss[600:604] *= [4.0, 5.0, 3.0, 1.8]
    f = finding(history({"train_loss@step": (st, loss)}), "loss_spike")
    assert f is not None and f.severity == "warning" and f.began_at == 601.0
    assert f.evidence["n_spikes"] == 1 and f.evidence["spikes"][0]["recovered"] is True


def test_moderate_single_spike_is_info_and_lr_restarts_are_expected() -> None:
    st, loss, _, _ = step_run(1000, noise=0.05)
    loss[500] *= 2.2
    f = finding(history({"train_loss@step": (st, loss)}), "loss_spike")
    assert f is not None and f.severity == "info"
    lr = np.where(st <= 500, 0.1 * (1 - st / 500) + 1e-3, 0.1)  # SGDR-style restart at step 501
    assert finding(history({"train_loss@step": (st, loss), "lr@step": (st, lr)}), "loss_spike") is None


def test_recurring_spikes_suggest_restarting_before_them() -> None:
    st, loss, _, _ = step_run(2000, noise=0.05)
    for at_step in (500, 900, 1300, 1700):
        loss[at_step : at_step + 3] *= 2.5  # each lasts 3 logged points
    f = finding(history({"train_loss@step": (st, loss)}), "loss_spike")
    assert f is not None and f.severity == "warning" and f.evidence["n_spikes"] == 4
    assert f.solution[0].startswith("Restart from a checkpoint")


def test_one_point_spikes_below_the_starting_loss_are_hard_batches() -> None:
    """Issue 13's corpus: MNIST, CIFAR-10 and cats-vs-dogs runs log a per-batch loss that jumps 5-30x for one
    point now and then, always below where it started. Those are hard batches (info); one above the start is not."""
    st, loss, _, _ = step_run(2000, floor=0.1, noise=0.2)  # small batches: the per-batch loss scatters by ~20%
    for at_step in (900, 1100, 1300, 1700):
        loss[at_step] *= 4.0
    f = finding(history({"train_loss@step": (st, loss)}), "loss_spike")
    assert f is not None and f.severity == "info" and "hard batches" in f.diagnosis
    loss[1700] = 1.5 * loss[0]
    f = finding(history({"train_loss@step": (st, loss)}), "loss_spike")
    assert f is not None and f.severity == "warning"


def test_many_spikes_of_an_epoch_loss_are_events_not_batch_noise() -> None:
    """Issue 13, blind17: a grokking run's per-epoch loss jumped 10-150x its level a dozen times and recovered each
    time. Epoch means average their batches, so the per-step noise gate does not apply; on a per-step curve the same
    count of jumps is heavy-tailed batch noise."""
    n = 200
    x = np.arange(n, dtype=float)
    loss = decay(x, 4.9, 0.01, 8)
    for at_point in range(40, 190, 12):
        loss[at_point] = 100 * loss[at_point - 1]
    f = finding(history({"train_loss@epoch": (x, loss)}), "loss_spike")
    assert f is not None and f.severity == "warning" and f.evidence["n_spikes"] >= 10
    assert finding(history({"train_loss@step": (x, loss)}), "loss_spike") is None


def test_an_epoch_loss_jump_that_undoes_a_third_of_the_progress_is_a_spike_warning() -> None:
    """Issue 13, blind27: a ViT's ImageNet train loss, an epoch mean, 4.50 -> 5.31 in one epoch (+18%, a third of the
    progress from 6.92 undone), under the 50% a per-step spike needs. A near-zero epoch loss blipping 0.0003 -> 0.04
    after starting at 0.45 undoes under a tenth: info. On a per-step curve an 18% jump is batch noise."""
    x = np.arange(300, dtype=float)
    loss = decay(x, 6.92, 4.3, 60)
    loss[201:206] += np.array([0.8, 0.45, 0.35, 0.25, 0.15])
    f = finding(history({"train_loss@epoch": (x, loss)}), "loss_spike")
    assert f is not None and f.severity == "warning" and f.began_at == 201.0
    assert finding(history({"train_loss@step": (x, loss)}), "loss_spike") is None
    near_zero = decay(np.arange(50, dtype=float), 0.45, 0.0001, 3)
    near_zero[34] = 0.042
    f = finding(history({"train_loss@epoch": (np.arange(50, dtype=float), near_zero)}), "loss_spike")
    assert f is not None and f.severity == "info"


@pytest.mark.parametrize("noise", [0.05, 0.15])
def test_ordinary_noise_has_no_spike_warning(noise: float) -> None:
    st, loss, _, _ = step_run(5000, noise=noise, seed=7)
    f = finding(history({"train_loss@step": (st, loss)}), "loss_spike")
    assert f is None or f.severity == "info"


# ---------------------------------------------------------------------------------------- poor initialization


def test_initial_loss_far_above_ln_c_is_poor_initialization() -> None:
    st, loss, _, _ = step_run(300, start=30.0, floor=0.5)
    f = finding(history({"train_loss@step": (st, loss)}, n_classes=10), "poor_initialization")
    assert f is not None and f.severity == "warning" and f.evidence["ratio"] > 10
    assert f.began_at == 1.0 and f.evidence["at_init"] is True
    assert "final layer" in f.solution[0]


def test_epoch_mean_far_above_ln_c_is_a_lower_bound_and_still_counts() -> None:
    f = finding(epoch_run(np.array([9.0, 2.0, 1.0]), n_classes=10), "poor_initialization")
    assert f is not None and f.severity == "warning" and f.evidence["at_init"] is False


def test_initial_loss_near_ln_c_and_regression_are_fine() -> None:
    st, loss, _, _ = step_run(300, start=2.4)
    assert finding(history({"train_loss@step": (st, loss)}, n_classes=10), "poor_initialization") is None
    big, *_ = step_run(300, start=50.0)
    assert finding(history({"train_loss@step": (big, loss * 20)}, task="regression"), "poor_initialization") is None


def test_initial_loss_far_below_ln_c_at_step_one_is_info() -> None:
    st, loss, _, _ = step_run(300, start=0.3, floor=0.1)
    f = finding(history({"train_loss@step": (st, loss)}, n_classes=100), "poor_initialization")
    assert f is not None and f.severity == "info" and "far below" in f.solution[0]
    # Logged from step 500 on (an average after training): a low value says nothing about initialisation.
    later = history({"train_loss@step": (st + 499, loss)}, n_classes=100)
    assert finding(later, "poor_initialization") is None


# ---------------------------------------------------------------------------------------- constant prediction


def majority_run(frac: float) -> RunHistory:
    st = np.arange(1, 201, dtype=float)
    curve = np.r_[np.linspace(0.3, frac, 100), np.full(100, frac)]
    return history({"pred_majority_fraction@step": (st, curve)}, n_classes=10)


def test_predicting_one_class_for_everything() -> None:
    f = finding(majority_run(1.0), "constant_prediction")
    assert f is not None and f.severity == "error" and f.began_at is not None and f.began_at <= 100
    w = finding(majority_run(0.97), "constant_prediction")
    assert w is not None and w.severity == "warning"
    assert finding(majority_run(0.6), "constant_prediction") is None


def test_val_accuracy_frozen_at_chance() -> None:
    ep = np.arange(12, dtype=float)
    h = epoch_run(np.full(12, 2.3), val_acc=np.full(12, 0.1), n_classes=10)
    f = finding(h, "constant_prediction")
    assert f is not None and f.severity == "warning" and f.evidence["evals_identical"] == 12
    assert f.began_at == 0.0 and "chance" in f.diagnosis
    moving = epoch_run(decay(ep, 2.3, 0.3, 3), val_acc=0.1 + 0.07 * ep, n_classes=10)
    assert finding(moving, "constant_prediction") is None


def test_high_val_accuracy_that_stops_changing_is_convergence() -> None:
    ep = np.arange(20, dtype=float)
    acc = np.r_[np.linspace(0.3, 0.986, 8), np.full(12, 0.986)]  # small val set, converged
    assert finding(epoch_run(decay(ep, 2.3, 0.001, 3), val_acc=acc, n_classes=10), "constant_prediction") is None


def test_val_accuracy_stuck_at_the_majority_rate() -> None:
    h = epoch_run(np.full(10, 0.33), val_acc=np.r_[0.85, 0.9, np.full(8, 0.9125)], n_classes=2)
    f = finding(h, "constant_prediction")
    assert f is not None and f.severity == "warning" and f.evidence["evals_identical"] == 8


def test_low_predicted_class_entropy() -> None:
    st = np.arange(1, 51, dtype=float)
    f = finding(history({"pred_entropy@step": (st, np.full(50, 0.01))}, n_classes=10), "constant_prediction")
    assert f is not None and f.severity == "warning"


# ------------------------------------------------------------------------------- ranking: causes before symptoms


def first(h: RunHistory) -> Finding:
    return diagnose_history(h).findings[0]


def test_vanishing_gradients_rank_before_the_underfitting_they_cause() -> None:
    # Regression: vanishing gradients need a stagnant loss, which makes underfitting an error, so vanishing could
    # never come first.
    loss = 2.3 * np.exp(0.03 * np.random.default_rng(1).standard_normal(600))
    d = diagnose_history(layered(2e-7, 1e-2, loss))
    assert [f.issue for f in d.findings] == ["vanishing_gradients", "underfitting"]
    under = d.findings[1]
    assert under.severity == "warning" and under.evidence["severity_before"] == "error"
    assert under.evidence["explained_by"] == ["vanishing_gradients"] and "consequence of vanishing" in under.diagnosis


def test_an_explosion_ranks_before_the_collapse_to_one_class_it_causes() -> None:
    st, loss, grad, _ = step_run(600)
    grad[300:] *= 40
    loss[300:] = np.linspace(2.0, 6.0, 300)
    maj = np.where(st > 320, 1.0, 0.3)
    h = history({"train_loss@step": (st, loss), "grad_norm@step": (st, grad), "pred_majority_fraction@step": (st, maj)})
    d = diagnose_history(h)
    assert d.findings[0].issue == "exploding_gradients" and not d.healthy
    const = next(f for f in d.findings if f.issue == "constant_prediction")
    assert const.severity == "warning" and const.evidence["severity_before"] == "error"


def test_steady_slow_decline_is_slow_convergence_before_underfitting() -> None:
    # Regression: 2.302 -> 2.255 over 12 epochs, steadily: slow convergence (lr too low), which underfitting outranked.
    h = epoch_run(np.linspace(2.302, 2.255, 12), n_classes=10)
    d = diagnose_history(h)
    assert [f.issue for f in d.findings][:2] == ["slow_convergence", "underfitting"]
    assert d.findings[1].severity == "warning" and "still falling steadily" in d.findings[1].diagnosis


def test_oscillation_ranks_before_relus_that_died_during_training_not_before_dead_from_the_start() -> None:
    loss = np.array([1.172, 0.351, 0.309, 0.341, 0.404, 0.699, 0.585, 0.469, 0.663, 0.870, 0.872, 1.236])
    st = np.arange(1, 121, dtype=float)
    died = np.where(st > 30, 0.8, 0.1)
    h = epoch_run(loss)
    h.add("dead_fraction/layer1", "step", st, died)
    issues = [f.issue for f in diagnose_history(h).findings]  # 0.309 -> 1.236 at the end is a divergence too
    assert issues[0] == "loss_oscillation" and "dead_relu" in issues and set(issues) <= {*issues[:1], "divergence",
                                                                                          "dead_relu"}  # fmt: skip
    from_start = epoch_run(loss)
    from_start.add("dead_fraction/layer1", "step", st, np.full(120, 0.8))
    d = diagnose_history(from_start)
    dead = next(f for f in d.findings if f.issue == "dead_relu")
    assert "explained_by" not in dead.evidence  # dead from the start points at initialisation, not the lr


@pytest.mark.parametrize(("ratio", "leader"), [(1e-6, "underfitting"), (1e-3, "constant_prediction")])
def test_untrained_constant_output_is_underfitting_unless_the_weights_move(ratio: float, leader: str) -> None:
    # Weights that barely move (update/weight ratio < 1e-5) leave the untrained network's constant output: the
    # learning rate is the cause. Weights that move while the output stays constant: the input does not get through.
    st = np.arange(5, 601, 5, dtype=float)
    rng = np.random.default_rng(0)
    s = {
        "train_loss@step": (st, math.log(10) * (1 + 0.005 * rng.standard_normal(len(st)))),
        "pred_majority_fraction@step": (st, np.ones(len(st))),
        "update_ratio@step": (st, np.full(len(st), ratio)),
    }
    assert first(history(s, n_classes=10)).issue == leader


def test_sort_findings_puts_causes_first_and_leaves_the_rest_alone() -> None:
    from dlexpert.schema.diagnosis import sort_findings

    def make(issue: str, severity: str, confidence: float, **evidence: object) -> Finding:
        return Finding(issue=issue, severity=severity, confidence=confidence, diagnosis="d.", solution=[], rule=issue,
                       evidence=evidence)  # fmt: skip

    under = make("underfitting", "error", 0.9)
    slow = make("slow_convergence", "warning", 0.6)
    gap = make("train_val_gap", "warning", 0.8)
    info = make("exploding_gradients", "info", 0.5)
    out = sort_findings([gap, under, info, slow])
    assert [f.issue for f in out] == ["train_val_gap", "slow_convergence", "underfitting", "exploding_gradients"]
    assert out[0] is gap and out[3] is info  # unexplained findings are the same objects
    assert out[2].severity == "warning" and out[2].evidence["explained_by"] == ["slow_convergence"]
    again = sort_findings(out)
    assert again[2].diagnosis == out[2].diagnosis  # sorting twice does not repeat the note
    # An info-level cause explains nothing; without its cause the symptom keeps its severity and place.
    assert [f.severity for f in sort_findings([under, make("slow_convergence", "info", 0.6)])] == ["error", "info"]


# --------------------------------------------------------------------------------- common checks on every rule

RULES = list_rules()

ODD_HISTORIES = {
    "empty": history({}),
    "one point each": history(
        {f"{n}@step": ([1.0], [0.5]) for n in ("train_loss", "val_loss", "lr", "grad_norm", "train_acc", "val_acc")},
        n_classes=10,
    ),
    "two points": history({"train_loss@epoch": ([0, 1], [2.3, 2.2]), "val_loss@epoch": ([0, 1], [2.4, 2.5])}),
    "all nan": history(
        {f"{n}@epoch": (np.arange(10.0), np.full(10, np.nan)) for n in ("train_loss", "val_loss", "lr", "val_acc")},
        n_classes=10,
    ),
    "nan and inf sprinkled": history(
        {
            "train_loss@step": (np.arange(1.0, 101), np.where(np.arange(100) % 7 == 0, np.nan, 1.0)),
            "grad_norm@step": (np.arange(1.0, 101), np.where(np.arange(100) % 5 == 0, np.inf, 1.0)),
            "dead_fraction/a@step": (np.arange(1.0, 101), np.full(100, np.nan)),
            "data_time@step": (np.arange(1.0, 101), np.full(100, np.inf)),
            "batch_time@step": (np.arange(1.0, 101), np.zeros(100)),
        },
        n_classes=3,
    ),
    "zeros and negatives": history(
        {
            "train_loss@epoch": (np.arange(12.0), -np.linspace(1, 3, 12)),
            "val_loss@epoch": (np.arange(12.0), np.zeros(12)),
            "lr@epoch": (np.arange(12.0), np.zeros(12)),
            "grad_norm@epoch": (np.arange(12.0), np.zeros(12)),
            "grad_norm/a@epoch": (np.arange(12.0), np.zeros(12)),
            "grad_norm/b@epoch": (np.arange(12.0), np.zeros(12)),
            "pred_entropy@epoch": (np.arange(12.0), np.zeros(12)),
        },
        n_classes="ten",
        epochs=-3,
        scheduler=7,
        steps_per_epoch=None,
    ),
    "zero gradients in the first layer": history(
        {
            "train_loss@step": (np.arange(1.0, 201), np.full(200, 2.3)),
            "grad_norm/first@step": (np.arange(1.0, 201), np.zeros(200)),
            "grad_norm/last@step": (np.arange(1.0, 201), np.ones(200)),
            "dead_fraction/first@step": (np.arange(1.0, 201), np.ones(200)),
            "lr@step": (np.arange(1.0, 201), np.zeros(200)),
        },
        n_classes=10,
        scheduler="cosine",
        epochs=1,
        steps_per_epoch=200,
    ),
}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_docstring_states_symptom_cause_and_remedy(rule: Rule) -> None:
    doc = rule.doc
    for part in ("Symptom:", "Cause:", "Remedy:"):
        assert part in doc, f"{rule.name}: docstring lacks {part!r}"
    assert len(doc) > 200


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_issue_is_in_the_vocabulary(rule: Rule) -> None:
    assert rule.issue in ISSUES


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
@pytest.mark.parametrize("case", ODD_HISTORIES, ids=str)
def test_rule_survives_odd_histories(rule: Rule, case: str) -> None:
    out = rule.fn(ODD_HISTORIES[case])
    if case == "empty":
        assert out is None
    for f in [out] if isinstance(out, Finding) else (out or []):
        assert f.issue == rule.issue and f.rule == rule.name


def test_every_vocabulary_issue_has_a_rule() -> None:
    assert {r.issue for r in RULES} == set(ISSUES)


FAULTS = {
    "nan": lambda: history({"train_loss@step": (np.arange(1.0, 11), [2.3, 2.0, 5.0, 40.0] + [np.nan] * 6)}),
    "overfit": overfit_run,
    "dead": lambda: dead_run({"l": np.full(50, 0.9)}),
    "spike": lambda: (lambda st, loss: history({"train_loss@step": (st, np.r_[loss[:50], 9.0, loss[51:]])}))(
        *step_run(200)[:2]
    ),
    "init": lambda: epoch_run(np.array([9.0, 2.0, 1.0]), n_classes=10),
    "lr": lambda: lr_run(np.full(2000, 0.1), "cosine", epochs=20),
    "data": lambda: timing_run(0.15, 0.1),
    "gap": lambda: epoch_run(decay(np.arange(15.0), 2, 0.2, 3), 3 * decay(np.arange(15.0), 2, 0.2, 3)),
}


@pytest.mark.parametrize("case", FAULTS)
def test_findings_are_complete_and_serialisable(case: str) -> None:
    d = diagnose_history(FAULTS[case]())
    assert d.findings and not d.healthy
    for f in d.findings:
        assert 0.0 <= f.confidence <= 1.0
        assert f.diagnosis and f.source and f.evidence and any(ch.isdigit() for ch in f.diagnosis)
        assert f.began_at is None or f.axis in ("step", "epoch")
        # The solutions are the knowledge base's, reordered, with this run's numbers appended.
        known = get_problem(f.issue).solutions
        assert sorted(s.split(" (here: ")[0] for s in f.solution) == sorted(known)
        json.dumps(f.model_dump(mode="json"), allow_nan=False)


def test_a_negative_classification_loss_or_a_loss_unbounded_below_is_invalid() -> None:
    ep = np.arange(20, dtype=float)
    acc = np.linspace(0.3, 0.6, 20)
    negative_ce = finding(epoch_run(decay(ep, 1.0, -0.4, 5), train_acc=acc), "invalid_loss")
    assert negative_ce is not None and negative_ce.severity == "error" and negative_ce.evidence["classification"]
    unbounded = finding(epoch_run(-3e4 * np.geomspace(1, 2000, 20)), "invalid_loss")
    assert unbounded is not None and unbounded.evidence["late_magnitude"] > 100 * unbounded.evidence["early_magnitude"]
    # a likelihood that settles below zero, with no accuracy in the log, is a legitimate loss
    assert finding(epoch_run(decay(ep, 1.0, -0.4, 5)), "invalid_loss") is None
    summed = finding(epoch_run(decay(ep, 2.0, 0.3, 4), train_acc=acc * 180), "invalid_loss")  # 108%
    assert summed is not None and summed.severity == "info"  # a broken metric beside a valid loss: a note


# ------------------------------------------------------------------- issue 13: patterns from other people's logs


def test_a_run_frozen_from_its_first_evaluation_is_stuck() -> None:
    """Val loss 681.58 -> 681.07 over 5 epochs (0.07%); accuracy 0.0797 at all 4 evaluations; a loss of exactly 0."""
    ep = np.arange(5.0)
    frozen_val = history({"val_loss@epoch": (ep, 681.58 - 0.1275 * ep), "train_loss@step": (np.arange(25.0),
                          900 + 60 * np.sin(np.arange(25.0)))})  # fmt: skip
    assert (f := finding(frozen_val, "stuck")) is not None and f.severity == "warning"
    frozen_acc = history({"val_acc@epoch": (ep[:4], np.full(4, 0.0797)), "val_loss@epoch": (ep[:4], np.full(4, 2.3))})
    assert finding(frozen_acc, "stuck") is not None
    zero = history({"train_loss@step": (np.arange(100.0), np.zeros(100))})
    assert "exactly 0" in finding(zero, "stuck").diagnosis  # type: ignore[union-attr]
    solved = history({"val_acc@epoch": (ep, np.ones(5)), "val_loss@epoch": (ep, 0.05 / (1 + ep))})
    assert finding(solved, "stuck") is None  # 100% at every evaluation is a solved task
    learning = history({"val_loss@epoch": (ep, 0.9 / (1 + ep))})
    assert finding(learning, "stuck") is None


def test_a_train_loss_pinned_at_ln_c_is_stuck_even_with_a_restart_in_it() -> None:
    y = np.r_[0.7117, 0.7173, np.full(7, 0.6932), 0.7113, np.full(7, 0.6932)]
    assert finding(history({"train_loss@step": (np.arange(len(y), dtype=float), y)}), "stuck") is not None
    _, falling, _, _ = step_run(40, start=0.72, floor=0.2)
    assert finding(history({"train_loss@step": (np.arange(40.0), falling)}), "stuck") is None


def test_a_nan_in_any_loss_column_is_nan_inf() -> None:
    """A GAN whose generator and discriminator losses turn NaN, and a PINN whose `mean_loss` does: neither is
    called `loss`, and both runs were reported healthy."""
    st = np.arange(50.0)
    gan = history({"train_disc_loss@step": (st, np.r_[1.6e24, np.full(49, np.nan)]),
                   "train_gen_loss@step": (st, np.full(50, np.nan))})  # fmt: skip
    f = finding(gan, "nan_inf")
    assert f is not None and f.severity == "error" and f.evidence["series"] == "train_gen_loss"  # NaN from step 0
    from dlexpert.diagnose.readers._names import normalise

    assert normalise("mean_loss")[0] == "train_loss" and normalise("val_total_loss")[0] == "val_loss"


def test_oscillating_validation_is_loss_oscillation_and_a_mild_val_rise_is_only_info() -> None:
    ep = np.arange(17.0)
    swings = np.array([1.68, 2.1, 1.61, 2.07, 1.5, 3.7, 8.6, 2.97, 2.4, 4.39, 1.37, 2.62, 1.84, 3.51, 3.18, 2.2, 3.0])
    h = history({"val_loss@epoch": (ep, swings), "train_loss@epoch": (ep, decay(ep, 2.0, 1.1, 3))})
    assert (f := finding(h, "loss_oscillation")) is not None and f.evidence["series"] == "val_loss"
    ep10 = np.arange(10.0)
    val = np.array([0.323, 0.28, 0.25, 0.235, 0.225, 0.22, 0.228, 0.231, 0.233, 0.236])  # +6.5% after its best
    mild = history({"val_loss@epoch": (ep10, val), "train_loss@epoch": (ep10, decay(ep10, 0.5, 0.1, 3))})
    f = finding(mild, "overfitting")
    assert f is None or f.severity == "info"


def test_a_one_batch_blip_on_a_near_zero_loss_is_not_a_spike_warning() -> None:
    """0.0003 -> 0.016 on a loss that started at 0.7 is batch noise; 2.5 -> 6 on one that started at 10.8 is not."""
    st, loss, _, _ = step_run(900, start=0.7, floor=0.0003, noise=0.05)
    blip = loss.copy()
    for at_step in (500, 600, 700, 800):
        blip[at_step] = 0.016
    f = finding(history({"train_loss@step": (st, blip)}), "loss_spike")
    assert f is None or f.severity == "info"
    st, llm, _, _ = step_run(900, start=10.8, floor=2.0, noise=0.02)
    for at_step in (500, 600, 700, 800):
        llm[at_step] = 6.0
    f = finding(history({"train_loss@step": (st, llm)}), "loss_spike")
    assert f is not None and f.severity == "warning"


def test_a_loss_gap_while_validation_accuracy_still_rises_is_info() -> None:
    """A fine-tune ending with val loss 8x the train loss while its accuracy is still at its best (0.891 -> 0.943)."""
    ep = np.arange(11.0)
    train = decay(ep, 0.46, 0.02, 2)
    val = np.r_[0.314, 0.255, 0.26, 0.258, 0.262, 0.259, 0.261, 0.26, 0.258, 0.26, 0.259]
    rising = epoch_run(train, val, val_acc=np.linspace(0.891, 0.943, 11))
    f = finding(rising, "train_val_gap")
    assert f is not None and f.severity == "info" and "not costing accuracy" in f.diagnosis
    falling = epoch_run(train, val, val_acc=np.r_[np.linspace(0.891, 0.943, 6), np.linspace(0.93, 0.88, 5)])
    assert (g := finding(falling, "train_val_gap")) is None or "not costing accuracy" not in g.diagnosis
    # a shifted validation set: accuracy still at its best, but 25 points under the training accuracy
    shifted = epoch_run(train, val, train_acc=np.linspace(0.9, 0.99, 11), val_acc=np.linspace(0.6, 0.74, 11))
    assert finding(shifted, "train_val_gap").severity == "warning"  # type: ignore[union-attr]


def test_a_three_epoch_fine_tune_whose_val_loss_climbs_every_epoch_overfits() -> None:
    climbing = epoch_run(np.r_[0.308, 0.201, 0.142], np.r_[0.255, 0.288, 0.375])
    f = finding(climbing, "overfitting")
    assert f is not None and f.severity == "warning" and f.evidence["rise"] > 0.4
    wobble = epoch_run(np.r_[1.91, 0.5, 0.032], np.r_[1.012, 0.904, 0.927])  # +2.5% after the minimum
    assert finding(wobble, "overfitting") is None


def test_a_val_loss_that_jumps_3000x_for_one_epoch_and_comes_back_is_a_spike_not_nan_inf() -> None:
    ep = np.arange(30.0)
    train = decay(ep, 100, 35, 8)
    val = decay(ep, 70, 33, 8) * (1 + 0.03 * np.sin(ep))
    val[12] = 206646.0
    h = epoch_run(train, val)
    assert finding(h, "nan_inf") is None
    assert (f := finding(h, "loss_spike")) is not None and f.evidence["spikes"][0]["x"] == 12
    stays = val.copy()
    stays[12:] = 2e5
    assert finding(epoch_run(train, stays), "nan_inf") is not None  # no way back: diverged
    noisy = decay(ep, 70, 33, 8) * np.where(ep % 5 == 3, 2.0, 1.0)  # a val loss that doubles now and then
    assert finding(epoch_run(train, noisy), "loss_spike") is None


def test_a_rising_val_loss_beside_a_train_loss_that_only_fell_in_its_first_epoch_is_divergence() -> None:
    """Train loss 3.7e6 at epoch 1, then swinging 133-2732 without a trend, while the val loss doubles."""
    train = np.r_[3.7e6, 133, 2005, 187, 2732, 646, 1574, 963, 601, 2422, 659, 1360, 1040, 957]
    val = np.r_[41.4, 32.4, 35.5, 36.6, 42.2, 46.3, 47.9, 48.8, 49.5, 54.6, 56.3, 61.8, 70.6, 68.5]
    assert finding(epoch_run(train, val), "divergence") is not None
    ep = np.arange(14.0)
    assert finding(epoch_run(decay(ep, 2.0, 0.1, 3), val / 30), "divergence") is None  # train falls: overfitting


def test_an_accuracy_of_exactly_zero_at_every_evaluation_is_a_broken_metric_not_a_constant_guess() -> None:
    ep = np.arange(8.0)
    h = epoch_run(decay(ep, 2.0, 0.5, 3), decay(ep, 2.1, 0.8, 3), val_acc=np.zeros(8))
    assert (f := finding(h, "invalid_loss")) is not None and f.severity == "warning"
    assert finding(h, "constant_prediction") is None and finding(h, "stuck") is None
    assert finding(epoch_run(decay(ep, 2.0, 0.5, 3), decay(ep, 2.1, 0.8, 3), val_acc=np.r_[0, 0.1, 0.3, 0.5, 0.6,
                   0.7, 0.7, 0.72]), "invalid_loss") is None  # fmt: skip


def test_a_detector_whose_box_loss_or_map_is_zero_throughout_is_stuck() -> None:
    """Ultralytics results.csv: train/box_loss exactly 0 at all 50 epochs while train/cls_loss falls 113 -> 0."""
    ep = np.arange(50.0)
    boxes = history({"train/box_loss@epoch": (ep, np.zeros(50)), "train/cls_loss@epoch": (ep, decay(ep, 113, 0, 5))})
    assert (f := finding(boxes, "stuck")) is not None and "label files" in f.diagnosis
    no_hits = history({"metrics/mAP50(B)@epoch": (ep, np.zeros(50)), "train/cls_loss@epoch": (ep, decay(ep, 3, 1, 5))})
    assert finding(no_hits, "stuck") is not None
    fine = history({"metrics/mAP50(B)@epoch": (ep, 0.6 * (1 - np.exp(-ep / 5))), "train/box_loss@epoch": (ep,
                    decay(ep, 1.5, 0.6, 10))})  # fmt: skip
    assert finding(fine, "stuck") is None


def test_a_run_ending_at_the_uniform_guess_of_a_class_count_read_from_its_loss_is_stuck() -> None:
    """Val loss 1.384, 1.384, 1.375 = ln 4 with val accuracy 0.25-0.32 on 4 classes, after a restart."""
    h = epoch_run(np.r_[0.778, 1.41, 1.41, 1.388], np.r_[0.204, 1.384, 1.384, 1.375], val_acc=np.r_[0.91, 0.25, 0.25,
                  0.32])  # fmt: skip
    assert (f := finding(h, "stuck")) is not None and "over 4 classes" in f.diagnosis
    # ln 13 = 2.565, but 13 classes cannot be read from a loss (ln 12 and ln 14 are 3% away): no claim
    h13 = epoch_run(np.r_[2.1, 2.09, 2.08, 2.08], np.r_[2.6, 2.56, 2.57, 2.56], val_acc=np.r_[0.12, 0.12, 0.11, 0.12])
    assert finding(h13, "stuck") is None
    learning = epoch_run(np.r_[1.5, 1.2, 0.9, 0.6], np.r_[1.4, 1.1, 0.8, 0.6], val_acc=np.r_[0.3, 0.5, 0.7, 0.8])
    assert finding(learning, "stuck") is None


def test_accuracy_at_the_frozen_majority_rate_on_train_and_val_is_underfitting() -> None:
    """7 classes, 67% in the majority: val accuracy 0.66977 at all 9 epochs, train accuracy 0.45 -> 0.668."""
    ep = np.arange(9.0)
    train_acc = np.r_[0.4465, 0.628, 0.646, 0.654, 0.66, 0.663, 0.663, 0.668, 0.668]
    h = epoch_run(decay(ep, 1.79, 1.16, 2), decay(ep, 1.21, 1.12, 2), train_acc=train_acc, val_acc=np.full(9, 0.66977))
    assert (f := finding(h, "underfitting")) is not None and "majority class" in f.diagnosis
    learns = epoch_run(decay(ep, 1.79, 0.3, 2), decay(ep, 1.21, 0.5, 2), train_acc=np.linspace(0.45, 0.9, 9),
                       val_acc=np.full(9, 0.66977))  # fmt: skip
    assert (g := finding(learns, "underfitting")) is None or "majority class" not in g.diagnosis


def test_a_loss_near_zero_from_its_first_log_is_stuck() -> None:
    """3e-6 at the first of 63 logs, exactly 0 for the last 47: no untrained model starts there."""
    st = np.arange(49.0, 3200, 50)
    y = np.r_[np.full(16, 2e-6), np.zeros(len(st) - 16)]
    assert (f := finding(history({"train_loss@step": (st, y)}), "stuck")) is not None and "at most" in f.diagnosis
    _, converged, _, _ = step_run(len(st), start=0.7, floor=1e-6)
    assert finding(history({"train_loss@step": (st, converged)}), "stuck") is None  # it got there by training


def test_a_val_loss_that_never_beats_the_uniform_guess_is_underfitting() -> None:
    """Binary task: val loss 0.694 -> min 0.6915 -> 0.764 with val accuracy 56-58% while the train loss falls."""
    train = np.r_[0.892, 0.772, 0.728, 0.696, 0.667, 0.640, 0.611]
    val = np.r_[0.6939, 0.6915, 0.7011, 0.7131, 0.7225, 0.7443, 0.7641]
    h = epoch_run(train, val, val_acc=np.r_[56.2, 58.3, 57.9, 56.7, 58.2, 58.2, 58.1])
    assert (f := finding(h, "underfitting")) is not None and "ln(2)" in f.diagnosis
    good = epoch_run(train, val - np.linspace(0, 0.4, 7), val_acc=np.linspace(56, 85, 7))
    assert finding(good, "underfitting") is None


def test_a_val_loss_that_never_beats_the_untrained_model_is_underfitting_whatever_the_class_count() -> None:
    """Issue 13, blind18: a BERT classifier over ~17,000 labels (first loss 9.76, too many classes to read from the
    loss): eval loss 9.76 -> min 9.71 -> 10.6 with eval accuracy 0% -> 1.2% while the train loss fell to 7.5. It was
    called healthy, with a mild overfitting note."""
    train = np.r_[9.76, 9.70, 9.58, 9.23, 8.90, 8.47, 8.10, 7.88, 7.60, 7.48]
    val = np.r_[9.764, 9.705, 9.98, 10.2, 10.44, 10.6, 10.73, 10.55, 10.7, 10.645]
    acc = np.r_[0.0, 0.0, 0.0, 0.002, 0.005, 0.008, 0.010, 0.011, 0.0122, 0.0116]
    f = finding(epoch_run(train, val, val_acc=acc), "underfitting")
    assert f is not None and f.severity == "warning" and "at or above the first train loss 9.7" in f.diagnosis
    learned = epoch_run(train, val - np.linspace(0, 3.0, 10), val_acc=np.linspace(0.0, 0.35, 10))
    assert finding(learned, "underfitting") is None


def test_one_huge_early_val_loss_is_a_spike_though_the_running_median_has_no_history_yet() -> None:
    val = np.r_[0.330, 0.092, 789.1, 0.995, 0.146, 0.084, 0.087, 0.024, 0.025, 0.047, 0.045, 0.1, 0.07, 0.073]
    train = np.r_[1.59, 0.133, 1.42, 1.08, 0.44, 0.114, 0.06, 0.039, 0.037, 0.037, 0.039, 0.048, 0.04, 0.041]
    assert (f := finding(epoch_run(train, val), "loss_spike")) is not None and f.evidence["spikes"][0]["x"] == 2
    two = val.copy()
    two[9] = 500.0  # blind12: a second excursion, 20x up from the evaluation before and back down at once
    assert (f := finding(epoch_run(train, two), "loss_spike")) is not None and f.evidence["n_spikes"] == 2
    assert f.severity == "warning"  # both peaks are far above where the val loss started


def test_val_excursions_that_fall_back_at_once_are_spikes_and_a_level_shift_is_not() -> None:
    """blind12: a val loss 0.0156 -> 42 -> 35.8 -> 2.4 -> 0.079 (back 20x below the peak within 3 evaluations), and
    a Keras run whose val loss reaches 6.6e12 for one epoch between 5.58 and 5.48."""
    train = np.geomspace(1.4, 0.01, 16)
    val = np.r_[5.59, 3.2, 1.2, 0.30, 0.26, 0.0156, 42.1, 35.8, 2.37, 0.079, 0.111, 4e-4, 1.5e-3, 1.2e-3, 4e-4, 1e-3]
    f = finding(epoch_run(train, val), "loss_spike")
    assert f is not None and f.evidence["spikes"][0]["x"] == 6 and f.evidence["spikes"][0]["points"] == 3
    shifted = np.r_[val[:6], np.full(10, 0.5)]  # 32x up and stays: a level shift, not a spike
    assert finding(epoch_run(train, shifted), "loss_spike") is None


def test_val_swings_after_a_large_first_epoch_drop_are_oscillation() -> None:
    """River-discharge forecaster: val loss 0.42 at epoch 0, then 0.0082-0.111 swinging by 5-13x between epochs; the
    first epoch's drop must not set the scale the swings are measured against."""
    val = np.r_[0.420, 0.0144, 0.0814, 0.0083, 0.0424, 0.111, 0.0814, 0.0438, 0.0523, 0.0082, 0.022, 0.026, 0.0136,
                0.054, 0.0125, 0.011, 0.0523]  # fmt: skip
    ep = np.arange(len(val), dtype=float)
    f = finding(epoch_run(decay(ep, 0.41, 0.0117, 3), val), "loss_oscillation")
    assert f is not None and f.evidence["series"] == "val_loss"
    smooth = decay(ep, 0.42, 0.01, 2) * (1 + 0.02 * np.sin(ep))
    assert finding(epoch_run(decay(ep, 0.41, 0.0117, 3), smooth), "loss_oscillation") is None


def test_a_val_loss_that_jumps_at_the_last_evaluation_is_not_called_a_spike() -> None:
    val = np.r_[8.33, 0.201, 0.223, 0.245, 0.119, 0.183, 0.111, 0.083, 0.062, 0.055, 0.06, 0.058, 0.057, 0.056, 1.139]
    ep = np.arange(len(val), dtype=float)
    assert finding(epoch_run(decay(ep, 0.4, 0.04, 3), val), "loss_spike") is None


def test_a_four_class_run_is_read_from_a_first_loss_of_ln_4_and_its_chance_accuracy() -> None:
    """Train loss 1.393 -> 1.375, accuracy 0.23-0.32 for 20 epochs, nothing says how many classes: ln 4 does."""
    from dlexpert.diagnose.rules._common import n_classes

    ep = np.arange(20.0)
    rng = np.random.default_rng(0)
    acc = 0.25 + 0.04 * rng.standard_normal(20)
    stuck = epoch_run(1.393 - 0.001 * ep, 1.35 + 0.004 * rng.standard_normal(20), train_acc=acc, val_acc=acc + 0.05)
    assert n_classes(stuck) == 4
    assert (f := finding(stuck, "underfitting")) is not None and f.severity in ("warning", "error")
    assert finding(stuck, "loss_oscillation") is None  # accuracy noise at chance is not an oscillation
    learned = epoch_run(1.39 * np.exp(-ep / 5), train_acc=np.linspace(0.8, 0.99, 20))  # 80% already: not 4 classes
    assert n_classes(learned) is None


def test_a_loss_that_climbs_back_to_where_it_started_after_halving_is_divergence() -> None:
    """A binary fine-tune: 0.67 down to 0.31, then back to 0.65-0.76 (ln 2) while the warm-up raises the lr."""
    st = np.arange(10.0, 510, 10)
    y = np.r_[np.linspace(0.67, 0.31, 25), np.linspace(0.35, 0.7, 10), 0.7 + 0.05 * np.sin(np.arange(15.0))]
    assert finding(history({"train_loss@step": (st, y)}), "divergence") is not None
    noisy = 2.3 + 0.45 * np.sin(np.arange(50.0) * 1.7)  # a flat noisy curve whose lowest single value is 1.85
    noisy[30] = 1.24
    assert finding(history({"train_loss@step": (st, noisy)}), "divergence") is None


def test_an_epoch_loss_whose_last_epoch_is_back_at_its_start_is_divergence() -> None:
    """Issue 13, blind17: a resumed 3D-CNN's epoch loss fell 0.68 -> 0.099, then jumped to 0.955 and ended at 0.72
    after 0.54 and 0.41; the last quarter's median (0.54) hid that the final epoch undid the run. An epoch value is a
    mean over its batches; a single per-step value is not, so a step curve is still judged on the median."""
    y = np.array([0.68, 0.67, 0.664, 0.647, 0.626, 0.591, 0.54, 0.459, 0.305, 0.099, 0.955, 0.543, 0.409, 0.72])
    f = finding(epoch_run(y), "divergence")
    assert f is not None and "0.72 (its last epoch)" in f.diagnosis
    steps = np.arange(1.0, len(y) + 1)
    assert finding(history({"train_loss@step": (steps, y)}), "divergence") is None


def test_a_lone_validation_minimum_that_every_later_evaluation_stays_far_above_is_overfitting() -> None:
    """Issue 13, blind8: the smoothing took val loss 0.324 (epoch 3) for noise; every one of the 4 later evaluations
    is 30% or more above it while the train loss falls."""
    epochs = np.arange(7, dtype=float)
    h = history({"train_loss@epoch": (epochs, np.array([0.215, 0.12, 0.08, 0.05, 0.036, 0.025, 0.020])),
                 "val_loss@epoch": (epochs, np.array([0.694, 0.547, 0.324, 0.583, 0.791, 1.155, 0.740]))})  # fmt: skip
    f = finding(h, "overfitting")
    assert f is not None and f.severity == "warning" and f.evidence["best_val_loss"] == 0.324


def test_exact_zero_gradient_norms_are_not_the_scale_an_explosion_is_measured_against() -> None:
    """Issue 13, blind8 (a real trainer_state.json, labelled healthy): grad_norm logged as exactly 0.0 at 168 of 300
    steps made 6.2 look like 340x the running median of 0.018."""
    from dlexpert.diagnose import diagnose

    log = ROOT / "benchmarks/real_logs/gynecological-prediction__checkpoint-3000-trainer-state/trainer_state.json"
    assert not [f for f in diagnose(log).findings if f.issue == "exploding_gradients" and f.severity != "info"]


def test_a_loss_that_no_longer_moves_is_not_slow_convergence() -> None:
    """Issue 13, blind8: an 11-class model at ln 11, falling 0.001% per epoch, has stopped (stuck), not slowed."""
    from dlexpert.diagnose.rules.progress import slow_convergence

    epochs = np.arange(21, dtype=float)
    loss = np.concatenate([[2.671, 2.412], 2.3965 - 1e-5 * np.arange(19)])
    assert slow_convergence(history({"train_loss@epoch": (epochs, loss)}, n_classes=11)) is None
    slow = 2.3 * (1 - 0.003) ** epochs  # 0.3% per epoch, far from the target: slow
    assert slow_convergence(history({"train_loss@epoch": (epochs, slow)}, n_classes=11)) is not None


def test_a_recall_stuck_at_exactly_zero_is_a_model_that_never_predicts_the_positive_class() -> None:
    """Issue 13, blind8: TP = FP = 0 and recall exactly 0 for the last 9 of 10 epochs of a binary segmentation run."""
    epochs = np.arange(10, dtype=float)
    recall = np.concatenate([[1.4e-5], np.zeros(9)])
    f = finding(history({"Recall@epoch": (epochs, recall)}), "constant_prediction")
    assert f is not None and f.severity == "warning" and f.evidence["evals_at_zero"] == 9
    recovering = np.concatenate([np.zeros(6), [0.1, 0.3, 0.5, 0.6]])  # a detector's first epochs find nothing yet
    assert finding(history({"Recall@epoch": (epochs, recovering)}), "constant_prediction") is None


def test_a_validation_that_never_leaves_chance_while_training_accuracy_climbs_is_a_train_val_gap() -> None:
    """Issue 13, blind9 (an MLflow run): a 5-class model whose train accuracy reaches 0.73 while the val loss never
    goes below ln 5 and the val accuracy stays near 0.2; the loss ratio (1.71 / 1.10) is under 2x."""
    epochs = np.arange(40, dtype=float)
    train_loss = np.r_[np.full(10, 1.60), np.linspace(1.58, 1.10, 30)]
    val_loss = np.r_[np.full(10, 1.595), np.linspace(1.59, 1.71, 30)]
    h = history({"train_loss@epoch": (epochs, train_loss), "val_loss@epoch": (epochs, val_loss),
                 "train_acc@epoch": (epochs, np.r_[np.full(10, 0.2), np.linspace(0.25, 0.73, 30)]),
                 "val_acc@epoch": (epochs, 0.2 + 0.04 * np.sin(epochs))})  # fmt: skip
    f = finding(h, "train_val_gap")
    assert f is not None and f.severity == "warning" and f.evidence["n_classes"] == 5
    learns = history({"train_loss@epoch": (epochs, train_loss), "val_loss@epoch": (epochs, val_loss),
                      "train_acc@epoch": (epochs, np.linspace(0.2, 0.45, 40)),
                      "val_acc@epoch": (epochs, 0.2 + 0.04 * np.sin(epochs))})  # fmt: skip
    assert finding(learns, "train_val_gap") is None  # the train accuracy is not far enough from chance either


def test_balanced_accuracy_is_read_as_an_accuracy() -> None:
    from dlexpert.diagnose.readers._names import normalise

    assert normalise("validation_bas") == ("val_acc", None)
    assert normalise("train_balanced_accuracy") == ("train_acc", None)
    assert normalise("val/bal_acc") == ("val_acc", None)


def test_a_validation_loss_swinging_across_orders_of_magnitude_is_judged_on_a_log_scale() -> None:
    """Issue 13, blind10 (an MLflow run): a val loss going 0.006 -> 3.2 -> 8.2 -> 0.3 -> 0.009 -> 0.05 -> 1.7 -> 0.2;
    against a floor set by its largest values, only the biggest swings counted. A val loss that falls smoothly over
    three decades is not an oscillation on either scale."""
    val = np.array([0.315, 0.050, 0.043, 0.331, 1.82, 0.043, 7.82, 7.41, 0.2435, 0.4529, 0.3228, 0.3322, 0.0434,
                    0.0063, 0.0069, 3.2014, 8.2036, 0.3296, 0.0086, 0.045, 0.0516, 0.0038, 0.0013, 0.0501, 1.6593,
                    0.1977, 0.0336, 0.011, 0.0034, 0.0116])  # fmt: skip
    epochs = np.arange(len(val), dtype=float)
    train = np.geomspace(0.1, 0.007, len(val))
    f = finding(history({"train_loss@epoch": (epochs, train), "val_loss@epoch": (epochs, val)}), "loss_oscillation")
    assert f is not None and f.evidence["series"] == "val_loss" and f.evidence["swing_unit"] == "log10 of the loss"
    smooth = np.geomspace(2.0, 0.002, len(val)) * (1 + 0.05 * np.sin(epochs))
    calm = history({"train_loss@epoch": (epochs, train), "val_loss@epoch": (epochs, smooth)})
    assert finding(calm, "loss_oscillation") is None


def test_epoch_medians_of_a_few_noisy_batches_do_not_oscillate_but_a_real_swing_still_does() -> None:
    """Issue 13, blind10: a stuck classifier's per-batch loss wanders 0.35-1.35 with no trend; medians of its 7
    batches per epoch "reversed" 5 times in 12 epochs. A swing is now counted only above 2 standard errors of the
    difference of two such medians. Epoch medians that jump 2x and back, far above that noise, are still oscillation."""
    rng = np.random.default_rng(0)
    steps = np.arange(1.0, 113.0)
    noisy = 0.7 + 0.2 * rng.standard_normal(len(steps))
    f = finding(history({"train_loss@step": (steps, noisy)}, steps_per_epoch=7), "loss_oscillation")
    assert f is None
    swinging = noisy * np.where((np.floor((steps - 1) / 7) % 2) == 0, 1.0, 2.2)  # epochs alternate low and high
    f = finding(history({"train_loss@step": (steps, swinging)}, steps_per_epoch=7), "loss_oscillation")
    assert f is not None and "medians of the logged steps" in f.diagnosis


def test_a_loss_repeating_one_long_value_or_an_accuracy_frozen_at_most_evaluations_is_stuck() -> None:
    """blind11: a train loss exactly 3.3917625 at most logs with 2.3917625 between; val accuracy 0.7615207 at 298 of
    300 epochs. A converged loss printed with few digits repeats without being frozen."""
    st = np.arange(400.0)
    saturated = np.where(st % 20 == 7, 2.3917625, 3.3917625)
    saturated[0] = 3.352
    f = finding(history({"train_loss@step": (st, saturated)}), "stuck")
    assert f is not None and "3.3917625" in f.diagnosis
    converged = np.r_[np.geomspace(0.7, 0.0012, 100), np.where(st[:300] % 10 == 3, 0.0013, 0.0012)]
    assert finding(history({"train_loss@step": (st, converged)}), "stuck") is None
    ep = np.arange(300.0)
    acc = np.full(300, 0.7615207)
    acc[[3, 140]] = 0.7604
    train = 1.93 - 0.0006 * ep  # 1.93 -> 1.75: 9%, it barely learns
    frozen = history({"val_acc@epoch": (ep, acc), "train_loss@epoch": (ep, train)})
    assert (f := finding(frozen, "stuck")) is not None and "298 of the 300" in f.diagnosis
    acc[::5] = 0.75  # moves at 1 evaluation in 5: not frozen
    assert finding(history({"val_acc@epoch": (ep, acc), "train_loss@epoch": (ep, train)}), "stuck") is None


def test_a_loss_that_climbs_far_above_what_it_learned_is_divergence_even_below_its_start() -> None:
    """blind11: an unscaled MSE 1e13 -> 1.6e8 at epoch 4, then up to 1.2e10 over the last 5 epochs."""
    ep = np.arange(13.0)
    y = np.array([1.03e13, 2.2e9, 6e8, 2.5e8, 1.555e8, 1.72e8, 2.27e8, 1.92e8, 3.85e8, 1.71e9, 5.42e9, 1.14e10,
                  1.21e10])  # fmt: skip
    f = finding(history({"train_loss@epoch": (ep, y)}, task="regression"), "divergence")
    assert f is not None and f.began_at == 4.0
    settled = y.copy()
    settled[8:] = [2.0e8, 1.8e8, 1.9e8, 1.7e8, 1.8e8]  # noise around what it learned
    assert finding(history({"train_loss@epoch": (ep, settled)}, task="regression"), "divergence") is None


def test_a_val_loss_rising_near_zero_is_not_overfitting_and_a_run_ending_at_the_uniform_guess_underfits() -> None:
    """blind12: a val loss 5e-6 -> 1.8e-5 ("+258%") at 100% val accuracy on a run that started at 5.59; a binary
    classifier (no class count in the log) whose loss ends at 0.67 with train accuracy 0.46-0.57."""
    ep = np.arange(30.0)
    train = decay(ep, 1.38, 0.01, 4)
    val = np.r_[decay(ep[:22], 5.59, 5e-6, 2), np.geomspace(5e-6, 2e-5, 8)]
    assert finding(epoch_run(train, val), "overfitting") is None
    assert finding(epoch_run(train, np.r_[val[:22], np.geomspace(0.05, 0.2, 8)]), "overfitting") is not None
    ep20 = np.arange(20.0)
    acc = 0.5 + 0.05 * np.sin(ep20)
    at_chance = epoch_run(decay(ep20, 0.92, 0.66, 3), train_acc=acc, val_acc=np.full(20, 0.5))
    assert (f := finding(at_chance, "underfitting")) is not None and f.evidence["ln_n_classes"] == pytest.approx(
        math.log(2)
    )
    learned = epoch_run(decay(ep20, 0.92, 0.66, 3), train_acc=0.5 + 0.02 * ep20)  # accuracy leaves 1/2: no count
    assert (g := finding(learned, "underfitting")) is None or g.evidence["ln_n_classes"] is None


def test_a_loss_flat_for_many_epochs_with_val_as_bad_is_underfitting_unless_the_accuracy_learned() -> None:
    """blind12: a language model from 10.5 to 9.7 nats in 10 epochs, val loss as bad (no class count in the log).
    A U-Net whose Dice-like loss stays near 1 while its accuracy rises 0.55 -> 0.85 learned."""
    ep = np.arange(10.0)
    lm = epoch_run(10.5 - 0.08 * ep, 10.45 - 0.09 * ep)
    assert (f := finding(lm, "underfitting")) is not None and f.severity == "warning"
    unet = epoch_run(1.0 - 0.009 * ep, 0.99 - 0.007 * ep, train_acc=0.55 + 0.033 * ep)
    assert (g := finding(unet, "underfitting")) is None or g.severity == "info"
    rising = epoch_run(0.46 * np.geomspace(1, 60, 10), 0.44 * np.geomspace(1, 60, 10))
    assert (r := finding(rising, "underfitting")) is None or r.severity == "info"  # that is divergence


def test_blind14_patterns_a_climbing_end_a_long_blow_up_and_zero_terms_beside_learning() -> None:
    """blind14: val loss 1.204, 1.028, 0.993, 1.182, 1.490 while train falls 1.88 -> 0.17 overfits; a loss 0.088 -> 4329
    -> 0.25 over 144 epochs diverged for most of the run (unless the LR restarted a schedule); an F1 of exactly 0 beside
    an accuracy rising 0.49 -> 0.69, or a val-only loss term of 0 beside a learning train loss, is not a stuck run."""
    ep5 = np.arange(5.0)
    climbing = epoch_run(np.array([1.88, 1.0, 0.67, 0.39, 0.17]), np.array([1.204, 1.028, 0.993, 1.182, 1.490]))
    assert (f := finding(climbing, "overfitting")) is not None and f.severity == "warning" and f.began_at == 2.0
    ep = np.arange(144.0)
    blow_up = np.r_[0.136, 0.088, np.geomspace(0.36, 4329, 33), np.geomspace(4000, 0.25, 109)]
    assert finding(history({"train_loss@epoch": (ep, blow_up)}, task="regression"), "divergence") is not None
    restarts = np.where(ep < 2, 1e-3, np.tile(np.linspace(1e-3, 0, 16), 9)[: len(ep)])
    restarted = history({"train_loss@epoch": (ep, blow_up), "lr@epoch": (ep, restarts)}, task="regression")
    assert finding(restarted, "divergence") is None
    scores = history({"val_f1@epoch": (ep5, np.zeros(5)), "val_acc@epoch": (ep5, np.linspace(0.49, 0.69, 5)),
                      "train_loss@epoch": (ep5, np.linspace(1.46, 0.21, 5))})  # fmt: skip
    assert finding(scores, "stuck") is None
    commit = history(
        {"val_commit_loss@epoch": (ep5, np.zeros(5)), "train_loss@epoch": (ep5, np.geomspace(0.58, 0.04, 5))}
    )
    assert finding(commit, "stuck") is None


def test_a_regulariser_at_zero_beside_a_learning_loss_is_switched_off_not_stuck() -> None:
    """blind18: a regression whose reg_loss, RegLoss and RegLoss_val are 0.0 at all 100 epochs while its MSE falls
    0.90 -> 0.012 was called stuck. A box-regression term at zero still is (no target boxes reach it)."""
    ep = np.arange(100.0)
    falling = np.geomspace(0.9, 0.012, 100)
    reg = history({"train_loss@epoch": (ep, falling), "RegLoss@epoch": (ep, np.zeros(100)),
                   "reg_loss@epoch": (ep, np.zeros(100))}, task="regression")  # fmt: skip
    assert finding(reg, "stuck") is None
    boxes = history({"train_loss@epoch": (ep, falling), "box_loss@epoch": (ep, np.zeros(100))})
    assert (f := finding(boxes, "stuck")) is not None and "no target boxes" in f.diagnosis
    flat = history({"train_loss@epoch": (ep, np.full(100, 0.9)), "reg_loss@epoch": (ep, np.zeros(100))})
    assert finding(flat, "stuck") is not None  # nothing learns: the zero term is no excuse


def test_blind15_patterns_a_score_that_collapses_onto_one_value_and_an_accuracy_that_never_scores() -> None:
    """blind15: a U-Net's val Dice noisy for 39 epochs, then exactly 0.663446 at the last 11, is stuck (collapsed); a
    quantised accuracy that also repeated before its tail, or a schedule ending at LR 0, is not. A 40-class model at
    2.4-3.6% for 9 epochs underfits although its saturated loss falls 17.6 -> 7.9."""
    rng = np.random.default_rng(0)
    ep = np.arange(50.0)
    dice = np.r_[rng.uniform(0.13, 0.55, 39), np.full(11, 0.663446)]
    loss = np.r_[np.linspace(0.94, 0.71, 39), np.full(11, 0.3435)]
    collapsed = history({"val_dice@epoch": (ep, dice), "train_loss@epoch": (ep, loss), "val_loss@epoch": (ep, loss)})
    assert (f := finding(collapsed, "stuck")) is not None and f.began_at == 39.0
    quantised = np.r_[np.round(rng.uniform(0.6, 0.9, 39) * 31) / 31, np.full(11, 28 / 31)]
    quantised[5] = quantised[4]  # a small validation set repeats its accuracy between epochs
    small_val = history({"val_acc@epoch": (ep, quantised), "train_loss@epoch": (ep, np.geomspace(1.0, 0.05, 50))})
    assert finding(small_val, "stuck") is None
    lr = np.r_[np.linspace(1e-3, 1e-5, 39), np.zeros(11)]
    annealed = history({"val_dice@epoch": (ep, dice), "train_loss@epoch": (ep, loss), "lr@epoch": (ep, lr)})
    assert finding(annealed, "stuck") is None
    train = np.array([17.56, 16.57, 16.07, 15.93, 15.83, 15.80, 14.00, 11.58, 7.85])
    val = np.array([17.12, 16.34, 16.02, 15.78, 15.39, 15.92, 14.54, 10.74, 11.46])
    acc = np.array([0.0238, 0.03, 0.0281, 0.0362, 0.0262, 0.0275, 0.0312, 0.0325, 0.0350])
    val_acc = np.r_[np.full(6, 0.018499), 0.0174, 0.0338, 0.0199]
    never = epoch_run(train, val, train_acc=acc, val_acc=val_acc)
    assert (f := finding(never, "underfitting")) is not None and f.severity == "warning"
    learning = epoch_run(train, val, train_acc=np.linspace(0.03, 0.35, 9), val_acc=np.linspace(0.02, 0.3, 9))
    assert (f := finding(learning, "underfitting")) is None or f.severity == "info"


def test_a_validation_loss_that_wobbles_under_a_steady_validation_accuracy_is_not_an_oscillation() -> None:
    """blind5: val loss 0.03-0.085 from epoch to epoch at 97.6-99.3% val accuracy is a few confident mistakes moving,
    not an oscillating model; the same val loss beside a val accuracy that swings 10 points is still one."""
    rng = np.random.default_rng(1)
    train = np.geomspace(1.27, 0.009, 100)
    val = np.r_[np.geomspace(1.0, 0.06, 30), rng.uniform(0.03, 0.085, 70)]
    steady = epoch_run(train, val, val_acc=np.r_[np.linspace(0.5, 0.98, 30), rng.uniform(0.976, 0.993, 70)])
    assert (f := finding(steady, "loss_oscillation")) is None or f.severity == "info"
    swinging = epoch_run(train, val, val_acc=np.r_[np.linspace(0.5, 0.9, 30), np.tile([0.9, 0.78], 35)])
    assert finding(swinging, "loss_oscillation") is not None


def test_blind19_patterns_a_loss_frozen_from_its_first_log_a_loss_hovering_at_ln_c_and_a_near_zero_excursion() -> None:
    """blind19: a VICReg ViT run at exactly 24.75 at all 9 logs is stuck; a 3-class fine-tune whose noisy step loss
    stays at 1.097-1.15 (ln 3 = 1.0986) over 50 logs with eval accuracy 0.33 is stuck; a val loss that started at 2.24
    going 0.00057 -> 0.164 -> 0.0029 at 97-100% validation accuracy is a near-zero loss's noise, not a spike."""
    frozen = history({"train_loss@step": (np.arange(9.0), np.full(9, 24.75))})
    assert (f := finding(frozen, "stuck")) is not None and "24.75" in f.diagnosis
    converged = history({"train_loss@step": (np.arange(9.0), np.r_[0.9, 0.4, np.full(7, 0.0012)])})
    assert finding(converged, "stuck") is None  # a loss that moved before it settled is not frozen
    rng = np.random.default_rng(0)
    st = np.arange(10.0, 510.0, 10.0)
    hover = np.r_[rng.uniform(1.10, 1.15, 10), rng.uniform(1.097, 1.133, 40)]
    at_chance = history(
        {"train_loss@step": (st, hover), "val_acc@step": (np.array([250.0, 500.0]), np.array([0.33, 0.3315]))}
    )
    assert (f := finding(at_chance, "stuck")) is not None and "ln 3" in f.diagnosis
    learning = history({"train_loss@step": (st, np.r_[hover[:10], np.geomspace(1.09, 0.4, 40)])})
    assert finding(learning, "stuck") is None  # it goes below the uniform guess: it learns
    above = history({"train_loss@step": (st, hover), "val_acc@step": (np.array([250.0, 500.0]), np.array([0.6, 0.7]))})
    assert finding(above, "stuck") is None  # an accuracy well above chance says the loss is not a uniform guess
    val = np.r_[
        2.244, 0.9, 0.2, 0.05, 0.01, np.full(19, 5.7e-4), 0.164, 0.0029, 0.002, 0.0755, 0.0094, np.full(11, 1e-5)
    ]
    noise = epoch_run(np.geomspace(2.84, 0.005, 40), val, val_acc=np.r_[np.linspace(0.36, 0.99, 5), np.full(35, 0.99)])
    assert (f := finding(noise, "loss_spike")) is None or f.severity == "info"
    big = val.copy()
    big[24] = 1.5  # 67% of where the loss started: an event
    assert finding(epoch_run(np.geomspace(2.84, 0.005, 40), big), "loss_spike") is not None


def test_blind20_pattern_a_train_accuracy_at_one_class_share_is_a_constant_prediction() -> None:
    """blind20: a 43-class sign classifier whose epoch train accuracy is exactly 0.057653 (its largest class's share)
    at 9 of 15 epochs predicts one class. An accuracy logged with few digits repeats by rounding and says nothing."""
    acc = np.array([0.0522, 0.0559] + [0.057653] * 9 + [0.0558, 0.0566, 0.0570, 0.0561])
    loss = np.geomspace(3.678, 3.4788, 15)
    prior = epoch_run(loss, loss * 1.001, train_acc=acc, val_acc=np.linspace(0.0327, 0.0557, 15))
    assert (f := finding(prior, "constant_prediction")) is not None and f.severity == "warning"
    rounded = epoch_run(np.geomspace(1.2, 0.3, 15), train_acc=np.r_[np.linspace(0.5, 0.9, 6), np.full(9, 0.91)])
    assert finding(rounded, "constant_prediction") is None  # 0.91: two digits, a plateau of a rounded log


def test_blind28_pattern_a_binary_val_accuracy_at_its_two_single_class_rates_is_a_constant_prediction() -> None:
    """blind28: a binary galaxy CNN whose val accuracy is exactly 47/64 or 17/64 at 9 of 10 epochs, never above, while
    its train accuracy reaches 1.0, answers one class for every input, then the other. A model that beats the larger
    rate, or a 10-class run, or a val set of a handful of samples (0.75 / 0.25), is not read so."""
    high, low = 47 / 64, 17 / 64
    rates = np.array([high, low, low, low, high, high, high, high, high, 0.65625])
    loss = np.geomspace(1.45, 0.0006, 10)
    train_acc = np.r_[0.5, 0.64, 0.67, 0.84, np.ones(6)]
    flips = epoch_run(loss, np.linspace(1.6, 0.68, 10), train_acc=train_acc, val_acc=rates)
    f = finding(flips, "constant_prediction")
    assert f is not None and f.severity == "warning" and f.evidence["evals_at_rates"] == 9
    beats = rates.copy()
    beats[-1] = 0.84375
    assert finding(epoch_run(loss, np.linspace(1.6, 0.68, 10), train_acc=train_acc, val_acc=beats),
                   "constant_prediction") is None  # fmt: skip
    tiny = np.where(rates > 0.5, 0.75, 0.25)
    assert finding(epoch_run(loss, np.linspace(1.6, 0.68, 10), train_acc=train_acc, val_acc=tiny),
                   "constant_prediction") is None  # fmt: skip
    ten = epoch_run(loss, np.linspace(1.6, 0.68, 10), train_acc=train_acc, val_acc=rates, n_classes=10)
    assert finding(ten, "constant_prediction") is None


def test_blind28_pattern_a_gap_opened_after_a_steep_first_drop_is_not_there_from_the_start() -> None:
    """blind28: a language model's train loss falls 11.05 -> 0.17 over its first five logged points; binned, the train
    loss at the first evaluation reads 3.46 against a val loss of 11.07 there, and the gap looked as if it had been
    there from the start (the splits' fault). The logged train loss at that point is 11.05: it opened in training."""
    x = np.arange(0, 2300, 100.0)
    train = np.r_[11.05, 4.99, 3.46, 1.72, 0.17, np.geomspace(0.14, 0.026, 18)]
    val = np.r_[11.07, 5.43, np.full(21, 4.87)]
    f = finding(history({"train_loss@step": (x, train), "val_loss@step": (x, val)}), "train_val_gap")
    assert f is not None and f.evidence["gap_from_start"] is False and "opened up during training" in f.diagnosis
    apart = finding(history({"train_loss@step": (x, train), "val_loss@step": (x, np.full(23, 40.0))}), "train_val_gap")
    assert apart is not None and apart.evidence["gap_from_start"] is True


def test_blind21_patterns_a_loss_frozen_to_its_fourth_digit_and_a_gap_the_rise_does_not_explain() -> None:
    """blind21: a SimCLR run whose 7 logs stay at 5.5410-5.5425 (ln 255) from the first is stuck; a fruit CNN at 0.91
    train vs 0.40 val accuracy whose val loss, even at its best, is 8x the final train loss and then rises 23% has a
    train/val gap beside its overfitting, and so has one whose val loss then rises 87% (blind26's course-lab tweet
    classifiers). A val loss that ended 2.5x its minimum or more is overfitting's story alone."""
    simclr = np.array([5.542547, 5.541024, 5.541528, 5.541297, 5.541213, 5.541702, 5.541311])
    frozen = history({"train_loss@step": (np.arange(49.0, 350.0, 50.0), simclr)})
    assert (f := finding(frozen, "stuck")) is not None and "5.541" in f.diagnosis
    settled = history({"train_loss@step": (np.arange(49.0, 350.0, 50.0), np.r_[5.9, simclr[1:]])})
    assert finding(settled, "stuck") is None  # it fell 6% from its first log before it settled
    learning = history({"train_loss@step": (np.arange(7.0), simclr * np.linspace(1.0, 0.99, 7))})
    assert finding(learning, "stuck") is None  # 1% in 7 logs is learning
    train = np.geomspace(4.9, 0.29, 32)
    val = np.r_[np.linspace(2.99, 2.35, 11), np.linspace(2.40, 2.96, 21)]
    acc, val_acc = np.linspace(0.06, 0.91, 32), np.r_[np.linspace(0.09, 0.40, 11), np.full(21, 0.40)]
    gap = epoch_run(train, val, train_acc=acc, val_acc=val_acc)
    assert finding(gap, "overfitting") is not None and finding(gap, "train_val_gap") is not None
    climb = epoch_run(train, np.r_[val[:11], np.linspace(2.40, 4.4, 21)], train_acc=acc, val_acc=val_acc)
    assert finding(climb, "overfitting") is not None and finding(climb, "train_val_gap") is not None
    steep = epoch_run(train, np.r_[val[:11], np.linspace(2.40, 6.5, 21)], train_acc=acc, val_acc=val_acc)
    assert finding(steep, "overfitting") is not None and finding(steep, "train_val_gap") is None


def _grpo_log(path: Path, reward: np.ndarray, alike: np.ndarray) -> Path:
    """A TRL GRPOTrainer trainer_state.json: a surrogate loss near 0 with jumps, the reward, its spread and KL."""
    rng = np.random.default_rng(0)
    loss = np.where(rng.random(len(reward)) < 0.1, 0.03, 1e-5)
    log = [
        {"step": i + 1, "loss": float(loss[i]), "grad_norm": float(1e-3 + 0.1 * loss[i]), "learning_rate": 5e-6,
         "reward": float(reward[i]), "reward_std": float(0.3 * (1 - alike[i])), "frac_reward_zero_std": float(alike[i]),
         "kl": 2e-4}
        for i in range(len(reward))
    ]  # fmt: skip
    path.write_text(json.dumps({"global_step": len(reward), "log_history": log}))
    return path


def test_a_grpo_run_is_judged_by_its_reward_not_its_surrogate_loss(tmp_path: Path) -> None:
    """blind26: a GRPO run whose groups all scored alike at 84 of 100 steps (reward 0 there) is stuck; its surrogate
    loss of 1e-5 with jumps to 0.03, and the gradient norm that jumps with it, are not loss spikes or exploding
    gradients. A GRPO run whose groups disagree and whose reward climbs is healthy."""
    n = 100
    dead = read_history(_grpo_log(tmp_path / "dead.json", np.where(np.arange(n) % 6 == 0, 0.06, 0.0),
                                  np.where(np.arange(n) % 6 == 0, 0.75, 1.0)))  # fmt: skip
    d = diagnose_history(dead)
    assert [f.issue for f in d.findings if f.severity == "warning"] == ["stuck"]
    assert "advantage" in d.findings[0].diagnosis and "group" in d.findings[0].solution[0]
    assert any("policy-gradient" in w for w in d.warnings) and not d.healthy
    learning = read_history(_grpo_log(tmp_path / "ok.json", np.linspace(0.1, 0.7, n), np.full(n, 0.2)))
    ok = diagnose_history(learning)
    assert ok.healthy and not ok.findings
    late = _grpo_log(
        tmp_path / "late.json", np.r_[np.zeros(70), np.linspace(0.1, 0.5, 30)], np.r_[np.ones(70), [0.5] * 30]
    )
    climbing_from_nothing = read_history(late)
    assert finding(climbing_from_nothing, "stuck") is None  # the reward rose: the run found its signal


def test_blind30_pattern_val_accuracy_frozen_while_the_training_set_is_learned_is_a_constant_prediction() -> None:
    """blind30: 58 training images fitted to 1.0 while every one of 14 validation images gets one class (8/14 at 21 of
    23 epochs, below its second-epoch score). A validation accuracy that rose to the value it then keeps, or a
    training accuracy that never rose, is not read so."""
    n = 23
    train_acc = np.r_[np.linspace(32, 54, 9) / 58, np.ones(n - 9)]
    frozen = np.r_[6 / 14, 9 / 14, np.full(n - 2, 8 / 14)]
    loss = np.linspace(6.13, 4.71, n)
    f = finding(epoch_run(loss, np.linspace(5.76, 5.7, n), train_acc=train_acc, val_acc=frozen), "constant_prediction")
    assert f is not None and f.severity == "warning" and f.evidence["evals_identical"] == n - 2
    rose_to_it = np.r_[6 / 14, 7 / 14, np.full(n - 2, 12 / 14)]
    assert finding(epoch_run(loss, train_acc=train_acc, val_acc=rose_to_it), "constant_prediction") is None
    flat_train = np.full(n, 0.6)
    assert finding(epoch_run(loss, train_acc=flat_train, val_acc=frozen), "constant_prediction") is None


def test_blind30_pattern_a_fitted_training_set_neither_converges_slowly_nor_oscillates_by_a_sample() -> None:
    """blind30: a loss dominated by a regulariser still falls 0.5% per epoch while the training accuracy is 1.0 at most
    epochs (58 images: it dips by 1-3 of them), so there is nothing left to converge to, and dips of one or two samples
    are sampling noise, not an oscillation. The same accuracy swinging by 10 points is one."""
    n = 23
    loss = np.r_[np.linspace(6.13, 5.2, 5), 5.2 * 0.995 ** np.arange(1, n - 4)]
    dips = np.array([56, 58, 57, 58, 56, 58, 58, 57, 58, 55, 58, 58, 57, 58], dtype=float) / 58
    train_acc = np.r_[np.array([32, 41, 47, 47, 54, 51, 54, 52, 55], dtype=float) / 58, dips]
    fitted = epoch_run(loss, train_acc=train_acc)
    assert finding(fitted, "slow_convergence") is None
    assert finding(fitted, "loss_oscillation") is None
    swings = np.r_[train_acc[:9], np.tile([0.95, 0.80], 7)]
    f = finding(epoch_run(loss, train_acc=swings), "loss_oscillation")
    assert f is not None and f.evidence["series"] == "train_acc"


def test_blind30_pattern_a_loss_that_gives_back_most_of_its_drop_has_diverged() -> None:
    """blind30: a train loss at ~27, down to ~6, then a jump above its start at 60% of the run and ~23 over the last
    quarter: 80% of what it learned given back, without ending above where it began. Half given back is not."""
    rng = np.random.default_rng(0)
    down = np.r_[np.full(20, 27.0), np.linspace(27.0, 6.0, 70)]
    after = np.r_[47.0, 44.0, np.full(58, 23.0)]
    f = finding(epoch_run(np.r_[down, after] * np.exp(0.05 * rng.standard_normal(150))), "divergence")
    assert f is not None and "most of the way back" in f.diagnosis
    half = np.r_[down, np.full(60, 16.0)]
    assert finding(epoch_run(half * np.exp(0.05 * rng.standard_normal(150))), "divergence") is None


def test_blind30_pattern_a_decision_threshold_at_zero_is_not_a_score_at_zero() -> None:
    """blind30: the SQuAD v2 evaluator's `best_f1_thresh` is 0 at every evaluation of a healthy QA fine-tune (answering
    every question is best); a threshold is not a score the model never gets right."""
    st = np.arange(0, 22000, 2000, dtype=float)
    h = history({"train_loss@step": (st[1:], np.linspace(1.4, 0.62, 10)),
                 "eval_best_f1_thresh@step": (st, np.zeros(11)),
                 "eval_f1@step": (st, np.r_[3.6, np.linspace(72.9, 82.0, 10)])})  # fmt: skip
    assert finding(h, "stuck") is None
