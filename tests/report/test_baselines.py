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
    """McNemar's paired count on the validation split (Dietterich 1998): one sample in seven is noise."""
    import numpy as np

    from dlexpert.report.deliverable import choose

    y = np.array([0, 1, 0, 1, 0, 1, 0])
    network = y.copy()  # 7/7
    base = y.copy()
    base[0] = 1  # 6/7
    tiny = choose(y, network, [("linear", base), ("knn_euclidean", base)])
    assert (tiny.network_only_right, tiny.baseline_only_right, tiny.network_ships) == (1, 0, False)
    assert tiny.baseline == "linear"  # equal baselines: the earlier, simpler one

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    network, base = y.copy(), y.copy()
    base[:30] = 1 - base[:30]  # the baseline errs on 30 samples ...
    network[30:35] = 1 - network[30:35]  # ... the network on 5 others: b = 30, c = 5
    clear = choose(y, network, [("linear", base)])
    assert clear.network_ships and "it does" in clear.rule
    assert not choose(y, y, [("linear", y)]).network_ships  # a tie goes to the simpler model


def test_step4_verdict_names_the_baseline_and_both_accuracies() -> None:
    import numpy as np

    from dlexpert.data import load_data
    from dlexpert.report.baselines import linear_baseline
    from dlexpert.report.deliverable import choose, step4_verdict
    from dlexpert.schema.evaluation import Baselines

    splits = load_data("digits", seed=0)
    linear = linear_baseline(splits, y_test=np.asarray(splits.y_test), x_test=splits.x_test)
    assert linear.val_accuracy is not None and linear.val_accuracy > 0.9  # 8x8 digits are nearly linearly separable
    y_val = np.asarray(splits.y_val)
    chance = np.zeros_like(y_val)  # a network that predicts class 0: far below the baseline
    # Baseline predictions with its measured validation accuracy (right on the first samples, wrong on the rest).
    base_pred = np.where(np.arange(len(y_val)) < round(linear.val_accuracy * len(y_val)), y_val, (y_val + 1) % 10)
    losing = Baselines(linear=linear, model_val_accuracy=float((chance == y_val).mean()),
                       choice=choose(y_val, chance, [("linear", base_pred)]))  # fmt: skip
    assert losing.winner_on_validation is linear
    verdict = step4_verdict(linear, losing)
    assert "does not beat the linear" in verdict and f"{100 * linear.val_accuracy:.1f}%" in verdict
    assert Baselines(linear=linear).winner_on_validation is None  # nothing to compare
