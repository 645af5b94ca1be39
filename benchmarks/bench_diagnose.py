"""Does the training doctor find real faults? A fault-injection suite (issue "The training doctor").

Trains small models on scikit-learn's digits (bundled, offline) with one known fault injected for real, for every
issue of the vocabulary, on 2 architectures (an MLP and a small CNN) and 3 seeds; rewrites each run's log in every
format `dlexpert.diagnose` reads (the dlexpert run directory, TensorBoard events, Keras and Lightning CSV, Hugging
Face trainer_state.json, generic JSON lines: see `_faults.py` for what each carries); diagnoses each; and scores:

- recall: the injected issue is among the findings of severity warning or error (info-only hits counted apart);
- top-1: the first finding (most important) is the injected issue, at warning or error;
- both over all (run, format) pairs, and over the pairs whose format carries what the issue needs (`NEEDS`; a
  Keras CSV holds no per-layer gradient norms, so vanishing gradients cannot be seen in one: "n/a");
- healthy runs (varied length 3-60 epochs, learning rate, batch size, optimizer, schedule, architecture, seed):
  false-alarm rate = share of (run, format) pairs with any warning or error;
- NaN/Inf latency: optimizer steps between the injected onset and the live sentinel's nan_inf finding
  (RUN_DIR/diagnosis.json).

Targets: recall >= 0.85, top-1 >= 0.70, healthy false alarms <= 5%, NaN caught within 1 step. For comparison,
published detectors score lower on real bugs (DeepFD: 52% correct diagnosis; AUTOTRAINER flagged 12 of 52).
Everything is written under one temporary directory and removed at the end (`--keep DIR` keeps it).

    python benchmarks/bench_diagnose.py [--seeds 3] [--archs mlp,cnn] [--issues a,b] [--formats a,b]
                                        [--healthy 22] [--quick] [--verbose] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _faults as F
import torch

from dlexpert.diagnose import diagnose_history, read_history
from dlexpert.schema.diagnosis import ISSUES

TARGET_RECALL, TARGET_TOP1, TARGET_FALSE_ALARM, TARGET_NAN_STEPS = 0.85, 0.70, 0.05, 1
SHORT = {"dlexpert": "dlexpert", "tensorboard": "tb", "keras_csv": "keras", "lightning_csv": "lightning",
         "hf_trainer_state": "hf", "jsonl": "jsonl"}  # fmt: skip


@dataclass
class Cell:
    """One run read through one format."""

    issue: str | None  # injected issue; None for a healthy run
    run: str
    fmt: str
    carried: bool
    findings: list[tuple[str, str, float]] = field(default_factory=list)  # (issue, severity, confidence)
    error: str | None = None

    @property
    def alarms(self) -> list[tuple[str, str, float]]:
        return [f for f in self.findings if f[1] in ("warning", "error")]

    @property
    def hit(self) -> bool:
        return any(f[0] == self.issue for f in self.alarms)

    @property
    def hit_info(self) -> bool:
        return any(f[0] == self.issue for f in self.findings)

    @property
    def top1(self) -> bool:
        return bool(self.findings) and self.findings[0][0] == self.issue and self.findings[0][1] != "info"


@dataclass
class NanLatency:
    run: str
    note: str
    planned: int | None
    onset: int | None  # first non-finite batch loss (the loss tape)
    caught: float | None  # step of the live nan_inf finding
    began_at: float | None

    @property
    def latency(self) -> float | None:
        return None if self.caught is None or self.onset is None else self.caught - self.onset


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def read_through(run: str, issue: str | None, fmt: str, run_dir: Path, out: Path) -> Cell:
    try:
        h = read_history(F.write_format(fmt, run_dir, out))
        carried = F.NEEDS[issue][1](h) if issue else True
        d = diagnose_history(h)
        return Cell(issue, run, fmt, carried, [(f.issue, f.severity, f.confidence) for f in d.findings])
    except Exception as e:  # a reader or rule that breaks is a result too
        return Cell(issue, run, fmt, True, error=f"{type(e).__name__}: {e}")


def one_run(
    name: str, issue: str | None, plan: F.Plan, root: Path, formats: list[str]
) -> tuple[list[Cell], F.Trained | None]:
    folder = root / name.replace(" ", "_")
    try:
        trained = F.train(plan, folder / "run")
    except Exception as e:
        log(f"  training failed: {type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}")
        return [Cell(issue, name, fmt, True, error=f"training: {type(e).__name__}: {e}") for fmt in formats], None
    cells = [read_through(name, issue, fmt, folder / "run", folder / fmt) for fmt in formats]
    return cells, trained


def nan_latency(name: str, trained: F.Trained) -> NanLatency:
    d = json.loads((trained.run_dir / "diagnosis.json").read_text())
    live = next((f for f in d["findings"] if f["issue"] == "nan_inf"), None)
    caught = live["evidence"].get("step", live.get("began_at")) if live else None
    return NanLatency(name, trained.plan.note, trained.plan.onset, trained.tape.first_nonfinite(), caught,
                      live.get("began_at") if live else None)  # fmt: skip


def describe(cell: Cell) -> str:
    if cell.error:
        return f"ERROR {cell.error[:100]}"
    return ", ".join(f"{i}:{s[0].upper()}{c:.2f}" for i, s, c in cell.findings[:4]) or "(no findings)"


def status(cell: Cell) -> str:
    if cell.error:
        return "ERR"
    if cell.issue is None:
        return "ALARM" if cell.alarms else "ok"
    mark = "T" if cell.top1 else ("R" if cell.hit else ("i" if cell.hit_info else "-"))
    return mark if cell.carried else mark.lower() + "*"


def ratio(n: int, d: int) -> str:
    return f"{n / d:.2f} ({n}/{d})" if d else "n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="seeds per (issue, architecture)")
    ap.add_argument("--archs", default=",".join(F.ARCHS))
    injectable = [i for i in ISSUES if i in F.FAULTS]  # divergence and stuck are measured on real logs only
    ap.add_argument("--issues", default=",".join(injectable), help="comma-separated issues of the vocabulary")
    ap.add_argument("--formats", default=",".join(F.FORMATS))
    ap.add_argument("--healthy", type=int, default=len(F.HEALTHY), help=f"healthy runs (at most {len(F.HEALTHY)})")
    ap.add_argument("--quick", action="store_true", help="1 seed, the MLP only, 4 healthy runs (~2 min)")
    ap.add_argument("--verbose", action="store_true", help="print every cell's findings")
    ap.add_argument("--keep", type=Path, default=None, help="write the runs here and keep them")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    archs, formats = args.archs.split(","), args.formats.split(",")
    issues = [i for i in args.issues.split(",") if i]
    healthy = list(F.HEALTHY[: args.healthy])
    if args.quick:
        args.seeds, archs, healthy = 1, ["mlp"], list(F.HEALTHY[::6])[:4]
    unknown = [i for i in issues if i not in F.FAULTS] + [f for f in formats if f not in F.FORMATS]
    if unknown:
        ap.error(f"unknown issue/format {', '.join(unknown)}; issues: {', '.join(F.FAULTS)}; formats: "
                 f"{', '.join(F.FORMATS)}")  # fmt: skip

    t0 = time.perf_counter()
    log(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs; torch threads 1")
    cells: list[Cell] = []
    nans: list[NanLatency] = []
    healthy_cells: list[Cell] = []
    train_s = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-diagnose-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        jobs = [(i, a, s) for i in issues for a in archs for s in range(args.seeds)]
        for k, (issue, arch, seed) in enumerate(jobs, 1):
            name = f"{issue} {arch} s{seed}"
            plan = F.FAULTS[issue](arch, seed)
            t = time.perf_counter()
            got, trained = one_run(name, issue, plan, root, formats)
            cells += got
            if trained is not None:
                train_s += trained.wall_s
                if issue == "nan_inf":
                    nans.append(nan_latency(name, trained))
            marks = " ".join(f"{SHORT[c.fmt]}:{status(c)}" for c in got)
            log(f"[{k}/{len(jobs)}] {name:<32} {time.perf_counter() - t:5.1f}s  {marks}")
            if args.verbose:
                for c in got:
                    log(f"      {SHORT[c.fmt]:<10} {describe(c)}")
        for k, hspec in enumerate(healthy, 1):
            name = f"healthy {hspec.name}"
            t = time.perf_counter()
            got, trained = one_run(name, None, F.healthy_plan(hspec), root, formats)
            healthy_cells += got
            train_s += trained.wall_s if trained else 0.0
            alarms = {c.fmt: c.alarms for c in got if c.alarms or c.error}
            found = " ".join(f"{SHORT[f]}:{[a[0] for a in al]}" for f, al in alarms.items()) or "no alarms"
            log(f"[healthy {k}/{len(healthy)}] {hspec.name:<52} {time.perf_counter() - t:5.1f}s  {found}")
    wall = time.perf_counter() - t0
    report(cells, healthy_cells, nans, issues, formats, archs, args, wall, train_s)


def report(cells: list[Cell], healthy: list[Cell], nans: list[NanLatency], issues: list[str], formats: list[str],
           archs: list[str], args: argparse.Namespace, wall: float, train_s: float) -> None:  # fmt: skip
    runs_per_issue = len(archs) * args.seeds
    print(f"\nFault-injection suite: {len(issues)} issues x {len(archs)} architectures ({', '.join(archs)}) x "
          f"{args.seeds} seed(s) = {len(issues) * runs_per_issue} faulty runs, {len(healthy) // max(1, len(formats))} "
          f"healthy runs; {len(formats)} formats each")  # fmt: skip

    # --- per issue x format
    print(
        f"\nPer issue and format: R/T = runs (of {runs_per_issue}) where the injected issue was found at warning or"
        " error / was the first finding; 'n/a' = the format does not carry what the issue needs (`NEEDS`); * = only"
        " some runs' logs carried it (counted over those); last columns: shares over carried (run, format) pairs"
    )
    w = 11
    print(f"{'issue':<22}" + "".join(f"{SHORT[f]:>{w}}" for f in formats) + f"{'carried R':>{w}}{'carried T1':>{w}}")
    for issue in issues:
        row = f"{issue:<22}"
        mine = [c for c in cells if c.issue == issue]
        for fmt in formats:
            cs = [c for c in mine if c.fmt == fmt]
            car = [c for c in cs if c.carried]
            mixed = "*" if car and len(car) < len(cs) else ""  # counts over the runs whose log carried it
            cell = f"{sum(c.hit for c in car)}/{sum(c.top1 for c in car)}{mixed}" if car else "n/a"
            row += f"{cell:>{w}}"
        car = [c for c in mine if c.carried]
        row += f"{(f'{sum(c.hit for c in car) / len(car):.2f}' if car else 'n/a'):>{w}}"
        row += f"{(f'{sum(c.top1 for c in car) / len(car):.2f}' if car else 'n/a'):>{w}}"
        print(row)

    # --- per format
    print("\nPer format (over the issues it carries / over all issues):")
    print(f"{'format':<18}{'carried':>9}{'recall':>9}{'top-1':>9}{'+info':>9}{'recall all':>12}{'top-1 all':>11}")
    for fmt in formats:
        cs = [c for c in cells if c.fmt == fmt]
        car = [c for c in cs if c.carried]

        def frac(xs: list[Cell], attr: str) -> str:
            return f"{sum(getattr(c, attr) for c in xs) / len(xs):.2f}" if xs else "n/a"

        print(f"{fmt:<18}{f'{len(car)}/{len(cs)}':>9}{frac(car, 'hit'):>9}{frac(car, 'top1'):>9}"
              f"{frac(car, 'hit_info'):>9}{frac(cs, 'hit'):>12}{frac(cs, 'top1'):>11}")  # fmt: skip

    # --- healthy runs
    print("\nHealthy runs: findings of severity warning or error (a false alarm), by format")
    names = list(dict.fromkeys(c.run for c in healthy))
    any_alarm = False
    for name in names:
        cs = [c for c in healthy if c.run == name]
        bad = [c for c in cs if c.alarms or c.error]
        if bad:
            any_alarm = True
            print(
                f"  {name.removeprefix('healthy '):<56}"
                + "; ".join(
                    f"{SHORT[c.fmt]}: {c.error or ', '.join(f'{i} {s} {cf:.2f}' for i, s, cf in c.alarms)}" for c in bad
                )
            )
    if not any_alarm:
        print("  none")
    print(f"{'format':<18}{'false alarms':>14}")
    for fmt in formats:
        cs = [c for c in healthy if c.fmt == fmt]
        print(f"{fmt:<18}{ratio(sum(bool(c.alarms or c.error) for c in cs), len(cs)):>14}")

    # --- NaN latency
    if nans:
        print("\nNaN/Inf caught live (dlexpert run dir, diagnosis.json written by the monitors):")
        print(f"{'run':<24}{'injected at':>12}{'first NaN':>11}{'caught at':>11}{'latency':>9}  how")
        for n in nans:
            lat = "missed" if n.latency is None else f"{n.latency:g}"
            caught = "-" if n.caught is None else f"{n.caught:g}"
            print(f"{n.run:<24}{n.planned or '-':>12}{n.onset or '-':>11}{caught:>11}{lat:>9}  {n.note}")

    # --- misses
    print("\nMisses (format carries the issue's series; R = found but not first, - = not found at warning+):")
    for c in cells:
        if c.carried and not c.top1:
            print(f"  {status(c):<2} {c.run:<30} {SHORT[c.fmt]:<10} {describe(c)}")

    # --- headline
    car = [c for c in cells if c.carried]
    hits, top1 = sum(c.hit for c in car), sum(c.top1 for c in car)
    fa = sum(bool(c.alarms or c.error) for c in healthy)
    fa_dl = [c for c in healthy if c.fmt == "dlexpert"]
    lats = [n.latency for n in nans]
    print("\nHeadline (target in brackets):")
    print(
        f"  recall, carried pairs      {ratio(hits, len(car)):<20} [>= {TARGET_RECALL}] "
        f"{'meets' if car and hits / len(car) >= TARGET_RECALL else 'MISSES'}"
    )
    print(f"  recall, all pairs          {ratio(sum(c.hit for c in cells), len(cells))}")
    print(f"  recall incl. info, carried {ratio(sum(c.hit_info for c in car), len(car))}")
    print(
        f"  top-1, carried pairs       {ratio(top1, len(car)):<20} [>= {TARGET_TOP1}] "
        f"{'meets' if car and top1 / len(car) >= TARGET_TOP1 else 'MISSES'}"
    )
    print(f"  top-1, all pairs           {ratio(sum(c.top1 for c in cells), len(cells))}")
    dl = [c for c in cells if c.fmt == "dlexpert"]
    print(
        f"  dlexpert run dir only      recall {ratio(sum(c.hit for c in dl), len(dl))}, "
        f"top-1 {ratio(sum(c.top1 for c in dl), len(dl))}"
    )
    print(f"  healthy false alarms       {ratio(fa, len(healthy)):<20} [<= {TARGET_FALSE_ALARM:.0%}] "
          f"{'meets' if healthy and fa / len(healthy) <= TARGET_FALSE_ALARM else 'MISSES'}"
          f"   (dlexpert only: {ratio(sum(bool(c.alarms) for c in fa_dl), len(fa_dl))})")  # fmt: skip
    if lats:
        worst = max((x for x in lats if x is not None), default=None)
        ok = None not in lats and worst is not None and worst <= TARGET_NAN_STEPS
        print(
            f"  NaN/Inf caught live        {sum(x is not None for x in lats)}/{len(lats)} runs, worst latency "
            f"{worst if worst is not None else '-'} step(s) [<= {TARGET_NAN_STEPS}] {'meets' if ok else 'MISSES'}"
        )
    wrong = Counter(  # the first finding where it was not the injected issue at warning+ (same issue at info: marked)
        c.findings[0][0] + (" (info)" if c.findings[0][0] == c.issue else "") for c in car if c.findings and not c.top1
    )
    if wrong:
        print(f"  wrong first findings       {', '.join(f'{k} x{v}' for k, v in wrong.most_common())}")
    print(
        f"\nwall time {wall:.0f} s ({train_s:.0f} s training); load average now "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
