"""The dataset registry: `register_dataset` / `list_datasets` / `get_dataset` (timm's `@register_model` pattern).

A registered loader takes no arguments and returns a `RawData`. Names are matched loosely ("MNIST-1D", "mnist_1d"
and "mnist1d" are one name) because task specs write dataset names the way papers do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .._registry import Registry
from ._types import RawData

__all__ = ["DatasetEntry", "get_dataset", "list_datasets", "register_dataset"]

Loader = Callable[[], RawData]


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset: its name, a one-line summary (the loader's docstring) and the loader."""

    name: str
    summary: str
    loader: Loader

    def load(self) -> RawData:
        """Run the loader. Example: `get_dataset("digits").load().x.shape` -> (1797, 1, 8, 8)."""
        return self.loader()


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


_DATASETS: Registry[DatasetEntry] = Registry("dataset", normalize=_key)


def register_dataset(name: str) -> Callable[[Loader], Loader]:
    """Register a zero-argument loader returning `RawData` under `name`.

    Raises:
        RegistryError: the name (or a loose spelling of it) is already registered, or it is empty.

    Example:
        >>> @register_dataset("my-blobs")  # doctest: +SKIP
        ... def blobs() -> RawData:
        ...     '''Two Gaussian blobs.'''
        ...     ...
    """

    def decorator(loader: Loader) -> Loader:
        doc = (loader.__doc__ or "").strip().splitlines()
        entry = DatasetEntry(name=name, summary=doc[0] if doc else "", loader=loader)
        _DATASETS.register(name, entry, owner=loader.__module__)
        return loader

    return decorator


def list_datasets() -> list[str]:
    """Names of the registered datasets, sorted. Example: `list_datasets()` -> ['digits', 'mnist1d', 'shapes']."""
    return _DATASETS.names()


def is_registered(name: str) -> bool:
    """Whether `name` (spelled loosely) is a registered dataset."""
    return name in _DATASETS


def get_dataset(name: str) -> DatasetEntry:
    """Look up a registered dataset by name ("mnist1d", "MNIST-1D", "digits", "shapes").

    Raises:
        UnknownNameError: no such dataset; the message lists the valid names.

    Example:
        >>> get_dataset("MNIST-1D").name
        'mnist1d'
    """
    return _DATASETS.get(name)
