"""Exponential moving average of the weights (Polyak averaging), updated after every optimizer step."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

__all__ = ["ModelEma"]


class ModelEma:
    """A frozen copy of the model whose parameters follow `ema = decay * ema + (1 - decay) * weights`.

    With `warmup`, the decay starts small and grows as min(decay, (1 + n) / (10 + n)) over the first updates, so a
    short run is not dominated by the random initialisation (timm `ModelEmaV3`, TensorFlow's
    `ExponentialMovingAverage(num_updates=...)`). Buffers (batch-norm statistics) are copied, not averaged.

    Example:
        >>> ema = ModelEma(torch.nn.Linear(2, 2), decay=0.99)  # doctest: +SKIP
        >>> ema.update(model)  # after optimizer.step()  # doctest: +SKIP
    """

    def __init__(self, model: nn.Module, decay: float, *, warmup: bool = True) -> None:
        self.decay = decay
        self.warmup = warmup
        self.n_updates = 0
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        self._ema_params: list[torch.Tensor] = [p for p in self.module.parameters() if p.dtype.is_floating_point]
        self._ema_buffers = list(self.module.buffers())

    def current_decay(self) -> float:
        n = self.n_updates
        return min(self.decay, (1 + n) / (10 + n)) if self.warmup else self.decay

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        weight = 1.0 - self.current_decay()
        params: list[torch.Tensor] = [p for p in model.parameters() if p.dtype.is_floating_point]
        torch._foreach_lerp_(self._ema_params, params, weight)  # one fused pass, not a Python loop per tensor
        for b_ema, b in zip(self._ema_buffers, model.buffers(), strict=True):
            b_ema.copy_(b)
        self.n_updates += 1

    def state_dict(self) -> dict[str, Any]:
        return {"module": self.module.state_dict(), "n_updates": self.n_updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["module"])
        self.n_updates = int(state["n_updates"])
