"""Seed Step 4 for a regression table: the baselines a network must beat, and the choice of what the run ships.

A table that regresses a number is planned as gradient-boosted trees first (knowledge/tasks.yaml, tabular-regression:
Grinsztajn et al. 2022, arXiv 2207.08815), with the MLP as their challenger. `evaluate` fits, on the run's own
training split, with scikit-learn:

- the training mean (`DummyRegressor`): the floor, R^2 = 0 on the training split;
- ridge regression on standardised columns, its alpha chosen by leave-one-out (`RidgeCV`);
- gradient-boosted trees (`HistGradientBoostingRegressor`, default settings).

Every score is R^2, higher is better like accuracy. Which baseline faces the network: ridge, the simpler one, unless
the trees score significantly higher (`deliverable.pick_baseline` on a repeated 5-fold of train + validation for small
data, else the validation split), as a classification table weighs logistic regression against the trees. The mean
is the floor, never the deliverable. The network ships only when it beats that baseline on the validation split by
more than half a standard error of the paired, sample-by-sample difference of their squared errors; otherwise the
baseline ships (`deliverable.ship_baseline`), and the network stays in `checkpoints/`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..schema.evaluation import BaselineResult, Baselines, Deliverable, ValidationChoice
from .deliverable import (
    MIN_VAL_FOR_NETWORK,
    NETWORK_MARGIN_Z,
    gap_text,
    pick_baseline,
    score_text,
    ship_baseline,
)
from .metrics import regression_metrics
from .strong import CV_FOLDS, CV_MAX_SAMPLES, CV_REPEATS, features

__all__ = ["RegressorFit", "describe", "fit_regressors", "regression_step4"]

# The candidates to ship instead of the network, simplest first (the training mean is the floor, not a candidate).
PREFERENCE = ("ridge", "hist_gradient_boosting")
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-3, 3, 13))


@dataclass
class RegressorFit:
    """A fitted baseline regressor, what it reads (flattened float32 rows: `layout` "flat") and its validation R^2."""

    key: str
    model: str
    estimator: Any
    how: str
    val_r2: float | None
    fit_seconds: float
    layout: str = "flat"

    def features(self, x: Any) -> np.ndarray:
        return features(x, self.layout)


def describe(key: str) -> str:
    """How the run fits the baseline regressor `key`, for people (the plan quotes it)."""
    return _REGRESSORS[key][1]


def fit_regressors(splits: Any, *, seed: int = 0) -> list[RegressorFit]:
    """The mean, ridge and trees, fitted on the training split and scored (R^2) on the validation split."""
    fits = []
    y_train, y_val = np.asarray(splits.y_train, dtype=np.float64), np.asarray(splits.y_val, dtype=np.float64)
    for key, (model, how, make) in _REGRESSORS.items():
        t0 = time.perf_counter()
        estimator = make(seed).fit(features(splits.x_train, "flat"), y_train)
        seconds = time.perf_counter() - t0
        val_r2 = _r2(y_val, estimator.predict(features(splits.x_val, "flat"))) if len(y_val) >= 2 else None
        fits.append(RegressorFit(key=key, model=model, estimator=estimator, how=how, val_r2=val_r2,
                                 fit_seconds=seconds))  # fmt: skip
    return fits


def regression_step4(
    run: Any, splits: Any, *, net_val: np.ndarray, settled_mse: float | None, x_test: Any, y_eval: np.ndarray,
    first_model: str | None = None,
) -> tuple[Baselines, Deliverable | None]:  # fmt: skip
    """Seed Step 4 on a regression run's own splits: the baselines on the test split, the choice between the network
    (its validation predictions `net_val`; `settled_mse`: the validation MSE around its kept checkpoint) and the
    baseline `pick_baseline` names, and the deliverable when the baseline wins (saved in the run dir)."""
    fits = fit_regressors(splits, seed=run.config.seed)
    results = {f.key: _scored(f, x_test, y_eval) for f in fits}
    y_val = np.asarray(splits.y_val, dtype=np.float64)
    net_r2 = _r2(y_val, net_val) if len(y_val) >= 2 else None
    variance = float(y_val.var())
    settled = 1.0 - settled_mse / variance if settled_mse is not None and variance > 0 else None
    choice = _choice(splits, fits, net_val, settled=settled, seed=run.config.seed) if net_r2 is not None else None
    baselines = Baselines(
        metric="r2",
        majority=results["mean"],
        linear=results["ridge"],
        strong=[results["hist_gradient_boosting"]],
        model_val_accuracy=net_r2,
        choice=choice,
        summary=[_summary(r) for r in results.values()],
    )
    winner = baselines.winner_on_validation
    if winner is None:
        return baselines, None
    fitted = next(f for f in fits if f.key == winner.key)
    return baselines, ship_baseline(run.run_dir, fitted, winner, baselines, first_model=first_model)


def _choice(
    splits: Any, fits: list[RegressorFit], net_val: np.ndarray, *, settled: float | None, seed: int
) -> ValidationChoice:
    """Which baseline (`pick_baseline` over the k-fold or validation R^2), then the network against it on the same
    validation samples: it ships when its R^2 (the lower of its checkpoint's and the `settled` one) is higher by more
    than `NETWORK_MARGIN_Z` standard errors of the paired difference (per sample, the baseline's squared error minus
    the network's, over the targets' variance)."""
    by_key = {f.key: f for f in fits}
    order = [k for k in PREFERENCE if k in by_key]
    scores, folds, how, k = _rank(splits, [by_key[key] for key in order], seed=seed)
    picked, why = pick_baseline(scores, folds, k, metric="r2")
    key, score = scores[picked]
    y_val = np.asarray(splits.y_val, dtype=np.float64)
    base_val = by_key[key].estimator.predict(by_key[key].features(splits.x_val))
    variance = float(y_val.var()) or 1.0
    gain = ((base_val - y_val) ** 2 - (net_val - y_val) ** 2) / variance  # per sample; its mean is R2_net - R2_base
    net_r2, base_r2 = _r2(y_val, net_val), _r2(y_val, base_val)
    net_score = net_r2 if settled is None else min(net_r2, settled)
    n_val = len(y_val)
    margin = NETWORK_MARGIN_Z * float(gain.std(ddof=1)) / math.sqrt(n_val)
    common = {"metric": "r2", "baseline": key, "baseline_score": score, "scored_by": how, "scores": dict(scores),
              "baseline_rule": why, "network_val_accuracy": net_r2, "network_settled_accuracy": settled,
              "n_val": n_val}  # fmt: skip
    network = score_text(net_r2, "r2") + (
        f" ({score_text(net_score, 'r2')} settled over the evaluations around the checkpoint)"
        if net_score < net_r2 else ""
    )  # fmt: skip
    if n_val < MIN_VAL_FOR_NETWORK:
        return ValidationChoice(
            **common, margin=margin, network_ships=False,
            rule=f"the validation split has {n_val} samples, fewer than {MIN_VAL_FOR_NETWORK}: the network's "
            f"{score_text(net_r2, 'r2')} there cannot tell it from the baseline ({key}); the baseline ships",
        )  # fmt: skip
    ships = net_score - base_r2 > margin
    return ValidationChoice(
        **common, margin=margin, network_ships=ships,
        rule=f"the network ships when its validation {network} beats the {key} baseline's "
        f"{score_text(base_r2, 'r2')} on the same {n_val} samples by more than {gap_text(margin, 'r2')} "
        f"({NETWORK_MARGIN_Z:g} standard error of the paired difference of squared errors): "
        + ("it does" if ships else "it does not; the simpler model ships"),
    )  # fmt: skip


def _rank(
    splits: Any, fits: list[RegressorFit], *, seed: int
) -> tuple[list[tuple[str, float]], dict[str, list[float]] | None, str, int]:
    """Each baseline's R^2: a repeated k-fold of train + validation up to `CV_MAX_SAMPLES` rows (a validation split
    of a few dozen rows ranks nothing), else the validation split."""
    from sklearn.base import clone
    from sklearn.model_selection import RepeatedKFold, cross_val_score

    x = np.concatenate([fits[0].features(splits.x_train), fits[0].features(splits.x_val)])
    y = np.concatenate([np.asarray(splits.y_train), np.asarray(splits.y_val)]).astype(np.float64)
    if len(y) > CV_MAX_SAMPLES or len(y) < 2 * CV_FOLDS:
        return [(f.key, f.val_r2 if f.val_r2 is not None else 0.0) for f in fits], None, \
            f"R2 on the {len(splits.y_val)} validation samples", 0  # fmt: skip
    cv = list(RepeatedKFold(n_splits=CV_FOLDS, n_repeats=CV_REPEATS, random_state=seed).split(x))
    folds = {f.key: cross_val_score(clone(f.estimator), x, y, cv=cv, scoring="r2").tolist() for f in fits}
    scores = [(f.key, float(np.mean(folds[f.key]))) for f in fits]
    return scores, folds, f"R2 in {CV_REPEATS}x repeated {CV_FOLDS}-fold on the {len(y)} train + validation rows", \
        CV_FOLDS  # fmt: skip


def _scored(fit: RegressorFit, x_test: Any, y_test: np.ndarray) -> BaselineResult:
    metrics = regression_metrics(y_test, fit.estimator.predict(fit.features(x_test))) if len(y_test) else {}
    return BaselineResult(model=fit.model, metrics=metrics, val_accuracy=fit.val_r2, key=fit.key,
                          how=f"{fit.how}; fitted in {fit.fit_seconds:.2f} s on the training split")  # fmt: skip


def _summary(result: BaselineResult) -> str:
    m = result.metrics
    r2 = f", R2 {m['r2']:.3f}" if "r2" in m else ""
    return f"{result.model}: test RMSE {m.get('rmse', float('nan')):.4g}, MAE {m.get('mae', float('nan')):.4g}{r2}"


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    """R^2 as `regression_metrics` gives it; 0 (no better than the mean) when the targets do not vary."""
    return regression_metrics(y, pred).get("r2", 0.0)


def _mean(seed: int) -> Any:
    from sklearn.dummy import DummyRegressor

    return DummyRegressor(strategy="mean")


def _ridge(seed: int) -> Any:
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), RidgeCV(alphas=RIDGE_ALPHAS))


def _trees(seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(random_state=seed)


_REGRESSORS = {
    "mean": ("training mean", "scikit-learn DummyRegressor(strategy='mean')", _mean),
    "ridge": ("ridge regression", "scikit-learn RidgeCV on standardised columns, alpha from 1e-3 to 1e3 chosen by "
              "leave-one-out", _ridge),
    "hist_gradient_boosting": ("gradient-boosted trees (HistGradientBoosting)", "scikit-learn "
                               "HistGradientBoostingRegressor, default settings (squared error; early stopping on a "
                               "10% internal split above 10,000 samples)", _trees),
}  # fmt: skip
