"""Which published figures an evaluation may stand beside, and a target in percent judged in the right unit."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from dlexpert.report.baselines import public_results
from dlexpert.report.evaluate import _expected


def test_a_built_in_dataset_gets_its_published_table() -> None:
    rows = public_results("mnist1d")
    assert {r.model for r in rows} >= {"logistic regression", "CNN"} and all(r.source for r in rows)


def test_a_folder_named_after_a_public_dataset_needs_its_shape_to_match() -> None:
    # A 500-image subset is not CIFAR-10's official test set: no published figure stands beside it.
    assert public_results("/data/cifar10_subset_500", n_classes=10, n_test=100) == []
    # The full test set (10 classes, 10,000 images) is.
    assert any(r.dataset == "CIFAR-10" for r in public_results("/data/cifar10", n_classes=10, n_test=10_000))


def test_a_mape_target_in_percent_is_judged_in_percent(tmp_path: Path) -> None:
    (tmp_path / "task.yaml").write_text("task: {type: regression}\nconstraints: {accuracyTarget: MAPE < 8%}\n")
    met = _expected(tmp_path, {"mape": 2.0})["target"]  # evaluate reports MAPE in percent
    missed = _expected(tmp_path, {"mape": 9.5})["target"]
    assert met["met"] is True and missed["met"] is False and met["value"] == 0.08


def test_the_network_ships_only_when_it_beats_the_best_baseline_beyond_noise() -> None:
    """Half a standard error of the network's validation accuracy: 7/7 against a baseline's 96.4% is within the
    6-point margin; 16/16 against 95% is not; 98.7% of 400 against 89% is not."""
    from dlexpert.report.deliverable import choose

    tiny = choose(1.0, 12, [("linear", 0.964), ("knn_euclidean", 0.964)], scored_by="CV")
    assert not tiny.network_ships and tiny.baseline == "linear"  # equal scores: the earlier, simpler one
    assert 0.03 < tiny.margin < 0.1 and "it does not" in tiny.rule
    four = choose(1.0, 4, [("knn_euclidean", 0.8)], scored_by="CV")  # ArrowHead: 4/4 is not evidence
    assert not four.network_ships and "fewer than 10" in four.rule
    assert choose(1.0, 16, [("linear", 0.95)], scored_by="CV").network_ships  # the LFW faces: a 100% network ships
    large = choose(0.987, 400, [("linear", 0.32), ("minirocket", 0.89)], scored_by="validation")
    assert large.network_ships and large.baseline == "minirocket" and large.margin < 0.01
    assert large.scores == {"linear": 0.32, "minirocket": 0.89}  # every baseline's score is kept, not only the best
    assert not choose(0.9, 400, [("linear", 0.9)], scored_by="validation").network_ships  # a tie: the simpler model


def test_step4_verdict_names_the_baseline_and_both_accuracies() -> None:
    import numpy as np

    from dlexpert.data import load_data
    from dlexpert.report.baselines import linear_baseline
    from dlexpert.report.deliverable import choose, step4_verdict
    from dlexpert.schema.evaluation import Baselines

    splits = load_data("digits", seed=0)
    linear = linear_baseline(splits, y_test=np.asarray(splits.y_test), x_test=splits.x_test)
    assert linear.val_accuracy is not None and linear.val_accuracy > 0.9  # 8x8 digits are nearly linearly separable
    choice = choose(0.1, len(splits.y_val), [("linear", linear.val_accuracy)], scored_by="validation")
    losing = Baselines(linear=linear, model_val_accuracy=0.1, choice=choice)
    assert losing.winner_on_validation is linear
    verdict = step4_verdict(linear, losing)
    assert "does not beat the linear" in verdict and f"linear: {100 * linear.val_accuracy:.1f}%" in verdict
    assert Baselines(linear=linear).winner_on_validation is None  # nothing to compare


def test_the_preferred_baseline_is_kept_unless_another_is_significantly_better() -> None:
    """BeetleFly's 20 series: 1-NN DTW leads MiniRocket by 15 points in 2x5-fold, folds of 4 samples. A corrected
    resampled t-test does not call that significant, so MiniRocket (preferred for series) is weighed; a gap of the
    same size on steady folds is significant and the better-scoring baseline is."""
    from dlexpert.report.deliverable import pick_baseline

    mrock = [0.75, 0.5, 0.5, 1.0, 1.0, 0.75, 1.0, 0.75, 0.75, 0.5]
    dtw = [0.75, 0.75, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 1.0]
    scores = [("minirocket", sum(mrock) / 10), ("knn_dtw", sum(dtw) / 10)]
    picked, why = pick_baseline(scores, {"minirocket": mrock, "knn_dtw": dtw}, k=5)
    assert picked == 0 and "not significant" in why
    steady_m, steady_d = [0.75] * 5 + [0.76] * 5, [0.9] * 5 + [0.91] * 5
    steady = [("minirocket", 0.755), ("knn_dtw", 0.905)]
    assert pick_baseline(steady, {"minirocket": steady_m, "knn_dtw": steady_d}, k=5)[0] == 1
    # one validation split (no folds): only an exact tie goes to the preferred baseline
    assert pick_baseline([("minirocket", 0.9), ("linear", 0.91)])[0] == 1
    assert pick_baseline([("minirocket", 0.9), ("linear", 0.9)])[0] == 0


def test_series_prefer_minirocket_and_other_modalities_the_simplest() -> None:
    from dlexpert.report.strong import preference_order

    keys = ["linear", "knn_euclidean", "knn_dtw", "minirocket"]
    assert preference_order("sequence", keys) == ["minirocket", "knn_dtw", "knn_euclidean", "linear"]
    assert preference_order("tabular", ["linear", "hist_gradient_boosting"]) == ["linear", "hist_gradient_boosting"]


def test_the_k_fold_budget_counts_1nn_prediction_not_only_its_fit() -> None:
    """1-NN's cost is in prediction: a fold predicts 1/5 of the pool against 4/5 of it, about 1.8x the measured
    validation prediction (90% train x 10% validation), times 10 folds."""
    from dlexpert.report.strong import StrongFit, cv_seconds

    knn = StrongFit(key="knn_dtw", model="1-NN DTW", estimator=None, layout="series", how="", val_accuracy=None,
                    fit_seconds=0.0, predict_seconds=10.0)  # fmt: skip
    assert 150 < cv_seconds([knn], n_train=900, n_val=100) < 200


def test_the_network_is_judged_on_its_settled_validation_accuracy_not_its_luckiest_epoch() -> None:
    """ECG200's kept checkpoint scored 10/10 on 10 validation series amid 9/10s: the mean of the five evaluations
    around it is 0.92, which does not beat MiniRocket's k-fold 0.9 by half a standard error, so the baseline ships."""
    from dlexpert.report.deliverable import choose
    from dlexpert.report.evaluate import settled_val_accuracy

    accs = [0.9, 0.9, 0.9, 0.9, 1.0, 0.9, 0.9, 0.9]
    losses = [0.2, 0.15, 0.13, 0.12, 0.09, 0.1, 0.13, 0.13]
    epochs = [
        {"kind": "epoch", "epoch": i, "val_acc": a, "val_loss": v}
        for i, (a, v) in enumerate(zip(accs, losses, strict=True))
    ]
    assert settled_val_accuracy(epochs) == pytest.approx(0.92)
    assert settled_val_accuracy([{"kind": "epoch", "epoch": 0, "val_loss": 0.3}]) is None  # no accuracy logged
    choice = choose(1.0, 10, [("minirocket", 0.9)], scored_by="CV", settled=0.92)
    assert not choice.network_ships and "settled" in choice.rule and choice.network_settled_accuracy == 0.92
    # digits: 98.2% settled on 144 samples against logistic regression's 97.2% on the same split ships the network
    assert choose(0.986, 144, [("linear", 0.972)], scored_by="validation", settled=0.982).network_ships
    assert choose(1.0, 16, [("linear", 0.925)], scored_by="CV", settled=1.0).network_ships  # steady at 100%


