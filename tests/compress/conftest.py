"""Tiny trained runs for the compression tests, made once per session with `fit` directly (no plan, no baseline):
a 1-D CNN on MNIST-1D, an MLP and a linear model on sklearn's digits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytest.importorskip("torch_pruning")


def make_run(out: Path, *, model: str, data: str, epochs: int, lr: float = 3e-3, **model_kw: Any) -> Path:
    """A run directory `load_run` reads: config.yaml with model_config and the data source, best.safetensors."""
    from dlexpert.data import load_data, to_torch_datasets
    from dlexpert.engine import TrainConfig, fit
    from dlexpert.models import create_model

    splits = load_data(data, seed=0)
    sets = to_torch_datasets(splits, augment=None)
    shape = tuple(splits.input_shape)
    mc = {"name": model, "input_shape": list(shape), "n_classes": splits.n_classes, **model_kw}
    torch.manual_seed(0)
    net = create_model(model, input_shape=shape, n_classes=splits.n_classes, **model_kw)
    cfg = TrainConfig(epochs=epochs, lr=lr, batch_size=64, scheduler="onecycle", seed=0)
    data_cfg = {"source": data, "version": splits.version, "modality": splits.modality, "classes": list(splits.classes),
                "split": splits.split, "target": None, "test": None, "input_shape": list(shape)}  # fmt: skip
    fit(net, train_set=sets.train, val_set=sets.val, cfg=cfg, out_dir=out, progress=False, device="cpu",
        extra_config={"model": model, "model_config": mc, "adaptation": "scratch", "data": data_cfg})  # fmt: skip
    return out


@pytest.fixture(scope="session")
def cnn_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    return make_run(tmp_path_factory.mktemp("compress") / "cnn1d", model="cnn1d", data="mnist1d", epochs=3, lr=1e-2)


@pytest.fixture(scope="session")
def mlp_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    return make_run(tmp_path_factory.mktemp("compress") / "mlp", model="mlp", data="digits", epochs=4)


@pytest.fixture(scope="session")
def linear_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    return make_run(tmp_path_factory.mktemp("compress") / "linear", model="linear", data="digits", epochs=1)


@pytest.fixture()
def fast() -> Any:
    """Short timing: these tests check what is measured and kept, not how fast (benchmarks/ does that)."""
    from dlexpert.compress import MeasureSettings

    torch.set_num_threads(1)
    return MeasureSettings(warmup=2, iters=10, rounds=2, batch_sizes=(1, 32), throughput_iters=3)
