"""`TrainConfig`: every knob of the training loop, with a commented default (nanoGPT style). No torch here.

The advisor's recipe (plan.json) is turned into one of these; `fit()` writes it to `config.yaml` and into every
checkpoint, so a run can always be traced back to the exact settings that produced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .._io import atomic_write_text
from ..errors import DlexpertError, InvalidInputError
from ..rundir import RunDir

__all__ = [
    "CHANGEABLE_SETTINGS",
    "ConfigChange",
    "TrainConfig",
    "parse_train_config",
    "planned_settings",
    "recorded_changes",
    "write_config",
]


class TrainConfig(BaseModel):
    """The resolved training recipe. Frozen: derive variants with `cfg.model_copy(update={...})`.

    Example:
        >>> cfg = TrainConfig(epochs=20, lr=3e-3, scheduler="onecycle")
        >>> cfg.ema_decay is None
        True
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- length and batch
    epochs: int = Field(10, ge=1)
    batch_size: int = Field(64, ge=1)
    accumulation: int = Field(1, ge=1)  # optimizer step every `accumulation` batches: effective batch = product
    # --- optimizer; AdamW is the robust default for from-scratch and fine-tuning alike (Loshchilov & Hutter 2019).
    # "adam" is Adam with L2 weight decay (Kingma & Ba 2015), for recipes tuned with it.
    optimizer: Literal["sgd", "adamw", "adam"] = "adamw"
    lr: float = Field(1e-3, gt=0)  # peak learning rate (reached after warmup; OneCycle's max_lr)
    momentum: float = Field(0.9, ge=0, lt=1)  # SGD only
    nesterov: bool = False  # SGD only; needs momentum > 0
    weight_decay: float = Field(0.01, ge=0)  # never applied to biases and normalisation parameters
    # --- learning-rate schedule
    scheduler: Literal["cosine", "linear", "poly", "onecycle", "step", "plateau", "constant"] = "cosine"
    warmup_epochs: float = Field(0, ge=0)  # linear warmup; for onecycle it sets the rising fraction (pct_start)
    step_epochs: int | None = Field(None, ge=1)  # "step": decay every N epochs; default epochs // 3
    # "step": decay at the start of these epochs instead (MultiStepLR; e.g. WRN's 60/120/160 of 200, arXiv 1605.07146)
    lr_milestones: list[int] | None = None
    gamma: float = Field(0.1, gt=0, lt=1)  # "step" and "plateau": multiply the LR by this on each decay
    plateau_patience: int = Field(2, ge=0)  # "plateau": epochs without val_loss improvement before a decay
    poly_power: float = Field(0.9, gt=0)  # "poly": lr * (1 - progress) ** power; 0.9 from DeepLab (Chen et al. 2017)
    # --- regularisation
    label_smoothing: float = Field(0.0, ge=0, lt=1)  # 0.1 is the usual value (Szegedy et al. 2016)
    # segmentation: loss = cross-entropy + dice_weight x soft Dice over the classes (nnU-Net's "CE + Dice", weight 1;
    # Isensee et al. 2021, arXiv 1809.10486): Dice weighs each class equally, whatever its pixel share
    dice_weight: float = Field(0.0, ge=0)
    mixup_alpha: float = Field(0.0, ge=0)  # Beta(alpha, alpha) mixing; 0.2 typical (Zhang et al. 2018)
    cutmix_alpha: float = Field(0.0, ge=0)  # 1.0 typical (Yun et al. 2019); images and 1-D sequences only
    ema: bool | float = False  # True -> decay 0.999; or the decay itself, e.g. 0.9998
    # --- numerics
    grad_clip: float | None = Field(None, gt=0)  # clip the global gradient L2 norm to this
    mixed_precision: Literal["none", "bf16", "fp16"] = "none"  # fp16 uses a GradScaler and needs CUDA
    # --- data
    balanced_sampling: bool = False  # draw classes equally often (WeightedRandomSampler semantics, seeded)
    num_workers: int = Field(0, ge=0)
    # segmentation: per pixel; detection: a torchvision detector that returns its loss terms in training mode
    task: Literal["classification", "regression", "segmentation", "detection"] = "classification"
    # --- control and logging
    early_stopping_patience: int | None = Field(None, ge=1)  # epochs without improvement before stopping
    seed: int = Field(0, ge=0)
    log_every_steps: int = Field(50, ge=1)  # one metrics.jsonl / TensorBoard row every N optimizer steps
    checkpoint_every_epochs: int | None = Field(None, ge=1)  # also keep checkpoints/epoch_NNN.pt every N epochs
    # --- several processes (`dlexpert train --nproc N`); `batch_size` stays the global batch, split across ranks
    strategy: Literal["auto", "ddp", "fsdp"] = "auto"  # auto: DDP; FSDP when the plan says the model needs sharding

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if isinstance(self.ema, float) and not isinstance(self.ema, bool) and not 0 < self.ema < 1:
            raise ValueError(f"`ema` must be true/false or a decay between 0 and 1; got {self.ema}")
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):
            raise ValueError("`nesterov` needs optimizer 'sgd' with momentum > 0")
        if self.scheduler == "plateau" and self.warmup_epochs > 0:
            raise ValueError(
                "`warmup_epochs` is not supported with scheduler 'plateau'; use cosine, linear, poly, onecycle, step "
                "or constant"
            )
        if self.lr_milestones is not None and (
            sorted(set(self.lr_milestones)) != self.lr_milestones
            or not all(self.warmup_epochs < m < self.epochs for m in self.lr_milestones)
        ):
            raise ValueError(
                f"`lr_milestones` must be increasing epochs after the warmup and before `epochs` ({self.epochs}); "
                f"got {self.lr_milestones}"
            )
        if self.warmup_epochs >= self.epochs and self.scheduler != "constant":
            raise ValueError(f"`warmup_epochs` ({self.warmup_epochs}) must be below `epochs` ({self.epochs})")
        if self.strategy == "fsdp" and self.ema:
            raise ValueError("`ema` is not supported with strategy 'fsdp' (the EMA copy would not be sharded)")
        if self.task == "regression":
            used = [k for k in ("label_smoothing", "mixup_alpha", "cutmix_alpha") if getattr(self, k)]
            used += ["balanced_sampling"] if self.balanced_sampling else []
            if used:
                raise ValueError(f"{', '.join(f'`{k}`' for k in used)} only apply to task 'classification'")
        if self.task == "segmentation":  # one label per pixel: image-level mixing and class sampling do not apply
            used = [k for k in ("mixup_alpha", "cutmix_alpha") if getattr(self, k)]
            used += ["balanced_sampling"] if self.balanced_sampling else []
            if used:
                raise ValueError(f"{', '.join(f'`{k}`' for k in used)} do not apply to task 'segmentation'")
        elif self.dice_weight:
            raise ValueError("`dice_weight` applies to task 'segmentation' only")
        if self.task == "detection":  # the detector computes its own losses; image-level mixing does not apply
            used = [k for k in ("mixup_alpha", "cutmix_alpha", "label_smoothing") if getattr(self, k)]
            used += ["balanced_sampling"] if self.balanced_sampling else []
            used += ["scheduler 'plateau' (it reads a validation loss)"] if self.scheduler == "plateau" else []
            if used:
                raise ValueError(f"{', '.join(used)} do not apply to task 'detection'")
        return self

    @property
    def ema_decay(self) -> float | None:
        """The EMA decay, or None when EMA is off."""
        if self.ema is True:
            return 0.999
        if self.ema is False:
            return None
        return float(self.ema)

    @property
    def monitor(self) -> tuple[str, str]:
        """The validation metric that decides the best checkpoint and early stopping, and its direction."""
        if self.task == "segmentation":
            return ("val_miou", "max")
        if self.task == "detection":
            return ("val_map", "max")
        return ("val_acc", "max") if self.task == "classification" else ("val_loss", "min")


