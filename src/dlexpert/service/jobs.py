"""Long commands (`run`, `train`, `compress`) started in the background for agents and the web app, and their
progress read back from the run folder.

A job is `dlexpert <command> ...` in its own process group, under a small supervisor process
(`python -m dlexpert.service.jobs`) that waits for it and records its exit code. Both survive the server that
started them. A job's bookkeeping lives in RUNS/.jobs/RUN_ID/ (job.json, the spec it was given, its output); the run
itself writes RUNS/RUN_ID/ as the command always does, so `run_status` reads progress from its metrics.jsonl.

    python -m dlexpert.service.jobs JOB_DIR -- ARGS...   # the supervisor (started by `start_job`)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from .._io import atomic_write_text
from ..errors import InvalidInputError

JOBS = ".jobs"
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
COMMANDS = ("run", "train", "compress")


class JobStatus(BaseModel):
    """Where a background job stands, from its supervisor's record and its run's metrics.jsonl."""

    run_id: str
    command: str = Field(description="The dlexpert command the job runs.")
    state: Literal["running", "finished", "failed", "lost"] = Field(
        description="lost: the process is gone without recording an exit code (killed with the machine)."
    )
    pid: int | None = None
    started: str
    finished: str | None = None
    exit_code: int | None = None
    error: str | None = Field(None, description="The command's one-line error, when it failed.")
    epochs_done: int = Field(0, description="Epochs in the run's metrics.jsonl so far.")
    epochs_planned: int | None = Field(None, description="The resolved config's epochs, once training starts.")
    last_epoch: dict[str, Any] | None = Field(None, description="The last epoch row of metrics.jsonl.")
    run_dir: str


def run_folder(root: Path, run_id: str) -> Path:
    """RUNS/RUN_ID, for a run id that is one plain folder name (no path: `..`, `/` and hidden names are refused)."""
    if not RUN_ID.fullmatch(run_id):
        raise InvalidInputError(f"run_id: expected a folder name of letters, digits, '.', '_' or '-' (at most 64, "
                                f"not starting with '.'); got {run_id[:80]!r}")  # fmt: skip
    return root / run_id


def new_run_id(root: Path, command: str) -> str:
    """A run id not yet used under `root`: COMMAND-YYYYmmdd-HHMMSS, with a counter when taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        run_id = f"{command}-{stamp}" + (f"-{n}" if n else "")
        if not (root / run_id).exists() and not (root / JOBS / run_id).exists():
            return run_id
    raise InvalidInputError(f"{root}: no free run id for {stamp}; choose one")


def start_job(
    root: Path, run_id: str, command: str, args: list[str], *, spec: dict[str, Any] | None = None
) -> JobStatus:
    """Start `dlexpert COMMAND [SPEC] ARGS` in the background for RUNS/RUN_ID and return its first status. `spec` (a
    task spec) is written to the job folder and passed as the command's first argument; `run` and `train` get
    `--out RUNS/RUN_ID`."""
    if command not in COMMANDS:
        raise InvalidInputError(f"command: expected one of {', '.join(COMMANDS)}; got {command!r}")
    out, job = run_folder(root, run_id), root / JOBS / run_id
    if command in ("run", "train") and out.exists():
        raise InvalidInputError(f"run_id: {run_id} exists under {root}; choose another")
    if job.exists() and status(root, run_id).state == "running":
        raise InvalidInputError(f"run_id: a job for {run_id} is still running")
    job.mkdir(parents=True, exist_ok=True)
    argv = [command]
    if spec is not None:
        argv.append(str(atomic_write_text(job / "task.yaml", yaml.safe_dump(spec, sort_keys=False))))
    argv += [*args, *(["--out", str(out)] if command in ("run", "train") else [str(out)])]
    record = {"run_id": run_id, "command": command, "argv": argv, "started": _now(), "run_dir": str(out)}
    atomic_write_text(job / "job.json", json.dumps(record, indent=2) + "\n")
    with open(job / "output.log", "wb") as log:
        supervisor = [sys.executable, "-m", "dlexpert.service.jobs", str(job), "--", *argv]
        subprocess.Popen(supervisor, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True)  # fmt: skip
    for _ in range(100):  # the supervisor records its pid first thing
        if "pid" in _record(job):
            break
        time.sleep(0.02)
    return status(root, run_id)


def status(root: Path, run_id: str) -> JobStatus:
    """The job's state and its run's progress; a one-line error for a run id that no job started."""
    job = root / JOBS / run_folder(root, run_id).name
    record = _record(job)
    if not record:
        raise InvalidInputError(f"run_id: no job {run_id!r} under {root} (start one with start_run)")
    from ..rundir import RunDir

    run = RunDir(record["run_dir"])
    epochs = run.epochs() if run.path.is_dir() else []
    planned = None
    if run.has(run.CONFIG):
        try:
            planned = run.config().train.get("epochs")
        except InvalidInputError:
            planned = None  # a config from another dlexpert version; the epochs logged still count
    code = record.get("exit_code")
    alive = code is None and pid_alive(record.get("pid"))
    state = "running" if alive else "lost" if code is None else "finished" if code == 0 else "failed"
    return JobStatus(run_id=run_id, command=record["command"], state=state, pid=record.get("pid"),
                     started=record["started"], finished=record.get("finished"), exit_code=code,
                     error=_error_line(job / "output.log") if state == "failed" else None, epochs_done=len(epochs),
                     epochs_planned=planned, last_epoch=epochs[-1] if epochs else None,
                     run_dir=record["run_dir"])  # fmt: skip


def _record(job: Path) -> dict[str, Any]:
    try:
        data = json.loads((job / "job.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pid_alive(pid: object) -> bool:
    """Whether a process with this pid exists (one of another user's counts)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _error_line(log: Path) -> str | None:
    """The command's `error: ...` line (the CLI prints exactly one), else its last line."""
    try:
        lines = [ln.strip() for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        return None
    errors = [ln for ln in lines if ln.startswith("error:")]
    return (errors[-1] if errors else lines[-1] if lines else "").removeprefix("error: ")[:500] or None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def supervise(job: Path, argv: list[str]) -> int:
    """Run `dlexpert ARGV` as a child, record the supervisor's pid at the start and the exit code at the end."""
    atomic_write_text(job / "job.json", json.dumps(_record(job) | {"pid": os.getpid()}, indent=2) + "\n")
    code = subprocess.call([sys.executable, "-m", "dlexpert", *argv], stdin=subprocess.DEVNULL)
    atomic_write_text(job / "job.json", json.dumps(_record(job) | {"exit_code": code, "finished": _now()},
                                                   indent=2) + "\n")  # fmt: skip
    return code


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[2] != "--":
        sys.exit("usage: python -m dlexpert.service.jobs JOB_DIR -- ARGS...")
    sys.exit(supervise(Path(sys.argv[1]), sys.argv[3:]))
