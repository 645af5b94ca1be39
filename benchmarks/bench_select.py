"""Step 4's baseline choice on real datasets, without training a network (issue 12): does the rule pick a baseline that
is as good on the test split as the best one the run fitted?

For each series and table set of `bench_real.py` (same data, same halves), the run's own splits are made with
`dlexpert.data.load_data` (seed 0: the official train set minus a 10% validation split, the official test split),
every baseline `evaluate` fits is fitted, and `evaluate.rank_baselines` scores them exactly as a run does (repeated
k-fold on train + validation when the data is small). Then three choices, side by side:

- `rule`: the shipped rule, `deliverable.pick_baseline` (the modality's preferred baseline unless another one scores
  significantly higher in the k-fold);
- `best-cv`: the best k-fold score, ties to the simpler (the rule before 2026-12-05);
- `oracle`: the baseline most accurate on the test split (what no rule can know).

Per half: the mean test accuracy of each choice, and on how many sets it is within 1 point of the oracle.

    python benchmarks/bench_select.py [--half tune|heldout|fresh|all] [--only BeetleFly ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_real import DATASETS, HALVES, MARGIN, PREPARE


def _load(name: str, tmp: Path):  # -> DataSplits
    from dlexpert.data import load_data

    prep = PREPARE[DATASETS[name][0]](name, tmp)
    args, kwargs = prep.data_args, {}
    for flag, key in (("--test", "test"), ("--target", "target")):
        if flag in args:
            kwargs[key] = args[args.index(flag) + 1]
    return load_data(args[0], seed=0, dropna="--dropna" in args, **kwargs)


def test_accuracies(splits, linear, strong) -> dict[str, float]:
    y = np.asarray(splits.y_test)
    accs = {"linear": float((linear.estimator.predict(linear.features(splits.x_test)) == y).mean())}
    accs.update({f.key: float((f.estimator.predict(f.features(splits.x_test)) == y).mean()) for f in strong})
    return accs


def one(name: str, tmp: Path) -> dict:
    from dlexpert.report.baselines import fit_linear_baseline
    from dlexpert.report.deliverable import pick_baseline
    from dlexpert.report.evaluate import rank_baselines
    from dlexpert.report.strong import fit_strong_baselines

    t = time.perf_counter()
    splits = _load(name, tmp)
    linear = fit_linear_baseline(splits, seed=0)
    strong, _ = fit_strong_baselines(splits, seed=0)
    ranking = rank_baselines(splits, linear, strong, seed=0)
    scores, folds = ranking.scores, ranking.folds
    y_pool = np.concatenate([np.asarray(splits.y_train), np.asarray(splits.y_val)])
    picked, _ = pick_baseline(scores, folds, ranking.k)
    simplest_first = sorted(scores, key=lambda kv: ["linear", *(f.key for f in strong)].index(kv[0]))
    best_cv = max(range(len(simplest_first)), key=lambda i: (simplest_first[i][1], -i))
    test = test_accuracies(splits, linear, strong)
    oracle = max(test, key=lambda k: test[k])
    return {"dataset": name, "half": DATASETS[name][1], "n": len(y_pool), "cv": folds is not None,
            "rule": scores[picked][0], "best_cv": simplest_first[best_cv][0], "oracle": oracle, "test": test,
            "scores": dict(scores), "wall": time.perf_counter() - t}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--half", choices=[*HALVES, "all"], default="all")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    names = [n for n in (args.only or DATASETS) if DATASETS[n][0] != "image" and args.half in ("all", DATASETS[n][1])]
    rows = []
    print(f"{'dataset':<30} {'half':<7} {'n':>4} {'by':<3} {'rule':>22} {'best-cv':>22} {'oracle':>22}  wall")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            try:
                r = one(name, Path(tmp))
            except Exception as e:  # a bundled copy missing: say so and go on
                print(f"{name:<30} ERROR {type(e).__name__}: {e}")
                continue
            rows.append(r)
            cell = {k: f"{r[k]} {100 * r['test'][r[k]]:.1f}" for k in ("rule", "best_cv", "oracle")}
            print(f"{name:<30} {r['half']:<7} {r['n']:>4} {'cv' if r['cv'] else 'val':<3} {cell['rule']:>22} "
                  f"{cell['best_cv']:>22} {cell['oracle']:>22}  {r['wall']:.0f}s", flush=True)  # fmt: skip
    print("-" * 110)
    for half in HALVES:
        done = [r for r in rows if r["half"] == half]
        if not done:
            continue
        summary = []
        for choice in ("rule", "best_cv", "oracle"):
            accs = [100 * r["test"][r[choice]] for r in done]
            near = sum(100 * (r["test"][r["oracle"]] - r["test"][r[choice]]) <= MARGIN for r in done)
            summary.append(f"{choice} mean {np.mean(accs):.1f}%, within {MARGIN:g} pt of oracle on {near}/{len(done)}")
        print(f"{half} ({len(done)} sets): " + "; ".join(summary))


if __name__ == "__main__":
    main()
