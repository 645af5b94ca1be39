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

import numpy as np

from .._io import atomic_write_bytes
from ..errors import DlexpertError
from ..rundir import RunDir
from ..schema.evaluation import BaselineResult, Baselines, Deliverable, ValidationChoice

__all__ = ["NETWORK_MARGIN_Z", "TRUSTED_PREFIXES", "choose", "load_deliverable", "ship_baseline", "step4_verdict"]

# The network ships only when it beats the best baseline on the validation split by more than this many standard
# deviations of McNemar's paired statistic: (b - c) > z * sqrt(b + c), b and c the samples only one of the two gets
# right (McNemar 1947; Dietterich 1998, Neural Computation 10(7), the test it recommends for two classifiers on one
# split). z = 1 asks for a win beyond noise without demanding significance; a tie, or a win of one sample in seven,
# goes to the simpler model (Occam: the baseline is cheaper to run, explain and maintain).
NETWORK_MARGIN_Z = 1.0

# Module prefixes of the types a shipped baseline may hold besides scikit-learn's and numpy's (which skops trusts).
TRUSTED_PREFIXES = ("aeon.", "sklearn.", "numpy.", "builtins.", "collections.")


def ship_baseline(run_dir: str | Path, fitted: Any, result: BaselineResult, baselines: Baselines) -> Deliverable:
    """Save `fitted` (a `LinearFit` or `StrongFit`: the winner on validation) under RUN_DIR/deliverable/ and describe
    it for evaluation.json."""
    import skops.io as sio

    assert result.val_accuracy is not None and baselines.model_val_accuracy is not None
    estimator = getattr(fitted, "pipeline", None) or fitted.estimator
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


def choose(y_val: np.ndarray, network: np.ndarray, baselines: list[tuple[str, np.ndarray]]) -> ValidationChoice:
    """Network or best baseline, from their validation predictions (class indices). The best baseline is the most
    accurate one on validation (ties: the earlier, simpler one in `baselines`)."""
    y = np.asarray(y_val)
    accuracy = [float((pred == y).mean()) for _, pred in baselines]
    best = int(np.argmax(accuracy))
    key, pred = baselines[best]
    net_right, base_right = network == y, pred == y
    b, c = int((net_right & ~base_right).sum()), int((~net_right & base_right).sum())
    ships = (b - c) > NETWORK_MARGIN_Z * math.sqrt(b + c)
    return ValidationChoice(
        baseline=key, network_only_right=b, baseline_only_right=c, z=NETWORK_MARGIN_Z, network_ships=ships,
        rule=f"network ships when (b - c) > {NETWORK_MARGIN_Z:g} * sqrt(b + c) on the {len(y)} validation samples "
        f"(b = {b} right only by the network, c = {c} right only by the {key} baseline): "
        + ("it does" if ships else "it does not, so the simpler model ships"),
    )  # fmt: skip


def step4_verdict(winner: BaselineResult, b: Baselines) -> str:
    """Seed Step 4, said plainly when a baseline beats the model where the model was chosen."""
    assert winner.val_accuracy is not None and b.model_val_accuracy is not None
    rule = f"; {b.choice.rule}" if b.choice else ""
    return (
        f"Step 4: the trained model does not beat the {winner.model} baseline on the validation split "
        f"({100 * b.model_val_accuracy:.1f}% vs {100 * winner.val_accuracy:.1f}%{rule}): the simpler model is the "
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
