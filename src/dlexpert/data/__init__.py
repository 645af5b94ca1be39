"""Data: the dataset registry, adapters for user data, seeded splits, torch datasets and `profile_dataset`.

Importing this package does not import torch (only `to_torch_datasets` and `make_balanced_sampler` do), so
`dlexpert profile` and `plan --data` stay light.

Example:
    >>> from dlexpert.data import list_datasets, load_data, profile_dataset
    >>> list_datasets()
    ['digits', 'mnist1d', 'shapes']
    >>> splits = load_data("shapes", seed=0)
    >>> splits.modality, splits.input_shape, splits.classes
    ('image', (1, 32, 32), ['circle', 'square', 'triangle', 'cross'])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _builtin  # noqa: F401  (registers the built-in datasets)
from ._builtin import make_shapes
from ._load import channel_stats, load_data, stratified_split
from ._registry import DatasetEntry, get_dataset, list_datasets, register_dataset
from ._types import MODALITIES, DataSplits, Modality, RawData
from .profile import DataProfile, DuplicateReport, NearDuplicateReport, average_hash, profile_dataset

if TYPE_CHECKING:
    from ._torch import ArrayDataset, Augment, EmbeddingDataset, TextDataset, TorchDatasets

__all__ = [
    "MODALITIES",
    "ArrayDataset",
    "Augment",
    "DataProfile",
    "DataSplits",
    "DatasetEntry",
    "DuplicateReport",
    "EmbeddingDataset",
    "Modality",
    "NearDuplicateReport",
    "RawData",
    "TextDataset",
    "TorchDatasets",
    "average_hash",
    "channel_stats",
    "get_dataset",
    "list_datasets",
    "load_data",
    "make_balanced_sampler",
    "make_shapes",
    "parse_augment",
    "profile_dataset",
    "register_dataset",
    "stratified_split",
    "to_torch_datasets",
]

_TORCH_NAMES = frozenset(
    {
        "ArrayDataset",
        "Augment",
        "EmbeddingDataset",
        "TextDataset",
        "TorchDatasets",
        "make_balanced_sampler",
        "parse_augment",
        "to_torch_datasets",
    }
)


def __getattr__(name: str) -> Any:
    # Lazy: `from dlexpert.data import to_torch_datasets` imports torch on first use, not on `import dlexpert.data`.
    if name in _TORCH_NAMES:
        from . import _torch

        return getattr(_torch, name)
    raise AttributeError(f"module 'dlexpert.data' has no attribute {name!r}")
