"""`analyze_failures` on constructed predictions, and `plot_failure_grid`'s PNG for images and sequences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dlexpert.report.failures import analyze_failures, plot_failure_grid
from dlexpert.report.metrics import classification_metrics

CLASSES = ["a", "b", "c"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Eight samples. Class a (4 samples) is right once and mistaken for b three times (confidence 0.85, 0.6, 0.55);
# class b (2) is mistaken for c once, with the highest confidence of all (0.95); class c (2) is always right.
Y = np.array([0, 0, 1, 0, 1, 2, 0, 2])
PROBA = np.array(
    [
        [0.10, 0.85, 0.05],  # a -> b (0.85)
        [0.20, 0.60, 0.20],  # a -> b (0.60)
        [0.05, 0.00, 0.95],  # b -> c (0.95)
        [0.90, 0.05, 0.05],  # a, right
        [0.10, 0.80, 0.10],  # b, right
        [0.10, 0.10, 0.80],  # c, right
        [0.30, 0.55, 0.15],  # a -> b (0.55)
        [0.20, 0.20, 0.60],  # c, right
    ]
)
IDS = [f"row{i}.csv" for i in range(len(Y))]


def analyze(y: np.ndarray = Y, proba: np.ndarray = PROBA, **kwargs: object):  # type: ignore[no-untyped-def]
    confusion = classification_metrics(y, proba, CLASSES).confusion
    return analyze_failures(y, proba, CLASSES, confusion, **kwargs)  # type: ignore[arg-type]


def test_the_most_confidently_wrong_come_first_with_their_ids() -> None:
    f = analyze(ids=IDS)
    assert f.n_errors == 4
    assert [ex.index for ex in f.confidently_wrong] == [2, 0, 1, 6]
    assert [ex.id for ex in f.confidently_wrong] == ["row2.csv", "row0.csv", "row1.csv", "row6.csv"]
    first = f.confidently_wrong[0]
    assert (first.true, first.predicted) == ("b", "c")
    assert first.confidence == pytest.approx(0.95) and first.true_probability == pytest.approx(0.0)
    assert [ex.confidence for ex in f.confidently_wrong] == pytest.approx([0.95, 0.85, 0.60, 0.55])
    assert [ex.true_probability for ex in f.confidently_wrong] == pytest.approx([0.0, 0.10, 0.20, 0.30])
    assert f.grid is None  # only `evaluate` draws it


def test_without_ids_the_examples_have_none_and_n_examples_caps_the_list() -> None:
    f = analyze(n_examples=2)
    assert [ex.index for ex in f.confidently_wrong] == [2, 0]
    assert all(ex.id is None for ex in f.confidently_wrong)
    assert f.n_errors == 4  # the count is of every error, not of the ones listed


def test_confused_pairs_are_sorted_by_count_with_rate_over_the_true_class() -> None:
    f = analyze()
    pairs = [(p.true, p.predicted, p.count) for p in f.confused_pairs]
    assert pairs == [("a", "b", 3), ("b", "c", 1)]
    assert [p.rate for p in f.confused_pairs] == pytest.approx([3 / 4, 1 / 2])  # count / support of the true class
    assert len(analyze(n_pairs=1).confused_pairs) == 1


def test_error_prone_classes_are_lowest_recall_first_and_skip_perfect_ones() -> None:
    prone = analyze().error_prone_classes
    assert len(prone) == 2  # c is always right
    assert prone[0].startswith("a ") and "0.250" in prone[0] and "3/4" in prone[0]
    assert prone[1].startswith("b ") and "0.500" in prone[1] and "1/2" in prone[1]


def test_no_errors_gives_empty_lists(tmp_path: Path) -> None:
    y = PROBA.argmax(axis=1)  # the predictions are the labels
    f = analyze(y=y)
    assert f.n_errors == 0
    assert f.confidently_wrong == [] and f.confused_pairs == [] and f.error_prone_classes == []
    x = np.random.default_rng(0).random((len(y), 1, 8, 8))
    assert plot_failure_grid(x, f, "image", tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()


def _assert_png(path: Path) -> None:
    from PIL import Image

    assert path.read_bytes()[:8] == PNG_MAGIC
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size[0] > 100 and img.size[1] > 100


@pytest.mark.parametrize("channels", [1, 3])
def test_failure_grid_of_images(tmp_path: Path, channels: int) -> None:
    x = np.random.default_rng(0).random((len(Y), channels, 8, 8)).astype(np.float32)  # (C, H, W) in [0, 1]
    out = plot_failure_grid(x, analyze(), "image", tmp_path / "failures.png")
    assert out is not None and Path(out) == tmp_path / "failures.png"
    _assert_png(Path(out))


def test_failure_grid_of_sequences(tmp_path: Path) -> None:
    x = np.sin(np.linspace(0, 6, 40))[None, None, :] * np.ones((len(Y), 2, 1))  # (C=2, L=40)
    out = plot_failure_grid(x, analyze(), "sequence", tmp_path / "failures.png")
    assert out is not None
    _assert_png(Path(out))


@pytest.mark.parametrize("modality", ["tabular", "text"])
def test_failure_grid_is_none_for_inputs_that_are_not_pictures(tmp_path: Path, modality: str) -> None:
    x = np.random.default_rng(0).random((len(Y), 4)) if modality == "tabular" else ["some words"] * len(Y)
    assert plot_failure_grid(x, analyze(), modality, tmp_path / "failures.png") is None
    assert not (tmp_path / "failures.png").exists()
