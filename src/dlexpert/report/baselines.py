"""Seed Step 4/7's "compare with a simple baseline" and "with public benchmarks", on the run's own splits.

- `majority_baseline`: always predict the most frequent training class.
- `linear_baseline`: logistic regression on flattened, standardised inputs (TF-IDF word 1-2 grams for text), its C
  picked on the validation split. scikit-learn fits it, so it is the same model every time.
- `public_results`: published figures for the same dataset from the knowledge base (knowledge/data/datasets.yaml).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..schema.evaluation import BaselineResult, PublicResult

__all__ = [
    "LINEAR_C",
    "LinearFit",
    "capped_fits_quiet",
    "fit_linear_baseline",
    "linear_baseline",
    "majority_baseline",
    "public_results",
    "score_linear",
    "summarize",
]

# Inverse L2 strengths tried on the validation split; ties go to the C nearest 1.
LINEAR_C = (0.01, 0.1, 1.0, 10.0)
# Flattened inputs larger than this (samples x features) are fitted on a seeded subsample of the training split, so
# the baseline stays seconds, not minutes, on large images; the `how` field says so.
MAX_FIT_VALUES = 40_000_000


def majority_baseline(y_train: np.ndarray, y_test: np.ndarray, n_classes: int) -> BaselineResult:
    counts = np.bincount(np.asarray(y_train, dtype=np.int64), minlength=n_classes)
    top = int(counts.argmax())
    acc = float((np.asarray(y_test) == top).mean()) if len(y_test) else 0.0
    return BaselineResult(
        model="majority class",
        metrics={"accuracy": acc},
        how=f"always predicts training's most frequent class (index {top}, "
        f"{counts[top]}/{counts.sum()} training samples)",
    )


@dataclass
class LinearFit:
    """The fitted linear baseline: a scikit-learn pipeline over `features(x)` (flattened inputs, or raw texts)."""

    model: str  # what it is, for people
    pipeline: Any  # sklearn.pipeline.Pipeline: StandardScaler + LogisticRegression, or TfidfVectorizer + it
    how: str
    val_accuracy: float | None
    text: bool

    @property
    def estimator(self) -> Any:
        """The fitted scikit-learn object (as `StrongFit.estimator`)."""
        return self.pipeline

    def features(self, x: Any) -> Any:
        """What the pipeline reads: a list of strings for text, else each sample flattened to float32."""
        return _features(x, text=self.text)


def _features(x: Any, *, text: bool) -> Any:
    return list(x) if text else np.asarray(x, dtype=np.float32).reshape(len(x), -1)


def fit_linear_baseline(splits: Any, *, seed: int = 0) -> LinearFit:
    """Logistic regression on the run's training split, its C picked on the validation split. Deterministic: the
    same splits and seed give the same model, so the evaluation and the deliverable are one model."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    text = splits.modality == "text"
    x_train: Any
    if text:
        from sklearn.feature_extraction.text import TfidfVectorizer

        # TF-IDF (word 1-2 grams, sublinear tf) + L2 logistic regression, the standard strong linear text baseline
        # (scikit-learn's text classification example; Wang & Manning 2012, ACL, "Baselines and Bigrams").
        front: Any = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(list(splits.x_train))
        x_train, y_train, note = list(splits.x_train), np.asarray(splits.y_train), ""
    else:
        from sklearn.preprocessing import StandardScaler

        x_train, y_train, note = _fit_sample(splits, seed)
        front = StandardScaler().fit(x_train)
    best_c, clf, val_acc = _pick_c(
        lambda c: LogisticRegression(C=c, max_iter=2000 if text else 1000, random_state=seed),
        front.transform(x_train),
        y_train,
        front.transform(_features(splits.x_val, text=text)),
        np.asarray(splits.y_val),
    )
    if text:
        model = "TF-IDF (word 1-2 grams) + logistic regression"
        how = f"scikit-learn TfidfVectorizer ({len(front.vocabulary_)} features, sublinear tf) + "
    else:
        model = "linear (logistic regression on flattened inputs)"
        how = f"{np.shape(x_train)[1]} standardised features{note} + "
    how += f"LogisticRegression (L2, C={best_c:g} picked on the validation split from {', '.join(map(str, LINEAR_C))}"
    how += f"{_capped_note(clf)})"
    return LinearFit(model=model, pipeline=make_pipeline(front, clf), how=how, val_accuracy=val_acc, text=text)


