"""The strong simple baselines of seed Step 4, chosen by modality, from the libraries that own them.

A deep model that does not beat these has not earned its cost, so `evaluate` fits them on the run's own training
split, scores them on its validation split (where every choice is made) and its test split, and the best of them on
validation becomes the run's deliverable when it beats the network there (`report/deliverable.py`).

- tables: gradient-boosted trees (scikit-learn's `HistGradientBoostingClassifier`), the strongest default for
  tabular data (Grinsztajn et al. 2022, arXiv 2207.08815: tree ensembles beat deep models on medium-sized tables).
- series: 1-nearest-neighbour with Euclidean distance on z-normalised series, 1-NN with DTW (10% Sakoe-Chiba window),
  and MiniRocket + ridge (aeon); the standard references of the UCR/UEA archive (Dau et al. 2019, arXiv 1810.07758;
  Dempster et al. 2021, MiniRocket, arXiv 2012.08791).
- images: 1-NN on standardised pixels beside the linear baseline (the digits/faces regime).
- text: the TF-IDF linear baseline (`baselines.fit_linear_baseline`) is the strong one.

Each has a cost bound (`MAX_*`): above it the baseline is skipped and the evaluation says why, so evaluate stays
seconds to a minute on 2 cores.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..schema.evaluation import BaselineResult

__all__ = [
    "CV_MAX_SAMPLES",
    "CV_MAX_SECONDS",
    "PREFERENCE",
    "Resampling",
    "StrongFit",
    "cv_fold_scores",
    "cv_seconds",
    "describe",
    "features",
    "fit_strong_baselines",
    "preference_order",
    "resampling",
    "score_fit",
]

# Up to this many train + validation samples, baselines are compared by resampling both splits (`resampling`)
# together instead of on the validation split alone: 10% of 60 samples is 7, and one of 7 is 14 points of noise.
CV_MAX_SAMPLES = 1000
CV_FOLDS, CV_REPEATS = 5, 2
# The baseline a modality ships when the k-fold cannot tell the candidates apart, best first (Step 4's choice keeps the
# first one not significantly below the best score: `deliverable.pick_baseline`). For series, MiniRocket: it ranks
# above 1-NN DTW and 1-NN Euclidean over the 112 UCR sets (Dempster et al. 2021, arXiv 2012.08791, Fig. 1; Middlehurst
# et al. 2024, "Bake off redux", arXiv 2304.13029, Fig. 6), and on 20-40 series a k-fold of 4-8 samples per fold
# contradicts that ranking by chance (issue 12: BeetleFly's 20 series, 1-NN DTW 0.855 vs MiniRocket 0.765 in 10x5-fold,
# 0.70 vs 0.90 on the test split). Keys not listed follow in simplicity order (linear first).
PREFERENCE = {"sequence": ("minirocket", "knn_dtw", "knn_euclidean")}
# ... and when the k-fold refits, estimated from each baseline's own fit time, stay within this budget (else the
# validation split decides, for every baseline alike).
CV_MAX_SECONDS = 90.0

# Pairwise DTW cells (train x evaluated series x length x window) above which 1-NN DTW is skipped (~1 min on 2 cores
# with aeon's numba kernels).
MAX_DTW_CELLS = 3e9
# Gradient boosting on more values than this (samples x features) is skipped (it is minutes, not seconds, there):
# 50M values (500k rows x 100 columns) took 11 s on this project's 2-core machine (scikit-learn 1.9, default settings,
# early stopping after 97 iterations), so 500M take about 2 minutes. Tables plan the trees as their first model.
MAX_HGB_VALUES = 500_000_000
# MiniRocket on more than this many values (series x channels x length) is skipped.
MAX_ROCKET_VALUES = 50_000_000
# 1-NN on more pairwise products than this (train x evaluated x features) is skipped.
MAX_KNN_PRODUCTS = 2e10


@dataclass
class StrongFit:
    """A fitted baseline: the estimator, what it reads, and its validation accuracy."""

    key: str  # file-name-safe: hist_gradient_boosting, knn_euclidean, knn_dtw, minirocket
    model: str  # for people
    estimator: Any
    layout: str  # "flat": (N, D) float32; "series": (N, C, L) float64 z-normalised per series and channel;
    # "series_flat": the same, flattened to (N, C * L)
    how: str
    val_accuracy: float | None
    fit_seconds: float
    predict_seconds: float = 0.0  # the validation split's prediction (1-NN's cost is here, not in the fit)

    def features(self, x: Any) -> np.ndarray:
        return features(x, self.layout)


@dataclass(frozen=True)
class _Spec:
    key: str
    model: str
    modalities: tuple[str, ...]
    layout: str
    make: Callable[[int], Any]
    too_costly: Callable[[Any], str | None]  # splits -> why it is skipped, or None
    how: str


def fit_strong_baselines(splits: Any, *, seed: int = 0) -> tuple[list[StrongFit], list[str]]:
    """The strong baselines for the data's modality, fitted on train and scored on validation; and one line for each
    one skipped (not installed, or over its cost bound)."""
    fits, skipped = [], []
    for spec in _SPECS:
        if splits.modality not in spec.modalities:
            continue
        why = _unavailable(spec) or spec.too_costly(splits)
        if why:
            skipped.append(f"{spec.model}: skipped ({why})")
            continue
        _warm_up(spec, splits, seed)
        t0 = time.perf_counter()
        estimator = spec.make(seed).fit(features(splits.x_train, spec.layout), np.asarray(splits.y_train))
        t1 = time.perf_counter()
        val = _accuracy(estimator, features(splits.x_val, spec.layout), np.asarray(splits.y_val))
        fits.append(StrongFit(key=spec.key, model=spec.model, estimator=estimator, layout=spec.layout, how=spec.how,
                              val_accuracy=val, fit_seconds=t1 - t0,
                              predict_seconds=time.perf_counter() - t1))  # fmt: skip
    return fits, skipped


def _warm_up(spec: _Spec, splits: Any, seed: int) -> None:
    """Fit and predict on one training sample of each of two classes before the timed fit, so that numba's one-off
    compilation (aeon's DTW and MiniRocket kernels: seconds to tens of seconds on a fresh install) is not counted as
    the baseline's cost: `cv_seconds` extrapolates from the timed fit, and a first run after installing would
    otherwise skip the k-fold and let a 4-sample validation split choose (issue 12: ArrowHead, seed 1, 72.0% with 1-NN
    DTW on the first run after a fresh install, 82.3% with MiniRocket when rerun)."""
    y = np.asarray(splits.y_train)
    classes = list(dict.fromkeys(y.tolist()))[:2]
    if len(classes) < 2:
        return
    idx = [int(np.nonzero(y == c)[0][0]) for c in classes]
    x = [splits.x_train[i] for i in idx] if isinstance(splits.x_train, list) else np.asarray(splits.x_train)[idx]
    predict(spec.make(seed).fit(features(x, spec.layout), y[idx]), features(x, spec.layout))


def score_fit(fit: StrongFit, x_test: Any, y_test: np.ndarray) -> BaselineResult:
    """The fitted baseline on the evaluated split: its accuracy there, its validation accuracy, and how it was made."""
    predicted = predict(fit.estimator, fit.features(x_test)) if len(y_test) else np.array([])
    acc = float((predicted == np.asarray(y_test)).mean()) if len(y_test) else 0.0
    return BaselineResult(model=fit.model, metrics={"accuracy": acc}, val_accuracy=fit.val_accuracy, key=fit.key,
                          how=f"{fit.how}; fitted in {fit.fit_seconds:.1f} s on the training split")  # fmt: skip


def cv_folds(y: np.ndarray) -> int:
    """k of the k-fold on labels `y`: 5, or the smallest class's count when fewer (below 2 there is no k-fold)."""
    return min(CV_FOLDS, _smallest_class(y))


@dataclass(frozen=True)
class Resampling:
    """The folds every baseline is scored on, the same for all of them so scores compare fold by fold."""

    folds: list[tuple[np.ndarray, np.ndarray]]  # (train indices, test indices) into train + validation, pooled
    k: int  # folds per repeat (the variance correction of `deliverable.pick_baseline` reads it)
    repeats: int
    how: str  # for people: "2x repeated stratified 5-fold", "forward-chaining 5-fold, 31 windows purged"


def resampling(y: np.ndarray, *, seed: int, purge: int | None = None) -> Resampling:
    """Repeated stratified k-fold on labels `y` (`cv_folds`, `CV_REPEATS` repeats); or, when the samples are windows
    of one time line in time order (`purge` set: how many neighbouring windows share rows with a window), forward
    chaining: each fold trains on the past and is scored on the next block, with the `purge` windows before the block
    left out (scikit-learn's `TimeSeriesSplit` with `gap`; purged cross-validation, Lopez de Prado 2018, Advances in
    Financial Machine Learning, ch. 7; forward chaining for dependent data, Bergmeir & Benitez 2012, Information
    Sciences 191). A shuffled k-fold there scores a window against its own overlapping neighbours: on Seattle's
    weather (2012-2013, 32-day windows) it gave 1-NN 55% and MiniRocket 69% against 32% and 44% on the later test
    days. Folds whose training part holds one class are dropped. No folds when fewer than 2 remain."""
    from sklearn.model_selection import RepeatedStratifiedKFold, TimeSeriesSplit

    y = np.asarray(y)
    if purge is None:
        k = cv_folds(y)
        if k < 2:
            return Resampling([], k, CV_REPEATS, "no k-fold (a class has one sample)")
        cv = RepeatedStratifiedKFold(n_splits=k, n_repeats=CV_REPEATS, random_state=seed)
        return Resampling(list(cv.split(np.zeros(len(y)), y)), k, CV_REPEATS,
                          f"{CV_REPEATS}x repeated stratified {k}-fold")  # fmt: skip
    k = CV_FOLDS
    while k >= 2 and len(y) - k * (len(y) // (k + 1)) - purge <= purge:  # the first training block outlasts the purge
        k -= 1
    if k < 2:
        return Resampling([], k, 1, f"no forward-chaining folds ({len(y)} windows, {purge} purged per fold)")
    splits = TimeSeriesSplit(n_splits=k, gap=purge).split(np.zeros(len(y)))
    folds = [(train, test) for train, test in splits if len(np.unique(y[train])) >= 2]
    return Resampling(folds, k, 1, f"forward-chaining {k}-fold in time order ({purge} overlapping windows purged "
                      "before each scored block)")  # fmt: skip


def cv_fold_scores(estimator: Any, x: Any, y: np.ndarray, folds: Resampling) -> np.ndarray:
    """Accuracy of a fresh copy of `estimator` on each of `folds`, in fold order. Empty when there are none. A refit
    that stops at its iteration cap is scored as it stands; its full fit already said so (`baselines._pick_c`)."""
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    from .baselines import capped_fits_quiet

    if len(folds.folds) < 2:
        return np.zeros(0)
    with capped_fits_quiet():
        scores = cross_val_score(clone(estimator), x, np.asarray(y), cv=folds.folds, scoring=_scored_accuracy)
    return np.asarray(scores, dtype=np.float64)


def _scored_accuracy(estimator: Any, x: np.ndarray, y: np.ndarray) -> float:
    return float((predict(estimator, x) == np.asarray(y)).mean())


# Queries per pairwise-distance call when a 1-NN of aeon predicts in blocks (a block x train distance matrix).
NEIGHBOUR_BLOCK = 256


def predict(estimator: Any, x: np.ndarray) -> np.ndarray:
    """`estimator.predict(x)`; aeon's 1-NN asked in blocks. Its `predict` looks up one query series at a time, and
    each lookup converts the whole training set for the distance kernel again: on MNIST-1D (4,000 training series,
    1,402 queries) 53 s of its 72 s went to the conversions. `kneighbors` on a block of queries finds the same
    neighbour with one call per block."""
    is_aeon_1nn = type(estimator).__module__.startswith("aeon.") and getattr(estimator, "n_neighbors", None) == 1
    if not is_aeon_1nn or not hasattr(estimator, "kneighbors") or len(x) == 0:
        return np.asarray(estimator.predict(x))
    nearest = np.concatenate([
        np.asarray(estimator.kneighbors(x[i : i + NEIGHBOUR_BLOCK], return_distance=False))[:, 0]
        for i in range(0, len(x), NEIGHBOUR_BLOCK)
    ])  # fmt: skip
    return np.asarray(estimator.classes_)[np.asarray(estimator.y_)[nearest]]


def cv_seconds(fits: list[StrongFit], n_train: int, n_val: int, repeats: int = CV_REPEATS) -> float:
    """The k-fold's expected cost, from each baseline's measured fit and validation-prediction times: a fold refits
    on 4/5 of the n_train + n_val samples and predicts 1/5 of them, and a prediction's cost grows with the samples
    it compares against (1-NN: every fold costs about (0.8 n x 0.2 n) / (n_train x n_val) of the measured one).
    Forward chaining (`resampling`) trains on less, so this bounds its cost from above."""
    n = n_train + n_val
    fold_fit = (n - n / CV_FOLDS) / max(n_train, 1)
    fold_predict = fold_fit * (n / CV_FOLDS) / max(n_val, 1)
    per_fold = sum(f.fit_seconds * fold_fit + f.predict_seconds * fold_predict for f in fits)
    return per_fold * CV_FOLDS * repeats


def describe(key: str) -> str:
    """How the run fits the baseline `key`, for people (the plan quotes it when the baseline is its first model)."""
    return next(spec.how for spec in _SPECS if spec.key == key)


def preference_order(modality: str, keys: list[str]) -> list[str]:
    """`keys` (baseline keys, 'linear' for the linear one, given in simplicity order) with the modality's preferred
    ones (`PREFERENCE`) first."""
    preferred = [k for k in PREFERENCE.get(modality, ()) if k in keys]
    return preferred + [k for k in keys if k not in preferred]


def _smallest_class(y: np.ndarray) -> int:
    counts = np.bincount(np.asarray(y, dtype=np.int64))
    return int(counts[counts > 0].min()) if len(counts) else 0


def _accuracy(estimator: Any, x: np.ndarray, y: np.ndarray) -> float | None:
    return float((predict(estimator, x) == y).mean()) if len(y) else None


def features(x: Any, layout: str) -> np.ndarray:
    """`x` as a baseline with this `layout` reads it (see `StrongFit.layout`)."""
    a = np.asarray(x, dtype=np.float32 if layout == "flat" else np.float64)
    if layout == "flat":
        return a.reshape(len(a), -1)
    a = a.reshape(len(a), -1, a.shape[-1]) if a.ndim >= 2 else a.reshape(len(a), 1, -1)  # (N, C, L)
    # z-normalise each series and channel, as the UCR archive's own baselines do (Dau et al. 2019, Sec. 4): the
    # shape of a series is the signal, its offset and scale are the sensor's.
    mean, std = a.mean(axis=-1, keepdims=True), a.std(axis=-1, keepdims=True)
    z = (a - mean) / np.where(std > 1e-8, std, 1.0)
    return z.reshape(len(z), -1) if layout == "series_flat" else z


def _unavailable(spec: _Spec) -> str | None:
    import importlib.util

    if spec.key in {"knn_dtw", "minirocket"} and importlib.util.find_spec("aeon") is None:
        return "aeon is not installed: pip install 'dlexpert[series]'"
    return None


def _n_values(splits: Any) -> int:
    return int(np.asarray(splits.x_train).size)


def _dtw_cost(splits: Any) -> str | None:
    length = np.asarray(splits.x_train).shape[-1]
    cells = len(splits.y_train) * (len(splits.y_val) + len(splits.y_test)) * length * max(1.0, 0.1 * length)
    return f"{cells:.1e} DTW cells > {MAX_DTW_CELLS:.0e}" if cells > MAX_DTW_CELLS else None


def _knn_cost(splits: Any) -> str | None:
    n_feat = int(np.prod(np.asarray(splits.x_train).shape[1:]))
    products = len(splits.y_train) * (len(splits.y_val) + len(splits.y_test)) * n_feat
    return f"{products:.1e} products > {MAX_KNN_PRODUCTS:.0e}" if products > MAX_KNN_PRODUCTS else None


def _over(limit: float) -> Callable[[Any], str | None]:
    def check(splits: Any) -> str | None:
        n = _n_values(splits)
        return f"{n:.1e} values > {limit:.0e}" if n > limit else None

    return check


def _hgb(seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=seed)


def _knn(seed: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=1))


def _knn_raw(seed: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=1)


def _dtw(seed: int) -> Any:
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    return KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw", distance_params={"window": 0.1})


def _minirocket(seed: int) -> Any:
    from aeon.classification.convolution_based import MiniRocketClassifier

    return MiniRocketClassifier(random_state=seed)


_SPECS = (
    _Spec("hist_gradient_boosting", "gradient-boosted trees (HistGradientBoosting)", ("tabular",), "flat", _hgb,
          _over(MAX_HGB_VALUES), "scikit-learn HistGradientBoostingClassifier, default settings (early stopping on a "
          "10% internal split above 10,000 samples)"),
    _Spec("knn_euclidean", "1-NN (Euclidean, standardised inputs)", ("image", "tabular"), "flat", _knn, _knn_cost,
          "scikit-learn KNeighborsClassifier(n_neighbors=1) on standardised flattened inputs"),
    _Spec("knn_euclidean", "1-NN (Euclidean, z-normalised series)", ("sequence",), "series_flat", _knn_raw,
          _knn_cost, "scikit-learn KNeighborsClassifier(n_neighbors=1) on z-normalised series, channels concatenated"),
    _Spec("knn_dtw", "1-NN DTW (window 10%)", ("sequence",), "series", _dtw, _dtw_cost,
          "aeon KNeighborsTimeSeriesClassifier(n_neighbors=1, distance='dtw', window=0.1) on z-normalised series"),
    _Spec("minirocket", "MiniRocket + ridge", ("sequence",), "series", _minirocket, _over(MAX_ROCKET_VALUES),
          "aeon MiniRocketClassifier (10,000 kernels, RidgeClassifierCV) on z-normalised series"),
)  # fmt: skip
