"""`dlexpert train PLAN` trains what the plan says, and a run killed with SIGKILL then resumed on "another machine"
(`--hardware`) ends where an uninterrupted run ends.

1. `dlexpert train examples/mnist1d.yaml` plans and trains a first run; its plan.json carries the decisions.
2. `dlexpert train RUN/plan.json` trains those decisions, uninterrupted, into `full/`.
3. The same command into `killed/` is sent SIGKILL after a few epochs, then continued with `--resume --hardware a100`
   (a profile that would plan bf16 and another batch: the run's own config must win).

It prints whether the three runs' decisions agree, and the final validation metrics and the largest difference
between the best weights of the uninterrupted and the resumed run.

    python benchmarks/bench_resume.py [--epochs 8] [--kill-after 3]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "dlexpert.cli.main"]


def train(*args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([*CLI, "train", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"dlexpert train {' '.join(args)} failed:\n{r.stderr}")
    return r


def epochs_logged(run: Path) -> int:
    path = run / "metrics.jsonl"
    if not path.is_file():
        return 0
    return sum(1 for line in path.read_text().splitlines() if '"kind": "epoch"' in line)


def kill_after(args: list[str], run: Path, n_epochs: int) -> None:
    proc = subprocess.Popen([*CLI, "train", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while epochs_logged(run) < n_epochs and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def last_epoch(run: Path) -> dict:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if '"kind": "epoch"' in line]
    return rows[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--kill-after", type=int, default=3, help="epochs logged before SIGKILL")
    args = ap.parse_args()
    import torch
    from safetensors.torch import load_file

    from dlexpert.rundir import RunDir

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        first, full, killed = tmp / "first", tmp / "full", tmp / "killed"
        common = ["--data", "mnist1d", "--epochs", str(args.epochs), "--no-monitor"]
        train(str(ROOT / "examples" / "mnist1d.yaml"), "--out", str(first), *common)
        plan = str(first / RunDir.PLAN)
        train(plan, "--out", str(full), *common)
        kill_after([plan, "--out", str(killed), *common], killed, args.kill_after)
        at_kill = epochs_logged(killed)
        train(plan, "--out", str(killed), *common, "--resume", "--hardware", "a100")

        same = RunDir(first).decisions() == RunDir(full).decisions() == RunDir(killed).decisions()
        a, b = load_file(str(full / RunDir.BEST)), load_file(str(killed / RunDir.BEST))
        diff = max(float((a[k] - b[k]).abs().max()) for k in a) if a.keys() == b.keys() else float("inf")
        ea, eb = last_epoch(full), last_epoch(killed)
        cfg_a, cfg_b = RunDir(full).config().train, RunDir(killed).config().train
    print(f"decisions identical in the first run, `train plan.json` and the resumed run: {same}")
    print(f"train settings of the resumed run (after --hardware a100) equal the uninterrupted run's: {cfg_a == cfg_b}")
    print(f"killed with SIGKILL after {at_kill} of {args.epochs} epochs, resumed with --hardware a100")
    print(f"{'run':<14} {'epochs':>6} {'val_loss':>10} {'val_acc':>8}")
    for name, e in (("uninterrupted", ea), ("killed+resumed", eb)):
        print(f"{name:<14} {e['epoch'] + 1:>6} {e['val_loss']:>10.6f} {e['val_acc']:>8.4f}")
    print(f"largest |difference| between the two best.safetensors: {diff:.3g} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
