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


def test_step4_says_when_the_linear_baseline_wins_where_the_model_was_chosen() -> None:
    """Validation, not test, decides (the test split stays untouched by every choice)."""
    import numpy as np

    from dlexpert.data import load_data
    from dlexpert.report.baselines import linear_baseline
    from dlexpert.report.deliverable import step4_verdict
    from dlexpert.schema.evaluation import Baselines

    splits = load_data("digits", seed=0)
    linear = linear_baseline(splits, y_test=np.asarray(splits.y_test), x_test=splits.x_test)
    assert linear.val_accuracy is not None and linear.val_accuracy > 0.9  # 8x8 digits are nearly linearly separable
    losing = Baselines(linear=linear, model_val_accuracy=linear.val_accuracy - 0.05)
    assert losing.linear_wins_on_validation
    verdict = step4_verdict(losing)
    assert "beats the trained model on the validation split" in verdict
    assert f"{100 * linear.val_accuracy:.1f}%" in verdict
    assert not Baselines(linear=linear, model_val_accuracy=linear.val_accuracy).linear_wins_on_validation  # a tie
    assert not Baselines(linear=linear).linear_wins_on_validation  # nothing to compare
