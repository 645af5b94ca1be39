"""Global forecasters from scratch: a window of L past values in, the next H values out, trained across all series
(issue 16). Inputs are (B, 1, L) windows scaled per window (`dlexpert.forecast.windows`); outputs (B, H) in the same
scale. The LSTM forecaster is the registry's `lstm` with H outputs.

- `dlinear`: Zeng, Chen, Zhang & Xu 2023, "Are Transformers Effective for Time Series Forecasting?" (AAAI,
  arXiv 2205.13504): a moving-average trend and the remainder, each mapped to the horizon by one linear layer. The
  linear baseline every deep forecaster has to beat.
- `nbeats`: Oreshkin, Carpov, Chapados & Bengio 2020, "N-BEATS" (ICLR, arXiv 1905.10437), generic architecture:
  stacked fully connected blocks, each emitting a backcast (subtracted from its input) and a partial forecast (summed).
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._registry import register_model

__all__ = ["DLinear", "NBeats", "dlinear", "nbeats"]

MOVING_AVERAGE = 25  # DLinear's trend kernel (the paper's default), capped at the window length
NBEATS_WIDTH = 256  # the paper's 512 units per layer, halved for CPUs and short series
NBEATS_BLOCKS = 3  # generic blocks (the paper stacks 30 for M4; 3 suffice for a few hundred windows)
NBEATS_LAYERS = 4  # fully connected layers per block, as in the paper


def _inputs(input_shape: tuple[int, ...]) -> tuple[int, int]:
    """(channels, window) of a (C, L) input; a forecaster reads one series (C = 1) or C aligned ones."""
    if len(input_shape) != 2:
        raise ValueError(f"forecasters read (C, L) windows; got input shape {tuple(input_shape)}")
    return int(input_shape[0]), int(input_shape[1])


class DLinear(nn.Module):
    """x (B, C, L) -> per channel a trend (moving average, replicate-padded) and the remainder -> Linear(C * L, H)
    each -> sum (B, H)."""

    def __init__(self, channels: int, window: int, horizon: int, kernel: int = MOVING_AVERAGE) -> None:
        super().__init__()
        self.kernel = max(1, min(kernel, window) | 1)  # odd, so the average is centred
        self.trend = nn.Linear(channels * window, horizon)
        self.remainder = nn.Linear(channels * window, horizon)

    def forward(self, x: Tensor) -> Tensor:
        pad = self.kernel // 2
        trend = F.avg_pool1d(F.pad(x, (pad, pad), mode="replicate"), self.kernel, stride=1)
        return self.trend(trend.flatten(1)) + self.remainder((x - trend).flatten(1))


class NBeatsBlock(nn.Module):
    """Fully connected layers, then a forecast head and (except in the last block, whose residual nobody reads) a
    backcast head."""

    def __init__(self, window: int, horizon: int, width: int, layers: int, dropout: float, backcast: bool) -> None:
        super().__init__()
        dims = [window] + [width] * layers
        body: list[nn.Module] = []
        for a, b in itertools.pairwise(dims):
            body += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout)]
        self.body = nn.Sequential(*body)
        self.backcast = nn.Linear(width, window) if backcast else None
        self.forecast = nn.Linear(width, horizon)

    def forward(self, x: Tensor) -> tuple[Tensor | None, Tensor]:
        h = self.body(x)
        return (self.backcast(h) if self.backcast is not None else None), self.forecast(h)


class NBeats(nn.Module):
    """x (B, C, L) flattened -> blocks in a doubly residual stack: each reads what the previous ones left
    unexplained."""

    def __init__(self, window: int, horizon: int, *, width: int, blocks: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            NBeatsBlock(window, horizon, width, layers, dropout, backcast=i < blocks - 1) for i in range(blocks)
        )

    def forward(self, x: Tensor) -> Tensor:
        residual = x.flatten(1)
        forecast = torch.zeros((), dtype=x.dtype, device=x.device)
        for block in self.blocks:
            backcast, partial = block(residual)
            if backcast is not None:
                residual = residual - backcast
            forecast = forecast + partial
        return forecast


@register_model("dlinear", modalities=("sequence",), description="DLinear: trend + remainder, linear to the horizon")
def dlinear(
    *,
    input_shape: tuple[int, ...],
    n_classes: int,
    width: int | None = None,
    depth: int | None = None,
    dropout: float = 0.0,
    kernel: int = MOVING_AVERAGE,
) -> nn.Module:
    """DLinear forecaster: `input_shape` (C, L) windows (C = 1: one series), `n_classes` the horizon H; `width`,
    `depth` and `dropout` do not apply (two linear maps).

    Example:
        >>> dlinear(input_shape=(1, 48), n_classes=12)(torch.zeros(2, 1, 48)).shape
        torch.Size([2, 12])
    """
    return DLinear(*_inputs(input_shape), n_classes, kernel)


@register_model("nbeats", modalities=("sequence",), description="N-BEATS (generic): residual MLP blocks")
def nbeats(
    *,
    input_shape: tuple[int, ...],
    n_classes: int,
    width: int | None = None,
    depth: int | None = None,
    dropout: float = 0.0,
    layers: int = NBEATS_LAYERS,
) -> nn.Module:
    """N-BEATS generic forecaster: `depth` blocks (3) of `layers` fully connected layers of `width` units (256).

    Example:
        >>> nbeats(input_shape=(1, 48), n_classes=12)(torch.zeros(2, 1, 48)).shape
        torch.Size([2, 12])
    """
    channels, window = _inputs(input_shape)
    return NBeats(channels * window, n_classes, width=width or NBEATS_WIDTH, blocks=depth or NBEATS_BLOCKS,
                  layers=layers, dropout=dropout)  # fmt: skip
