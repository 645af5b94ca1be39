"""The dataset registry: `register_dataset` / `list_datasets` / `get_dataset` (timm's `@register_model` pattern).

A registered loader takes no arguments and returns a `RawData`. Names are matched loosely ("MNIST-1D", "mnist_1d"
and "mnist1d" are one name) because task specs write dataset names the way papers do.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InvalidInputError, UnknownNameError
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


_REGISTRY: dict[str, DatasetEntry] = {}


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def register_dataset(name: str) -> Callable[[Loader], Loader]:
    """Register a zero-argument loader returning `RawData` under `name`.

    Raises:
        InvalidInputError: the name (or a loose spelling of it) is already registered.

    Example:
        >>> @register_dataset("my-blobs")  # doctest: +SKIP
        ... def blobs() -> RawData:
        ...     '''Two Gaussian blobs.'''
        ...     ...
    """

    def decorator(loader: Loader) -> Loader:
        key = _key(name)
        if not key:
            raise InvalidInputError("register_dataset: the name must not be empty")
        if key in _REGISTRY:
            raise InvalidInputError(
                f"dataset {name!r} is already registered (as {_REGISTRY[key].name!r}); choose another name"
            )
        doc = (loader.__doc__ or "").strip().splitlines()
        _REGISTRY[key] = DatasetEntry(name=name, summary=doc[0] if doc else "", loader=loader)
        return loader

    return decorator


def list_datasets() -> list[str]:
    """Names of the registered datasets, sorted. Example: `list_datasets()` -> ['digits', 'mnist1d', 'shapes']."""
    return sorted(entry.name for entry in _REGISTRY.values())


def is_registered(name: str) -> bool:
    """Whether `name` (spelled loosely) is a registered dataset."""
    return _key(name) in _REGISTRY


def get_dataset(name: str) -> DatasetEntry:
    """Look up a registered dataset by name ("mnist1d", "MNIST-1D", "digits", "shapes").

    Raises:
        UnknownNameError: no such dataset; the message lists the valid names.

    Example:
        >>> get_dataset("MNIST-1D").name
        'mnist1d'
    """
    entry = _REGISTRY.get(_key(name))
    if entry is None:
        valid = list_datasets()
        close = difflib.get_close_matches(name, valid, n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownNameError(f"unknown dataset {name!r}{hint} (valid: {', '.join(valid)})")
    return entry
