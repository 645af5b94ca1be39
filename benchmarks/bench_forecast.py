"""Forecasting end to end on real series nobody on the project made (issue 16): `dlexpert run` on each dataset of
benchmarks/forecast_data (sktime, vega_datasets, aeon's M1 yearly, statsmodels; see its SOURCE.md), the last H points
of every series held out, beside statsforecast's SeasonalNaive, AutoETS and AutoARIMA fitted by the same run.

Per dataset: every candidate's backtest and test MASE (mean over series), what shipped, its test MASE, the share of
series where it beats seasonal naive, and the wall time of the whole run. Beside the shipped model, an alternative
the run does not use: each series forecast by the candidate with its own lowest backtest MASE (per-series selection,
from `backtest_mase_per_series` in evaluation.json), to show what choosing per series would give. Then, per part:
the shipped model's mean MASE over the datasets against AutoETS's, and the share of all series below seasonal naive.
Targets (issue 16): the shipped MASE <= AutoETS's on average over the sets; MASE below seasonal naive on >= 80% of
series; <= 5 min a run.

The `tune` part is for tuning; the `heldout` part (a different source collection) is run once, untuned.

    python benchmarks/bench_forecast.py [--part tune|heldout|all] [--only NAME,...] [--threads 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from dlexpert.forecast.run import run_forecast
from dlexpert.schema import parse_task
from dlexpert.schema.forecast import ForecastSection

CORPUS = Path(__file__).parent / "forecast_data"
SHOWN = ("SeasonalNaive", "AutoETS", "AutoARIMA", "LightGBM", "dlinear", "nbeats", "lstm")


def run_one(entry: dict, out: Path, seed: int) -> dict:
    spec = parse_task({"task": {"type": "forecasting", "domain": "time-series",
                                "specificTask": f"forecast {entry['description']}"},
                       "constraints": {"computeResources": "CPU, 2 cores"}})  # fmt: skip
    t = time.perf_counter()
    r = run_forecast(spec, data=str(CORPUS / entry["file"]), out_dir=out, horizon=entry["horizon"],
                     freq=entry["freq"], seed=seed, monitor=True)  # fmt: skip
    wall = time.perf_counter() - t
    f = r.evaluation.forecast
    assert f is not None
    by = {c.model: c for c in f.candidates}
    ensemble = next(c for c in f.candidates if c.kind == "ensemble")
    return {
        "name": entry["name"], "part": entry["part"], "n_series": len(f.per_series), "h": f.horizon,
        "scores": {name: (by[name].backtest["mase"], by[name].test["mase"]) for name in SHOWN if name in by}
        | {"ensemble": (ensemble.backtest["mase"], ensemble.test["mase"])},
        "shipped": f.shipped, "kind": f.shipped_kind, "mase": r.evaluation.metrics["mase"],
        "below_naive": {name: [m < s.seasonal_naive_mase for m, s in zip(by[name].test_mase_per_series,
                                                                           f.per_series, strict=True)]
                        for name in ("AutoETS", "AutoARIMA")} | {"shipped": [s.mase < s.seasonal_naive_mase
                                                                             for s in f.per_series]},
        "per_series_choice": per_series_choice(f),
        "naive": [s.seasonal_naive_mase for s in f.per_series],
        "wall": wall,
    }  # fmt: skip


def per_series_choice(f: ForecastSection) -> list[float]:
    """Each series' test MASE when it is forecast by the candidate (one that may ship: a learned model only when it
    beat AutoETS overall) with the lowest backtest MASE on that series; the shipped model's where it was not
    backtested."""
    ets = next(c for c in f.candidates if c.model == "AutoETS").backtest["mase"]
    learned = ("gbm", "deep")
    allowed = [c for c in f.candidates
               if (c.kind not in learned or c.backtest["mase"] < ets) and c.backtest_mase_per_series]  # fmt: skip
    out = []
    for i, s in enumerate(f.per_series):
        scored = [(c.backtest_mase_per_series[i], c) for c in allowed if c.backtest_mase_per_series[i] is not None]
        out.append(min(scored, key=lambda p: p[0])[1].test_mase_per_series[i] if scored else s.mase)
    return out


def print_header() -> None:
    head = f"{'dataset':<16}{'n':>4}{'H':>4} " + "".join(f"{n[:13]:>14}" for n in (*SHOWN, "ensemble"))
    print(head + f" {'shipped':<22}{'MASE':>7}{'<snaive':>8}{'wall':>7}")


def print_rows(rows: list[dict]) -> None:
    for r in rows:
        cells = "".join(f"{_pair(r['scores'].get(n)):>14}" for n in (*SHOWN, "ensemble"))
        shipped = r["shipped"] if len(r["shipped"]) <= 21 else r["shipped"][:18] + "..."
        print(f"{r['name']:<16}{r['n_series']:>4}{r['h']:>4} {cells} {shipped:<22}{r['mase']:>7.3f}"
              f"{np.mean(r['below_naive']['shipped']):>8.0%}{r['wall']:>6.0f}s")  # fmt: skip


def _pair(scores: tuple[float, float] | None) -> str:
    return "-" if scores is None else f"{scores[0]:.2f}/{scores[1]:.2f}"


def summary(rows: list[dict], part: str) -> None:
    mean = {name: np.mean([r["scores"][name][1] for r in rows]) for name in ("SeasonalNaive", "AutoETS", "AutoARIMA")}
    mine = np.mean([r["mase"] for r in rows])
    below = {k: np.concatenate([r["below_naive"][k] for r in rows]) for k in ("shipped", "AutoETS", "AutoARIMA")}
    kinds = {k: sum(r["kind"] == k for r in rows) for k in ("baseline", "gbm", "deep", "ensemble")}
    print(
        f"{part}: {len(rows)} datasets, {len(below['shipped'])} series; mean test MASE over datasets: shipped "
        f"{mine:.3f}, AutoETS {mean['AutoETS']:.3f}, AutoARIMA {mean['AutoARIMA']:.3f}, seasonal naive "
        f"{mean['SeasonalNaive']:.3f}"
    )
    print(
        f"  share of series below seasonal naive: shipped {below['shipped'].mean():.1%} (target >= 80%), AutoETS "
        f"{below['AutoETS'].mean():.1%}, AutoARIMA {below['AutoARIMA'].mean():.1%}"
    )
    choice = [r["per_series_choice"] for r in rows]
    chosen_below = np.concatenate([np.less(r["per_series_choice"], r["naive"]) for r in rows])
    print(
        f"  per-series selection by backtest (not used by the run): mean test MASE "
        f"{np.mean([np.mean(c) for c in choice]):.3f}, below seasonal naive on {chosen_below.mean():.1%} of series"
    )
    print(
        f"  shipped: {kinds['baseline']} statistical, {kinds['gbm']} LightGBM, {kinds['deep']} deep, "
        f"{kinds['ensemble']} ensembles; slowest "
        f"run {max(r['wall'] for r in rows):.0f} s (target <= 300 s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="tune", choices=("tune", "heldout", "all"))
    ap.add_argument("--only", default=None, help="comma-separated dataset names")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="keep the run folders here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    corpus = json.loads((CORPUS / "corpus.json").read_text())
    entries = [e for e in corpus["datasets"] if args.part in ("all", e["part"])]
    if args.only:
        entries = [e for e in entries if e["name"] in args.only.split(",")]
    print("cells: backtest MASE / test MASE (mean over series); <snaive: share of series below seasonal naive")
    print_header()
    rows: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        for e in entries:
            rows.setdefault(e["part"], []).append(run_one(e, root / e["name"], args.seed))
            print_rows(rows[e["part"]][-1:])
    for part, part_rows in rows.items():
        summary(part_rows, part)


if __name__ == "__main__":
    main()
