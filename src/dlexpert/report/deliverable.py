"""Seed Step 4 acted on: when the linear baseline beats the trained network on the validation split, the baseline is
what the run ships.

The validation split is where every model choice is made (the test split decides nothing), so a network that loses
there has not earned its cost. The baseline is the same scikit-learn pipeline the evaluation scored
(`fit_linear_baseline` is deterministic), saved with skops, scikit-learn's safe format: loading it runs no pickled
code, and `skops.io.get_untrusted_types` lists anything that is not a plain scikit-learn/numpy type. The trained
network stays where it was (`checkpoints/best.safetensors`), so the run keeps both; evaluation.json's `deliverable`
and the model card say which one to use and why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._io import atomic_write_bytes
from ..rundir import RunDir
from ..schema.evaluation import Baselines, Deliverable
from .baselines import fit_linear_baseline

__all__ = ["load_deliverable", "ship_linear_baseline", "step4_verdict"]


def ship_linear_baseline(run_dir: str | Path, splits: Any, baselines: Baselines, *, seed: int) -> Deliverable:
    """Save the linear baseline as RUN_DIR/deliverable/linear-baseline.skops and describe it."""
    import skops.io as sio

    linear = baselines.linear
    assert linear is not None and linear.val_accuracy is not None and baselines.model_val_accuracy is not None
    fit = fit_linear_baseline(splits, seed=seed)
    path = RunDir(run_dir) / RunDir.DELIVERABLE
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, sio.dumps(fit.pipeline))
    inputs = (
        "a list of raw texts"
        if fit.text
        else f"float32 samples flattened to {_n_features(fit)} values each (x.reshape(len(x), -1)), as loaded by "
        "dlexpert.data.load_data"
    )
    return Deliverable(
        model=fit.model,
        path=RunDir.DELIVERABLE,
        format="skops",
        inputs=inputs,
        val_accuracy=linear.val_accuracy,
        model_val_accuracy=baselines.model_val_accuracy,
        test_accuracy=linear.metrics["accuracy"],
        reason=step4_verdict(baselines),
        load=(
            "import skops.io as sio\n"
            f'model = sio.load("{RunDir.DELIVERABLE}", trusted=sio.get_untrusted_types(file="{RunDir.DELIVERABLE}"))'
            "  # review the list: empty for this pipeline\n"
            "predicted_class_index = model.predict(" + ("texts" if fit.text else "x.reshape(len(x), -1)") + ")"
        ),
    )


def step4_verdict(b: Baselines) -> str:
    """Seed Step 4, said plainly when the model loses to the linear baseline where the model was chosen."""
    assert b.linear is not None and b.linear.val_accuracy is not None and b.model_val_accuracy is not None
    return (
        f"Step 4: the linear baseline beats the trained model on the validation split "
        f"({100 * b.linear.val_accuracy:.1f}% vs {100 * b.model_val_accuracy:.1f}%, {b.linear.model}): the simpler "
        "model is the better deliverable for this data until the deep model is fixed (see the diagnosis)"
    )


def load_deliverable(run_dir: str | Path) -> Any:
    """The saved baseline pipeline, refusing any type that is not scikit-learn's or numpy's own."""
    import skops.io as sio

    path = RunDir(run_dir) / RunDir.DELIVERABLE
    untrusted = sio.get_untrusted_types(file=path)
    if untrusted:
        from ..errors import DlexpertError

        raise DlexpertError(f"{path}: holds types that are not scikit-learn's own ({', '.join(untrusted)}); not loaded")
    return sio.load(path, trusted=[])


def _n_features(fit: Any) -> int:
    return int(fit.pipeline[0].n_features_in_)
