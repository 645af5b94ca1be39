"""Training windows for global forecasters: every (L past steps, H next values) pair of every series, each channel
scaled by its own input's mean and standard deviation (local scaling, as RevIN, Kim et al. ICLR 2022, and
neuralforecast's window scalers do): one network serves series of any level, and the loss is measured on the scaled
target.

A series is a (C, n) channel stack: row 0 the target, then its exogenous columns (`channel_stack`). A column known
ahead enters led by the horizon, so the window that ends at step t reads its values up to t + H - 1: the future it
is known for."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

STD_FLOOR = 0.1  # times the window's mean absolute level: a flat or short window is not blown up


def channel_stack(
    values: np.ndarray, *, horizon: int, past: Sequence[np.ndarray] = (), future: Sequence[np.ndarray] = ()
) -> np.ndarray:
    """(C, n) float64: the n `values`, the `past` columns aligned with them, and each `future` column (n values, or
    n + H with the horizon's known ones) shifted H steps earlier, NaN where its later values are not known yet."""
    n = len(values)
    led = [np.concatenate([f[horizon : n + horizon], np.full(max(0, n + horizon - len(f)), np.nan)]) for f in future]
    return np.stack([np.asarray(values, np.float64), *past, *led]).astype(np.float64)


def scale_of(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(means, stds) per row of a (C, L) window; a std is at least STD_FLOOR x its row's mean absolute level (1 for an
    all-zero row)."""
    mean = x.mean(axis=-1)
    floor = STD_FLOOR * np.abs(x).mean(axis=-1)
    return mean, np.maximum(x.std(axis=-1), np.where(floor > 0, floor, 1.0))


def left_pad(x: np.ndarray, length: int) -> np.ndarray:
    """The last `length` steps of the (C, n) `x`, padded on the left with its first step when it is shorter."""
    if x.shape[-1] >= length:
        return x[..., -length:]
    return np.concatenate([np.repeat(x[..., :1], length - x.shape[-1], axis=-1), x], axis=-1)


def _stack(s: np.ndarray) -> np.ndarray:
    return np.atleast_2d(np.asarray(s, np.float64))


class WindowSet(Dataset):
    """(x (C, L) float32, y (H,) float32) scaled windows of (C, n) channel stacks (or plain (n,) series): for each
    series, every cut t with targets [t, t + H) inside it and at least half a window of past steps (the input is
    left-padded with the first step when t < L); `last_only`: only the window that ends each series (validation)."""

    def __init__(self, series: Sequence[np.ndarray], *, window: int, horizon: int, last_only: bool = False) -> None:
        self.window, self.horizon = window, horizon
        self.series = [_stack(s) for s in series]
        first = max(2, window // 2)  # real past values a training window needs at least
        cuts = (
            (lambda n: [n - horizon] if n > horizon else []) if last_only else (lambda n: range(first, n - horizon + 1))
        )
        self.index = [(i, t) for i, s in enumerate(self.series) for t in cuts(s.shape[-1])]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        i, t = self.index[k]
        s = self.series[i]
        context = s[:, max(0, t - self.window) : t]
        mean, std = scale_of(context)
        x = (left_pad(context, self.window) - mean[:, None]) / std[:, None]
        y = (s[0, t : t + self.horizon] - mean[0]) / std[0]
        return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


def last_windows(series: Sequence[np.ndarray], window: int) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """(inputs (N, C, L) scaled, target means (N,), target stds (N,)): the window that ends each series or channel
    stack, to forecast what follows; a forecast is `output * std + mean`."""
    contexts = [_stack(s)[:, -window:] for s in series]
    stats = [scale_of(c) for c in contexts]
    x = np.stack([(left_pad(c, window) - m[:, None]) / sd[:, None] for c, (m, sd) in zip(contexts, stats, strict=True)])
    return (
        torch.tensor(x, dtype=torch.float32),
        np.array([m[0] for m, _ in stats]),
        np.array([sd[0] for _, sd in stats]),
    )
