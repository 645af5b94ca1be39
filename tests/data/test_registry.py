"""The dataset registry: list/get/register, loose names, clear errors."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from dlexpert.data import RawData, _registry, get_dataset, list_datasets, load_data, register_dataset
from dlexpert.errors import InvalidInputError, RegistryError, UnknownNameError


@pytest.fixture
def clean_registry() -> Iterator[None]:
    before = set(list_datasets())
    yield
    for name in set(list_datasets()) - before:
        _registry._DATASETS.unregister(name)


def test_builtins_are_listed_sorted() -> None:
    names = list_datasets()
    assert {"mnist1d", "digits", "shapes"} <= set(names)
    assert names == sorted(names)


@pytest.mark.parametrize("spelling", ["mnist1d", "MNIST-1D", "mnist_1d", " Mnist 1d "])
def test_get_dataset_matches_loose_spellings(spelling: str) -> None:
    entry = get_dataset(spelling)
    assert entry.name == "mnist1d"
    assert "MNIST-1D" in entry.summary


def test_unknown_dataset_lists_valid_names() -> None:
    with pytest.raises(UnknownNameError) as err:
        get_dataset("digitz")
    message = str(err.value)
    assert message.startswith("unknown dataset 'digitz'; choose one of: ") and "did you mean digits?" in message
    assert all(name in message for name in list_datasets())
    assert isinstance(err.value, InvalidInputError)  # the CLI maps it to exit code 2


def test_duplicate_name_is_an_error(clean_registry: None) -> None:
    with pytest.raises(RegistryError, match=r"'Digits' is already registered \(as 'digits', by dlexpert\.data"):

        @register_dataset("Digits")  # same name as the built-in, spelled differently
        def other() -> RawData:
            raise AssertionError("never called")


def test_registered_dataset_loads_by_name(clean_registry: None) -> None:
    @register_dataset("two-blobs")
    def blobs() -> RawData:
        """Two Gaussian blobs in 2-D."""
        rng = np.random.default_rng(0)
        y = np.arange(100) % 2
        x = (rng.normal(size=(100, 2)) + 4 * y[:, None]).astype(np.float32)
        ids = [f"blob[{i}]" for i in range(100)]
        return RawData(
            x=x, y=y, classes=["left", "right"], modality="tabular", source="two-blobs", version="v1", ids=ids
        )

    assert "two-blobs" in list_datasets()
    with pytest.raises(RegistryError, match=r"'two_blobs' is already registered \(as 'two-blobs', by tests\.data"):
        register_dataset("two_blobs")(blobs)
    assert get_dataset("two_blobs").summary == "Two Gaussian blobs in 2-D."
    splits = load_data("two-blobs", seed=0)
    assert splits.classes == ["left", "right"]
    assert len(splits.y_train) + len(splits.y_val) + len(splits.y_test) == 100