def _fit_sample(splits: Any, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """The flattened training split, or a seeded subsample of it when it is larger than `MAX_FIT_VALUES`."""
    x_train = np.asarray(splits.x_train, dtype=np.float32).reshape(len(splits.y_train), -1)
    y_train = np.asarray(splits.y_train)
    if x_train.size <= MAX_FIT_VALUES:
        return x_train, y_train, ""
    keep = max(splits.n_classes * 10, MAX_FIT_VALUES // x_train.shape[1])
    idx = np.random.default_rng(seed).permutation(len(y_train))[:keep]
    return (
        x_train[idx],
        y_train[idx],
        (f"; fitted on a seeded subsample of {len(idx)} training samples (flattened inputs are large)"),
    )


def linear_baseline(splits: Any, *, y_test: np.ndarray, x_test: Any, seed: int = 0) -> BaselineResult:
    """`fit_linear_baseline`, scored on (`x_test`, `y_test`): accuracy and log loss."""
    return score_linear(
        fit_linear_baseline(splits, seed=seed), x_test=x_test, y_test=y_test, n_classes=splits.n_classes
    )


def score_linear(fit: LinearFit, *, x_test: Any, y_test: np.ndarray, n_classes: int) -> BaselineResult:
    """The fitted linear baseline on the evaluated split: accuracy and log loss."""
    clf = fit.pipeline[-1]
    metrics = _proba_metrics(fit.pipeline.predict_proba(fit.features(x_test)), clf.classes_, y_test, n_classes)
    return BaselineResult(model=fit.model, metrics=metrics, val_accuracy=fit.val_accuracy, how=fit.how)


def _pick_c(make: Any, x: Any, y: np.ndarray, x_val: Any, y_val: np.ndarray) -> tuple[float, Any, float | None]:
    """The C with the best validation accuracy (ties to the C nearest 1), its model, and that accuracy."""
    if len(y_val) == 0:  # nothing to choose on: scikit-learn's default
        return 1.0, _fit_capped(make(1.0), x, y), None
    fitted = {c: _fit_capped(make(c), x, y) for c in LINEAR_C}
    scores = {c: float((m.predict(x_val) == y_val).mean()) for c, m in fitted.items()}
    best = max(LINEAR_C, key=lambda c: (scores[c], -abs(math.log10(c))))
    return best, fitted[best], scores[best]


@contextmanager
def capped_fits_quiet() -> Iterator[None]:
    """Inside it, a solver that stops at its iteration cap keeps its last iterate (what scikit-learn returns) without
    scikit-learn's ConvergenceWarning on the user's terminal: the linear baseline's `how` says so (`_capped_note`)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _fit_capped(model: Any, x: Any, y: np.ndarray) -> Any:
    """`model.fit(x, y)`, quiet about an iteration cap reached (`capped_fits_quiet`)."""
    with capped_fits_quiet():
        return model.fit(x, y)


def _capped_note(clf: Any) -> str:
    """'; lbfgs stopped at its cap of N iterations before converging' when the fitted model did, else ''."""
    if int(np.max(clf.n_iter_)) < clf.max_iter:
        return ""
    return f"; {clf.solver} stopped at its cap of {clf.max_iter} iterations before converging (last iterate used)"


def _proba_metrics(proba: Any, seen: Any, y: Any, n_classes: int) -> dict[str, float]:
    """Accuracy and log loss from probabilities over the classes seen in training (`seen`); a test class never seen
    in training gets probability ~0 (loss capped at -log(1e-12))."""
    y = np.asarray(y, dtype=np.int64)
    full = np.full((len(y), max(n_classes, int(y.max(initial=0)) + 1)), 1e-12)
    full[:, np.asarray(seen, dtype=np.int64)] = np.maximum(proba, 1e-12)
    picked = full[np.arange(len(y)), y]
    return {"accuracy": float((full.argmax(axis=1) == y).mean()), "log_loss": float(-np.log(picked).mean())}


def public_results(
    source: str | None, *, n_classes: int | None = None, n_test: int | None = None
) -> list[PublicResult]:
    """Published results for the run's dataset, as the knowledge base cites them.

    A built-in dataset is matched by name. Any other source (a folder or file whose name mentions a public dataset,
    e.g. "cifar10_subset_500") is matched only when its class count and test-set size are the published ones:
    published figures are for the full official test set, and comparing a subset with them would mislead.
    """
    from ..data import list_datasets
    from ..knowledge import find_dataset

    info = find_dataset(source) if source else None
    if info is None:
        return []
    builtin = str(source) in list_datasets()
    same_shape = (info.n_classes is None or info.n_classes == n_classes) and (
        info.n_test is not None and info.n_test == n_test
    )
    if not builtin and not same_shape:
        return []
    return [
        PublicResult(dataset=info.name, model=r.model, metric=r.metric, value=float(r.value), source=r.source)
        for r in info.results
    ]


def summarize(
    accuracy: float,
    majority: BaselineResult | None,
    linear: BaselineResult | None,
    public: list[PublicResult],
    strong: Sequence[BaselineResult] = (),
) -> list[str]:
    """The model against each baseline in one line each: points of accuracy above or below."""
    lines = []
    for b in (majority, linear, *strong):
        if b is not None and "accuracy" in b.metrics:
            diff = 100 * (accuracy - b.metrics["accuracy"])
            lines.append(f"{100 * accuracy:.1f}% vs {b.model} {100 * b.metrics['accuracy']:.1f}%: {diff:+.1f} points")
    for p in public:
        if p.metric == "accuracy":
            diff = 100 * accuracy - p.value
            lines.append(f"{100 * accuracy:.1f}% vs published {p.model} {p.value:g}% ({p.source}): {diff:+.1f} points")
    return lines
