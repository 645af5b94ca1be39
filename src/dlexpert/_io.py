"""File helpers shared by every stage. Writes are atomic: a temporary file in the same folder, then a rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InvalidInputError


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` so that a reader sees the old file or the new one, never half of one."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """`atomic_write_text` for bytes (PNG figures, binary reports)."""
    p = Path(path)
    if p.is_dir():
        raise InvalidInputError(f"{p}: is a directory; expected a file path to write")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise InvalidInputError(f"{p}: folder {parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
