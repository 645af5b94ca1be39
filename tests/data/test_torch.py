"""Torch datasets: train-split normalisation, modality-matched augmentation, balanced sampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dlexpert.data import Augment, load_data, make_balanced_sampler, parse_augment, to_torch_datasets
from dlexpert.errors import InvalidInputError


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def test_normalised_with_training_statistics() -> None:
    s = load_data("shapes", seed=0)
    ds = to_torch_datasets(s, augment=None)
    assert ds.augment is None
    assert ds.train.x.mean().item() == pytest.approx(0.0, abs=1e-4)
    assert ds.train.x.std().item() == pytest.approx(1.0, abs=1e-3)
    expected = (s.x_test[0] - s.mean[0]) / s.std[0]
    np.testing.assert_allclose(ds.test.x[0].numpy(), expected, rtol=1e-5, atol=1e-6)
    assert ds.train.y.dtype == torch.long and len(ds.val) == len(s.y_val)
    assert ds.train.tensors[0] is ds.train.x  # TensorDataset-like


def test_auto_augment_follows_the_source() -> None:
    assert to_torch_datasets(load_data("digits"), augment="auto").augment.ops == ("crop",)  # no flips for digits
    assert to_torch_datasets(load_data("shapes"), augment="auto").augment.ops == ("crop", "flip")


def test_only_training_data_is_augmented() -> None:
    torch.manual_seed(0)
    ds = to_torch_datasets(load_data("shapes"), augment="crop+flip")
    idx = torch.arange(64)
    x1, y1 = ds.train.batch(idx)
    x2, _ = ds.train.batch(idx)
    assert x1.shape == (64, 1, 32, 32) and torch.equal(y1, ds.train.y[:64])
    assert not torch.equal(x1, x2)  # a new random crop/flip each time
    assert torch.equal(ds.test.batch(idx)[0], ds.test.x[:64])
    assert torch.equal(ds.val[3][0], ds.val.x[3])


def test_sequence_shift_is_a_circular_shift_within_range() -> None:
    torch.manual_seed(0)
    x = torch.arange(40.0).repeat(100, 1, 1)  # (100, 1, 40)
    out = Augment(("shift",), max_shift=5)(x)
    start = out[:, 0, 0].remainder(40)  # the value now at position 0: the sequence was rolled by -start
    shifts = torch.where(start > 20, start - 40, start)
    assert shifts.abs().max() <= 5 and len(shifts.unique()) > 5
    for i in range(100):  # every output is an exact roll of the input
        assert torch.equal(out[i], torch.roll(x[i], -int(shifts[i]), dims=-1))


def test_crop_keeps_the_image_content_with_a_zero_border() -> None:
    torch.manual_seed(0)
    img = torch.ones(50, 1, 8, 8)
    out = Augment(("crop",), pad=2)(img)
    assert out.shape == img.shape
    assert out.sum(dim=(1, 2, 3)).min() >= 36  # at most 2 rows and 2 columns of padding come in
    assert (out.sum(dim=(1, 2, 3)) < 64).any()


def test_parse_augment_maps_plan_names_and_rejects_mismatches() -> None:
    ops, ignored = parse_augment(
        ["RandomCrop(32, padding=4)", "RandomHorizontalFlip", "Mixup(alpha=0.8)", "RandAugment(n=2,m=9)"],
        modality="image",
        default=None,
    )
    assert ops == ["crop", "flip"] and ignored == ["Mixup(alpha=0.8)", "RandAugment(n=2,m=9)"]
    assert parse_augment("auto", modality="sequence", default="shift") == (["shift"], [])
    with pytest.raises(InvalidInputError, match="'flip' does not apply to sequence data; expected one of: shift"):
        parse_augment("flip", modality="sequence", default=None)


def test_text_datasets_keep_strings(tmp_path: Path) -> None:
    import pandas as pd

    pd.DataFrame({"text": [f"t{i}" for i in range(20)], "label": [i % 2 for i in range(20)]}).to_csv(
        tmp_path / "t.csv", index=False
    )
    ds = to_torch_datasets(load_data(tmp_path / "t.csv"), augment="auto")
    text, label = ds.train[0]
    assert isinstance(text, str) and label.dtype == torch.long
    texts, labels = ds.test.batch([0, 1])
    assert len(texts) == 2 and labels.shape == (2,)


def test_balanced_sampler_draws_classes_equally() -> None:
    y = np.array([0] * 90 + [1] * 10)
    drawn = y[list(make_balanced_sampler(y, seed=0))]
    assert len(drawn) == 100
    assert 35 <= (drawn == 1).sum() <= 65  # 10% in the data, ~50% in the draws
