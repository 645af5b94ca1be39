"""Detection and segmentation data (issue 15): COCO, YOLO, Pascal VOC and mask folders, the built-in shapes-det and
shapes-seg, the profile, and one line naming the file and entry for every broken annotation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from dlexpert.data import load_data
from dlexpert.data.dense import is_dense_source, load_dense, profile_dense
from dlexpert.errors import InvalidInputError

from ..cli.test_bad_input import one_error_line
from ..cli.test_cli import in_process
from .conftest import save_image


def _photo(path: Path, w: int = 40, h: int = 30, seed: int = 0) -> None:
    save_image(path, np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8))


def coco_folder(root: Path) -> Path:
    for i in range(4):
        _photo(root / "images" / f"im{i}.png", seed=i)
    annotations = [
        {"id": 1, "image_id": 0, "category_id": 7, "bbox": [2, 3, 10, 8]},
        {"id": 2, "image_id": 1, "category_id": 9, "bbox": [30, 20, 8, 6]},
        {"id": 3, "image_id": 1, "category_id": 7, "bbox": [35, 5, 20, 5]},  # right edge at 55 of a 40 px image
        {"id": 4, "image_id": 2, "category_id": 7, "bbox": [5, 5, 0, 4]},  # zero width
        {"id": 5, "image_id": 2, "category_id": 3, "bbox": [5, 5, 4, 4]},  # no category 3
        {"id": 6, "image_id": 99, "category_id": 7, "bbox": [5, 5, 4, 4]},  # no image 99
    ]
    doc = {"images": [{"id": i, "file_name": f"im{i}.png", "width": 40, "height": 30} for i in range(4)],
           "annotations": annotations, "categories": [{"id": 9, "name": "dog"}, {"id": 7, "name": "cat"}]}  # fmt: skip
    (root / "annotations.json").write_text(json.dumps(doc))
    return root


def test_builtin_shapes_det_and_seg_load_split_by_image_and_profile() -> None:
    det = load_dense("shapes-det", seed=0)
    assert det.task == "detection" and det.classes == ["circle", "square", "triangle", "cross"]
    assert (len(det.train), len(det.val), len(det.test)) == (1728, 192, 480)
    assert load_dense("shapes-det", seed=0).version == det.version  # generated the same way every time
    p = profile_dense(det)
    assert p.box_sizes is not None and p.box_sizes["small"] > 0 and p.box_sizes["medium"] > 0  # scale variation
    assert min(p.objects_per_class.values()) > 1500 and p.imbalance_ratio < 1.2
    assert p.duplicates_across_splits == 0 and p.n_broken == 0
    seg = profile_dense(load_dense("shapes-seg"))
    assert seg.task == "segmentation" and seg.pixel_share is not None
    assert seg.pixel_share["background"] < 0.95 and all(seg.pixel_share[c] > 0.005 for c in seg.classes[1:])


def test_a_coco_folder_is_read_and_every_broken_annotation_is_named(tmp_path: Path) -> None:
    root = coco_folder(tmp_path / "coco")
    assert is_dense_source(root)
    data = load_dense(root, seed=0)
    assert data.format == "coco" and data.classes == ["cat", "dog"]  # categories sorted by id
    first = next(s for _, s in data.samples() if s.image_id == "im0.png")
    assert first.boxes.tolist() == [[2, 3, 12, 11]] and first.labels.tolist() == [0]  # xywh -> xyxy
    broken = " | ".join(data.broken)
    for needle in ("annotations[2] (id 3)", "outside the 40x30 image", "(id 4)", "zero area",
                   "category_id 3", "image_id 99"):  # fmt: skip
        assert needle in broken
    p = profile_dense(data)
    assert p.n_broken == 4 and "label_errors" in p.issues and p.images_without_objects == 2
    with pytest.raises(InvalidInputError, match=r"and 3 more"):
        data.require_clean()


def test_yolo_voc_and_mask_folders(tmp_path: Path) -> None:
    yolo = tmp_path / "yolo"
    for i in range(3):
        _photo(yolo / "images" / f"a{i}.jpg", seed=i)
    (yolo / "labels").mkdir()
    (yolo / "labels" / "a0.txt").write_text("0 0.5 0.5 0.25 0.5\n1 0.2 0.2 0.1 0.1\n")
    (yolo / "labels" / "a1.txt").write_text("5 0.5 0.5 0.2 0.2\n0 0.5 0.5\n")  # class 5 of 2; 3 fields
    (yolo / "data.yaml").write_text("names: {0: person, 1: helmet}\n")
    data = load_dense(yolo)
    assert data.format == "yolo" and data.classes == ["person", "helmet"]
    a0 = next(s for _, s in data.samples() if s.image_id == "a0")
    assert np.allclose(a0.boxes[0], [15, 7.5, 25, 22.5])
    assert any("a1.txt:1: class id 5 is out of range" in b for b in data.broken)
    assert any("a1.txt:2: 3 fields" in b for b in data.broken)

    voc = tmp_path / "voc"
    _photo(voc / "JPEGImages" / "v0.jpg")
    (voc / "Annotations").mkdir()
    (voc / "Annotations" / "v0.xml").write_text(
        "<annotation><filename>v0.jpg</filename><object><name>car</name><bndbox><xmin>3</xmin><ymin>4</ymin>"
        "<xmax>20</xmax><ymax>25</ymax></bndbox></object></annotation>"
    )
    v = load_dense(voc)
    assert v.format == "voc" and v.classes == ["car"] and v.samples()[0][1].boxes.tolist() == [[3, 4, 20, 25]]

    masks = tmp_path / "seg"
    for i in range(3):
        _photo(masks / "images" / f"m{i}.png", w=8, h=6, seed=i)
        m = np.zeros((6, 8), np.uint8)
        m[:3, :4] = 1
        m[5, 7] = 255
        save_image(masks / "masks" / f"m{i}.png", m)
    save_image(masks / "masks" / "m1.png", np.zeros((5, 8), np.uint8))  # the wrong size
    save_image(masks / "masks" / "m2.png", np.full((6, 8), 7, np.uint8))  # class 7 of 2
    (masks / "classes.json").write_text(json.dumps(["background", "road"]))
    s = load_dense(masks)
    assert s.task == "segmentation" and s.classes == ["background", "road"]
    assert any("m1.png: mask is 8x5, its image m1.png is 8x6" in b for b in s.broken)
    assert any("m2.png: mask values [7] name no class" in b for b in s.broken)
    share = profile_dense(s).pixel_share
    assert share is not None and share["road"] == pytest.approx(12 / 47)  # 47 labelled pixels, 1 ignored


def test_the_same_image_in_train_and_test_is_leakage(tmp_path: Path) -> None:
    train = coco_folder(tmp_path / "train")
    test = tmp_path / "test"
    shutil.copytree(train, test)
    p = profile_dense(load_dense(train, test=test))
    assert p.duplicates_across_splits >= 3 and "data_leakage" in p.issues


def test_bad_dense_input_is_one_line_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    (bad / "images").mkdir(parents=True)
    (bad / "annotations.json").write_text('{"images": [], "annotations": [}')
    one_error_line(in_process("profile", str(bad)), "annotations.json: not valid JSON", "line 1")
    empty = tmp_path / "empty"
    (empty / "images").mkdir(parents=True)
    (empty / "labels").mkdir()
    (empty / "classes.txt").write_text("a\n")
    one_error_line(in_process("profile", str(empty)), "no images")
    with pytest.raises(InvalidInputError, match="a detection dataset"):
        load_data("shapes-det")  # not read as classification data
    r = in_process("profile", "shapes-seg", "--format", "text")
    assert r.returncode == 0 and "pixel share: background" in r.stderr
