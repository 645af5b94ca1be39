"""The monitor registry: `register_monitor`, `list_monitors`, `get_monitor`, and `create_monitors`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .._registry import Registry
from ._base import DEFAULT_EVERY


@dataclass(frozen=True)
class MonitorEntry:
    name: str
    cls: type
    default: bool  # part of `create_monitors("default")`

    @property
    def doc(self) -> str:
        return (self.cls.__doc__ or "").strip().split("\n\n")[0]


# The built-in monitors (probes.py, sentinel.py) register when `dlexpert.monitor` is imported, which any import of
# this module does first: the package's __init__ imports them.
_MONITORS: Registry[MonitorEntry] = Registry("monitor")


def register_monitor(name: str, *, default: bool = True) -> Callable[[type], type]:
    """Class decorator: register a monitor under `name`. Its constructor takes `(doctor, *, every)`.

    Example:
        >>> @register_monitor("my_probe")  # doctest: +SKIP
        ... class MyProbe(Monitor): ...
    """

    def wrap(cls: type) -> type:
        _MONITORS.register(name, MonitorEntry(name=name, cls=cls, default=default), owner=cls.__module__)
        cls.name = name  # type: ignore[attr-defined]
        return cls

    return wrap


def list_monitors(*, default: bool | None = None) -> list[str]:
    """Names of the registered monitors in registration order (the order `create_monitors` attaches them); only
    those in the default set with `default=True`."""
    return [n for n, e in _MONITORS.items() if default is None or e.default == default]


def get_monitor(name: str) -> MonitorEntry:
    """The monitor registered as `name`; an unknown name raises `UnknownNameError` listing the valid ones."""
    return _MONITORS.get(name)


def create_monitors(
    names: str | Sequence[str] = "default",
    *,
    every: int = DEFAULT_EVERY,
    auto_remedy: bool = False,
    diagnose_every: int | None = None,
    max_rollbacks: int = 3,
    console: bool = True,
) -> list[Any]:
    """The callbacks for live monitoring, to pass to `fit(callbacks=...)`: the `LiveDoctor` hub, the monitors
    (`names`: "default" or a list of registered names), sampled every `every` optimizer steps, and with
    `auto_remedy=True` the `AutoRemedy` (which needs the "nonfinite" sentinel; it is added when missing).

    `diagnose_every`: run the online rules every this many steps (default `10 * every`) besides each epoch end.

    Example:
        >>> cbs = create_monitors("default", every=50, auto_remedy=True)  # doctest: +SKIP
        >>> fit(model, train_set=train, val_set=val, cfg=cfg, out_dir="runs/a", callbacks=cbs)  # doctest: +SKIP
    """
    from .doctor import LiveDoctor
    from .remedy import AutoRemedy

    chosen = list_monitors(default=True) if names == "default" else [names] if isinstance(names, str) else list(names)
    entries = [get_monitor(n) for n in chosen]
    if auto_remedy and "nonfinite" not in chosen:
        entries.append(get_monitor("nonfinite"))
    doctor = LiveDoctor(diagnose_every=diagnose_every or 10 * every, console=console)
    remedy = AutoRemedy(doctor, max_rollbacks=max_rollbacks) if auto_remedy else None
    monitors = []
    for entry in entries:
        kwargs: dict[str, Any] = {"every": every}
        if entry.name == "nonfinite":
            kwargs["remedy"] = remedy
        monitors.append(entry.cls(doctor, **kwargs))
    return [doctor, *monitors, *([remedy] if remedy is not None else [])]
