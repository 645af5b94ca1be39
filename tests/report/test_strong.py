"""The strong simple baselines of Step 4, fitted on a run's own splits, by modality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dlexpert.data import load_data
from dlexpert.report.strong import NEIGHBOUR_BLOCK, features, fit_strong_baselines, predict, resampling, score_fit

from ..data.synthetic import write_sensor_csv, write_wide_csv


def test_series_get_nearest_neighbours_and_minirocket(tmp_path: Path) -> None:
    pytest.importorskip("aeon")
    splits = load_data(write_wide_csv(tmp_path / "w.csv", 30, 48), seed=0)
    assert splits.modality == "sequence"
    fits, skipped = fit_strong_baselines(splits, seed=0)
    assert {f.key for f in fits} == {"knn_euclidean", "knn_dtw", "minirocket"} and not skipped
    for f in fits:
        result = score_fit(f, splits.x_test, splits.y_test)
        assert result.key == f.key and result.val_accuracy is not None and "fitted in" in result.how
        assert result.metrics["accuracy"] > 1 / splits.n_classes  # better than chance on separable classes


def test_dtw_nearest_neighbour_asked_in_blocks_predicts_what_aeon_predicts_one_by_one() -> None:
    pytest.importorskip("aeon")
    from dlexpert.report.strong import _dtw

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(120, 1, 24)), np.array(["a", "b", "c"])[rng.integers(0, 3, 120)]
    queries = rng.normal(size=(NEIGHBOUR_BLOCK + 9, 1, 24))  # two blocks, the second short
    model = _dtw(0).fit(x, y)
    assert (predict(model, queries) == model.predict(queries)).all()


def test_tables_get_gradient_boosting_and_images_get_nearest_neighbours(tmp_path: Path) -> None:
    from sklearn.datasets import load_wine

    wine = load_wine(as_frame=True).frame.rename(columns={"target": "label"})
    wine.to_csv(tmp_path / "wine.csv", index=False)
    fits, _ = fit_strong_baselines(load_data(str(tmp_path / "wine.csv"), target="label", seed=0), seed=0)
    assert {f.key for f in fits} == {"hist_gradient_boosting", "knn_euclidean"}
    assert all((f.val_accuracy or 0) > 0.8 for f in fits)  # 13 chemical measurements separate the 3 cultivars
    fits, _ = fit_strong_baselines(load_data("digits", seed=0), seed=0)
    assert [f.key for f in fits] == ["knn_euclidean"] and (fits[0].val_accuracy or 0) > 0.9


def test_series_are_z_normalised_per_series_and_channel() -> None:
    x = np.stack([np.sin(np.linspace(0, 6, 40)) * 1e6 + 5, np.sin(np.linspace(0, 6, 40)) * 1e-3])[:, None, :]
    z = features(x, "series")
    assert z.shape == (2, 1, 40) and np.allclose(z[0], z[1], atol=1e-6)  # amplitudes 10^9 apart, same shape
    assert features(x, "series_flat").shape == (2, 40)


def test_windows_of_one_time_line_are_resampled_forward_with_the_overlap_purged() -> None:
    """Shuffled k-fold scores a window against its own overlapping neighbours; forward chaining trains on the past
    only, leaves out the windows that share rows with the scored block, and drops folds that train on one class."""
    y = np.repeat([0, 1, 0, 1, 2, 1], 50)  # regimes of 50 windows, in time order
    plan = resampling(y, seed=0, purge=31)
    assert plan.repeats == 1 and "forward-chaining" in plan.how and len(plan.folds) >= 2
    for train, test in plan.folds:
        assert train.max() + 31 < test.min()  # the past only, and no window within the overlap
        assert len(np.unique(y[train])) >= 2
    assert resampling(np.arange(30) % 2, seed=0, purge=31).folds == []  # too short for any fold
    shuffled = resampling(y, seed=0)
    assert shuffled.repeats == 2 and len(shuffled.folds) == 10 and "stratified" in shuffled.how


def test_step4_ranks_the_baselines_of_a_dated_table_forward_in_time(tmp_path: Path) -> None:
    from dlexpert.report.baselines import fit_linear_baseline
    from dlexpert.report.evaluate import purged_windows, rank_baselines

    s = load_data(write_sensor_csv(tmp_path / "log.csv", n_rows=600), target="state", seed=0)
    assert s.layout is not None and purged_windows(s) == s.layout["window"] - 1  # stride 1: every row overlaps
    ranking = rank_baselines(s, fit_linear_baseline(s, seed=0), fit_strong_baselines(s, seed=0)[0], seed=0)
    assert "forward-chaining" in ranking.how and ranking.folds is not None
    assert all(0.0 <= score <= 1.0 for _, score in ranking.scores)
    digits = load_data("digits", seed=0)
    assert purged_windows(digits) is None  # independent samples keep the stratified k-fold


def test_a_logistic_regression_stopped_at_its_cap_says_so_in_how_not_on_the_terminal() -> None:
    """PLAID (issue 12's benchmark): 1,344 raw points per series, and lbfgs hit max_iter=1000 at C=10; scikit-learn's
    ten-line ConvergenceWarning landed in the middle of `dlexpert run`'s output."""
    import warnings

    from sklearn.linear_model import LogisticRegression

    from dlexpert.report.baselines import _capped_note, _fit_capped

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 200)), np.repeat([0, 1, 2], 20)  # more features than samples: separable, slow
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        capped = _fit_capped(LogisticRegression(C=100.0, max_iter=3), x, y)
    assert "stopped at its cap of 3 iterations" in _capped_note(capped)
    assert _capped_note(_fit_capped(LogisticRegression(max_iter=1000), x, y)) == ""