def test_a_baselines_one_off_compilation_is_paid_before_its_fit_is_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The timed fit is the second one: a first call that compiles (numba in aeon) must not count as the baseline's
    cost, or a fresh install's first run skips the k-fold that later runs do."""
    from types import SimpleNamespace

    from dlexpert.report import strong

    calls: list[int] = []

    class FirstCallSlow:
        def fit(self, x: np.ndarray, y: np.ndarray) -> FirstCallSlow:
            calls.append(len(y))
            time.sleep(0.3 if len(calls) == 1 else 0.0)
            return self

        def predict(self, x: np.ndarray) -> np.ndarray:
            return np.zeros(len(x), dtype=int)

    spec = strong._Spec("knn_dtw", "slow first", ("sequence",), "series", lambda seed: FirstCallSlow(),
                        lambda splits: None, "test")  # fmt: skip
    monkeypatch.setattr(strong, "_SPECS", (spec,))
    x, y = np.random.default_rng(0).normal(size=(20, 1, 30)), np.r_[[0] * 10, [1] * 10]
    splits = SimpleNamespace(modality="sequence", x_train=x, y_train=y, x_val=x[:4], y_val=y[:4])
    fits, _ = strong.fit_strong_baselines(splits)
    assert calls == [2, 20] and fits[0].fit_seconds < 0.2
