"""Semantic segmentation on the built-in shapes-seg, from scratch on the CPU, beside its Step-4 baselines (issue 15).

A U-Net (models/unet.py) is trained by the same engine as every dlexpert run (`engine.fit`: checkpoints, resume,
TensorBoard, metrics.jsonl), with per-pixel cross-entropy, AdamW and a one-cycle schedule, on random crops (a fully
convolutional network predicts whole images), keeping the checkpoint of the best validation mean IoU. The test split
is scored with `report.dense_metrics.segmentation_metrics`, beside:
- the majority class per pixel (every pixel the most frequent training class: the background);
- a per-pixel logistic regression on colour (scikit-learn, fitted on 200k training pixels' RGB): what colour alone
  separates, with no shape and no context.

It prints mIoU (background included, as VOC), mean foreground Dice, pixel accuracy and wall time for each; the issue's
target is mIoU >= 0.85 within 10 minutes on 2 CPU cores.

    python benchmarks/bench_dense.py [--epochs 60] [--seed 0] [--threads 2] [--crop 96] [--depth 4]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from dlexpert.data.dense import load_dense, mask_array
from dlexpert.data.dense._torch import read_rgb, segmentation_sets
from dlexpert.engine import TrainConfig, fit
from dlexpert.engine.checkpoint import load_weights
from dlexpert.models import create_model
from dlexpert.report.dense_metrics import segmentation_metrics

PIXELS_FOR_LOGISTIC = 200_000
FLIPS = ("RandomHorizontalFlip", "RandomVerticalFlip")


def predict(model: torch.nn.Module, dataset: torch.utils.data.Dataset, batch_size: int = 32) -> list[np.ndarray]:
    model.eval()
    out = []
    with torch.no_grad():
        for x, _ in torch.utils.data.DataLoader(dataset, batch_size=batch_size):
            out += list(model(x).argmax(1).numpy().astype(np.uint8))
    return out


def majority_baseline(train_masks: list[np.ndarray], test_masks: list[np.ndarray], n_classes: int) -> list[np.ndarray]:
    counts = np.bincount(np.concatenate([m.ravel() for m in train_masks]), minlength=256)[:n_classes]
    return [np.full_like(m, int(counts.argmax())) for m in test_masks]


def colour_baseline(data, rng: np.random.Generator) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    rgb = np.concatenate([read_rgb(s).reshape(-1, 3) for s in data.train]).astype(np.float32) / 255
    labels = np.concatenate([mask_array(s).ravel() for s in data.train])
    keep = labels != 255
    pick = rng.choice(np.flatnonzero(keep), size=min(PIXELS_FOR_LOGISTIC, int(keep.sum())), replace=False)
    clf = LogisticRegression(max_iter=300).fit(rgb[pick], labels[pick])
    return [
        clf.predict(read_rgb(s).reshape(-1, 3).astype(np.float32) / 255).reshape(s.height, s.width).astype(np.uint8)
        for s in data.test
    ]


def row(name: str, m: dict, wall: float) -> str:
    return f"{name:<34} {m['miou']:>6.3f} {m['dice']:>6.3f} {m['pixel_accuracy']:>8.3f} {wall:>7.0f}s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--crop", type=int, default=96, help="train on random crops of this side (0: whole images)")
    ap.add_argument("--depth", type=int, default=4, help="U-Net levels below full resolution")
    ap.add_argument("--width", type=int, default=16, help="U-Net channels at full resolution")
    ap.add_argument("--stem-stride", type=int, default=2, help="downsample by this before the U-Net (logits upsampled)")
    ap.add_argument("--residual", action=argparse.BooleanOptionalAction, default=True, help="residual blocks")
    ap.add_argument("--dice", type=float, default=1.0, help="weight of the soft Dice loss beside cross-entropy")
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dense("shapes-seg", seed=args.seed)
    k = len(data.classes)
    truth = [mask_array(s) for s in data.test]
    print(f"shapes-seg: {len(data.train)} train / {len(data.val)} val / {len(data.test)} test images, {k} classes "
          f"({', '.join(data.classes)}); {args.threads} threads")  # fmt: skip
    print(f"{'model':<34} {'mIoU':>6} {'Dice':>6} {'pix acc':>8} {'wall':>8}")

    t = time.perf_counter()
    majority = majority_baseline([mask_array(s) for s in data.train], truth, k)
    print(row("majority class per pixel", segmentation_metrics(majority, truth, k), time.perf_counter() - t))
    t = time.perf_counter()
    colour = colour_baseline(data, np.random.default_rng(args.seed))
    print(row("logistic regression on RGB", segmentation_metrics(colour, truth, k), time.perf_counter() - t))

    t = time.perf_counter()
    train, val, test, _ = segmentation_sets(data, augment=FLIPS, crop=args.crop)
    model = create_model("unet", input_shape=(3, data.train[0].height, data.train[0].width), n_classes=k,
                         depth=args.depth, width=args.width, stem_stride=args.stem_stride,
                         residual=args.residual)  # fmt: skip
    cfg = TrainConfig(task="segmentation", epochs=args.epochs, batch_size=16, lr=args.lr, weight_decay=1e-4,
                      dice_weight=args.dice,
                      scheduler="onecycle", warmup_epochs=max(1, args.epochs // 4), seed=args.seed)  # fmt: skip
    with tempfile.TemporaryDirectory() as out:
        result = fit(model, train_set=train, val_set=val, cfg=cfg, out_dir=out, progress=False)
        if result.best_checkpoint is not None:  # the epoch with the best validation mIoU, as a run ships it
            model.load_state_dict(load_weights(result.best_checkpoint))
    pred = predict(model, test)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    name = f"U-Net d{args.depth} w{args.width} {params:.2f}M, {result.epochs_run} ep, crop {args.crop or 'none'}"
    print(row(name, segmentation_metrics(pred, truth, k), time.perf_counter() - t))
    print(f"best validation mIoU {result.best_val_metric:.3f} at epoch {result.best_epoch} (0-based), whose weights "
          "the test row uses")  # fmt: skip


if __name__ == "__main__":
    main()
