"""Seed Step 4 acted on: when a simple baseline beats the trained network on the validation split, the best baseline
is what the run ships.

The validation split is where every model choice is made (the test split decides nothing), so a network that loses
there has not earned its cost. The shipped baseline is the very estimator the evaluation scored, saved with skops,
scikit-learn's safe format: loading it runs no pickled code, and only the types listed in `TRUSTED` (aeon's
classifiers, for the series baselines) are accepted beside scikit-learn's and numpy's own. The trained network stays
where it was (`checkpoints/best.safetensors`), so the run keeps both; evaluation.json's `deliverable` and the model
card say which one to use and why.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .._io import atomic_write_bytes
from ..errors import DlexpertError
from ..rundir import RunDir
from ..schema.evaluation import BaselineResult, Baselines, Deliverable, ValidationChoice

__all__ = [
    "MIN_VAL_FOR_NETWORK", "NETWORK_MARGIN_Z", "SWITCH_ALPHA", "TRUSTED_PREFIXES", "choose", "gap_text",
    "load_deliverable", "pick_baseline", "score_text", "ship_baseline", "significant_gap", "step4_verdict",
]  # fmt: skip

# The network ships only when its validation accuracy beats the best baseline's score by more than this many standard
# errors of that accuracy (Agresti-Coull, so 7/7 still has an error bar; Agresti & Coull 1998). Below it the simpler
# model ships: the one-standard-error rule of CART (Breiman et al. 1984, Sec. 3.4.3) at half a standard error, since the
# network is the planned model and the baseline's score is the better-measured one (k-fold). On a 7-sample validation
# split the margin is 6 points, on 16 samples 3, on 400 samples 0.3. z = 1 shipped logistic regression (92.5%) over a
# 100% network on the LFW faces (16 validation samples): benchmarks/bench_real.py, issue 12 note.
NETWORK_MARGIN_Z = 0.5
# Below this many validation samples one sample moves the network's accuracy by more than 10 points, and the network
# is not compared at all: the cross-validated baseline ships. Issue 12: ArrowHead's 4-sample validation split shipped
# a 61% network over an 80% 1-NN on one seed (75-80% on the others). A one-sided exact binomial test at 5% instead
# also shipped logistic regression (96.1%) over a 99.2% network on digits (144 validation samples), so the margin rule
# stays above this size. A heuristic.
MIN_VAL_FOR_NETWORK = 10

# Module prefixes of the types a shipped baseline may hold besides scikit-learn's and numpy's (which skops trusts).
TRUSTED_PREFIXES = ("aeon.", "sklearn.", "numpy.", "builtins.", "collections.")


def ship_baseline(
    run_dir: str | Path, fitted: Any, result: BaselineResult, baselines: Baselines, *, first_model: str | None = None
) -> Deliverable:
    """Save `fitted` (a `LinearFit` or `StrongFit`: the winner on validation) under RUN_DIR/deliverable/ and describe
    it for evaluation.json. `first_model`: the baseline key the plan put before the network (`TaskChoice`)."""
    import skops.io as sio

    assert result.val_accuracy is not None and baselines.model_val_accuracy is not None
    estimator = fitted.estimator
    name = result.key or "linear"
    rel = f"{RunDir.DELIVERABLE}/{name}.skops"
    path = RunDir(run_dir) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, sio.dumps(estimator))
    prepare = _prepare(fitted)
    regression = baselines.metric == "r2"
    return Deliverable(
        model=result.model,
        path=rel,
        format="skops",
        metric=baselines.metric,
        inputs=_inputs(fitted),
        layout=_layout(fitted),
        val_accuracy=result.val_accuracy,
        model_val_accuracy=baselines.model_val_accuracy,
        test_accuracy=result.metrics.get(baselines.metric),  # no R2 on a test split of equal targets
        reason=step4_verdict(result, baselines, first_model=first_model),
        load=(
            "import skops.io as sio\n"
            f'untrusted = sio.get_untrusted_types(file="{rel}")  # review: only aeon/scikit-learn types\n'
            f'model = sio.load("{rel}", trusted=untrusted)\n'
            f"{'predicted_value' if regression else 'predicted_class_index'} = model.predict({prepare})"
        ),
    )


def score_text(value: float, metric: str = "accuracy") -> str:
    """A Step-4 score for people: accuracy in percent, R^2 as a number."""
    return f"{100 * value:.1f}%" if metric == "accuracy" else f"R2 {value:.3f}"


def gap_text(value: float, metric: str = "accuracy") -> str:
    """A difference of two Step-4 scores: percentage points of accuracy, or R^2."""
    return f"{100 * value:.1f}-point" if metric == "accuracy" else f"{value:.3f} R2"


# Step 4 keeps the modality's preferred baseline unless another one scores higher in the k-fold with this one-sided
# significance (the corrected resampled t-test below).
SWITCH_ALPHA = 0.05


def pick_baseline(
    scores: list[tuple[str, float]], folds: dict[str, list[float]] | None = None, k: int = 5, metric: str = "accuracy"
) -> tuple[int, str]:
    """Which baseline Step 4 weighs against the network: the index in `scores` ((key, score) in order of preference:
    `strong.preference_order`) and why. The first baseline that the best-scoring one does not beat significantly, by a
    one-sided corrected resampled t-test on their fold-by-fold differences at `SWITCH_ALPHA` (repeated k-fold's
    variance corrected for overlapping training sets: Nadeau & Bengio 2003, Machine Learning 52; Bouckaert & Frank
    2004, PAKDD). A preference published over a hundred datasets is not overturned by noise of a k-fold on 20
    samples. Without per-fold scores (a single validation split) only an exact tie goes to the preferred one."""
    best = max(range(len(scores)), key=lambda i: (scores[i][1], -i))
    best_key, best_score = scores[best]
    for i, (key, score) in enumerate(scores[:best]):
        diffs = [b - c for b, c in zip((folds or {}).get(best_key, []), (folds or {}).get(key, []), strict=False)]
        needed = significant_gap(diffs, k)
        if best_score - score <= needed:
            return i, (
                f"{key} ({score_text(score, metric)}) before {best_key} ({score_text(best_score, metric)}): {key} "
                f"comes first in the order of preference, and a {gap_text(best_score - score, metric)} gap over "
                f"{len(diffs)} folds is not significant (it would take {gap_text(needed, metric)}: one-sided "
                f"corrected resampled t-test, p < {SWITCH_ALPHA:g})"
            )
    return best, f"{best_key} has the best score ({score_text(best_score, metric)})"


def significant_gap(diffs: list[float], k: int) -> float:
    """The mean fold-by-fold difference a one-sided corrected resampled t-test calls significant at `SWITCH_ALPHA`:
    t(1 - alpha, J - 1) x the standard error with Nadeau & Bengio's correction (1/J + 1/(k - 1)). 0 below 2 folds."""
    if len(diffs) < 2 or k < 2:
        return 0.0
    from scipy.stats import t

    mean = sum(diffs) / len(diffs)
    variance = sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1)
    se = math.sqrt(variance * (1 / len(diffs) + 1 / (k - 1)))
    return float(t.ppf(1 - SWITCH_ALPHA, len(diffs) - 1)) * se


