"""What every command shares: printing to the right stream, and turning errors into one line and an exit code."""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from ..errors import DlexpertError, InvalidInputError

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

# Operating-system errors a user causes (a path they gave: missing, unreadable, too long, on a full or read-only
# disk): one line naming the file and exit 2, not "internal error".
USER_OS_ERRORS = {
    errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.ENAMETOOLONG,
    errno.EISDIR, errno.ENOTDIR, errno.ELOOP, errno.EEXIST, errno.EFBIG, errno.EMFILE, errno.EXDEV,
}  # fmt: skip

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
            if isinstance(exc, OSError) and exc.errno in USER_OS_ERRORS:
                where = f"{exc.filename}: " if exc.filename else ""
                fail(_escape(f"{where}{exc.strerror}; check the path, its permissions and the free disk space"), 2)
            fail(
                f"internal error: {type(exc).__name__}: {_escape(str(exc))} (set DLEXPERT_DEBUG=1 for a traceback, "
                "and please report it)",
                1,
            )

    return wrapper  # type: ignore[return-value]


def check_format(fmt: str, choices: tuple[str, ...] = ("json", "text")) -> None:
    """A --format value that the command knows, else one line and exit 2."""
    if fmt not in choices:
        fail(f"--format: expected {' or '.join(choices)}; got {fmt[:40]!r}", 2)


def locks_run(param: str, *, create: bool = False) -> Callable[[F], F]:
    """Run a command that writes a run folder (the `param` argument) under the folder's writer lock
    (`RunDir.lock`), so two commands never write one run at once. Distributed workers (torchrun's LOCAL_RANK) run
    under the lock their launcher holds. A folder to `create` must not lie inside the command's `--data` folder
    (its files would become data)."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if "LOCAL_RANK" in os.environ:
                return fn(*args, **kwargs)
            from ..rundir import RunDir

            data = kwargs.get("data")
            if data is not None and not str(data).strip():
                raise InvalidInputError("--data: empty; expected a built-in dataset name (`dlexpert datasets`) or a "
                                        "path")  # fmt: skip
            if create and data:
                _check_outside(Path(kwargs[param]), Path(kwargs["data"]), flag=f"--{param.replace('_', '-')}")
            with RunDir(kwargs[param]).lock(create=create):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _check_outside(out: Path, data: Path, *, flag: str) -> None:
    if data.is_dir() and out.resolve().is_relative_to(data.resolve()):
        raise InvalidInputError(f"{flag} {out}: inside the --data folder {data}; the run's files would be read as "
                                "data next time: choose a folder outside it")  # fmt: skip


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
