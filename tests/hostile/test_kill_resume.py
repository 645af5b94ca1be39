"""SIGKILL at random moments of a real `dlexpert train` process, then `--resume`: the final metrics equal those of an
uninterrupted run every time (issue 17). Slow (a training per kill): `pytest -m slow tests/hostile`."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlexpert.rundir import RunDir

from ..conftest import EXAMPLES

CLI = [sys.executable, "-m", "dlexpert.cli.main", "train", str(EXAMPLES / "mnist1d.yaml"), "--data", "mnist1d",
       "--no-monitor", "--epochs", "4"]  # fmt: skip
KILLS = 5


def final(run: Path) -> tuple[float, float]:
    last = RunDir(run).epochs()[-1]
    return last["val_loss"], last["val_acc"]


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_ends_where_an_uninterrupted_run_ends(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    t = time.perf_counter()
    subprocess.run([*CLI, "--out", str(tmp_path / "full")], check=True, capture_output=True, env=env)
    length = time.perf_counter() - t
    reference = final(tmp_path / "full")
    rng = random.Random(0)
    for k in range(KILLS):
        run = tmp_path / f"killed{k}"
        proc = subprocess.Popen([*CLI, "--out", str(run)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env)  # fmt: skip
        time.sleep(rng.uniform(0.3, 0.9) * length)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        resume = ["--resume"] if (run / "checkpoints" / "last.pt").exists() else []
        r = subprocess.run([*CLI, "--out", str(run), *resume], capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr
        assert final(run) == reference, (k, resume)
