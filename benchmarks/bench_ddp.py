"""One process against two (torchrun + DDP on gloo), same plan, same data: issue 3's "same final accuracy band".

Runs `dlexpert train examples/mnist1d.yaml --data mnist1d` with `--nproc 1` and `--nproc 2` side by side for each
seed, then scores both best checkpoints on the same held-out test split and prints accuracy, wall time and ratios.
Both runs use the plan's global batch (each of the two processes takes half of it), so the recipe is unchanged.
On a 2-core machine two processes are not expected to be faster: this checks correctness, not speed.

    python benchmarks/bench_ddp.py [--seeds 0 1] [--epochs N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_accuracy(run_dir: Path, seed: int) -> float:
    import torch

    from dlexpert.data import load_data, to_torch_datasets
    from dlexpert.engine import evaluate, load_weights
    from dlexpert.models import create_model

    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    splits = load_data("mnist1d", seed=seed)
    model = create_model(config["model"], input_shape=tuple(splits.input_shape), n_classes=splits.n_classes)
    model.load_state_dict(load_weights(run_dir / "checkpoints" / "best.safetensors"))
    torch.set_num_threads(1)
    return evaluate(model, to_torch_datasets(splits, augment=None).test)["accuracy"]


def train(out: Path, *, seed: int, nproc: int, epochs: int | None) -> float:
    cmd = [sys.executable, "-m", "dlexpert", "train", str(ROOT / "examples/mnist1d.yaml"), "--data", "mnist1d",
           "--out", str(out), "--seed", str(seed), "--nproc", str(nproc)]  # fmt: skip
    cmd += ["--epochs", str(epochs)] if epochs else []
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr[-2000:])
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--epochs", type=int, default=None, help="override the plan's epochs (default: the plan's)")
    args = ap.parse_args()
    print(f"{'seed':>4} {'procs':>5} {'test acc':>9} {'wall s':>7}")
    for seed in args.seeds:
        accs, walls = [], []
        for nproc in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "run"
                walls.append(train(out, seed=seed, nproc=nproc, epochs=args.epochs))
                accs.append(test_accuracy(out, seed))
            print(f"{seed:>4} {nproc:>5} {accs[-1] * 100:>8.1f}% {walls[-1]:>7.0f}")
        diff = (accs[1] - accs[0]) * 100
        print(f"seed {seed}: 2 processes vs 1: accuracy {diff:+.1f} points, wall ratio {walls[1] / walls[0]:.2f}")


if __name__ == "__main__":
    main()
