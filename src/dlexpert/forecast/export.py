"""Export and bench for a forecasting run (issue 16): its deep forecaster as a `deploy.Source`, with real windows of
the run's own series for the parity check and the timings.

The run saves `windows.npz` (up to MAX_SAVED windows spread over its series and time, scaled as the network reads
them). The exported network is the shipped one when a deep forecaster ships, else the best deep candidate of the
backtest, and the source says which and why: a statistical model has no network to export.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write_bytes
from ..errors import InvalidInputError
from ..rundir import RunDir

WINDOWS_FILE = "windows.npz"
MAX_SAVED = 256


def save_windows(run_dir: Path, histories: list[np.ndarray], *, window: int, horizon: int) -> Path:
    """RUN/windows.npz: `x` (N, C, window) float32 input windows of the training series (values or channel stacks),
    evenly spread."""
    from .windows import WindowSet

    windows = WindowSet(histories, window=window, horizon=horizon)
    if len(windows) == 0:
        windows = WindowSet(histories, window=window, horizon=horizon, last_only=True)
    pick = np.unique(np.linspace(0, len(windows) - 1, min(len(windows), MAX_SAVED)).round().astype(int))
    buffer = io.BytesIO()
    np.savez(buffer, x=np.stack([windows[int(i)][0].numpy() for i in pick]))
    return atomic_write_bytes(run_dir / WINDOWS_FILE, buffer.getvalue())


@dataclass
class ForecastNetwork:
    """The network a forecasting run exports and benchmarks, with its real input windows and why it was picked."""

    name: str
    model: Any  # torch.nn.Module in eval mode
    input_shape: tuple[int, ...]
    windows: Any  # torch.Tensor (N, C, L)
    note: str


def forecast_network(run_dir: Path) -> ForecastNetwork:
    """The run's deep forecaster (see the module doc); one line when there is none or its windows are missing."""
    import torch
    import yaml

    from ..engine.checkpoint import load_weights
    from ..models import build
    from ..schema.decisions import ModelRecord

    section = RunDir(run_dir).evaluation().forecast
    assert section is not None  # RunDir.is_forecast
    deep = {c.model: c for c in section.candidates if c.kind == "deep" and c.run_dir}
    if not deep:
        raise InvalidInputError(f"{run_dir}: the run trained no deep forecaster, so there is no network to export")
    if section.shipped in deep:
        name, why = section.shipped, "the shipped forecaster"
    else:
        name = min(deep, key=lambda n: deep[n].backtest["mase"])
        why = (f"the best deep candidate of the backtest (MASE {deep[name].backtest['mase']:.3f}); the run ships "
               f"{section.shipped}, which has no network form")  # fmt: skip
    folder = run_dir / str(deep[name].run_dir)
    weights, windows_file = folder / "checkpoints" / "best.safetensors", run_dir / WINDOWS_FILE
    for needed in (weights, windows_file):
        if not needed.is_file():
            raise InvalidInputError(f"{needed}: missing; the run's deep forecaster cannot be exported without it")
    record = ModelRecord.model_validate(yaml.safe_load((folder / RunDir.CONFIG).read_text())["model_record"])
    model = build(record)
    model.load_state_dict(load_weights(weights))
    model.eval()
    with np.load(windows_file) as saved:
        windows = torch.tensor(saved["x"])
    note = f"{len(windows)} real windows of the run's series; exported: {name}, {why}"
    return ForecastNetwork(name, model, tuple(record.input_shape or ()), windows, note)
