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
