"""Step 4's detection baselines (`report.evaluate_dense`): the pixel labels boxes imply, and colour blobs, a logistic
regression on pixel colour whose connected regions become boxes, against the whole-image floor."""

from __future__ import annotations

import numpy as np

from dlexpert.data.dense import IGNORE_INDEX, DenseData, DenseSample
from dlexpert.report.evaluate_dense import _detection_baselines, box_pixel_labels

CLASSES = ["red", "blue"]
COLOURS = {0: (210, 40, 40), 1: (40, 60, 210)}


def squares(n: int, *, seed: int) -> list[DenseSample]:
    """`n` 48x48 grey noisy images, each with 1-3 red or blue squares of 6-14 px that do not overlap."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        image = rng.integers(90, 170, (48, 48, 3)).astype(np.uint8)
        boxes, labels = [], []
        for cell in rng.permutation(4)[: rng.integers(1, 4)]:  # one square per quadrant at most
            side, cls = int(rng.integers(6, 15)), int(rng.integers(2))
            x, y = 24 * (cell % 2) + int(rng.integers(0, 24 - side)), 24 * (cell // 2) + int(rng.integers(0, 24 - side))
            image[y : y + side, x : x + side] = COLOURS[cls]
            boxes.append([x, y, x + side, y + side])
            labels.append(cls)
        box_array, label_array = np.asarray(boxes, np.float32), np.asarray(labels, np.int64)
        samples.append(DenseSample(f"img{i}", 48, 48, image, boxes=box_array, labels=label_array))
    return samples


def test_box_pixel_labels_mark_each_box_centre_as_its_class_and_the_rest_of_the_box_unknown() -> None:
    sample = DenseSample(image_id="a", width=20, height=16, image=np.zeros((16, 20, 3), np.uint8),
                         boxes=np.array([[4, 4, 12, 12]], np.float32), labels=np.array([1]))  # fmt: skip
    labels = box_pixel_labels(sample)
    assert labels.shape == (16, 20)
    assert (labels[6:10, 6:10] == 2).all()  # class 1 is pixel label 2 (0 is the background)
    ring = np.zeros_like(labels, dtype=bool)
    ring[4:12, 4:12] = True
    ring[6:10, 6:10] = False
    assert (labels[ring] == IGNORE_INDEX).all()
    assert (labels[:4] == 0).all() and (labels[:, 12:] == 0).all()


def test_colour_blobs_find_coloured_squares_that_the_whole_image_box_cannot() -> None:
    train, test = squares(30, seed=0), squares(10, seed=1)
    data = DenseData(task="detection", source="squares", format="builtin", classes=CLASSES, train=train, val=[],
                     test=test, version="1")  # fmt: skip
    truth = [{"boxes": s.boxes, "labels": s.labels} for s in test]
    baselines = _detection_baselines(data, truth, CLASSES, seed=0)
    assert baselines.majority is not None and baselines.linear is not None and not baselines.skipped
    assert baselines.majority.metrics["map50"] < 0.1
    assert baselines.linear.metrics["map50"] > 0.8  # flat colours on grey: colour alone finds them
    assert "LogisticRegression" in baselines.linear.how
