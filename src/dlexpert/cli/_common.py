"""What every command shares: printing to the right stream, and turning errors into one line and an exit code."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from ..errors import DlexpertError

if TYPE_CHECKING:
    from rich.console import Console


class _LazyConsole:
    """Human text and progress go to standard error; standard output carries only the requested document.
    Created on first use: rich's Console costs ~30 ms to import, which `plan --format json` rarely needs."""

    _console: Console | None = None

    def print(self, *args: Any, **kwargs: Any) -> None:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True, highlight=False, soft_wrap=True)
        self._console.print(*args, **kwargs)


err_console = _LazyConsole()

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int) -> None:
    """Print one line to standard error and exit with `code`."""
    err_console.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def handle_errors(fn: F) -> F:
    """Run a command; a DlexpertError becomes one line on stderr and its exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DlexpertError as exc:
            fail(_escape(str(exc)), exc.exit_code)
        except (KeyboardInterrupt, typer.Exit, SystemExit):
            raise
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(1) from None
        except Exception as exc:
            if os.environ.get("DLEXPERT_DEBUG"):
                raise
            fail(
                f"internal error: {type(exc).__name__}: {_escape(str(exc))} (set DLEXPERT_DEBUG=1 for a traceback, "
                "and please report it)",
                1,
            )

    return wrapper  # type: ignore[return-value]


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
