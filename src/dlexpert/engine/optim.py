"""Optimizer and learning-rate scheduler factories (timm's `create_optimizer_v2` / `create_scheduler` shape)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.optim.lr_scheduler import (
    LambdaLR,
    LinearLR,
    LRScheduler,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

from ..errors import InvalidInputError
from .config import TrainConfig

__all__ = ["create_optimizer", "create_scheduler", "param_groups"]


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


def create_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """SGD (momentum, optional Nesterov) or AdamW over `param_groups(model, cfg.weight_decay)`.

    Example:
        >>> opt = create_optimizer(torch.nn.Linear(4, 2), TrainConfig(optimizer="sgd", lr=0.1))  # doctest: +SKIP
    """
    groups = param_groups(model, cfg.weight_decay)
    if not groups:
        raise InvalidInputError("model: has no trainable parameters; unfreeze at least one layer")
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)
    return torch.optim.AdamW(groups, lr=cfg.lr)


def create_scheduler(
    optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int
) -> LRScheduler | ReduceLROnPlateau:
    """The LR schedule, stepped once per optimizer step; except "plateau", stepped once per epoch with val_loss.

    - cosine: linear warmup over `warmup_epochs`, then half a cosine down to 0 at the last step (SGDR, Loshchilov &
      Hutter 2017, without restarts).
    - onecycle: `OneCycleLR` up to `lr` and down again (Smith & Topin 2018); `warmup_epochs` sets the rising part.
    - step: multiply by `gamma` every `step_epochs` epochs, after an optional linear warmup.
    - plateau: `ReduceLROnPlateau` on val_loss, by `gamma` after `plateau_patience` epochs without improvement.
    - constant: `lr` after an optional linear warmup.
    """
    total = cfg.epochs * steps_per_epoch
    warmup = round(cfg.warmup_epochs * steps_per_epoch)
    if cfg.scheduler == "onecycle":
        pct = cfg.warmup_epochs / cfg.epochs if cfg.warmup_epochs else 0.3  # 0.3: PyTorch's and Smith's default
        has_momentum = cfg.optimizer == "adamw" or cfg.momentum > 0
        return OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=total, pct_start=pct, cycle_momentum=has_momentum)
    if cfg.scheduler == "plateau":
        return ReduceLROnPlateau(optimizer, mode="min", factor=cfg.gamma, patience=cfg.plateau_patience)
    if cfg.scheduler == "step":
        period = (cfg.step_epochs or max(1, cfg.epochs // 3)) * steps_per_epoch
        if not warmup:
            return StepLR(optimizer, step_size=period, gamma=cfg.gamma)
        rise = LinearLR(optimizer, start_factor=1 / warmup, total_iters=warmup - 1)
        return SequentialLR(optimizer, [rise, StepLR(optimizer, step_size=period, gamma=cfg.gamma)], [warmup])

    def factor(t: int) -> float:  # t = optimizer steps taken so far
        if t < warmup:
            return (t + 1) / warmup
        if cfg.scheduler == "constant":
            return 1.0
        progress = min(1.0, (t - warmup) / max(1, total - warmup))
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, factor)
