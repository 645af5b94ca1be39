"""The slow hostile-input checks of issue 17, with figures beside a baseline:

1. the probe table: every case of tests/hostile run as the tests run it, counted by entry point, with the slowest
   case and the process's peak memory;
1b. the blow-up cases (stdin and devices of endless bytes, an alias bomb, deep nesting, astronomic batch sizes and
   shapes, a folder of 5,001 files), each in its own process with HOME and TMPDIR inside a scratch folder: its exit
   code, time and peak memory against caps of 20 s and 1 GB, and whether anything in /tmp outside the scratch
   folder changed;
2. `dlexpert diagnose` on a 100k- and a 1M-row CSV log (time and peak memory of the process), beside pandas.read_csv
   of the same file (a C parser that only reads it);
3. SIGKILL at `--kills` random moments of a training run, each then continued with `--resume`: the final metrics
   against an uninterrupted run;
4. two `dlexpert train` into one folder at once: the second is refused, the first ends intact.

    python benchmarks/bench_hostile.py [--rows 100000,1000000] [--kills 5] [--epochs 6] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from dlexpert.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "dlexpert.cli.main"]
TRAIN = ["--data", "mnist1d", "--no-monitor"]


def probe_table() -> None:
    """Run the probes of tests/hostile in this process and count them by entry point."""
    import pytest

    sys.path.insert(0, str(ROOT))
    t = time.perf_counter()
    code = pytest.main(["-q", "-p", "no:cacheprovider", "--durations=1", str(ROOT / "tests" / "hostile")])
    from tests.hostile import test_light_entry_points as light
    from tests.hostile import test_run_entry_points as heavy

    by_command = Counter(c[2][0] for c in light.CASES) + Counter(c[2][0] for c in heavy.CASES)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprobes: {sum(by_command.values())} parametrised cases (+ 3 more tests), pytest exit {code}, "
          f"{time.perf_counter() - t:.1f} s, peak RSS of the process {peak:.0f} MB")  # fmt: skip
    print("  by entry point: " + ", ".join(f"{k} {v}" for k, v in sorted(by_command.items())))


def write_log(path: Path, rows: int, seed: int) -> None:
    """A per-step CSV log: a decaying loss with noise, a constant lr, a noisy gradient norm; 50 epochs."""
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    loss = 2.3 * np.exp(-steps / (rows / 5)) + 0.1 + rng.normal(0, 0.05, rows)
    grad = 1 + rng.normal(0, 0.1, rows) ** 2
    table = np.column_stack([steps, steps // max(1, rows // 50), loss, np.full(rows, 1e-3), grad])
    with path.open("w") as f:
        f.write("step,epoch,train_loss,lr,grad_norm\n")
        np.savetxt(f, table, fmt=["%d", "%d", "%.6f", "%.3g", "%.5f"], delimiter=",")


def diagnose_scale(rows: list[int], seed: int, tmp: Path) -> None:
    head = f"{'rows':>9} {'MB':>6} {'diagnose s':>11} {'peak MB':>8} {'exit':>5}"
    print(f"\n{head}   {'pandas.read_csv s':>17} {'peak MB':>8}")
    for n in rows:
        log = tmp / f"log{n}.csv"
        write_log(log, n, seed)
        # each measurement in a fresh interpreter, so that ru_maxrss is that process's own peak
        reader = [sys.executable, "-c", f"import pandas; pandas.read_csv({str(log)!r})"]
        p_s, p_mb, _ = _fresh(reader)
        d_s, d_mb, code = _fresh([*CLI, "diagnose", str(log), "--format", "json"])
        print(
            f"{n:>9} {log.stat().st_size / 1e6:>6.1f} {d_s:>11.1f} {d_mb:>8.0f} {code:>5}   {p_s:>17.1f} {p_mb:>8.0f}"
        )
    print("  target (issue 17): 1M rows in < 20 s and < 1 GB; exit 0 (no finding at error level)")


def _fresh(cmd: list[str], *, stdin: str | None = None, cwd: Path | None = None,
           env: dict[str, str] | None = None) -> tuple[float, float, int]:  # fmt: skip
    """(seconds, peak RSS in MB, exit code) of `cmd` run from a wrapper process, so that the peak memory is that
    command's alone; `stdin` is a file to read standard input from."""
    wrapper = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        f"f = open({stdin!r}, 'rb') if {stdin!r} else subprocess.DEVNULL; "
        f"c = subprocess.run({cmd!r}, stdin=f, capture_output=True, timeout=60).returncode; "
        "s = time.perf_counter() - t; print(s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, c)"
    )
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, cwd=cwd,
                         env=env).stdout.split()  # fmt: skip
    return float(out[0]), float(out[1]), int(out[2])


BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))
    + "task: *i\n"
)


