"""Global deep forecasters trained by dlexpert's engine (checkpoints, metrics.jsonl, TensorBoard, live monitors), one
run folder per model: windows of every series, the loss on the scaled target, the last window of each series held
out for validation and for choosing the best epoch."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .windows import WindowSet, last_windows

STEP_BUDGET = 1200  # optimizer steps per training (N-BEATS trains M4 for thousands; a few series need fewer)
MAX_BATCH = 64
MAX_EPOCHS = 150
PATIENCE = 15  # epochs without a better validation loss before stopping
LEARNING_RATE = 1e-3  # Adam at 1e-3: N-BEATS (arXiv 1905.10437, Sec. 5) and DLinear (arXiv 2205.13504) alike


@dataclass
class DeepForecaster:
    """A trained forecaster and how to feed it: `window` past steps of its channels in, `horizon` values out."""

    name: str
    model: torch.nn.Module
    window: int
    horizon: int
    fit: Any  # engine.FitResult
    out_dir: Path

    @torch.no_grad()
    def predict(self, histories: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The next `horizon` values after each history ((n,) values or a (C, n) `windows.channel_stack`), in its own
        scale."""
        x, mean, std = last_windows(histories, self.window)
        self.model.eval()
        out = self.model(x).numpy().astype(np.float64)
        return [o * sd + m for o, m, sd in zip(out, mean, std, strict=True)]


def trainable(histories: Sequence[np.ndarray], *, window: int, horizon: int) -> bool:
    """Whether `histories` hold a training window (targets before each series' last horizon) for `train_deep`."""
    return len(WindowSet([h[..., :-horizon] for h in histories], window=window, horizon=horizon)) > 0


def train_deep(
    name: str, histories: Sequence[np.ndarray], *, window: int, horizon: int, out_dir: Path, seed: int,
    monitor: bool = True, epochs: int | None = None,
) -> DeepForecaster:  # fmt: skip
    """Train `name` (a registry network read as a forecaster: dlinear, nbeats, lstm...) on `histories` ((n,) values
    or (C, n) channel stacks, `windows.channel_stack`) into `out_dir`, for about STEP_BUDGET steps or `epochs`. Each
    history's last `horizon` points are its validation target (never a training target), and the best epoch's
    weights by validation loss are kept. The model ends on the CPU, where forecasts are made. Raises ValueError when
    no training window fits (see `trainable`)."""
    from ..engine import TrainConfig, fit, seed_everything
    from ..engine.checkpoint import load_weights
    from ..models import create_model
    from ..monitor import DEFAULT_EVERY, create_monitors
    from ..schema.decisions import ModelRecord

    train_set = WindowSet([h[..., :-horizon] for h in histories], window=window, horizon=horizon)
    val_set = WindowSet(histories, window=window, horizon=horizon, last_only=True)
    if len(train_set) == 0:
        raise ValueError(f"no training windows of {window} + {horizon} points in {len(histories)} series")
    batch = min(MAX_BATCH, max(8, len(train_set) // 8))
    steps_per_epoch = math.ceil(len(train_set) / batch)
    epochs = epochs or max(5, min(MAX_EPOCHS, math.ceil(STEP_BUDGET / steps_per_epoch)))
    seed_everything(seed)
    channels = train_set.series[0].shape[0]
    model = create_model(name, input_shape=(channels, window), n_classes=horizon)
    cfg = TrainConfig(task="regression", optimizer="adam", lr=LEARNING_RATE, weight_decay=0.0, scheduler="cosine",
                      epochs=epochs, batch_size=batch, grad_clip=1.0, early_stopping_patience=PATIENCE, seed=seed,
                      log_every_steps=max(1, steps_per_epoch))  # fmt: skip
    record = ModelRecord(
        library="dlexpert", name=name, task="regression", n_classes=horizon, input_shape=[channels, window]
    )
    callbacks = create_monitors("default", every=DEFAULT_EVERY) if monitor else []
    result = fit(model, train_set=train_set, val_set=val_set, cfg=cfg, out_dir=out_dir, progress=False,
                 callbacks=callbacks, extra_config={"model": name, "model_record": record.model_dump(mode="json"),
                                                    "forecast": {"window": window, "horizon": horizon}})  # fmt: skip
    model = model.cpu()  # fit() trains on the accelerator when there is one
    if result.best_checkpoint is not None:
        model.load_state_dict(load_weights(result.best_checkpoint))
    return DeepForecaster(name=name, model=model, window=window, horizon=horizon, fit=result, out_dir=out_dir)
