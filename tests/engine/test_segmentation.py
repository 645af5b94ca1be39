"""Segmentation through the same engine (issue 15): per-pixel cross-entropy with void pixels (255) not scored,
pixel accuracy and mean IoU on validation, the best checkpoint chosen by mean IoU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.utils.data import TensorDataset

from dlexpert.data.dense import load_dense
from dlexpert.data.dense._torch import segmentation_sets
from dlexpert.engine import TrainConfig, evaluate, fit
from dlexpert.engine.loop import mean_iou
from dlexpert.models import create_model


def _scenes(n: int, seed: int) -> TensorDataset:
    """Class 1 where the red channel is bright, 0 elsewhere, with a void border of 255."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, 16, 16, generator=g)
    y = (x[:, 0] > 0.5).long()
    y[:, 0, :] = 255
    return TensorDataset(x, y)


def test_a_unet_learns_a_mask_and_the_best_epoch_is_chosen_by_mean_iou(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model("unet", input_shape=(3, 16, 16), n_classes=2, width=8, depth=2, stem_stride=1)
    cfg = TrainConfig(task="segmentation", epochs=4, batch_size=8, lr=1e-2, weight_decay=0.0)
    result = fit(model, train_set=_scenes(48, 0), val_set=_scenes(16, 1), cfg=cfg, out_dir=tmp_path, progress=False)
    assert result.monitor == "val_miou" and result.best_val_metric is not None and result.best_val_metric > 0.7
    rows = [json.loads(ln) for ln in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    epochs = [r for r in rows if "val_miou" in r]
    assert len(epochs) == 4 and epochs[-1]["train_loss"] < epochs[0]["train_loss"]


def test_evaluate_scores_pixels_and_leaves_void_out() -> None:
    class Fixed(torch.nn.Module):  # predicts class 1 everywhere
        def __init__(self) -> None:
            super().__init__()
            self.bias = torch.nn.Parameter(torch.tensor([0.0, 1.0]))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.bias.view(1, 2, 1, 1).expand(len(x), 2, *x.shape[-2:])

    y = torch.tensor([[[1, 1], [0, 255]]])
    m = evaluate(Fixed(), TensorDataset(torch.zeros(1, 3, 2, 2), y), task="segmentation")
    assert m["accuracy"] == pytest.approx(2 / 3)  # 3 scored pixels, 2 right
    assert m["miou"] == pytest.approx((0 + 2 / 3) / 2)  # class 0: IoU 0; class 1: 2 / (2 + 1)
    assert mean_iou(torch.tensor([[3, 0], [0, 0]])) == 1.0  # a class in neither labels nor predictions is left out


def test_segmentation_settings_that_do_not_apply_are_refused() -> None:
    with pytest.raises(ValueError, match="do not apply to task 'segmentation'"):
        TrainConfig(task="segmentation", mixup_alpha=0.2)


def test_shapes_seg_gives_image_and_mask_batches_that_flip_together() -> None:
    from dlexpert.data.dense._torch import SegmentationSet, channel_stats

    data = load_dense("shapes-seg")
    _, val, _ = segmentation_sets(data, size=32)
    x, y = val[0]
    assert x.shape == (3, 32, 32) and y.shape == (32, 32) and y.dtype == torch.long
    stats = dict(zip(("mean", "std"), channel_stats(data.train), strict=True))
    assert len(stats["mean"]) == 3
    assert set(torch.unique(y).tolist()) <= set(range(len(data.classes)))  # nearest-neighbour resize: no new values
    flipping = SegmentationSet(
        data.val[:1], size=32, mean=stats["mean"], std=stats["std"], augment=("RandomHorizontalFlip",)
    )
    torch.manual_seed(0)
    draws = [flipping[0] for _ in range(8)]
    flipped = [(fx, fy) for fx, fy in draws if not torch.equal(fx, x)]
    assert flipped and all(torch.equal(fx, x.flip(-1)) and torch.equal(fy, y.flip(-1)) for fx, fy in flipped)


def test_multi_scale_training_keeps_one_size_and_pads_masks_with_void() -> None:
    """The plan's RandomResize(0.5-2.0x of S) + RandomCrop(S) (torchvision's segmentation reference at the data's size):
    every sample comes back S x S, image and mask moved together, padding marked void (255) where the image shrank."""
    from dlexpert.data.dense._torch import VOID, SegmentationSet

    data = load_dense("shapes-seg")
    plain = SegmentationSet(data.val[:4], size=None, mean=[0.5] * 3, std=[0.25] * 3)
    scaled = SegmentationSet(data.val[:4], size=None, mean=[0.5] * 3, std=[0.25] * 3,
                             augment=("RandomResize(0.5-2.0x of 128)", "RandomCrop(128)"))  # fmt: skip
    torch.manual_seed(0)
    draws = [scaled[i % 4] for i in range(16)]
    assert all(x.shape == (3, 128, 128) and y.shape == (128, 128) for x, y in draws)
    assert any(bool((y == VOID).any()) for _, y in draws)  # shrunk below 128 px: padded, not scored
    assert any(not torch.equal(y, plain[i % 4][1]) for i, (_, y) in enumerate(draws))
    classes = set(range(len(data.classes))) | {VOID}
    assert all(set(torch.unique(y).tolist()) <= classes for _, y in draws)  # nearest-neighbour: no blended labels
