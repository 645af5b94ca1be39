"""`dlexpert run` / `evaluate` on a user's segmentation folder (images/ + masks/ + classes.json), and the one-line
refusals of data it cannot train (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

from ..data.conftest import save_image
from ..data.test_dense import coco_folder
from .test_bad_input import one_error_line
from .test_cli import run

SPEC = "task: {type: semantic segmentation, domain: vision, specificTask: find red squares and blue discs}\n"


def masks_folder(root: Path, *, n: int = 24, size: int = 32, seed: int = 0) -> Path:
    """`n` noisy grey images, each with a red square (class 1) and a blue disc (class 2) at random places."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        image = rng.integers(60, 160, (size, size, 3)).astype(np.uint8)
        mask = np.zeros((size, size), np.uint8)
        x, y = rng.integers(2, size - 12, 2)
        mask[y : y + 9, x : x + 9] = 1
        cx, cy = rng.integers(6, size - 6, 2)
        mask[(xx - cx) ** 2 + (yy - cy) ** 2 <= 20] = 2
        image[mask == 1] = (220, 40, 40)
        image[mask == 2] = (40, 40, 220)
        save_image(root / "images" / f"s{i:02d}.png", image)
        save_image(root / "masks" / f"s{i:02d}.png", mask)
    (root / "classes.json").write_text(json.dumps(["background", "square", "disc"]))
    return root


def test_run_trains_evaluates_and_documents_a_segmentation_folder(tmp_path: Path) -> None:
    data, out, spec = masks_folder(tmp_path / "seg"), tmp_path / "run", tmp_path / "task.yaml"
    spec.write_text(SPEC)
    r = run("run", str(spec), "--data", str(data), "--out", str(out), "--epochs", "4", "--format", "json")
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert ev["task"] == "segmentation" and {"miou", "dice", "pixel_accuracy", "iou/disc"} <= set(ev["metrics"])
    majority = ev["baseline"]["majority"]["metrics"]["miou"]
    assert majority < 0.4 and ev["metrics"]["miou"] > majority + 0.2  # colours this plain are learnt in 4 epochs
    assert ev["baseline"]["linear"]["model"] == "logistic regression on pixel colour"
    assert ev["failures"]["unit"] == "pixels" and len(ev["failures"]["worst_images"]) >= 1
    for name in ("figures/failures.png", "figures/confusion.png", "MODEL_CARD.md", "report.html", "profile.json"):
        assert (out / name).exists(), name
    decisions = json.loads((out / "decisions.json").read_text())
    assert decisions["model"]["task"] == "segmentation" and decisions["model"]["n_classes"] == 3
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["model"] == "unet" and config["train"]["task"] == "segmentation"
    assert config["train"]["dice_weight"] == decisions["training"]["dice_weight"] > 0  # planned = run
    card = (out / "MODEL_CARD.md").read_text()
    assert "Test mIoU" in card and "| disc |" in card
    again = run("evaluate", str(out), "--format", "json")
    assert again.returncode == 0, again.stderr
    assert abs(json.loads(again.stdout)["metrics"]["miou"] - ev["metrics"]["miou"]) < 1e-6
    exported = run("export", str(out))
    assert exported.returncode == 0 and "parity" in exported.stderr, exported.stderr
    int8 = run("compress", str(out), "--method", "int8")
    assert int8.returncode == 0, int8.stderr
    report = json.loads((out / "variants" / "int8" / "report.json").read_text())
    assert report["metric"] == "miou" and abs(report["baseline_accuracy"] - ev["metrics"]["miou"]) < 1e-6
    pruned = run("compress", str(out), "--method", "prune")
    one_error_line(pruned, "segmentation run")


def test_run_refuses_detection_data_and_broken_masks_in_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "task.yaml"
    spec.write_text(SPEC)
    coco = coco_folder(tmp_path / "coco")
    one_error_line(run("run", str(spec), "--data", str(coco), "--out", str(tmp_path / "o1")), "a detection dataset")
    bad = masks_folder(tmp_path / "bad", n=6)
    save_image(bad / "masks" / "s03.png", np.zeros((5, 8), np.uint8))
    one_error_line(run("run", str(spec), "--data", str(bad), "--out", str(tmp_path / "o2")), "s03.png")
