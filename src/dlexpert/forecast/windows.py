"""Training windows for global forecasters: every (L past values, H next values) pair of every series, each scaled by
its own input's mean and standard deviation (local scaling, as RevIN, Kim et al. ICLR 2022, and neuralforecast's
window scalers do): one network serves series of any level, and the loss is measured on the scaled target."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

STD_FLOOR = 0.1  # times the window's mean absolute level: a flat or short window is not blown up


def scale_of(x: np.ndarray) -> tuple[float, float]:
    """(mean, std) that scale a window; std at least STD_FLOOR x its mean absolute level (1 for an all-zero one)."""
    mean = float(np.mean(x))
    floor = STD_FLOOR * float(np.mean(np.abs(x))) or 1.0
    return mean, max(float(np.std(x)), floor)


def left_pad(x: np.ndarray, length: int) -> np.ndarray:
    """The last `length` values of `x`, padded on the left with its first value when it is shorter."""
    if len(x) >= length:
        return x[-length:]
    return np.concatenate([np.full(length - len(x), x[0]), x])


class WindowSet(Dataset):
    """(x (1, L) float32, y (H,) float32) scaled windows: for each series, every cut t with targets [t, t + H) inside
    it and at least half a window of past values (the input is left-padded with the first value when t < L);
    `last_only`: only the window that ends each series (validation)."""

    def __init__(self, series: Sequence[np.ndarray], *, window: int, horizon: int, last_only: bool = False) -> None:
        self.window, self.horizon = window, horizon
        self.series = [np.asarray(s, np.float64) for s in series]
        first = max(2, window // 2)  # real past values a training window needs at least
        cuts = (
            (lambda n: [n - horizon] if n > horizon else []) if last_only else (lambda n: range(first, n - horizon + 1))
        )
        self.index = [(i, t) for i, s in enumerate(self.series) for t in cuts(len(s))]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        i, t = self.index[k]
        s = self.series[i]
        context = s[max(0, t - self.window) : t]
        mean, std = scale_of(context)
        x = (left_pad(context, self.window) - mean) / std
        y = (s[t : t + self.horizon] - mean) / std
        return torch.tensor(x, dtype=torch.float32)[None], torch.tensor(y, dtype=torch.float32)


def last_windows(series: Sequence[np.ndarray], window: int) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """(inputs (N, 1, L) scaled, means (N,), stds (N,)): the window that ends each series, to forecast what follows;
    a forecast is `output * std + mean`."""
    contexts = [np.asarray(s[-window:], np.float64) for s in series]
    stats = np.array([scale_of(c) for c in contexts])
    x = np.stack([(left_pad(c, window) - m) / sd for c, (m, sd) in zip(contexts, stats, strict=True)])
    return torch.tensor(x, dtype=torch.float32)[:, None], stats[:, 0], stats[:, 1]
