"""One registry for everything pluggable (models, datasets, diagnosis rules, monitors, export formats).

String names -> items, with the verbs timm and Lightning Fabric use: `register`, `get`, `names("vit_*")`. A duplicate
name is a `RegistryError`; an unknown name is an `UnknownNameError` whose message has one shape everywhere:
"unknown model 'resnet9000'; choose one of: cnn1d, mlp, ...".

Example:
    >>> formats: Registry[str] = Registry("export format")
    >>> formats.register("onnx", ".onnx")
    '.onnx'
    >>> formats.get("onnx"), formats.names("o*"), "tflite" in formats
    ('.onnx', ['onnx'], False)
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
from collections.abc import Callable
from typing import Generic, TypeVar, overload

from .errors import RegistryError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Items of one `kind` by name. `normalize` maps a name to its lookup key (e.g. case-insensitive)."""

    def __init__(self, kind: str, *, normalize: Callable[[str], str] | None = None) -> None:
        self.kind = kind
        self._normalize = normalize or (lambda name: name)
        self._entries: dict[str, tuple[str, T, str]] = {}  # key -> (name as registered, item, registering module)

    @overload
    def register(self, name: str, item: T, *, owner: str | None = None) -> T: ...
    @overload
    def register(self, name: str, *, owner: str | None = None) -> Callable[[T], T]: ...
    def register(self, name: str, item: T | None = None, *, owner: str | None = None) -> T | Callable[[T], T]:
        """Register `item` under `name` and return it; without `item`, a decorator that does so.

        `owner` is the module named when someone registers the name again (default: the item's own module, for a
        function or class)."""
        if item is None:
            return lambda it: self.register(name, it, owner=owner)
        key = self._normalize(name)
        if not key:
            raise RegistryError(f"a {self.kind} name must not be empty; got {name!r}")
        if key in self._entries:
            first, _, by = self._entries[key]
            was = f"as {first!r}, " if first != name else ""
            raise RegistryError(
                f"{self.kind} {name!r} is already registered ({was}by {by or 'unknown'}); choose another name"
            )
        if owner is None and (inspect.isfunction(item) or inspect.isclass(item)):
            owner = item.__module__
        self._entries[key] = (name, item, owner or "")
        return item

    def unregister(self, name: str) -> T:
        """Remove `name` and return its item (for tests that register throwaway entries)."""
        self.get(name)
        return self._entries.pop(self._normalize(name))[1]

    def get(self, name: str) -> T:
        """The item registered as `name`; an unknown name raises `UnknownNameError` listing the valid ones."""
        entry = self._entries.get(self._normalize(name))
        if entry is None:
            raise UnknownNameError(self.unknown_message(name))
        return entry[1]

    def unknown_message(self, name: str) -> str:
        valid = self.names()
        close = difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        return f"unknown {self.kind} {name!r}; choose one of: {', '.join(valid) or '(none registered)'}{hint}"

    def names(self, pattern: str | None = None) -> list[str]:
        """Registered names, sorted; with `pattern`, only those matching that glob ("vit_*")."""
        names = sorted(name for name, _, _ in self._entries.values())
        return [n for n in names if fnmatch.fnmatchcase(n, pattern)] if pattern else names

    def items(self) -> list[tuple[str, T]]:
        """(name, item) pairs in registration order (the order built-ins are declared in)."""
        return [(name, item) for name, item, _ in self._entries.values()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._normalize(name) in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self)} names)"