def parse_train_config(data: Mapping[str, Any], *, source: str = "train config") -> TrainConfig:
    """Validate a mapping (from YAML, JSON or a plan) into a `TrainConfig`; errors become one-line messages.

    Example:
        >>> parse_train_config({"epochs": 5, "optimizer": "sgd"}).optimizer
        'sgd'
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"{source}: expected a mapping of settings; got {type(data).__name__}")
    try:
        return TrainConfig(**data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        got = f"; got {err['input']!r}" if where and err["type"] != "extra_forbidden" else ""
        if err["type"] == "extra_forbidden":
            msg = f"unknown setting; valid settings are {', '.join(TrainConfig.model_fields)}"
        raise InvalidInputError(f"{source}: {f'`{where}` ' if where else ''}{msg}{got}") from None


# Settings a running loop takes up at once: `lr` (the optimizer's rates and the rest of the schedule are rescaled)
# and `grad_clip` (read at every optimizer step). Any other setting shapes the whole run and needs a new one.
CHANGEABLE_SETTINGS = ("grad_clip", "lr")


class ConfigChange(BaseModel):
    """A change of training settings during a run, asked for by a callback (a live monitor, the auto-remedy) with
    `FitState.request_change`. The loop applies it, stamps `epoch`, `step` and `before` (the values it replaced),
    and records it under `changes` in config.yaml and in every checkpoint; `fit(resume=True)` applies the recorded
    changes again. Values are absolute, not factors, so applying a change twice gives the same settings.

    Example:
        >>> change = ConfigChange(settings={"grad_clip": 1.0}, reason="the loss became NaN at step 9", by="AutoRemedy")
        >>> change.apply(TrainConfig()).grad_clip
        1.0
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    settings: dict[str, Any]  # new values of TrainConfig fields, among CHANGEABLE_SETTINGS
    reason: str  # why, written for the user: the finding or rule that asked for it
    by: str  # who asked: the callback's name
    epoch: int | None = None  # 0-based epoch and optimizer steps taken when it was applied (stamped by the loop)
    step: int | None = None
    before: dict[str, Any] = Field(default_factory=dict)  # the values it replaced (stamped by the loop)

    @field_validator("settings")
    @classmethod
    def _changeable(cls, settings: dict[str, Any]) -> dict[str, Any]:
        wrong = sorted(set(settings) - set(CHANGEABLE_SETTINGS))
        if wrong or not settings:
            valid = ", ".join(CHANGEABLE_SETTINGS)
            raise ValueError(f"only {valid} can change during a run; got {', '.join(wrong) or 'no setting'}")
        return settings

    def apply(self, cfg: TrainConfig) -> TrainConfig:
        """`cfg` with these settings, validated like any TrainConfig (a bad value is a one-line error)."""
        return parse_train_config({**cfg.model_dump(), **self.settings}, source=f"change by {self.by}")


def planned_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The train settings a run was planned with: a resolved config's `train` (the settings in effect) with its
    recorded `changes` undone, newest first. `_check_resume` compares a resumed run's settings with these."""
    planned = dict(config.get("train") or {})
    for change in reversed(config.get("changes") or []):
        planned.update(change.get("before") or {})
    return planned


def recorded_changes(config: Mapping[str, Any]) -> list[ConfigChange]:
    """The changes a resolved config records, oldest first (none in configs written before changes existed)."""
    try:
        return [ConfigChange.model_validate(c) for c in config.get("changes") or []]
    except ValidationError as e:
        raise DlexpertError(f"config: `changes` holds an invalid entry ({e.errors()[0]['msg']})") from None


def write_config(out_dir: str | Path, config: Mapping[str, Any]) -> Path:
    """Write the resolved config to RUN_DIR/config.yaml, atomically (a reader sees the old file or the new one)."""
    return atomic_write_text(RunDir(out_dir) / RunDir.CONFIG, yaml.safe_dump(dict(config), sort_keys=False))
