"""Latency of dlexpert's service front ends (issue 18), each beside the in-process call it wraps.

1. `plan` on every example spec: `advise()` in process, then POST /api/plan to a warm `dlexpert serve`, then the
   `plan` tool of a warm `dlexpert mcp` through the SDK's stdio client. Target: HTTP and MCP within 100 ms of
   in-process (median over repeats).
2. The runs page with 200 runs (copies of one real evaluated run): GET /runs cold (first request, every summary
   read) and warm (cached by file stamps). Target: < 300 ms.

    python benchmarks/bench_serve.py [--repeats 10] [--runs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the server fixture of tests/service/test_web.py starts it the same way
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def in_process(specs: list[dict], repeats: int) -> list[float]:
    from dlexpert.advisor import advise
    from dlexpert.schema import parse_task

    for s in specs:
        advise(parse_task(s), assume_defaults=True)  # warm: knowledge files and imports loaded once
    return [_timed(lambda s=s: advise(parse_task(s), assume_defaults=True)) for s in specs for _ in range(repeats)]


def over_http(base: str, specs: list[dict], repeats: int) -> list[float]:
    def call(spec: dict) -> None:
        body = json.dumps({"task": spec, "assume_defaults": True}).encode()
        req = urllib.request.Request(base + "/api/plan", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()

    for s in specs:
        call(s)
    return [_timed(lambda s=s: call(s)) for s in specs for _ in range(repeats)]


def over_mcp(specs: list[dict], repeats: int, runs: Path) -> list[float]:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "dlexpert", "mcp", "--runs", str(runs)],
                                   env={"HF_HUB_OFFLINE": "1"})  # fmt: skip

    async def main() -> list[float]:
        async with Client(params, read_timeout_seconds=120) as client:
            for s in specs:
                await client.call_tool("plan", {"task": s, "assume_defaults": True})
            out = []
            for s in specs:
                for _ in range(repeats):
                    t = time.perf_counter()
                    r = await client.call_tool("plan", {"task": s, "assume_defaults": True})
                    out.append(time.perf_counter() - t)
                    assert not r.is_error, r.content
            return out

    return asyncio.run(main())


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def one_real_run(folder: Path) -> Path:
    run = folder / "seed-run"
    for args in (["train", str(ROOT / "examples/digits.yaml"), "--data", "digits", "--out", str(run), "--epochs", "2"],
                 ["evaluate", str(run), "--no-latency"]):  # fmt: skip
        subprocess.run([sys.executable, "-m", "dlexpert", *args], check=True, capture_output=True)
    return run


def runs_page(base: str, runs: Path, seed: Path, n: int) -> tuple[float, list[float]]:
    for i in range(n):
        shutil.copytree(seed, runs / f"run-{i:03d}", ignore=shutil.ignore_patterns("tb", "checkpoints", "figures"))
    cold = _timed(lambda: urllib.request.urlopen(base + "/runs", timeout=60).read())
    warm = [_timed(lambda: urllib.request.urlopen(base + "/runs", timeout=60).read()) for _ in range(10)]
    return cold, warm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    specs = [yaml.safe_load(p.read_text()) for p in EXAMPLES]
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        runs.mkdir()
        from tests.service.test_web import start_server

        proc, base = start_server(runs)
        try:
            local = in_process(specs, args.repeats)
            http = over_http(base, specs, args.repeats)
            mcp = over_mcp(specs, args.repeats, runs)
            ms = {k: 1000 * statistics.median(v) for k, v in (("in-process", local), ("HTTP", http), ("MCP", mcp))}
            print(f"plan on {len(specs)} example specs x {args.repeats} (median ms): " +
                  ", ".join(f"{k} {v:.1f}" for k, v in ms.items()))  # fmt: skip
            for k in ("HTTP", "MCP"):
                over = ms[k] - ms["in-process"]
                print(f"  {k}: +{over:.1f} ms over in-process (target <= 100 ms): {'met' if over <= 100 else 'MISSED'}")
            seed = one_real_run(Path(tmp))
            cold, warm = runs_page(base, runs, seed, args.runs)
            print(f"runs page with {args.runs} runs: cold {1000 * cold:.0f} ms, warm median "
                  f"{1000 * statistics.median(warm):.0f} ms (target < 300 ms): "
                  f"{'met' if max(cold, statistics.median(warm)) < 0.3 else 'MISSED'}")  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
