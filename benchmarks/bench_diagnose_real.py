"""Does the training doctor get real logs right? The real-log corpus (issue 13, item 2).

Runs `dlexpert diagnose <log folder> --format json` as a user would, one fresh process per log, on every log of
`benchmarks/real_logs/` and scores the findings of severity warning or error against `LABELS.yaml` (written before
the tool ran: never tune them). Exact issue names only; the labels define no synonyms. Per half (tune, heldout) and
overall:

- recall: expected issues found at warning or error / all expected issues;
- false alarms per log: warning/error findings whose issue is neither expected nor acceptable, / number of logs;
- broken called healthy: logs labelled `broken` with no warning or error finding;
- crashes (exit code other than 0 and 2, a traceback on stderr, or no JSON document) and refusals (exit 2, "not a
  training log"), by id;
- the slowest log (wall time of the whole process), and whether the library imports torch on it.

    python benchmarks/bench_diagnose_real.py [--half tune|heldout|blind2|...|blind22|all] [--only ID ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dlexpert.schema.diagnosis import ISSUES

CORPUS = Path(__file__).resolve().parent / "real_logs"
# blind2-blind7: batches labelled and added after the rules were tuned (blind4's first run after the fourth session's
# rule changes; blind5's after the fifth session's first changes, made on blind4; blind6's after those made on blind5;
# blind7's after the fifth session's last commit)
HALVES = (
    "tune",
    "heldout",
    "blind2",
    "blind3",
    "blind4",
    "blind5",
    "blind6",
    "blind7",
    "blind8",
    "blind9",
    "blind10",
    "blind11",
    "blind12",
    "blind13",
    "blind14",
    "blind15",
    "blind16",
    "blind17",
    "blind18",
    "blind19",
    "blind20",
    "blind21",
    "blind22",
    "blind23",
    "tune_text",
    "blind24",
    "blind25",
    "blind26",
    "blind27",
    "blind28",
    "blind29",
    "blind30",
    "blind31",
)
ALARM = ("warning", "error")


@dataclass
class Result:
    """One log, diagnosed in a fresh process."""

    id: str
    split: str
    fmt: str
    expected: list[str]
    acceptable: list[str]
    broken: bool
    rc: int
    seconds: float
    alarms: list[str] = field(default_factory=list)  # issue of each finding at warning or error, in report order
    stderr: str = ""
    parsed: bool = False

    @property
    def crashed(self) -> bool:
        no_document = self.rc == 0 and not self.parsed
        return self.rc not in (0, 2) or no_document or "Traceback (most recent call last)" in self.stderr

    @property
    def refused(self) -> bool:
        return self.rc == 2 and not self.crashed

    @property
    def found(self) -> list[str]:
        return [i for i in self.expected if i in self.alarms]

    @property
    def missed(self) -> list[str]:
        return [i for i in self.expected if i not in self.alarms]

    @property
    def false_alarms(self) -> list[str]:
        return [i for i in self.alarms if i not in self.expected and i not in self.acceptable]

    @property
    def broken_called_healthy(self) -> bool:
        return self.broken and self.parsed and not self.alarms

    @property
    def verdict(self) -> str:
        if self.crashed or self.refused:
            return "CRASH" if self.crashed else "refused"
        marks = ["miss" if self.missed else "hit"] if self.expected else []
        marks += ["false-alarm"] if self.false_alarms else []
        return "+".join(marks) or "ok"

    @property
    def why_failed(self) -> str:
        lines = [x for x in self.stderr.splitlines() if x.strip()]
        last = lines[-1].removeprefix("error: ").replace(f"{CORPUS / self.id}: ", "") if lines else ""
        return (last or f"exit {self.rc}, no output")[:160]


def diagnose_one(log_id: str, label: dict) -> Result:
    cmd = [sys.executable, "-m", "dlexpert.cli.main", "diagnose", str(CORPUS / log_id), "--format", "json"]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    r = Result(log_id, label["split"], label["format"], label["expected"], label["acceptable"], label["broken"],
               p.returncode, time.perf_counter() - t, stderr=p.stderr)  # fmt: skip
    if p.returncode == 0:
        try:
            d = json.loads(p.stdout)
            r.alarms, r.parsed = [f["issue"] for f in d["findings"] if f["severity"] in ALARM], True
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            r.stderr += f"\nunreadable JSON on stdout: {type(e).__name__}: {e}"
    return r


def torch_imported(log_id: str) -> str:
    """Call the library function the CLI calls, in a fresh interpreter, and ask whether torch got imported."""
    code = (
        "import sys; from dlexpert.diagnose import diagnose_history, read_history; "
        f"diagnose_history(read_history({str(CORPUS / log_id)!r})); print('torch' in sys.modules)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return p.stdout.strip() or f"check failed (exit {p.returncode}): {p.stderr.strip()[-200:]}"


def ratio(n: int, d: int) -> str:
    return f"{n / d:.2f} ({n}/{d})" if d else "n/a"


def report(results: list[Result], halves: list[str]) -> None:
    w = max(len(r.id) for r in results) + 2
    print(f"\n{'id':<{w}}{'split':<9}{'format':<20}{'expected':<26}{'found (warning/error)':<48}{'time':>6}  verdict")
    for r in results:
        found = ", ".join(r.alarms)
        expected = ", ".join(r.expected) or "-"
        print(f"{r.id:<{w}}{r.split:<9}{r.fmt:<20}{expected + (' [B]' if r.broken else ''):<26}{found or '-':<48}"
              f"{r.seconds:>5.2f}s  {r.verdict}")  # fmt: skip
    print("[B] = labelled broken")

    groups = {h: [r for r in results if r.split == h] for h in halves}
    if len(halves) > 1:
        groups["all"] = results
    rows = {
        "logs": lambda rs: str(len(rs)),
        "recall": lambda rs: ratio(sum(len(r.found) for r in rs), sum(len(r.expected) for r in rs)),
        "false alarms per log": lambda rs: ratio(sum(len(r.false_alarms) for r in rs), len(rs)),
        "logs with a false alarm": lambda rs: ratio(sum(bool(r.false_alarms) for r in rs), len(rs)),
        "broken called healthy": lambda rs: ratio(sum(r.broken_called_healthy for r in rs), sum(r.broken for r in rs)),
        "crashes": lambda rs: str(sum(r.crashed for r in rs)),
        "refusals (exit 2)": lambda rs: str(sum(r.refused for r in rs)),
        "slowest log": lambda rs: f"{max(r.seconds for r in rs):.2f} s" if rs else "n/a",
    }
    print("\nSummary (warning or error findings only; time = one fresh process, interpreter start included):")
    print(f"{'':<26}" + "".join(f"{g:>16}" for g in groups))
    for name, fn in rows.items():
        print(f"{name:<26}" + "".join(f"{fn(rs):>16}" for rs in groups.values()))

    def listing(title: str, pairs: list[tuple[str, str]]) -> None:
        print(f"\n{title}: {len(pairs)}")
        for log_id, what in pairs:
            print(f"  {log_id:<{w}}{what}")

    listing("Misses (id, expected issue not found at warning or error)", [(r.id, i) for r in results for i in r.missed])
    listing("False alarms (id, issue)", [(r.id, i) for r in results for i in r.false_alarms])
    listing("Broken runs called healthy", [(r.id, r.split) for r in results if r.broken_called_healthy])
    listing("Crashes", [(r.id, r.why_failed) for r in results if r.crashed])
    listing("Refusals (exit 2)", [(r.id, r.why_failed) for r in results if r.refused])

    unnamed = sorted({i for r in results for i in r.expected if i not in ISSUES})
    if unnamed:
        n = sum(i in unnamed for r in results for i in r.expected)
        print(f"\nExpected issues outside the diagnose vocabulary, so always missed: {', '.join(unnamed)} ({n} labels)")
    slowest = max(results, key=lambda r: r.seconds)
    print(f"slowest log: {slowest.id} {slowest.seconds:.2f} s; torch imported by the library on it: "
          f"{torch_imported(slowest.id)}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--half", choices=[*HALVES, "all"], default="all")
    ap.add_argument("--only", nargs="+", metavar="ID", help="log ids (folder names under real_logs/)")
    args = ap.parse_args()
    labels: dict[str, dict] = yaml.safe_load((CORPUS / "LABELS.yaml").read_text())
    unknown = [i for i in args.only or [] if i not in labels]
    if unknown:
        ap.error(f"unknown log id(s) {', '.join(unknown)}; the ids are the keys of {CORPUS / 'LABELS.yaml'}")
    halves = list(HALVES) if args.half == "all" else [args.half]
    ids = [i for i in (args.only or labels) if labels[i]["split"] in halves]

    t0 = time.perf_counter()
    results = []
    for k, log_id in enumerate(ids, 1):
        results.append(r := diagnose_one(log_id, labels[log_id]))
        print(f"[{k}/{len(ids)}] {log_id:<70} {r.seconds:5.2f}s  {r.verdict}", file=sys.stderr, flush=True)
    if not results:
        ap.error("no log selected")
    report(results, halves)
    print(f"\nwall time {time.perf_counter() - t0:.0f} s for {len(results)} logs")


if __name__ == "__main__":
    main()
