"""The output boundary: every file dlexpert writes goes through here (issue 17). Writes are atomic (a temporary file
in the same folder, then a rename), land only on regular files (a device, FIFO, socket, folder or symbolic link in
the way is refused, never replaced), get the mode the umask gives (or the mode of the file they replace), and a
failure names the user's path, never the temporary file."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ._input import file_kind
from .errors import InvalidInputError


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` so that a reader sees the old file or the new one, never half of one."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """`atomic_write_text` for bytes (PNG figures, binary reports)."""
    return atomic_write(path, lambda f: f.write(data))


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Call `write(f)` on a temporary file next to `path`, fsync it, and rename it over `path`. A failure anywhere
    (a full disk included) removes the temporary file and leaves `path` as it was."""
    p = Path(path)
    mode = _target_mode(p)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidInputError(f"{p}: folder {parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise InvalidInputError(f"{p}: cannot be written ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InvalidInputError(
            f"{p}: cannot be written ({exc.strerror or exc}); the previous file is unchanged"
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def _target_mode(p: Path) -> int:
    """The mode the written file gets: the replaced file's, else 0o666 less the umask. Anything but a regular file
    at `p` is refused."""
    try:
        st = p.lstat()
    except FileNotFoundError:
        return 0o666 & ~current_umask()
    except OSError as exc:
        raise InvalidInputError(f"{p}: cannot be written ({exc.strerror})") from None
    if stat.S_ISLNK(st.st_mode):
        raise InvalidInputError(f"{p}: is a symbolic link; dlexpert does not replace links (write to "
                                f"{os.path.realpath(p)} instead, or remove the link)")  # fmt: skip
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInputError(f"{p}: is {file_kind(st.st_mode)}; dlexpert writes only regular files and refuses "
                                "to replace it")  # fmt: skip
    return stat.S_IMODE(st.st_mode)


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
