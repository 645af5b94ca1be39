"""The hostile-input probes (issue 17): the CLI run in this process on inputs a careless or hostile user brings, each
case checked against the contract: its exit code, one `error:` line naming the file or field, no traceback, and
nothing written on refusal. In-process so that a hundred cases cost seconds; an alarm stops any case that hangs."""

from __future__ import annotations

import contextlib
import io
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CASE_SECONDS = 30  # a case that runs longer hangs (the FIFO, /dev/zero and quadratic-regex cases did)


@dataclass
class Result:
    code: int
    out: str
    err: str
    seconds: float

    def error_line(self) -> str:
        """The one `error:` line, last on standard error (progress lines may come before it)."""
        lines = [ln for ln in self.err.splitlines() if ln.strip()]
        assert "Traceback" not in self.err, self.err
        errors = [ln for ln in lines if ln.startswith("error:")]
        assert len(errors) == 1 and lines[-1] == errors[0], self.err
        return errors[0]


class _Hung(Exception):
    pass


@contextlib.contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    def hung(signum: int, frame: object) -> None:
        raise _Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def invoke(*args: str, stdin: bytes = b"") -> Result:
    """`dlexpert ARGS` in this process: its exit code and what it printed."""
    from dlexpert.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    fake_stdin = io.TextIOWrapper(io.BytesIO(stdin))
    code = 0
    t = time.perf_counter()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        pytest.MonkeyPatch.context() as mp,
        _alarm(CASE_SECONDS),
    ):
        mp.setattr(sys, "argv", ["dlexpert", *args])
        mp.setattr(sys, "stdin", fake_stdin)
        mp.setenv("COLUMNS", "200")
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return Result(code, out.getvalue(), err.getvalue(), time.perf_counter() - t)


def assert_refused(argv: list[str], folder: Path, code: int, words: tuple[str, ...]) -> str:
    """Run `dlexpert ARGV` in `folder` and check the contract: exit `code`, one short `error:` line holding `words`,
    no traceback, nothing in `folder` created or changed, under 20 s. Returns the line."""
    before = listing(folder)
    r = invoke(*argv)
    assert r.code == code, (r.code, r.err[-2000:])
    line = r.error_line()
    for word in words:
        assert word in line, line
    assert len(line) < 700, f"{len(line)} characters"
    assert listing(folder) == before  # nothing written, nothing replaced
    assert r.seconds < 20
    return line


def listing(folder: Path) -> dict[str, float]:
    """Every file under `folder` with its modification time, and every folder: what a refused command must leave as
    it was. A run's writer lock (RUN/.lock) is bookkeeping, not an artefact, and is left out."""
    return {str(p.relative_to(folder)): 0.0 if p.is_dir() else p.lstat().st_mtime
            for p in sorted(folder.rglob("*")) if p.name != ".lock"}  # fmt: skip
