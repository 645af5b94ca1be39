"""Compression figures (issue "Make it small and fast, and prove it", seed Step 6), measured on this CPU.

Targets: INT8 at least 3x smaller than the fp32 weights with at most a 1-point accuracy drop (fp32 -> int8 is 4x at
the very most), on the MNIST-1D and digits runs and on one larger vision model; the best CPU speed-up over eager
fp32 per model; structured pruning at 50% removing at least 40% of the parameters with a measured latency gain and
its accuracy change.

Models:
- MNIST-1D: `dlexpert run examples/mnist1d.yaml --data mnist1d --epochs 10` (the plan's cnn1d, 91k parameters);
- digits: `dlexpert run examples/digits.yaml --data digits --epochs 20` (the plan's small_resnet, 0.27M);
- torchvision resnet18 (11.2M parameters), random init, no pretrained weights, trained for `--vision-epochs` on the
  built-in `shapes` images (4 classes, 32x32 grayscale repeated to 3 channels): a real accuracy on a real test
  split, but a toy task for so large a network: its accuracy drop says little about ImageNet-scale behaviour.

Every number comes from `dlexpert.compress` (the same code as `dlexpert compress`): accuracy on the test split,
file size, batch-1 p50 latency (the quietest of 5 rounds, interleaved with the baseline's), throughput at the best
of batch 1/8/32/128, all on `--threads` threads. The load average is printed: other processes share this CPU.

    python benchmarks/bench_compress.py [--work DIR] [--threads 1] [--vision resnet18|mobilenet_v3_small|none]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = {  # name -> (task, data, epochs)
    "mnist1d": ("examples/mnist1d.yaml", "mnist1d", 10),
    "digits": ("examples/digits.yaml", "digits", 20),
}
SMALL_METHODS = [("int8", {}), ("fp16", {}), ("prune", {"target_sparsity": 0.5}), ("distill", {})]
VISION_METHODS = [("int8", {}), ("fp16", {}), ("prune", {"target_sparsity": 0.5})]


def make_run(name: str, work: Path) -> Path:
    """Train the run once (a fresh `dlexpert run` process, as a user would); reuse it when it is already there."""
    task, data, epochs = RUNS[name]
    out = work / name
    if (out / "checkpoints" / "best.safetensors").is_file():
        return out
    print(f"training {name}: dlexpert run {task} --data {data} --epochs {epochs}", flush=True)
    r = subprocess.run([sys.executable, "-m", "dlexpert.cli.main", "run", str(ROOT / task), "--data", data,
                        "--out", str(out), "--epochs", str(epochs)], capture_output=True, text=True)  # fmt: skip
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return out


class _ThreeChannels:
    """The `shapes` images (1, 32, 32) as the (3, 32, 32) a torchvision classifier expects."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> tuple[Any, Any]:
        x, y = self.dataset[i]
        return x.expand(3, *x.shape[1:]).contiguous(), y


def vision_subject(arch: str, work: Path, epochs: int) -> Any:
    """torchvision `arch`, random init, trained briefly on `shapes`; a compress `Subject` built by hand."""
    import torch
    import torchvision

    from dlexpert.compress import Subject
    from dlexpert.data import load_data, to_torch_datasets
    from dlexpert.engine import TrainConfig, fit, load_weights

    splits = load_data("shapes", seed=0)
    sets = to_torch_datasets(splits, augment=None)
    train, val, test = (_ThreeChannels(s) for s in (sets.train, sets.val, sets.test))
    torch.manual_seed(0)
    model = torchvision.models.get_model(arch, weights=None, num_classes=splits.n_classes)
    cfg = TrainConfig(epochs=epochs, batch_size=64, lr=2e-3, scheduler="onecycle", weight_decay=0.05, seed=0)
    out = work / arch
    best = out / "checkpoints" / "best.safetensors"
    mc = {"name": "pretrained", "library": "torchvision", "hub_id": arch, "n_classes": splits.n_classes,
          "input_shape": [3, 32, 32]}  # fmt: skip
    rebuild = {"model_config": mc, "adaptation": "full"}
    if not best.is_file():
        print(f"training {arch} (random init) on shapes for {epochs} epochs", flush=True)
        fit(model, train_set=train, val_set=val, cfg=cfg, out_dir=out, progress=False, device="cpu",
            extra_config={"model": arch, **rebuild})  # fmt: skip
    model.load_state_dict(load_weights(best))
    return Subject(model=model.eval(), train_set=train, val_set=val, test_set=test, rebuild=rebuild, train_cfg=cfg,
                   baseline_size_bytes=best.stat().st_size, modality="image", name=f"{arch} (shapes)")  # fmt: skip