def choose(
    network_val_accuracy: float,
    n_val: int,
    baselines: list[tuple[str, float]],
    *,
    scored_by: str,
    folds: dict[str, list[float]] | None = None,
    k: int = 5,
    settled: float | None = None,
) -> ValidationChoice:
    """Network or baseline. `baselines`: (key, score) in order of preference; `pick_baseline` names the one to weigh
    (from `folds`, each baseline's k-fold scores, when the data was cross-validated). The network's accuracy is the
    lower of its checkpoint's and the `settled` one around it (`evaluate.settled_val_accuracy`). The network ships when
    that exceeds the baseline's score by `NETWORK_MARGIN_Z` standard errors, and never on fewer than
    `MIN_VAL_FOR_NETWORK` validation samples."""
    picked, why = pick_baseline(baselines, folds, k)
    key, score = baselines[picked]
    accuracy = network_val_accuracy if settled is None else min(network_val_accuracy, settled)
    common = {"baseline": key, "baseline_score": score, "scored_by": scored_by, "scores": dict(baselines),
              "baseline_rule": why, "network_val_accuracy": network_val_accuracy, "network_settled_accuracy": settled,
              "n_val": n_val}  # fmt: skip
    network = f"{100 * network_val_accuracy:.1f}% of {n_val}"
    if accuracy < network_val_accuracy:
        network += f", {100 * accuracy:.1f}% settled over the evaluations around the checkpoint"
    p = (accuracy * n_val + 2) / (n_val + 4)  # Agresti-Coull: add two successes and two failures
    margin = NETWORK_MARGIN_Z * math.sqrt(p * (1 - p) / (n_val + 4))
    if n_val < MIN_VAL_FOR_NETWORK:
        return ValidationChoice(
            **common, margin=1.0 - score, network_ships=False,
            rule=f"the validation split has {n_val} samples, fewer than {MIN_VAL_FOR_NETWORK}: the network's "
            f"{100 * network_val_accuracy:.1f}% there cannot tell it from the baseline ({key}: "
            f"{100 * score:.1f}%, {scored_by}); the cross-validated baseline ships",
        )  # fmt: skip
    ships = accuracy - score > margin
    return ValidationChoice(
        **common, margin=margin, network_ships=ships,
        rule=f"the network ships when its validation accuracy ({network}) beats the baseline ({key}: "
        f"{100 * score:.1f}%, {scored_by}) by more than {100 * margin:.1f} points ({NETWORK_MARGIN_Z:g} standard "
        "error): " + ("it does" if ships else "it does not; the simpler model ships"),
    )  # fmt: skip


