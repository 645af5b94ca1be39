"""Semantic segmentation end to end: `dlexpert run` on a segmentation set, from scratch on the CPU, beside its Step-4
baselines (issue 15).

It runs exactly what `dlexpert run TASK --data SRC --out DIR` runs (pipeline.run: profile, plan, train the planned
model with the engine, evaluate): on this machine without cached weights, the plan falls back to dlexpert's U-Net
with the segmentation-scratch-unet recipe. The test split's figures come from the run's evaluation.json, beside:
- the majority class per pixel (every pixel the most frequent training class: the background);
- a per-pixel logistic regression on colour (scikit-learn, fitted on 200k training pixels' RGB): what colour alone
  separates, with no shape and no context.

It prints mIoU (background included, as VOC), mean foreground Dice, pixel accuracy, the training wall time and the
whole run's; the issue's target on shapes-seg is mIoU >= 0.85 within 10 minutes on 2 CPU cores.

    python benchmarks/bench_dense.py [--data shapes-seg] [--epochs N] [--seed 0] [--threads 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from dlexpert.pipeline import run
from dlexpert.schema import parse_task

SPEC = {
    "task": {"type": "semantic segmentation", "domain": "vision", "specificTask": "segment the objects in each image"},
    "constraints": {"computeResources": "CPU, 2 cores"},
}


def row(name: str, m: dict, wall: str) -> str:
    dice = "-" if m.get("dice") is None else f"{m['dice']:.3f}"
    return f"{name:<44} {m['miou']:>6.3f} {dice:>6} {m['pixel_accuracy']:>8.3f} {wall:>8}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="shapes-seg", help="a segmentation folder or built-in")
    ap.add_argument("--epochs", type=int, default=None, help="override the plan's epochs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="keep the run directory here (default: a temporary one)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or Path(tmp) / "run")
        t = time.perf_counter()
        result = run(parse_task(SPEC), data=args.data, out_dir=out, epochs=args.epochs, seed=args.seed,
                     progress=False, latency=False)  # fmt: skip
        wall = time.perf_counter() - t
        ev = json.loads((out / "evaluation.json").read_text())
        rows = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines() if ln.strip()]
    epochs = [r for r in rows if r.get("kind") == "epoch"]
    train_s = max((e.get("time") or 0 for e in epochs), default=0)
    d, t_ = result.decisions, result.decisions.training
    print(f"{args.data}: {ev['data']['n_train']} train / {ev['data']['n_val']} val / {ev['n_samples']} test images, "
          f"classes {', '.join(ev['data']['classes'])}; {args.threads} threads")  # fmt: skip
    run_epochs = f"; run for {args.epochs} (--epochs)" if args.epochs else ""
    print(f"planned: {d.model.name} ({t_.recipe}: {t_.optimizer} lr {t_.lr:g}, {t_.scheduler}, {t_.epochs} epochs"
          f"{run_epochs}, batch {t_.micro_batch}, Dice weight {t_.dice_weight:g}, "
          f"{', '.join(t_.augmentation)})")  # fmt: skip
    print(f"{'model':<44} {'mIoU':>6} {'Dice':>6} {'pix acc':>8} {'wall':>8}")
    b = ev["baseline"]
    for base in (b["majority"], b["linear"]):
        print(row(base["model"], base["metrics"], "-"))
    print(row(f"{d.model.name} ({len(epochs)} epochs)", ev["metrics"], f"{train_s:.0f}s"))
    per_class = ", ".join(f"{k[4:]} {v:.3f}" for k, v in ev["metrics"].items() if k.startswith("iou/"))
    print(f"IoU per class: {per_class}")
    print(f"whole run (profile, plan, train, evaluate): {wall:.0f} s; training {train_s:.0f} s")


if __name__ == "__main__":
    main()
