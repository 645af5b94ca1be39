"""Step 4's resampling on a real dated table (issue 12): how far each baseline's cross-validated score lies from its
accuracy on the later test days, with a shuffled k-fold (the rule before 2026-12-06) and with forward chaining (the
rule now, `report.strong.resampling`).

The table is vega_datasets' Seattle weather (the day's weather from precipitation, temperatures and wind), cut into
three 2-year slices so that each pool of train + validation windows is small enough to be resampled. Each slice is
read as a user's CSV would be: 32-day windows, split train / validation / test in time order (`load_data`). Then
every baseline Step 4 fits is scored by both schemes on train + validation, and on the test split.

    python benchmarks/bench_dated_cv.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

SLICES = {"2012-13": (0, 730), "2013-14": (365, 1095), "2014-15": (731, 1461)}


def main() -> None:
    from vega_datasets import local_data

    from dlexpert.data import load_data
    from dlexpert.report.baselines import fit_linear_baseline
    from dlexpert.report.evaluate import pooled_inputs, purged_windows
    from dlexpert.report.strong import cv_fold_scores, fit_strong_baselines, resampling

    table = local_data.seattle_weather()
    print(f"{'rows':<8} {'baseline':<16} {'shuffled':>9} {'forward':>8} {'test':>6}")
    gaps: dict[str, list[float]] = {"shuffled": [], "forward": []}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (a, b) in SLICES.items():
            path = Path(tmp) / f"seattle_{name}.csv"
            table.iloc[a:b].to_csv(path, index=False)
            splits = load_data(path, target="weather", seed=0)
            y = np.concatenate([splits.y_train, splits.y_val])
            purge = purged_windows(splits)
            schemes = {"shuffled": resampling(y, seed=0), "forward": resampling(y, seed=0, purge=purge)}
            fits = [fit_linear_baseline(splits, seed=0), *fit_strong_baselines(splits, seed=0)[0]]
            for fit in fits:
                test = float((fit.estimator.predict(fit.features(splits.x_test)) == splits.y_test).mean())
                cells = []
                for scheme, folds in schemes.items():
                    scores = cv_fold_scores(fit.estimator, pooled_inputs(fit, splits), y, folds)
                    if len(scores):
                        gaps[scheme].append(abs(float(scores.mean()) - test))
                    cells.append(f"{scores.mean():.3f}" if len(scores) else "-")
                print(f"{name:<8} {getattr(fit, 'key', 'linear'):<16} {cells[0]:>9} {cells[1]:>8} {test:>6.3f}")
    for scheme, g in gaps.items():
        print(f"{scheme}: mean |CV - test| {np.mean(g):.3f} over {len(g)} (slice, baseline) pairs it could score")


if __name__ == "__main__":
    main()
