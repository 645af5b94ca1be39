"""The plan's size of dlexpert's own networks (estimate/scratch.py, no torch) equals the built module's."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from dlexpert.estimate.scratch import scratch_size  # noqa: E402
from dlexpert.models import count_parameters, create_model  # noqa: E402

CASES = [
    ("cnn1d", (1, 40), 10, {}),
    ("cnn1d", (1, 286), 2, {}),
    ("cnn1d", (6, 100), 4, {}),
    ("cnn1d", (1, 1344), 11, {"per_sample_norm": True}),
    ("cnn1d", (13,), 3, {}),  # a table read as one channel
    ("mlp", (64,), 10, {}),
    ("mlp", (30,), 2, {"batch_norm": True}),
    ("small_resnet", (1, 8, 8), 10, {}),
    ("small_resnet", (3, 32, 32), 10, {}),
    ("small_resnet", (1, 25, 25), 2, {}),
    ("unet", (3, 128, 128), 5, {}),
    ("unet", (3, 96, 80), 3, {"stem_stride": 1, "depth": 3, "residual": False}),
    ("unet", (3, 50, 50), 2, {"width": 8, "depth": 2}),
    ("unet", (3, 30, 22), 3, {}),  # depth 4 would leave no pixel at the bottom: 3 levels
]


@pytest.mark.parametrize(("name", "shape", "n_classes", "options"), CASES)
def test_counted_size_is_the_built_models(name: str, shape: tuple[int, ...], n_classes: int, options: dict) -> None:
    sizes = {k: options.get(k) for k in ("width", "depth")}  # ModelRecord fields, not family options
    size = scratch_size(name, shape, n_classes, **sizes, options={k: options[k] for k in options if k not in sizes})
    model = create_model(name, input_shape=shape, n_classes=n_classes, **options).eval()
    assert size is not None and size.params == count_parameters(model)
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *shape))
    assert size.macs == counter.get_total_flops() // 2


def test_a_family_not_counted_is_none() -> None:
    assert scratch_size("transformer_encoder", (1, 64), 2) is None
