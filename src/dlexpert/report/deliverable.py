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
    "MIN_VAL_FOR_NETWORK", "NETWORK_MARGIN_Z", "TRUSTED_PREFIXES", "choose", "load_deliverable", "ship_baseline",
    "step4_verdict",
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


def ship_baseline(run_dir: str | Path, fitted: Any, result: BaselineResult, baselines: Baselines) -> Deliverable:
    """Save `fitted` (a `LinearFit` or `StrongFit`: the winner on validation) under RUN_DIR/deliverable/ and describe
    it for evaluation.json."""
    import skops.io as sio

    assert result.val_accuracy is not None and baselines.model_val_accuracy is not None
    estimator = fitted.estimator
    name = result.key or "linear"
    rel = f"{RunDir.DELIVERABLE}/{name}.skops"
    path = RunDir(run_dir) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, sio.dumps(estimator))
    prepare = _prepare(fitted)
    return Deliverable(
        model=result.model,
        path=rel,
        format="skops",
        inputs=_inputs(fitted),
        val_accuracy=result.val_accuracy,
        model_val_accuracy=baselines.model_val_accuracy,
        test_accuracy=result.metrics["accuracy"],
        reason=step4_verdict(result, baselines),
        load=(
            "import skops.io as sio\n"
            f'untrusted = sio.get_untrusted_types(file="{rel}")  # review: only aeon/scikit-learn types\n'
            f'model = sio.load("{rel}", trusted=untrusted)\n'
            f"predicted_class_index = model.predict({prepare})"
        ),
    )


def choose(
    network_val_accuracy: float, n_val: int, baselines: list[tuple[str, float]], *, scored_by: str
) -> ValidationChoice:
    """Network or best baseline. `baselines`: (key, score) in order of simplicity; the best score wins, ties to the
    simpler one. The network ships when its validation accuracy exceeds that score by `NETWORK_MARGIN_Z` standard
    errors, and never on fewer than `MIN_VAL_FOR_NETWORK` validation samples."""
    best = max(range(len(baselines)), key=lambda i: (baselines[i][1], -i))
    key, score = baselines[best]
    p = (network_val_accuracy * n_val + 2) / (n_val + 4)  # Agresti-Coull: add two successes and two failures
    margin = NETWORK_MARGIN_Z * math.sqrt(p * (1 - p) / (n_val + 4))
    if n_val < MIN_VAL_FOR_NETWORK:
        return ValidationChoice(
            baseline=key, baseline_score=score, scored_by=scored_by, scores=dict(baselines),
            network_val_accuracy=network_val_accuracy, n_val=n_val, margin=1.0 - score, network_ships=False,
            rule=f"the validation split has {n_val} samples, fewer than {MIN_VAL_FOR_NETWORK}: the network's "
            f"{100 * network_val_accuracy:.1f}% there cannot tell it from the best baseline ({key}: "
            f"{100 * score:.1f}%, {scored_by}); the cross-validated baseline ships",
        )  # fmt: skip
    ships = network_val_accuracy - score > margin
    return ValidationChoice(
        baseline=key, baseline_score=score, scored_by=scored_by, scores=dict(baselines),
        network_val_accuracy=network_val_accuracy, n_val=n_val, margin=margin, network_ships=ships,
        rule=f"the network ships when its validation accuracy ({100 * network_val_accuracy:.1f}% of {n_val}) beats "
        f"the best baseline ({key}: {100 * score:.1f}%, {scored_by}) by more than {100 * margin:.1f} points "
        f"({NETWORK_MARGIN_Z:g} standard error): " + ("it does" if ships else "it does not; the simpler model ships"),
    )  # fmt: skip


def step4_verdict(winner: BaselineResult, b: Baselines) -> str:
    """Seed Step 4, said plainly when a baseline beats the model where the model was chosen."""
    assert winner.val_accuracy is not None and b.model_val_accuracy is not None
    rule = f" ({b.choice.rule})" if b.choice else ""
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


def _inputs(fitted: Any) -> str:
    layout = getattr(fitted, "layout", None)
    if getattr(fitted, "text", False):
        return "a list of raw texts"
    if layout in {"series", "series_flat"}:
        shape = "(N, C, L)" if layout == "series" else "(N, C * L)"
        return f"float64 series z-normalised per series and channel, shape {shape}"
    return "float32 samples flattened to one vector each, shape (N, D), as dlexpert.data.load_data returns them"


def _prepare(fitted: Any) -> str:
    """The Python that turns the loaded data `x` into what the estimator reads."""
    if getattr(fitted, "text", False):
        return "texts"
    if getattr(fitted, "layout", "flat") == "flat":
        return "x.reshape(len(x), -1)"
    return f"dlexpert.report.strong.features(x, {fitted.layout!r})"
