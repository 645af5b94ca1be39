"""Issue 6 on MNIST-1D: the evaluation beside its baselines and the published table, and the card against it.

For each seed: `dlexpert run` (plan, train, evaluate, card) as a fresh process, then `dlexpert evaluate` and
`dlexpert card` again on the finished run, timed. Prints the model's test accuracy beside the majority class, the
run's own logistic-regression baseline and the published one (Greydanus 2020, arXiv 2011.14439: logistic regression
32%, CNN 94%), the margin over the linear baseline beside the published CNN-minus-logistic margin (62 points), the
calibration, the failure analysis' top confusion, and whether MODEL_CARD.md matches evaluation.json.

    python benchmarks/bench_evaluate.py [--seeds 0 1]
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
PUBLISHED_LR, PUBLISHED_CNN = 32.0, 94.0


def _cli(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "dlexpert.cli.main", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"dlexpert {' '.join(args)} failed:\n{r.stderr}")
    return time.perf_counter() - t, r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from dlexpert.report.card import verify_card

    print(f"published (arXiv 2011.14439): logistic regression {PUBLISHED_LR:g}%, CNN {PUBLISHED_CNN:g}% "
          f"(margin {PUBLISHED_CNN - PUBLISHED_LR:g} points)")  # fmt: skip
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "run"
            run_s, _ = _cli("run", str(ROOT / "examples/mnist1d.yaml"), "--data", "mnist1d", "--out", str(out),
                            "--seed", str(seed))  # fmt: skip
            card_ok = verify_card(out) == []
            eval_s, _ = _cli("evaluate", str(out))
            card_s, _ = _cli("card", str(out))
            ev = json.loads((out / "evaluation.json").read_text())
            recheck = verify_card(out)
        acc = 100 * ev["metrics"]["accuracy"]
        lin = 100 * ev["baseline"]["linear"]["metrics"]["accuracy"]
        maj = 100 * ev["baseline"]["majority"]["metrics"]["accuracy"]
        pair = (ev["failures"]["confused_pairs"] or [{}])[0]
        lat = {r["batch_size"]: r["latency_ms_p50"] for r in ev["latency"]["rows"]}
        print(
            f"seed {seed}: {ev['model']} test accuracy {acc:.1f}% | majority {maj:.1f}% | linear {lin:.1f}% "
            f"(published {PUBLISHED_LR:g}%, {lin - PUBLISHED_LR:+.1f}) | margin {acc - lin:.1f} points "
            f"(published {PUBLISHED_CNN - PUBLISHED_LR:g}; ratio {(acc - lin) / (PUBLISHED_CNN - PUBLISHED_LR):.2f})"
        )
        m = ev["metrics"]
        print(
            f"  macro F1 {100 * m['f1_macro']:.1f}%, balanced {100 * m['balanced_accuracy']:.1f}%, "
            f"AUROC {m['auroc_ovr_macro']:.4f}, ECE {m['ece']:.4f}; "
            f"{ev['failures']['n_errors']} errors, most confused {pair.get('true')}->{pair.get('predicted')} "
            f"x{pair.get('count')}; eager p50 {lat.get(1)} ms (batch 1), {lat.get(32)} ms (batch 32)"
        )
        print(
            f"  wall: run {run_s:.0f} s (incl. evaluate + card), evaluate {eval_s:.1f} s, card {card_s:.1f} s; "
            f"card matches evaluation.json after run: {card_ok}, after re-evaluate + card: {recheck == []}"
        )


if __name__ == "__main__":
    main()
