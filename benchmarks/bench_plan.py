"""How fast is `dlexpert plan`? Target (issue 2): median under 1 s on the 2-core dev machine, without torch.

Runs each command N times as a fresh process (what a user or script pays) and prints the median, the spread and
the ratio to a baseline: a bare Python interpreter start, and `dlexpert schema input` (CLI + pydantic, no
knowledge base). Also reports the in-process time of `advise()` with warm caches, which is what a long-running
service would pay per plan.

    python benchmarks/bench_plan.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def wall(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        out.append(time.perf_counter() - t)
        if r.returncode not in (0, 3):
            raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return out


def row(name: str, times: list[float], base: float) -> None:
    med = statistics.median(times)
    print(
        f"{name:<44} {med * 1e3:8.0f} ms  (min {min(times) * 1e3:5.0f}, max {max(times) * 1e3:5.0f})  "
        f"x{med / base:5.1f} vs python start"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    py = sys.executable
    base_times = wall([py, "-c", "pass"], args.runs)
    base = statistics.median(base_times)
    print(f"runs per command: {args.runs}; python {sys.version.split()[0]}\n")
    row("baseline: python -c pass", base_times, base)
    row("baseline: dlexpert schema input", wall([py, "-m", "dlexpert.cli.main", "schema", "input"], args.runs), base)
    medians = []
    for spec in EXAMPLES:
        times = wall([py, "-m", "dlexpert.cli.main", "plan", str(spec), "--format", "json"], args.runs)
        medians.append(statistics.median(times))
        row(f"dlexpert plan {spec.name}", times, base)

    sys.path.insert(0, str(ROOT / "src"))
    from dlexpert import advise, load_task

    specs = [load_task(p) for p in EXAMPLES]
    advise(specs[0])  # warm the knowledge-base caches
    t = time.perf_counter()
    for s in specs * 3:
        advise(s)
    per = (time.perf_counter() - t) / (len(specs) * 3)
    worst = max(medians)
    print(f"\nin-process advise() with warm caches: {per * 1e3:.0f} ms per plan")
    print(f"slowest plan median: {worst * 1e3:.0f} ms -> target < 1000 ms: {'MET' if worst < 1.0 else 'MISSED'}")
    print(f"torch imported by plan: {'torch' in sys.modules}")


if __name__ == "__main__":
    main()
