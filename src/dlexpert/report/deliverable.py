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

from pathlib import Path
from typing import Any

from .._io import atomic_write_bytes
from ..errors import DlexpertError
from ..rundir import RunDir
from ..schema.evaluation import BaselineResult, Baselines, Deliverable, ValidationChoice

__all__ = ["NETWORK_ALPHA", "TRUSTED_PREFIXES", "choose", "load_deliverable", "ship_baseline", "step4_verdict"]

# The network ships only when its validation accuracy is significantly above the best baseline's score: a one-sided
# exact binomial test of its n_val validation predictions against that score, at 5%. The baseline's score is the
# better-measured one (repeated k-fold on all of train + validation), so it is taken as the null accuracy. Otherwise
# the simpler model ships (seed Step 4; the spirit of CART's one-standard-error rule, Breiman et al. 1984, 3.4.3).
# On a 4-sample validation split nothing is significant (4/4 happens 41% of the time at a true 80%): issue 12's
# ArrowHead shipped a 61% network over an 80% 1-NN when half a standard error was the bar.
NETWORK_ALPHA = 0.05

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
    simpler one. The network ships when its validation accuracy is significantly above that score (`NETWORK_ALPHA`,
    one-sided exact binomial test); `margin` is how far above the score the accuracy had to be."""
    best = max(range(len(baselines)), key=lambda i: (baselines[i][1], -i))
    key, score = baselines[best]
    needed = _correct_needed(n_val, score)
    correct = round(network_val_accuracy * n_val)
    ships = n_val > 0 and correct >= needed
    need_text = (
        f"it needs {needed} of {n_val} correct" if needed <= n_val else f"no result on {n_val} samples would be enough"
    )
    return ValidationChoice(
        baseline=key, baseline_score=score, scored_by=scored_by, network_val_accuracy=network_val_accuracy,
        n_val=n_val, margin=needed / max(n_val, 1) - score, network_ships=ships,
        rule=f"the network ships when its validation accuracy ({100 * network_val_accuracy:.1f}% of {n_val}) is "
        f"significantly above the best baseline's ({key}: {100 * score:.1f}%, {scored_by}; one-sided exact binomial "
        f"test at {NETWORK_ALPHA:.0%}: {need_text}): "
        + ("it is" if ships else "it is not; the simpler model ships"),
    )  # fmt: skip


def _correct_needed(n: int, null_accuracy: float) -> int:
    """The fewest correct of `n` that a model of accuracy `null_accuracy` reaches with chance <= NETWORK_ALPHA
    (n + 1 when no count is that unlikely)."""
    from scipy.stats import binom

    return min(int(binom.isf(NETWORK_ALPHA, n, null_accuracy)) + 1, n + 1)  # isf: the smallest x with P(X > x) <= a


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
