"""`dlexpert run` / `evaluate` on a user's segmentation folder (images/ + masks/ + classes.json), and the one-line
refusals of data it cannot train (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from dlexpert.data.dense import load_dense

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


@pytest.mark.slow  # ~40 s: the whole segmentation lifecycle; its parts are in tests/engine/test_segmentation.py,
# tests/report/test_dense_metrics.py and tests/data/test_dense.py (`make test-all` runs it)
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
    assert "Test mIoU" in card and "| disc |" in card and "Images showing each class" in card  # the dense profile
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


def coco_shapes(root: Path, *, n: int = 32, size: int = 48, seed: int = 0) -> Path:
    """A COCO folder: `n` noisy grey images, each with a red square and a blue disc, and their boxes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    images, annotations = [], []
    for i in range(n):
        image = rng.integers(60, 160, (size, size, 3)).astype(np.uint8)
        x, y = (int(v) for v in rng.integers(0, size // 2 - 12, 2))
        image[y : y + 12, x : x + 12] = (220, 40, 40)
        cx, cy = (int(v) for v in rng.integers(size // 2 + 6, size - 7, 2))
        image[(xx - cx) ** 2 + (yy - cy) ** 2 <= 36] = (40, 40, 220)
        save_image(root / "images" / f"d{i:02d}.png", image)
        images.append({"id": i, "file_name": f"d{i:02d}.png", "width": size, "height": size})
        square = {"id": 2 * i, "image_id": i, "category_id": 1, "bbox": [x, y, 12, 12]}
        disc = {"id": 2 * i + 1, "image_id": i, "category_id": 2, "bbox": [cx - 6, cy - 6, 13, 13]}
        annotations += [square, disc]
    categories = [{"id": 1, "name": "square"}, {"id": 2, "name": "disc"}]
    doc = {"images": images, "annotations": annotations, "categories": categories}
    (root / "annotations.json").write_text(json.dumps(doc))
    return root


@pytest.mark.slow  # ~90 s: the whole detection lifecycle; its parts are in tests/engine, tests/deploy, tests/advisor
def test_run_trains_evaluates_and_documents_a_coco_detection_folder(tmp_path: Path) -> None:
    data, out, spec = coco_shapes(tmp_path / "coco"), tmp_path / "run", tmp_path / "task.yaml"
    spec.write_text("task: {type: object detection, domain: vision, specificTask: find squares and discs}\n")
    r = run("run", str(spec), "--data", str(data), "--out", str(out), "--epochs", "6", "--format", "json")
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert ev["task"] == "detection" and {"map", "map50", "map75", "ap/square", "ap/disc"} <= set(ev["metrics"])
    assert ev["baseline"]["majority"]["metrics"]["map"] < 0.05 < ev["metrics"]["map50"]
    assert ev["confusion"]["labels"] == ["square", "disc", "background"] and ev["failures"]["unit"] == "boxes"
    for name in ("figures/confusion.png", "MODEL_CARD.md", "report.html"):
        assert (out / name).exists(), name
    assert (out / "figures/failures.png").exists() == bool(ev["failures"]["worst_images"])  # drawn when wrong
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["model"] == "fcos" and config["train"]["task"] == "detection"
    options = config["model_record"]["options"]
    assert len(options["mean"]) == 3  # the detector normalises with the data's statistics
    assert options["min_stride"] == 4  # every box is under 32x32 px: a P2 level, and the decision says why
    assert any("P2" in note for note in json.loads((out / "decisions.json").read_text())["notes"])
    card = (out / "MODEL_CARD.md").read_text()
    assert "Test box mAP" in card and "Boxes per class (all splits): 32 per class" in card
    again = run("evaluate", str(out), "--format", "json")
    assert again.returncode == 0, again.stderr
    assert abs(json.loads(again.stdout)["metrics"]["map"] - ev["metrics"]["map"]) < 1e-6
    exported = run("export", str(out), "--format", "json")  # post-processing inside, parity box by box
    assert exported.returncode == 0, exported.stderr
    parity = json.loads(exported.stdout)["parity"]
    assert parity["passed"] and parity["boxes"]["matched"] == parity["boxes"]["eager_boxes"] > 0
    one_error_line(run("export", str(out), "--dynamic-batch"), "one image per call")
    int8 = run("compress", str(out), "--method", "int8")
    assert int8.returncode == 0, int8.stderr
    report = json.loads((out / "variants" / "int8" / "report.json").read_text())
    assert report["metric"] == "map" and abs(report["baseline_accuracy"] - ev["metrics"]["map"]) < 1e-6
    assert report["dynamic_batch"] is False and report["batch_size"] == 1
    one_error_line(run("compress", str(out), "--method", "prune"), "detection run")
    bench = run("bench", str(out), "--batch-sizes", "1,4", "--backends", "eager,variants", "--iters", "3",
                "--format", "json")  # fmt: skip
    assert bench.returncode == 0, bench.stderr
    rows = {(r["backend"], r["batch_size"]): r for r in json.loads(bench.stdout)["results"]}
    assert not any(r.get("error") for r in rows.values())  # the one-image graphs run a batch image by image
    matched, total = rows[("variant:onnx", 4)]["boxes_matched"].split("/")
    assert matched == total


def test_run_refuses_broken_annotations_in_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "task.yaml"
    spec.write_text(SPEC)
    coco = coco_folder(tmp_path / "coco")  # boxes outside their image, zero width, unknown category and image
    one_error_line(run("run", str(spec), "--data", str(coco), "--out", str(tmp_path / "o1")), "annotations.json")
    bad = masks_folder(tmp_path / "bad", n=6)
    save_image(bad / "masks" / "s03.png", np.zeros((5, 8), np.uint8))
    one_error_line(run("run", str(spec), "--data", str(bad), "--out", str(tmp_path / "o2")), "s03.png")


# ~23 s: a whole segmentation run; `make test-all` runs it (a segmentation run stays in `make test` below, on the
# cached LR-ASPP). `make test` with setup took 941 s from a fresh clone, over the 15-minute bar, without the slow marks.
@pytest.mark.slow
def test_run_trains_a_folder_of_several_image_sizes_and_scores_each_at_its_own(tmp_path: Path) -> None:
    """Images of 32x32 and 44x40 px train at their median size; the decision says so, and the test masks are scored
    at each image's own size (the evaluation's pixel counts are the original masks')."""
    data = masks_folder(tmp_path / "mixed", n=14)
    larger = masks_folder(tmp_path / "larger", n=14, size=44, seed=1)
    for part in ("images", "masks"):
        for i, path in enumerate(sorted((larger / part).glob("*.png"))):
            image = np.asarray(Image.open(path))
            save_image(data / part / f"t{i:02d}.png", image[:, :40])  # 44 high, 40 wide
    spec, out = tmp_path / "task.yaml", tmp_path / "run"
    spec.write_text(SPEC)
    r = run("run", str(spec), "--data", str(data), "--out", str(out), "--epochs", "4", "--format", "json")
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    majority = ev["baseline"]["majority"]["metrics"]["miou"]
    assert ev["metrics"]["miou"] > majority + 0.2
    notes = json.loads((out / "decisions.json").read_text())["notes"]
    assert any("2 sizes (32-44 x 32-40 px)" in n and "own size" in n for n in notes), notes
    splits = load_dense(str(data), seed=yaml.safe_load((out / "config.yaml").read_text())["train"]["seed"])
    pixels = sum(s.height * s.width for s in splits.test)
    assert sum(map(sum, ev["confusion"]["matrix"])) == pixels  # every original pixel scored, none resized away
    again = run("evaluate", str(out), "--format", "json")
    assert again.returncode == 0, again.stderr
    assert abs(json.loads(again.stdout)["metrics"]["miou"] - ev["metrics"]["miou"]) < 1e-6


@pytest.mark.parametrize(
    ("kind", "builder", "n_pretrained"),
    [
        # ~17 s each; the detector's run is in `make test-all` (the segmenter's takes the same cache and plan path)
        pytest.param("object detection", "ssdlite320_mobilenet_v3_large", 91, marks=pytest.mark.slow),
        ("semantic segmentation", "lraspp_mobilenet_v3_large", 21),
    ],
)
def test_cached_torchvision_models_are_planned_and_run_as_planned(
    tmp_path: Path, kind: str, builder: str, n_pretrained: int
) -> None:
    """With torchvision weights in the cache (written here: random weights under the download's file name), the user's
    base model is planned and trained: the run's decisions, config and evaluation name it, with the recipe's
    multi-scale steps fitted to the data's 48 px (issue 15: pretrained weights come from the local cache)."""
    import torch
    import torchvision.models as tvm

    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    model = tvm.get_model(builder, weights=None, weights_backbone=None, num_classes=n_pretrained)
    torch.save(model.state_dict(), hub / Path(tvm.get_model_weights(builder).DEFAULT.url).name)
    env = {"TORCH_HOME": str(tmp_path / "torch")}
    if kind == "object detection":
        data = coco_shapes(tmp_path / "coco", n=16)
    else:
        data = masks_folder(tmp_path / "seg", n=16, size=48)
    spec, out = tmp_path / f"{builder}.yaml", tmp_path / builder
    spec.write_text(f"task: {{type: {kind}, domain: vision, specificTask: find squares and discs}}\n"
                    f"existingSetup: {{baseModel: {builder}}}\n")  # fmt: skip
    r = run("run", str(spec), "--data", str(data), "--out", str(out), "--epochs", "1", "--format", "json", env=env)
    assert r.returncode == 0, r.stderr
    decisions = json.loads((out / "decisions.json").read_text())
    assert decisions["model"]["library"] == "torchvision" and decisions["model"]["name"].startswith(builder)
    assert decisions["fallback"] is None and json.loads(r.stdout)["model"].startswith(builder)
    if kind == "semantic segmentation":
        assert "RandomCrop(48)" in decisions["training"]["augmentation"]