def run_methods(subject: Any, variants: Path, methods: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    from dlexpert.compress import compress_subject

    reports = []
    for method, kw in methods:
        t = time.perf_counter()
        print(f"  {subject.name}: {method} ...", flush=True)
        r = compress_subject(subject, method=method, variants_dir=variants, **kw)
        print(f"    done in {time.perf_counter() - t:.0f} s: {r.decision[:160]}", flush=True)
        reports.append(r)
    return reports


def table(name: str, reports: list[Any]) -> list[str]:
    b = reports[0]
    head = (f"{'variant':<34} {'size MB':>9} {'x smaller':>9} {'acc %':>7} {'d pts':>6} {'p50 ms':>8} "
            f"{'speed-up':>8} {'thr/s @bs':>14} {'params':>10}")  # fmt: skip
    lines = [f"== {name}", head, "-" * len(head)]
    lines.append(f"{'baseline (eager fp32)':<34} {b.baseline_size_bytes / 1e6:>9.3f} {1.0:>9.2f} "
                 f"{b.baseline_accuracy * 100:>7.2f} {0.0:>6.2f} {b.baseline_latency_ms_p50:>8.3f} {1.0:>8.2f} "
                 f"{b.baseline_throughput_samples_per_s:>9,.0f} @{b.baseline_throughput_batch_size:<4} "
                 f"{b.baseline_n_params or 0:>10,}")  # fmt: skip
    ort = next((r.reference["onnxruntime_fp32"] for r in reports if "onnxruntime_fp32" in r.reference), None)
    if ort:
        sp = ort["paired_baseline_ms_p50"] / ort["latency_ms_p50"]
        lines.append(f"{'  (ref) ONNX Runtime fp32':<34} {ort['size_bytes'] / 1e6:>9.3f} "
                     f"{b.baseline_size_bytes / ort['size_bytes']:>9.2f} {ort['accuracy'] * 100:>7.2f} "
                     f"{(b.baseline_accuracy - ort['accuracy']) * 100:>6.2f} {ort['latency_ms_p50']:>8.3f} {sp:>8.2f} "
                     f"{ort['throughput_samples_per_s']:>9,.0f} @{ort['throughput_batch_size']:<4}")  # fmt: skip
    for r in reports:
        for a in r.tried:
            tag = f"{r.name}{'' if a.kept else ' (tried)'}: {_short(a)}"
            lines.append(f"{tag[:34]:<34} {a.size_bytes / 1e6:>9.3f} {b.baseline_size_bytes / a.size_bytes:>9.2f} "
                         f"{a.accuracy * 100:>7.2f} {a.accuracy_drop:>6.2f} {a.latency_ms_p50:>8.3f} "
                         f"{a.speedup_p50:>8.2f} "
                         + (f"{r.throughput_samples_per_s:>9,.0f} @{r.throughput_batch_size:<4}" if a.kept
                            else f"{'':>15}")
                         + (f" {a.n_params:>10,}" if a.n_params else ""))  # fmt: skip
    return lines


def _short(a: Any) -> str:
    p = a.params
    if "path" in p:
        return f"{p['path']}{' rr' if p.get('reduce_range') else ''}{' ends-fp32' if p.get('float_layers') else ''}"
    if "ratio" in p:
        return f"{p['kind'][:6]} {p['ratio']:.0%}"
    if "student" in p:
        s = p["student"]
        return f"{s['name']} w{s.get('width')} d{s.get('depth')}"
    return str(p.get("dtype", ""))


def verdicts(name: str, reports: list[Any]) -> list[str]:
    out = []
    int8 = next((r for r in reports if r.method == "int8"), None)
    if int8:
        ok = int8.size_ratio >= 3 and int8.accuracy_drop <= 1 and int8.met_max_drop
        out.append(f"{name}: INT8 {int8.size_ratio:.2f}x smaller (target >= 3x), {_pts(int8.accuracy_drop)} pts "
                   f"(target >= -1): {'MET' if ok else 'MISSED'}")  # fmt: skip
    pruned = next((r for r in reports if r.name == "pruned"), None)
    if pruned:
        at50 = next((a for a in pruned.tried if a.params.get("ratio") == 0.5), None)
        if at50 and at50.n_params and pruned.baseline_n_params:
            removed = 1 - at50.n_params / pruned.baseline_n_params
            ok = removed >= 0.4 and at50.speedup_p50 > 1
            thr = pruned.throughput_samples_per_s / pruned.baseline_throughput_samples_per_s if at50.kept else None
            out.append(f"{name}: structured 50% removes {removed:.0%} of parameters (target >= 40%), batch-1 speed-up "
                       f"{at50.speedup_p50:.2f}x" + (f", best-throughput ratio {thr:.2f}x" if thr else "")
                       + f", accuracy {_pts(at50.accuracy_drop)} pts ({'kept' if at50.kept else 'not kept'}): "
                       f"{'MET' if ok else 'MISSED'}")  # fmt: skip
    kept = [(r.speedup_p50, r.name) for r in reports if r.met_max_drop]
    if kept:
        sp, which = max(kept)
        out.append(f"{name}: best CPU speed-up over eager fp32 (batch 1, accuracy kept): {sp:.2f}x ({which})")
    return out


def _pts(drop: float) -> str:
    return f"{round(-drop, 2) + 0.0:+.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "dlexpert-bench-compress",
                    help="runs and variants go here; existing runs are reused")  # fmt: skip
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--vision", default="resnet18", help="torchvision classifier, or 'none'")
    ap.add_argument("--vision-epochs", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write every report here")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from dlexpert.compress import subject_from_run
    from dlexpert.runs import load_run

    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    results: dict[str, list[Any]] = {}
    for name in RUNS:
        run_dir = make_run(name, args.work)
        subject = subject_from_run(load_run(run_dir))
        results[name] = run_methods(subject, run_dir / "variants", SMALL_METHODS)
    if args.vision != "none":
        subject = vision_subject(args.vision, args.work, args.vision_epochs)
        results[args.vision] = run_methods(subject, args.work / args.vision / "variants", VISION_METHODS)
    load_end = os.getloadavg()
    print()
    print(f"torch {torch.__version__}, {args.threads} thread(s), CPU: {_cpu()}; load average at start "
          f"{' '.join(f'{v:.2f}' for v in load_start)}, at end {' '.join(f'{v:.2f}' for v in load_end)}; "
          f"{time.perf_counter() - t0:.0f} s in all")  # fmt: skip
    print(
        "speed-up: batch-1 p50 of the baseline timed in rounds interleaved with the variant's, over the variant's; "
        "p50 ms: the variant's own quietest round (absolute times drift with the load)"
    )
    for name, reports in results.items():
        print("\n".join(table(name, reports)))
        print()
    for name, reports in results.items():
        print("\n".join(verdicts(name, reports)))
    if args.json:
        args.json.write_text(json.dumps({k: [r.model_dump() for r in v] for k, v in results.items()}, indent=1))


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() + f" x{os.cpu_count()}"
    except OSError:
        pass
    return f"{os.cpu_count()} cores"


if __name__ == "__main__":
    main()
