"""Small helpers shared by the data modules: hashing, optional imports, label encoding."""

from __future__ import annotations

import hashlib
import importlib
import json
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import InvalidInputError


def sha256_of_args(kind: str, args: dict[str, Any]) -> str:
    """A version for generated data: the sha256 of the generator's name and arguments, as canonical JSON."""
    text = json.dumps({"generator": kind, "args": args}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def require(module: str, *, extra: str, what: str) -> ModuleType:
    """Import an optional dependency, or fail with one line that says which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise InvalidInputError(
            f"{what} needs the {module!r} package ({e}); install it with: pip install 'dlexpert[{extra}]'"
        ) from None


def encode_labels(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Labels of any kind -> (int64 indices, class names). Numbers sort numerically, text alphabetically.

    Integral floats (3.0) become "3", so a label column read as float (because of a blank cell) names classes well.
    """
    values = np.asarray(values)
    if values.dtype.kind == "f" and np.all(np.isfinite(values)) and np.all(values == np.round(values)):
        values = values.astype(np.int64)
    if values.dtype.kind in "iub":
        uniq, inverse = np.unique(values, return_inverse=True)
        return inverse.astype(np.int64).reshape(-1), [str(v) for v in uniq.tolist()]
    as_text = np.asarray([str(v) for v in values.tolist()], dtype=object)
    uniq, inverse = np.unique(as_text, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), [str(v) for v in uniq.tolist()]


def remap_labels(y: np.ndarray, classes: list[str], target_classes: list[str]) -> np.ndarray:
    """Indices into `classes` -> indices into `target_classes` (which must contain every name in `classes`)."""
    position = {name: i for i, name in enumerate(target_classes)}
    table = np.asarray([position[name] for name in classes], dtype=np.int64)
    return table[np.asarray(y, dtype=np.int64)] if len(y) else np.zeros(0, dtype=np.int64)


class Problems:
    """What a profile found: lines for a person (`[issue] text`, or bare text when no problem-table key fits) and the
    problem-table keys in the order first seen."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.issues: list[str] = []

    def add(self, issue: str | None, text: str) -> None:
        self.problems.append(f"[{issue}] {text}" if issue else text)
        if issue and issue not in self.issues:
            self.issues.append(issue)
