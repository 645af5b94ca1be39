"""The engine trains a torchvision detector (models/fcos.py): its loss terms are logged, COCO mAP picks the best epoch
(issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dlexpert.data.dense import DenseSample  # noqa: E402
from dlexpert.data.dense._torch import DetectionSet  # noqa: E402
from dlexpert.engine import TrainConfig, evaluate, fit  # noqa: E402
from dlexpert.models import create_model, list_models  # noqa: E402


def _scenes(n: int, seed: int, size: int = 48) -> DetectionSet:
    """A bright square (class 0) or a dark one (class 1) on mid grey, one per image, 10-20 px wide."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        image = np.full((size, size, 3), 128, np.uint8)
        side, cls = int(rng.integers(10, 21)), i % 2
        x, y = rng.integers(0, size - side, 2)
        image[y : y + side, x : x + side] = 240 if cls == 0 else 20
        box = np.array([[x, y, x + side, y + side]], np.float32)
        samples.append(DenseSample(f"s{i}", size, size, image, boxes=box, labels=np.array([cls])))
    return DetectionSet(samples, augment=("RandomHorizontalFlip",))


def test_a_detector_trains_with_its_loss_terms_logged_and_map_chooses_the_best_epoch(tmp_path: Path) -> None:
    torch.manual_seed(0)
    assert "fcos" in list_models(output="boxes")
    model = create_model("fcos", input_shape=(3, 48, 48), n_classes=2, width=8)
    cfg = TrainConfig(task="detection", epochs=6, batch_size=8, lr=3e-3, weight_decay=0.0, grad_clip=10.0)
    result = fit(model, train_set=_scenes(48, 0), val_set=_scenes(16, 1), cfg=cfg, out_dir=tmp_path, progress=False)
    assert result.monitor == "val_map" and result.best_val_metric is not None
    rows = [json.loads(ln) for ln in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    epochs = [r for r in rows if r.get("kind") == "epoch"]
    parts = {"train_loss_classification", "train_loss_bbox_regression", "train_loss_bbox_ctrness"}
    assert parts <= set(epochs[0]) and {"val_map", "val_map50", "val_map75"} <= set(epochs[0])
    assert epochs[-1]["train_loss"] < 0.8 * epochs[0]["train_loss"]
    assert result.best_val_metric == max(e["val_map"] for e in epochs)
    scores = evaluate(model, _scenes(16, 1), task="detection")
    assert 0.0 <= scores["map"] <= scores["map50"] <= 1.0


def test_detection_settings_that_do_not_apply_are_refused() -> None:
    from pydantic import ValidationError

    for bad in ({"mixup_alpha": 0.2}, {"label_smoothing": 0.1}, {"scheduler": "plateau"}):
        with pytest.raises(ValidationError, match="do not apply to task 'detection'"):
            TrainConfig(task="detection", **bad)


def test_quarter_turns_move_boxes_and_masks_with_the_image() -> None:
    """Every turn of a non-square-object scene keeps each box the box of its object's pixels (issue 15: rotations for
    overhead imagery); the plan's "RandomRotate90 + vertical flips" names these steps and unknown ones are refused."""
    from torchvision import tv_tensors

    from dlexpert.data.dense._torch import RandomRotate90, augmentation_steps, quarter_turn_boxes
    from dlexpert.errors import InvalidInputError

    image = torch.zeros(1, 30, 40)
    image[0, 3:9, 5:25] = 1.0  # rows 3-8, columns 5-24: box (5, 3, 25, 9)
    boxes = tv_tensors.BoundingBoxes(torch.tensor([[5.0, 3.0, 25.0, 9.0]]), format="XYXY", canvas_size=(30, 40))
    for turns in range(4):
        turned = torch.rot90(image, turns, dims=(-2, -1))[0]
        rows, cols = torch.nonzero(turned, as_tuple=True)
        moved = quarter_turn_boxes(boxes, turns)
        expected = [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
        assert moved.as_subclass(torch.Tensor)[0].tolist() == [float(v) for v in expected]
        assert moved.canvas_size == tuple(turned.shape)
    torch.manual_seed(0)
    square = tv_tensors.Image(torch.rand(3, 16, 16))
    mask = tv_tensors.Mask((square[0] > 0.5).long())
    seen = set()
    for _ in range(24):
        out_image, out_mask = RandomRotate90()(square, mask)
        turns = next(k for k in range(4) if torch.equal(out_image, torch.rot90(square, k, dims=(-2, -1))))
        assert torch.equal(out_mask, torch.rot90(mask, turns, dims=(-2, -1)))
        seen.add(turns)
    assert seen == {0, 1, 2, 3}
    steps = augmentation_steps(["RandomHorizontalFlip(p=0.5)", "RandomRotate90 + vertical flips: no canonical up"],
                               task="detection")  # fmt: skip
    assert [type(t).__name__ for t in steps] == ["RandomHorizontalFlip", "RandomRotate90", "RandomVerticalFlip"]
    with pytest.raises(InvalidInputError, match="ColorJitter"):
        augmentation_steps(["ColorJitter(0.4, 0.4, 0.4)"])
    with pytest.raises(InvalidInputError, match="RandomCrop"):  # a crop would cut boxes: not for detection
        augmentation_steps(["RandomCrop(64)"], task="detection")


def test_a_detection_run_killed_mid_epoch_resumes_to_the_same_weights(tmp_path: Path) -> None:
    """Ctrl-C in the second epoch, then `resume`: the weights, the best checkpoint and the logged epochs equal an
    uninterrupted run's (the flips draw from the restored RNG; issue 15: resume for dense runs)."""
    from safetensors.torch import load_file

    from dlexpert.engine import TrainingInterrupted, load_checkpoint

    from .test_checkpoint import CtrlC

    cfg = TrainConfig(task="detection", epochs=3, batch_size=8, lr=3e-3, weight_decay=0.0, grad_clip=10.0,
                      scheduler="cosine", warmup_epochs=1)  # fmt: skip

    def train(name: str, seed: int, **kw: object) -> object:
        torch.manual_seed(seed)
        model = create_model("fcos", input_shape=(3, 48, 48), n_classes=2, width=8)
        return fit(model, train_set=_scenes(32, 0), val_set=_scenes(8, 1), cfg=cfg, out_dir=tmp_path / name,
                   progress=False, **kw)  # fmt: skip

    train("full", 0)
    with pytest.raises(TrainingInterrupted, match="continue with --resume"):
        train("killed", 0, callbacks=[CtrlC("after_step", step=6)])  # epoch 2 of 3, after its second batch
    train("killed", 7, resume=True)  # a fresh process builds a fresh model: the checkpoint must override it
    for name in ("last.pt", "best.safetensors"):
        read = load_file if name.endswith(".safetensors") else (lambda p: load_checkpoint(p)["model"])
        a, b = (read(tmp_path / run / "checkpoints" / name) for run in ("full", "killed"))
        assert all(torch.equal(a[k], b[k]) for k in a), name
    rows = [json.loads(ln) for ln in (tmp_path / "killed" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows if r.get("kind") == "epoch"] == [0, 1, 2]