def step4_verdict(winner: BaselineResult, b: Baselines, *, first_model: str | None = None) -> str:
    """Seed Step 4, said plainly when a baseline beats the model where the model was chosen. When the plan put a
    baseline first (`first_model`, tables' trees), the network was its challenger and lost: that is the plan working,
    not a network to fix."""
    assert winner.val_accuracy is not None and b.model_val_accuracy is not None
    rule = f" ({b.choice.rule})" if b.choice else ""
    if first_model is not None:
        which = "the plan's first model" if winner.key == first_model else (
            f"the plan's first model was {first_model}; " + (b.choice.baseline_rule if b.choice else "it scored lower")
        )  # fmt: skip
        return f"Step 4: the {winner.model} ships ({which}); the challenger network does not beat it{rule}"
    return (
        f"Step 4: the trained model does not beat the {winner.model} baseline{rule}: the simpler model is the "
        "better deliverable for this data until the deep model is fixed (see the diagnosis)"
    )


def load_deliverable(run_dir: str | Path, path: str | None = None) -> Any:
    """The shipped baseline (evaluation.json's `deliverable.path`), refusing types from outside `TRUSTED_PREFIXES`."""
    import skops.io as sio

    run = RunDir(run_dir)
    rel = path or (run.evaluation().deliverable.path if run.evaluation().deliverable else None)  # type: ignore[union-attr]
    if rel is None:
        raise DlexpertError(
            f"{run.path}: ships the trained network, not a baseline (evaluation.json has no deliverable)"
        )
    file = run / rel
    untrusted = sio.get_untrusted_types(file=file)
    foreign = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if foreign:
        raise DlexpertError(f"{file}: holds types from outside aeon/scikit-learn ({', '.join(foreign)}); not loaded")
    return sio.load(file, trusted=untrusted)


def _layout(fitted: Any) -> str:
    """How the estimator reads its inputs: "text", or a `strong.features` layout ("flat", "series", "series_flat")."""
    return "text" if getattr(fitted, "text", False) else getattr(fitted, "layout", "flat")


def _inputs(fitted: Any) -> str:
    layout = _layout(fitted)
    if layout == "text":
        return "a list of raw texts"
    if layout in {"series", "series_flat"}:
        shape = "(N, C, L)" if layout == "series" else "(N, C * L)"
        return f"float64 series z-normalised per series and channel, shape {shape}"
    return "float32 samples flattened to one vector each, shape (N, D), as dlexpert.data.load_data returns them"


def _prepare(fitted: Any) -> str:
    """The Python that turns the loaded data `x` into what the estimator reads."""
    layout = _layout(fitted)
    if layout == "text":
        return "texts"
    if layout == "flat":
        return "x.reshape(len(x), -1)"
    return f"dlexpert.report.strong.features(x, {layout!r})"
