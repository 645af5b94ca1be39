"""sklearn digits from the plan alone (target: >= 99% test accuracy, i.e. at most 3 of 360 wrong, on every seed).

Runs `dlexpert run examples/digits.yaml --data digits --seed S` as a user would (a fresh process, the plan's own
model and recipe, chosen from the data profile: 8x8 images -> a small ResNet trained from scratch), and prints one
row per seed: test accuracy and errors of the planned model, the linear baseline the run trains itself (Step 4),
the recipe and the wall time of the whole run (profile, plan, baseline, training, evaluation).

    python benchmarks/bench_digits.py [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_ACC = 99.0  # percent: at most 3 errors on the 360-image test split
TARGET_WALL_S = 240.0  # "well under 4 minutes" on the 2-core machine


def run_one(seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "dlexpert.cli.main", "run", str(ROOT / "examples/digits.yaml"),
                            "--data", "digits", "--out", str(out), "--seed", str(seed)],
                           capture_output=True, text=True)  # fmt: skip
        wall = time.perf_counter() - t
        if r.returncode != 0:
            raise SystemExit(r.stderr)
        ev = json.loads((out / "evaluation.json").read_text())
        cfg = (out / "config.yaml").read_text()
    recipe = next((ln.split(":", 1)[1].strip() for ln in cfg.splitlines() if ln.startswith("recipe:")), "?")
    return {"seed": seed, "model": ev["model"], "recipe": recipe, "n": ev["n_samples"],
            "acc": ev["metrics"]["accuracy"] * 100, "base": ev["baseline"]["linear"]["metrics"]["accuracy"] * 100,
            "wall": wall}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = ap.parse_args()
    header = f"{'seed':>4}  {'model':<13} {'recipe':<26} {'test acc':>9} {'errors':>7} {'baseline':>9} {'wall':>7}"
    print(header)
    print("-" * len(header))
    rows = []
    for seed in args.seeds:
        row = run_one(seed)
        rows.append(row)
        errors = round((100 - row["acc"]) / 100 * row["n"])
        print(f"{seed:>4}  {row['model']:<13} {row['recipe']:<26} {row['acc']:>8.2f}% {errors:>4}/{row['n']:<3}"
              f"{row['base']:>8.2f}% {row['wall']:>6.0f}s", flush=True)  # fmt: skip
    print("-" * len(header))
    worst = min(r["acc"] for r in rows)
    slowest = max(r["wall"] for r in rows)
    mean = sum(r["acc"] for r in rows) / len(rows)
    print(f"mean test accuracy {mean:.2f}%; worst {worst:.2f}% (target >= {TARGET_ACC:g}% on every seed: "
          f"{'MET' if worst >= TARGET_ACC else 'MISSED'}); slowest run {slowest:.0f} s incl. baseline "
          f"(target < {TARGET_WALL_S:.0f} s: {'MET' if slowest < TARGET_WALL_S else 'MISSED'})")  # fmt: skip


if __name__ == "__main__":
    main()
