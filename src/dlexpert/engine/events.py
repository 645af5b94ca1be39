"""The loop's named events, control-flow exceptions, and the callback dispatcher (fastai style).

A callback is any object with methods named after events; each takes the `FitState`. `order` (default 0) sorts
callbacks: lower runs first. Callbacks stop work by raising `CancelFitException` (end training cleanly after the
current point) or `CancelEpochException` (skip the rest of this epoch's batches; validation still runs).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import DlexpertError, InvalidInputError

__all__ = [
    "EVENTS",
    "Callback",
    "CallbackRunner",
    "CancelEpochException",
    "CancelFitException",
    "TrainingInterrupted",
    "describe_loop",
]

# The closed list, in the order the loop fires them. Nothing else is dispatched.
EVENTS = (
    "before_fit",
    "before_epoch",
    "before_batch",
    "after_loss",
    "after_backward",
    "after_step",
    "after_batch",
    "before_validate",
    "after_validate",
    "after_epoch",
    "after_fit",
)

# What `show_training_loop()` prints: (indent, event name or a plain description of what the loop does there).
_OUTLINE = (
    (0, "before_fit"),
    (0, "for each epoch:"),
    (1, "before_epoch"),
    (1, "for each batch (data order seeded by seed and epoch):"),
    (2, "before_batch"),
    (2, "mixup/cutmix; forward and loss under autocast"),
    (2, "after_loss"),
    (2, "backward (loss / accumulation, GradScaler for fp16)"),
    (2, "after_backward"),
    (2, "every `accumulation` batches: unscale, clip, optimizer step, scheduler step, EMA update"),
    (3, "after_step"),
    (3, "zero grad"),
    (2, "after_batch"),
    (1, "before_validate"),
    (1, "evaluate (EMA weights when on); best metric; plateau scheduler step"),
    (1, "after_validate"),
    (1, "append to history"),
    (1, "after_epoch"),
    (0, "after_fit"),
)


class CancelFitException(Exception):
    """Raise from a callback to end training cleanly; `fit()` returns normally with `stop_reason` set."""


class CancelEpochException(Exception):
    """Raise from a callback to skip the rest of this epoch's batches; validation and after_epoch still run."""


class TrainingInterrupted(DlexpertError):
    """Ctrl-C during `fit()`: last.pt was written first, so the run continues with `resume=True` / `--resume`."""

    exit_code = 130  # the shell's convention for SIGINT


class Callback:
    """Optional base class; any object with event-named methods works. Define only the events you need."""

    order = 0

    def __repr__(self) -> str:
        return type(self).__name__


def _name(cb: Any) -> str:
    return type(cb).__name__


class CallbackRunner:
    """Calls each callback's handler for an event, sorted by `order`. Handlers are looked up once, not per batch."""

    def __init__(self, callbacks: Iterable[Any]) -> None:
        self.callbacks = sorted(callbacks, key=lambda cb: getattr(cb, "order", 0))
        for cb in self.callbacks:
            typos = [m for m in dir(cb) if m.startswith(("before_", "after_")) and m not in EVENTS]
            if typos:
                raise InvalidInputError(
                    f"callback {_name(cb)}: {', '.join(typos)} is not an event; events are {', '.join(EVENTS)}"
                )
        self.handlers = {e: [getattr(cb, e) for cb in self.callbacks if callable(getattr(cb, e, None))] for e in EVENTS}

    def __call__(self, event: str, state: Any) -> None:
        for handler in self.handlers[event]:
            handler(state)

    def names(self, event: str) -> list[str]:
        return [_name(h.__self__) if hasattr(h, "__self__") else repr(h) for h in self.handlers[event]]


def describe_loop(runner: CallbackRunner) -> str:
    """The loop outline with, at each event, the callbacks that run there (in order)."""
    lines = []
    for depth, item in _OUTLINE:
        pad = "    " * depth
        if item in EVENTS:
            names = runner.names(item)
            lines.append(f"{pad}- {item:<15} {', '.join(names) if names else '.'}")
        else:
            lines.append(f"{pad}  {item}")
    return "\n".join(lines)
