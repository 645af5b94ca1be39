"""The advisor on task specs written the way users write them, checked against expectations written beforehand.

Each case in `benchmarks/user_specs/*.yaml` holds a spec (the seed Input) phrased as a user would, the source its
phrasing was adapted from, a `split` fixed by that source (tune: competition overviews, forum questions, practice;
heldout: model cards, paper abstracts, GitHub issues; batches 4-18 each have their own source groups, with held-out
parts heldout2 to heldout16), and `expect`: checks an expert wrote before the advisor ever saw the spec (see
user_specs/README.md). This script plans every spec (`assume_defaults`, as `dlexpert plan
--assume-defaults`), runs the checks, and prints the pass rate per split and, for the tune split only, the families
with failures and every failed check: held-out failures are counted, never listed, so nobody tunes on them.

Beside it, the baseline: the same checks against a plan that ignores the spec's wording, i.e. the advisor's own
default for the task type and domain with no constraints (what a reader who skimmed only `task.type` would get).

    python benchmarks/bench_specs.py [--split tune|heldout|heldout2|...|heldout16] [--verbose]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from dlexpert.advisor import advise
from dlexpert.errors import DlexpertError
from dlexpert.knowledge import get_hardware
from dlexpert.schema import Plan, parse_task

ROOT = Path(__file__).resolve().parent / "user_specs"
SPLITS = (
    "tune",
    "heldout",
    "heldout2",
    "heldout3",
    "heldout4",
    "heldout5",
    "heldout6",
    "heldout7",
    "heldout8",
    "heldout9",
    "heldout10",
    "heldout11",
    "heldout12",
    "heldout13",
    "heldout14",
    "heldout15",
    "heldout16",
    "heldout17",
    "heldout18",
    "heldout19",
    "heldout20",
    "heldout21",
    "heldout22",
    "heldout23",
    "heldout24",
    "heldout25",
)


def load_cases(split: str | None) -> list[dict[str, Any]]:
    cases = []
    for path in sorted(ROOT.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            case["file"] = path.name
            if split is None or case["split"] == split:
                cases.append(case)
    return cases


def plan_of(spec: dict[str, Any]) -> Plan | str:
    """The plan, or the one-line error the CLI would print."""
    try:
        return advise(parse_task(spec), assume_defaults=True)
    except (DlexpertError, ValueError) as e:
        return str(e).splitlines()[0]


def _any(needles: list[str], hay: str) -> bool:
    return any(n.lower() in hay.lower() for n in needles)


def check(expect: dict[str, Any], plan: Plan | str) -> list[str]:
    """The failed checks, each as one line (empty: all passed)."""
    if "refused" in expect:
        if isinstance(plan, str) and expect["refused"] in plan:
            return []
        got = plan if isinstance(plan, str) else "a plan"
        return [f"refused naming {expect['refused']!r}: got {got}"]
    if isinstance(plan, str):
        return [f"expected a plan; got the error: {plan}"]
    d = plan.decisions
    assert d is not None
    failed = []
    deploy = d.deployment
    formats = " | ".join(deploy.formats) if deploy else ""
    pretrained = plan.modelDesign.pretrainedModel
    # The model as planned: its name, its architecture and how it is adapted ("LoRA adapters (r=16) ...").
    model = f"{d.model.name} {plan.modelDesign.architecture} {pretrained.adaptation if pretrained else ''}"
    train_kind = get_hardware(d.estimates.training_device).kind if d.estimates.training_device else None
    hours = d.estimates.training_hours.high if d.estimates.training_hours else None
    family = d.task.family if d.task else None
    metrics = " | ".join(d.task.metrics) if d.task else ""
    baseline = d.task.baseline if d.task else ""
    tests = {
        "deploy_kind": lambda v: deploy is not None and deploy.kind == v,
        "train_kind": lambda v: train_kind == v,
        "export_any": lambda v: _any(v, formats),
        "export_none": lambda v: not _any(v, formats),
        "model_any": lambda v: _any(v, model),
        "model_none": lambda v: not _any(v, model),
        "max_params_m": lambda v: d.estimates.params_m is not None and d.estimates.params_m <= v,
        "min_training_hours": lambda v: hours is not None and hours >= v,
        "family": lambda v: family == v,
        "metric_any": lambda v: _any(v, metrics),
        "baseline_any": lambda v: _any(v, baseline),
    }
    got = {
        "deploy_kind": deploy.kind if deploy else None,
        "train_kind": train_kind,
        "export_any": formats,
        "export_none": formats,
        "model_any": model,
        "model_none": model,
        "max_params_m": d.estimates.params_m,
        "min_training_hours": hours,
        "family": family,
        "metric_any": metrics,
        "baseline_any": baseline,
    }
    for key, want in expect.items():
        if key not in tests:
            failed.append(f"unknown check {key!r}")
        elif not tests[key](want):
            failed.append(f"{key} {want!r}: got {got[key]!r}")
    return failed


def baseline_plan(spec: dict[str, Any]) -> Plan | str:
    """The spec reduced to its task type and domain: what reading none of the user's words gives."""
    task = spec.get("task") or {}
    return plan_of({"task": {"type": task.get("type"), "domain": task.get("domain")}})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=SPLITS)
    ap.add_argument("--verbose", action="store_true", help="print every failed check of the tune split")
    args = ap.parse_args()
    cases = load_cases(args.split)
    if not cases:
        print(f"no cases under {ROOT}", file=sys.stderr)
        return 2
    by_split: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # passed, total, baseline passed
    by_family: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    checks = [0, 0]
    failures = []
    for case in cases:
        failed = check(case["expect"], plan_of(case["spec"]))
        base_failed = check(case["expect"], baseline_plan(case["spec"]))
        s = by_split[case["split"]]
        s[0] += not failed
        s[1] += 1
        s[2] += not base_failed
        checks[0] += len(case["expect"]) - len(failed)
        checks[1] += len(case["expect"])
        if case["split"] != "tune":
            continue
        f = by_family[case["family"]]
        f[0] += not failed
        f[1] += 1
        if failed:
            failures.append((case, failed))
    print(f"{'split':<9} {'cases':>5} {'all checks pass':>16} {'baseline (type+domain only)':>28}")
    for split in SPLITS:
        if split in by_split:
            p, n, b = by_split[split]
            print(f"{split:<9} {n:>5} {p:>9} ({p / n:5.1%}) {b:>19} ({b / n:5.1%})")
    families = {case["family"] for case in cases}
    print(f"checks passed: {checks[0]}/{checks[1]} ({checks[0] / checks[1]:.1%}); families: {len(families)}")
    weak = sorted((p / n, fam, p, n) for fam, (p, n) in by_family.items() if p < n)
    if weak:
        print("tune families with failures: " + ", ".join(f"{fam} {p}/{n}" for _, fam, p, n in weak))
    if args.verbose:
        for case, failed in failures:
            print(f"- {case['id']} ({case['split']}, {case['family']}): " + "; ".join(failed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
