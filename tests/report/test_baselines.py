"""Which published figures an evaluation may stand beside, and a target in percent judged in the right unit."""

from __future__ import annotations

from pathlib import Path

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
