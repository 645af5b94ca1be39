"""Tiny models, tiny data and a `train` fixture for the monitor tests: each fit() here takes a second or two."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.data import TensorDataset  # noqa: E402

from dlexpert.engine import TrainConfig, fit  # noqa: E402
from dlexpert.monitor import create_monitors  # noqa: E402

torch.set_num_threads(1)  # the dev machine has 2 cores; tests must not fight over them


def blobs(n: int = 256, *, n_features: int = 8, n_classes: int = 3, seed: int = 0) -> TensorDataset:
    """Classes given by the argmax of a fixed random projection: learnable well above chance in one epoch."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_features, generator=g)
    w = torch.randn(n_features, n_classes, generator=torch.Generator().manual_seed(1234))
    return TensorDataset(x, (x @ w).argmax(dim=1))


def mlp(hidden: int = 32, *, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, hidden), nn.ReLU(), nn.Linear(hidden, 3))


class NaNFrom(nn.Module):
    """Passes its input through until armed, then multiplies it by NaN (a layer that breaks at a known step)."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * float("nan") if self.armed else x


class ArmAt:
    """Arms a `NaNFrom` layer for the batches of optimizer step `step` onwards."""

    def __init__(self, layer: NaNFrom, step: int) -> None:
        self.layer, self.step = layer, step

    def before_batch(self, s: Any) -> None:
        self.layer.armed = s.step + 1 >= self.step


def rows(run_dir: Path, kind: str | None = None) -> list[dict[str, Any]]:
    out = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r for r in out if kind is None or r["kind"] == kind]


def diagnosis(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "diagnosis.json").read_text())


def issues(run_dir: Path) -> dict[str, dict[str, Any]]:
    return {f["issue"]: f for f in diagnosis(run_dir)["findings"]}


@pytest.fixture
def train(tmp_path: Path) -> Callable[..., Any]:
    """train(name, model=None, monitors=True, every=2, auto_remedy=False, callbacks=(), train_set=None,
    resume=False, **cfg) -> FitResult, into tmp_path/name; 192 training samples in batches of 32: 6 steps per epoch."""

    def _train(
        name: str = "run", *, model: nn.Module | None = None, monitors: bool = True, every: int = 2,
        auto_remedy: bool = False, callbacks: Any = (), train_set: Any = None, val_set: Any = None,
        resume: bool = False, **cfg: Any,
    ) -> Any:  # fmt: skip
        settings = {"epochs": 2, "batch_size": 32, "lr": 1e-2, "log_every_steps": 50, **cfg}
        cbs = create_monitors(every=every, auto_remedy=auto_remedy, console=False) if monitors else []
        return fit(
            model if model is not None else mlp(),
            train_set=train_set if train_set is not None else blobs(192, seed=0),
            val_set=val_set if val_set is not None else blobs(64, seed=1),
            cfg=TrainConfig(**settings),
            out_dir=tmp_path / name,
            callbacks=[*cbs, *callbacks],
            resume=resume,
            progress=False,
            device="cpu",
        )

    return _train
