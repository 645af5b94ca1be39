"""`TrainConfig`: every knob of the training loop, with a commented default (nanoGPT style). No torch here.

The advisor's recipe (plan.json) is turned into one of these; `fit()` writes it to `config.yaml` and into every
checkpoint, so a run can always be traced back to the exact settings that produced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import InvalidInputError

__all__ = ["TrainConfig", "parse_train_config"]


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
    # --- optimizer; AdamW is the robust default for from-scratch and fine-tuning alike (Loshchilov & Hutter 2019)
    optimizer: Literal["sgd", "adamw"] = "adamw"
    lr: float = Field(1e-3, gt=0)  # peak learning rate (reached after warmup; OneCycle's max_lr)
    momentum: float = Field(0.9, ge=0, lt=1)  # SGD only
    nesterov: bool = False  # SGD only; needs momentum > 0
    weight_decay: float = Field(0.01, ge=0)  # never applied to biases and normalisation parameters
    # --- learning-rate schedule
    scheduler: Literal["cosine", "onecycle", "step", "plateau", "constant"] = "cosine"
    warmup_epochs: float = Field(0, ge=0)  # linear warmup; for onecycle it sets the rising fraction (pct_start)
    step_epochs: int | None = Field(None, ge=1)  # "step": decay every N epochs; default epochs // 3
    gamma: float = Field(0.1, gt=0, lt=1)  # "step" and "plateau": multiply the LR by this on each decay
    plateau_patience: int = Field(2, ge=0)  # "plateau": epochs without val_loss improvement before a decay
    # --- regularisation
    label_smoothing: float = Field(0.0, ge=0, lt=1)  # 0.1 is the usual value (Szegedy et al. 2016)
    mixup_alpha: float = Field(0.0, ge=0)  # Beta(alpha, alpha) mixing; 0.2 typical (Zhang et al. 2018)
    cutmix_alpha: float = Field(0.0, ge=0)  # 1.0 typical (Yun et al. 2019); images and 1-D sequences only
    ema: bool | float = False  # True -> decay 0.999; or the decay itself, e.g. 0.9998
    # --- numerics
    grad_clip: float | None = Field(None, gt=0)  # clip the global gradient L2 norm to this
    mixed_precision: Literal["none", "bf16", "fp16"] = "none"  # fp16 uses a GradScaler and needs CUDA
    # --- data
    balanced_sampling: bool = False  # draw classes equally often (WeightedRandomSampler semantics, seeded)
    num_workers: int = Field(0, ge=0)
    task: Literal["classification", "regression"] = "classification"
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
            raise ValueError("`warmup_epochs` is not supported with scheduler 'plateau'; use 'cosine' or 'onecycle'")
        if self.warmup_epochs >= self.epochs and self.scheduler != "constant":
            raise ValueError(f"`warmup_epochs` ({self.warmup_epochs}) must be below `epochs` ({self.epochs})")
        if self.strategy == "fsdp" and self.ema:
            raise ValueError("`ema` is not supported with strategy 'fsdp' (the EMA copy would not be sharded)")
        if self.task == "regression":
            used = [k for k in ("label_smoothing", "mixup_alpha", "cutmix_alpha") if getattr(self, k)]
            used += ["balanced_sampling"] if self.balanced_sampling else []
            if used:
                raise ValueError(f"{', '.join(f'`{k}`' for k in used)} only apply to task 'classification'")
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
