"""Mixup and CutMix on a batch. The loss becomes lam * loss(pred, y) + (1 - lam) * loss(pred, y[perm])."""

from __future__ import annotations

import math
import random

import torch

from .config import TrainConfig

__all__ = ["Mixer", "create_mixer"]


class Mixer:
    """Mixes each batch with a shuffled copy of itself.

    Mixup (Zhang et al. 2018): x = lam * x + (1 - lam) * x[perm], lam ~ Beta(a, a).
    CutMix (Yun et al. 2019): paste a box (2-D images, x of shape (B, C, H, W)) or a segment (1-D sequences,
    (B, C, L)) of x[perm] into x; lam is the share of x that is left. CutMix is skipped for flat features (B, F).
    With both alphas set, each batch uses one of them with probability 1/2 (timm's `switch_prob`).
    Random numbers come from Python's and torch's global generators, which checkpoints save and restore.
    """

    def __init__(self, *, mixup_alpha: float = 0.0, cutmix_alpha: float = 0.0) -> None:
        self.mixup_alpha = mixup_alpha
        self.cutmix_alpha = cutmix_alpha

    def __call__(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, float]:
        """Return (mixed x, y, y[perm], lam); (x, y, None, 1.0) when this batch is left alone."""
        cutmix = self.cutmix_alpha > 0 and x.ndim in (3, 4) and (self.mixup_alpha == 0 or random.random() < 0.5)
        alpha = self.cutmix_alpha if cutmix else self.mixup_alpha
        if alpha == 0:  # cutmix-only config on flat features: leave the batch alone
            return x, y, None, 1.0
        lam = random.betavariate(alpha, alpha)
        perm = torch.randperm(x.shape[0], device=x.device)
        if not cutmix:
            return x.lerp(x[perm], 1.0 - lam), y, y[perm], lam
        x = x.clone()
        sizes = x.shape[2:]  # (L,) or (H, W)
        cut = math.sqrt(1.0 - lam) if len(sizes) == 2 else 1.0 - lam  # side fraction so that the area is 1 - lam
        box: list[slice] = []
        for n in sizes:
            half = round(n * cut) // 2
            c = random.randrange(n)
            box.append(slice(max(c - half, 0), min(c + half, n)))
        region = (..., *box)
        x[region] = x[perm][region]  # type: ignore[index]
        area = math.prod(s.stop - s.start for s in box)
        return x, y, y[perm], 1.0 - area / math.prod(sizes)


def create_mixer(cfg: TrainConfig) -> Mixer | None:
    if cfg.mixup_alpha == 0 and cfg.cutmix_alpha == 0:
        return None
    return Mixer(mixup_alpha=cfg.mixup_alpha, cutmix_alpha=cfg.cutmix_alpha)