def blow_ups(tmp: Path) -> None:
    """Each case that once hung or blew up, in its own process, against caps of 20 s and 1 GB."""
    scratch = tmp / "scratch"
    (scratch / "home").mkdir(parents=True)
    (scratch / "tmp").mkdir()
    (scratch / "bomb.yaml").write_text(BOMB)
    (scratch / "deep.json").write_text("[" * 100_000)
    (scratch / "digits.yaml").write_text('task: {type: classification, domain: CV}\ndata: {size: "' + "9" * 900_000
                                         + '"}\n')  # fmt: skip
    (scratch / "files").mkdir()
    for i in range(5001):
        (scratch / "files" / f"f{i}.txt").write_text("a\n")
    cases = [
        ("plan - < /dev/zero", ["plan", "-"], "/dev/zero", 2),
        ("plan /dev/zero", ["plan", "/dev/zero"], None, 2),
        ("plan /dev/urandom", ["plan", "/dev/urandom"], None, 2),
        ("plan alias bomb (43M nodes)", ["plan", "bomb.yaml"], None, 2),
        ("plan 100k-deep JSON", ["plan", "deep.json"], None, 2),
        ("plan 900k-digit data.size", ["plan", "digits.yaml"], None, 2),
        ("diagnose /dev/urandom", ["diagnose", "/dev/urandom"], None, 2),
        ("diagnose 5,001 files", ["diagnose", "files"], None, 2),
        ("bench --batch-sizes 100000000", ["bench", "dlexpert:cnn1d", "--batch-sizes", "100000000"], None, 2),
        (
            "export --input-shape 3,100000,100000",
            ["export", "dlexpert:cnn1d", "--input-shape", "3,100000,100000"],
            None,
            2,
        ),
        ("bench --threads 100000", ["bench", "dlexpert:cnn1d", "--threads", "100000"], None, 2),
    ]
    env = {**os.environ, "HOME": str(scratch / "home"), "TMPDIR": str(scratch / "tmp")}
    outside = _tmp_listing(tmp)
    print(f"\n{'case':<40} {'exit':>4} {'want':>4} {'s':>6} {'peak MB':>8}  within caps")
    for name, argv, stdin, want in cases:
        seconds, mb, code = _fresh([*CLI, *argv], stdin=stdin, cwd=scratch, env=env)
        ok = code == want and seconds < 20 and mb < 1024
        print(f"{name:<40} {code:>4} {want:>4} {seconds:>6.1f} {mb:>8.0f}  {'yes' if ok else 'NO'}")
    changed = sorted(_tmp_listing(tmp) ^ outside)
    print(f"  /tmp outside the scratch folder unchanged: {not changed}"
          + (f" ({len(changed)} names came or went, e.g. {', '.join(changed[:5])}: the cases run with TMPDIR and HOME "
             "in the scratch folder, so check whether another process wrote them)" if changed else ""))  # fmt: skip


def _tmp_listing(mine: Path) -> set[str]:
    """The top level of the system's temporary folder, without this benchmark's own."""
    root = Path(tempfile.gettempdir())
    return {p.name for p in root.iterdir() if p != mine and not p.name.startswith("pymp-")}


def epochs_logged(run: Path) -> int:
    return len(RunDir(run).epochs())


def final_epoch(run: Path) -> dict:
    return RunDir(run).epochs()[-1]


def kills(n: int, epochs: int, seed: int, tmp: Path) -> None:
    spec = str(ROOT / "examples" / "mnist1d.yaml")
    common = [*TRAIN, "--epochs", str(epochs)]
    full = tmp / "full"
    t = time.perf_counter()
    subprocess.run([*CLI, "train", spec, "--out", str(full), *common], capture_output=True, check=True)
    run_s = time.perf_counter() - t
    reference = final_epoch(full)
    rng = random.Random(seed)
    print(f"\nuninterrupted: {epochs} epochs in {run_s:.1f} s; final val_loss {reference['val_loss']:.6f}, "
          f"val_acc {reference['val_acc']:.4f}")  # fmt: skip
    print(
        f"{'kill':>4} {'at s':>6} {'epochs done':>11} {'resume exit':>11} {'val_loss':>10} {'val_acc':>8} {'same':>5}"
    )
    for k in range(n):
        run = tmp / f"killed{k}"
        at = rng.uniform(0.15, 0.9) * run_s
        proc = subprocess.Popen([*CLI, "train", spec, "--out", str(run), *common], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(at)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        done = epochs_logged(run)
        resume = "--resume" if (run / "checkpoints" / "last.pt").exists() else None
        r = subprocess.run([*CLI, "train", spec, "--out", str(run), *common, *([resume] if resume else [])],
                           capture_output=True, text=True)  # fmt: skip
        e = final_epoch(run) if r.returncode == 0 else {"val_loss": float("nan"), "val_acc": float("nan")}
        same = e["val_loss"] == reference["val_loss"] and e["val_acc"] == reference["val_acc"]
        print(f"{k + 1:>4} {at:>6.1f} {done:>11} {r.returncode:>11} {e['val_loss']:>10.6f} {e['val_acc']:>8.4f} "
              f"{same!s:>5}")  # fmt: skip


def concurrent(epochs: int, tmp: Path) -> None:
    spec = str(ROOT / "examples" / "mnist1d.yaml")
    run, solo = tmp / "shared", tmp / "solo"
    common = [*TRAIN, "--epochs", str(epochs)]
    first = subprocess.Popen([*CLI, "train", spec, "--out", str(run), *common], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    while not (run / ".lock").exists() and first.poll() is None:
        time.sleep(0.05)
    second = subprocess.run([*CLI, "train", spec, "--out", str(run), *common, "--seed", "1"], capture_output=True,
                            text=True)  # fmt: skip
    first.wait()
    subprocess.run([*CLI, "train", spec, "--out", str(solo), *common], capture_output=True, check=True)
    a, b = final_epoch(run), final_epoch(solo)
    same = (a["val_loss"], a["val_acc"]) == (b["val_loss"], b["val_acc"])
    print(f"\ntwo trains into one folder: the second exited {second.returncode}: {second.stderr.strip()[:160]}")
    print(f"  the first exited {first.returncode}; its final val_loss {a['val_loss']:.6f} vs {b['val_loss']:.6f} for "
          f"the same run alone: {'identical' if same else 'DIFFERENT'}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="100000,1000000")
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-probes", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        blow_ups(tmp)
        diagnose_scale([int(r) for r in args.rows.split(",") if r], args.seed, tmp)
        kills(args.kills, args.epochs, args.seed, tmp)
        concurrent(args.epochs, tmp)
    if not args.skip_probes:
        probe_table()


if __name__ == "__main__":
    main()
