"""Optimizer and learning-rate scheduler factories (timm's `create_optimizer_v2` / `create_scheduler` shape)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.optim.lr_scheduler import (
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

from ..errors import InvalidInputError
from .config import TrainConfig

__all__ = ["create_optimizer", "create_scheduler", "param_groups", "scale_lr"]


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: weights get `weight_decay`; biases and normalisation parameters (ndim <= 1) get none.

    Decaying a bias or a norm's gain only shrinks the model's scale freedom and hurts (timm's
    `param_groups_weight_decay`; "Bag of Tricks", He et al. 2019, section 3.1).
    """
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


# One builder per `TrainConfig.optimizer` name; weight decay comes per group from `param_groups`.
OPTIMIZERS: dict[str, Callable[[list[dict], TrainConfig], torch.optim.Optimizer]] = {
    "sgd": lambda groups, cfg: torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov),
    # Decoupled weight decay (Loshchilov & Hutter 2019): the decay does not pass through Adam's scaling.
    "adamw": lambda groups, cfg: torch.optim.AdamW(groups, lr=cfg.lr),
    # Adam's weight_decay is an L2 term added to the gradient (Kingma & Ba 2015), which is what the recipes that
    # name Adam were tuned with; AdamW in its place would change the regularisation they report.
    "adam": lambda groups, cfg: torch.optim.Adam(groups, lr=cfg.lr),
}


def create_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """SGD (momentum, optional Nesterov), AdamW or Adam over `param_groups(model, cfg.weight_decay)`.

    Example:
        >>> opt = create_optimizer(torch.nn.Linear(4, 2), TrainConfig(optimizer="sgd", lr=0.1))  # doctest: +SKIP
    """
    groups = param_groups(model, cfg.weight_decay)
    if not groups:
        raise InvalidInputError("model: has no trainable parameters; unfreeze at least one layer")
    return OPTIMIZERS[cfg.optimizer](groups, cfg)


# The LR factor after warmup, as a function of the progress p in [0, 1] through the rest of the run.
DECAYS: dict[str, Callable[[float, TrainConfig], float]] = {
    # Half a cosine down to 0: SGDR (Loshchilov & Hutter 2017) without restarts.
    "cosine": lambda p, cfg: 0.5 * (1.0 + math.cos(math.pi * p)),
    # Straight down to 0: BERT's schedule (Devlin et al. 2019), Hugging Face's get_linear_schedule_with_warmup.
    "linear": lambda p, cfg: 1.0 - p,
    # (1 - p)^power: DeepLab's "poly" policy (Chen et al. 2017), power 0.9.
    "poly": lambda p, cfg: (1.0 - p) ** cfg.poly_power,
    "constant": lambda p, cfg: 1.0,
}


def create_scheduler(
    optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int
) -> LRScheduler | ReduceLROnPlateau:
    """The LR schedule, stepped once per optimizer step; except "plateau", stepped once per epoch with val_loss.

    - cosine: linear warmup over `warmup_epochs`, then half a cosine down to 0 at the last step (SGDR, Loshchilov &
      Hutter 2017, without restarts).
    - linear: linear warmup, then a straight line down to 0 at the last step (BERT, Devlin et al. 2019).
    - poly: linear warmup, then `(1 - progress) ** poly_power` down to 0 (DeepLab, Chen et al. 2017).
    - onecycle: `OneCycleLR` up to `lr` and down again (Smith & Topin 2018); `warmup_epochs` sets the rising part.
    - step: multiply by `gamma` at the start of each epoch in `lr_milestones`, or every `step_epochs` epochs, after an
      optional linear warmup.
    - plateau: `ReduceLROnPlateau` on val_loss, by `gamma` after `plateau_patience` epochs without improvement.
    - constant: `lr` after an optional linear warmup.
    """
    total = cfg.epochs * steps_per_epoch
    warmup = round(cfg.warmup_epochs * steps_per_epoch)
    if cfg.scheduler == "onecycle":
        pct = cfg.warmup_epochs / cfg.epochs if cfg.warmup_epochs else 0.3  # 0.3: PyTorch's and Smith's default
        # OneCycleLR divides by each phase's length, pct x steps - 1 and then the rest: on a schedule of a few steps
        # (tiny data, a short --epochs) either can be 0, so the rise keeps at least 2 steps and the fall at least 1.
        pct = min(max(pct, 2 / total), 1 - 1 / total) if total > 2 else 0.75
        has_momentum = cfg.optimizer != "sgd" or cfg.momentum > 0  # Adam(W) cycles beta1 instead
        return OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=total, pct_start=pct, cycle_momentum=has_momentum)
    if cfg.scheduler == "plateau":
        return ReduceLROnPlateau(optimizer, mode="min", factor=cfg.gamma, patience=cfg.plateau_patience)
    if cfg.scheduler == "step":
        period = (cfg.step_epochs or max(1, cfg.epochs // 3)) * steps_per_epoch
        if cfg.lr_milestones:
            multistep = MultiStepLR(
                optimizer, milestones=[e * steps_per_epoch - warmup for e in cfg.lr_milestones], gamma=cfg.gamma
            )
            if not warmup:
                return multistep
            rise = LinearLR(optimizer, start_factor=1 / warmup, total_iters=warmup - 1)
            return SequentialLR(optimizer, [rise, multistep], [warmup])
        if not warmup:
            return StepLR(optimizer, step_size=period, gamma=cfg.gamma)
        rise = LinearLR(optimizer, start_factor=1 / warmup, total_iters=warmup - 1)
        return SequentialLR(optimizer, [rise, StepLR(optimizer, step_size=period, gamma=cfg.gamma)], [warmup])

    decay = DECAYS[cfg.scheduler]

    def factor(t: int) -> float:  # t = optimizer steps taken so far
        if t < warmup:
            return (t + 1) / warmup
        return decay(min(1.0, (t - warmup) / max(1, total - warmup)), cfg)

    return LambdaLR(optimizer, factor)


def scale_lr(optimizer: torch.optim.Optimizer, scheduler: Any, factor: float) -> None:
    """Multiply the learning rate by `factor` now and for the rest of the schedule: the parameter groups' rates
    (`lr`, and OneCycle's `initial_lr`/`max_lr`/`min_lr`) and every scheduler's `base_lrs` (LambdaLR and friends
    recompute the rate from them at each step)."""
    for group in optimizer.param_groups:
        for key in ("lr", "initial_lr", "max_lr", "min_lr"):
            if isinstance(group.get(key), (int, float)) and not isinstance(group.get(key), bool):
                group[key] *= factor
    for sched in (scheduler, *getattr(scheduler, "_schedulers", ())):
        if hasattr(sched, "base_lrs"):
            sched.base_lrs = [b * factor for b in sched.base_lrs]
        if hasattr(sched, "_last_lr"):
            sched._last_lr = [g["lr"] for g in optimizer.param_groups]
