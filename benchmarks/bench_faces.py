"""Face photos with no pretrained weights at hand (issue 11's case): >= 95% test accuracy in <= 5 minutes, and the
plan, the decisions and the config naming the same model and recipe.

skimage's `lfw_subset()` (100 LFW faces + 100 non-face crops, 25x25 grayscale; Huang et al. 2007, via scikit-image)
is written as an image folder, one subfolder per class, and `dlexpert run` is run on it as a user would, offline
(`HF_HUB_OFFLINE=1`: the planned pretrained backbone is not in the cache, so the plan itself must carry a fallback
with its own recipe). Each seed is its own stratified split of the 200 images. Per seed it prints the delivered
model's test accuracy beside the run's own logistic-regression baseline (Step 4), a 1-nearest-neighbour classifier
on the same pixels and split, the wall time of the whole run, and whether plan.json, decisions.json and config.yaml
agree.

    python benchmarks/bench_faces.py [--seeds 0 1 2]
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
import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGET_ACC = 95.0  # percent (issue 11)
TARGET_WALL_S = 300.0
TASK = {"task": {"type": "classification", "domain": "CV", "specificTask": "face vs non-face photos"},
        "constraints": {"computeResources": "CPU (2 cores)"}}  # fmt: skip


def write_faces(root: Path) -> None:
    from PIL import Image
    from skimage.data import lfw_subset

    images = lfw_subset()  # (200, 25, 25) floats in [0, 1]; the first 100 are faces
    for i, img in enumerate(images):
        folder = root / ("face" if i < 100 else "not_face")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((img * 255).round().astype(np.uint8)).save(folder / f"{i:03d}.png")


def nearest_neighbour_accuracy(out: Path) -> float:
    """1-NN (Euclidean, standardised pixels) on the run's own train+validation and test split."""
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from dlexpert.runs import load_run

    splits = load_run(out).splits()
    x_fit = np.concatenate([splits.x_train, splits.x_val]).reshape(len(splits.y_train) + len(splits.y_val), -1)
    y_fit = np.concatenate([splits.y_train, splits.y_val])
    knn = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=1)).fit(x_fit, y_fit)
    return float(knn.score(splits.x_test.reshape(len(splits.y_test), -1), splits.y_test))


def agreement(out: Path) -> str:
    """plan.json's decisions, decisions.json and config.yaml's model record and recipe, compared as typed values."""
    from dlexpert.rundir import RunDir

    run = RunDir(out)
    decisions, config = run.decisions(), run.config()
    same = (run.plan().decisions == decisions and config.record() == decisions.model
            and config.recipe == decisions.training.recipe and config.train["lr"] == decisions.training.lr)  # fmt: skip
    return "yes" if same else "NO"


def run_one(seed: int, task: Path, data: Path, tmp: Path) -> dict:
    out = tmp / f"run{seed}"
    t = time.perf_counter()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-m", "dlexpert.cli.main", "run", str(task), "--data", str(data),
                        "--out", str(out), "--seed", str(seed)], capture_output=True, text=True, env=env)  # fmt: skip
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    ev = json.loads((out / "evaluation.json").read_text())
    decisions = json.loads((out / "decisions.json").read_text())
    return {"seed": seed, "model": ev["model"], "recipe": decisions["training"]["recipe"], "n": ev["n_samples"],
            "acc": ev["metrics"]["accuracy"] * 100, "base": ev["baseline"]["linear"]["metrics"]["accuracy"] * 100,
            "knn": nearest_neighbour_accuracy(out) * 100, "wall": wall, "agree": agreement(out),
            "fallback": (decisions.get("fallback") or {}).get("planned", "-")}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        write_faces(tmp / "faces")
        task = tmp / "faces.yaml"
        task.write_text(yaml.safe_dump(TASK))
        header = (f"{'seed':>4}  {'model':<13} {'recipe':<25} {'test acc':>8} {'logreg':>7} {'1-NN':>7} "
                  f"{'wall':>6}  agree  fallback from")  # fmt: skip
        print(header)
        print("-" * len(header))
        rows = []
        for seed in args.seeds:
            row = run_one(seed, task, tmp / "faces", tmp)
            rows.append(row)
            print(f"{seed:>4}  {row['model']:<13} {row['recipe']:<25} {row['acc']:>7.1f}% {row['base']:>6.1f}% "
                  f"{row['knn']:>6.1f}% {row['wall']:>5.0f}s  {row['agree']:<5}  {row['fallback']}",
                  flush=True)  # fmt: skip
    print("-" * len(header))
    worst, slowest = min(r["acc"] for r in rows), max(r["wall"] for r in rows)
    simple = ", ".join(f"{max(r['base'], r['knn']):.1f}%" for r in rows)
    print(f"n test = {rows[0]['n']} per seed; worst test accuracy {worst:.1f}% (target >= {TARGET_ACC:g}%: "
          f"{'MET' if worst >= TARGET_ACC else 'MISSED'}); slowest run {slowest:.0f} s (target <= "
          f"{TARGET_WALL_S:.0f} s: {'MET' if slowest <= TARGET_WALL_S else 'MISSED'}); best simple baseline per "
          f"seed: {simple}")  # fmt: skip


if __name__ == "__main__":
    main()
