"""Segmentation and detection end to end: `dlexpert run` on a dense data set, from scratch on the CPU, beside its Step-4
baselines (issue 15).

It runs exactly what `dlexpert run TASK --data SRC --out DIR` runs (pipeline.run: profile, plan, train the planned
model with the engine, evaluate): on this machine without cached weights the plan falls back to dlexpert's U-Net
(segmentation-scratch-unet) or FCOS (detection-scratch-fcos). The test split's figures come from the run's
evaluation.json, beside its baselines:
- segmentation: the majority class per pixel, and a logistic regression on each pixel's RGB (what colour alone
  separates, with no shape and no context);
- detection: one whole-image box of the most frequent class per image (what knowing nothing about where objects
  are scores).

`--data photo-coco` writes the 600-image COCO folder of photographs (benchmarks/make_photo_coco.py) first;
`--data photo-seg` a 600-image segmentation folder of the same kind of photographs whose heights and widths each vary
over 144-240 px (trained at the median size, scored at each image's own). Targets (issue 15, 2 CPU cores): shapes-seg
mIoU >= 0.85 and shapes-det mAP50 >= 0.90 / mAP >= 0.60 within 10 minutes; the photo COCO folder a useful detector
within 20 minutes.

    python benchmarks/bench_dense.py [--data shapes-seg|shapes-det|photo-coco|photo-seg|DIR] [--epochs N]
                                     [--seed 0] [--threads 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from dlexpert.data.dense import load_dense
from dlexpert.pipeline import run
from dlexpert.schema import parse_task

TASKS = {
    "segmentation": {"type": "semantic segmentation", "domain": "vision",
                     "specificTask": "segment the objects in each image"},
    "detection": {"type": "object detection", "domain": "vision", "specificTask": "find the objects in each image"},
}  # fmt: skip
COLUMNS = {"segmentation": ("miou", "dice", "pixel_accuracy"), "detection": ("map", "map50", "map75")}


def row(name: str, m: dict, keys: tuple[str, ...], wall: str) -> str:
    cells = "".join(f" {'-' if m.get(k) is None else format(m[k], '.3f'):>8}" for k in keys)
    return f"{name:<48}{cells} {wall:>8}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="shapes-seg", help="shapes-seg, shapes-det, photo-coco, photo-seg or a folder")
    ap.add_argument("--epochs", type=int, default=None, help="override the plan's epochs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="keep the run directory here (default: a temporary one)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data == "photo-coco":
            from make_photo_coco import write_folder

            data = str(write_folder(Path(tmp) / "photo-coco", n=600, size=192, seed=args.seed))
        elif data == "photo-seg":
            from make_photo_coco import write_masks_folder

            data = str(write_masks_folder(Path(tmp) / "photo-seg", n=600, sizes=(144, 240), seed=args.seed))
        task = load_dense(data).task
        out = Path(args.out or Path(tmp) / "run")
        spec = {"task": TASKS[task], "constraints": {"computeResources": "CPU, 2 cores"}}
        t = time.perf_counter()
        result = run(parse_task(spec), data=data, out_dir=out, epochs=args.epochs, seed=args.seed,
                     progress=False, latency=False)  # fmt: skip
        wall = time.perf_counter() - t
        ev = json.loads((out / "evaluation.json").read_text())
        rows = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines() if ln.strip()]
    epochs = [r for r in rows if r.get("kind") == "epoch"]
    train_s = max((e.get("time") or 0 for e in epochs), default=0)
    d, t_ = result.decisions, result.decisions.training
    keys = COLUMNS[task]
    print(f"{args.data} ({task}): {ev['data']['n_train']} train / {ev['data']['n_val']} val / {ev['n_samples']} test "
          f"images, classes {', '.join(ev['data']['classes'])}; {args.threads} threads")  # fmt: skip
    run_epochs = f"; run for {args.epochs} (--epochs)" if args.epochs else ""
    print(f"planned: {d.model.name} ({t_.recipe}: {t_.optimizer} lr {t_.lr:g}, {t_.scheduler}, {t_.epochs} epochs"
          f"{run_epochs}, batch {t_.micro_batch}, {', '.join(t_.augmentation)})")  # fmt: skip
    print(f"{'model':<48}" + "".join(f" {k:>8}" for k in keys) + f" {'wall':>8}")
    b = ev["baseline"]
    for base in (b.get("majority"), b.get("linear")):
        if base:
            print(row(base["model"], base["metrics"], keys, "-"))
    print(row(f"{d.model.name} ({len(epochs)} epochs)", ev["metrics"], keys, f"{train_s:.0f}s"))
    per_class = ", ".join(f"{k.split('/', 1)[1]} {v:.3f}" for k, v in ev["metrics"].items() if "/" in k)
    print(f"per class ({'IoU' if task == 'segmentation' else 'AP'}): {per_class}")
    print(f"whole run (profile, plan, train, evaluate): {wall:.0f} s; training {train_s:.0f} s")


if __name__ == "__main__":
    main()
