"""Tiny models and synthetic tensors for the engine tests: every fit() here takes well under a second on one core."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch.utils.data import TensorDataset  # noqa: E402

from dlexpert.engine import TrainConfig, fit  # noqa: E402

torch.set_num_threads(1)  # the dev machine has 2 cores; tests must not fight over them


def blobs(n: int = 256, *, n_features: int = 8, n_classes: int = 3, seed: int = 0) -> TensorDataset:
    """Linearly separable-ish classes: labels are the argmax of a fixed random projection."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_features, generator=g)
    w = torch.randn(n_features, n_classes, generator=torch.Generator().manual_seed(1234))
    return TensorDataset(x, (x @ w).argmax(dim=1))


def mlp(n_in: int = 8, n_out: int = 3, *, hidden: int = 16, dropout: float = 0.0, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(n_in, hidden), torch.nn.ReLU(), torch.nn.Dropout(dropout), torch.nn.Linear(hidden, n_out)
    )


@pytest.fixture
def data() -> tuple[TensorDataset, TensorDataset]:
    return blobs(192, seed=0), blobs(64, seed=1)


@pytest.fixture
def run(tmp_path: Path, data: tuple[TensorDataset, TensorDataset]) -> Callable[..., Any]:
    """run(name, model=None, callbacks=(), resume=False, **cfg) -> FitResult, into tmp_path/name."""
    train_set, val_set = data

    def _run(name: str = "run", *, model: torch.nn.Module | None = None, callbacks=(), resume=False, **cfg: Any):
        settings = {"epochs": 2, "batch_size": 32, "lr": 1e-2, "log_every_steps": 2, **cfg}
        return fit(
            model if model is not None else mlp(),
            train_set=train_set,
            val_set=val_set,
            cfg=TrainConfig(**settings),
            out_dir=tmp_path / name,
            callbacks=callbacks,
            resume=resume,
            progress=False,
            device="cpu",
        )

    return _run
