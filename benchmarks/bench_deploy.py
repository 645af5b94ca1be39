"""Export and CPU speed: ONNX parity (target max |diff| <= 1e-4 on fp32) and the best speed-up over eager fp32 that
any backend reaches, at batch 1 and 32, for the MNIST-1D run, the digits run and an ImageNet-sized vision model.

The two runs are trained here with short schedules (or taken from --run-dirs); the vision model is built without
weights (`torchvision:resnet18`: architecture only, random init, seeded noise inputs; parity and speed do not depend
on trained values). Each model is exported with `dlexpert.deploy.export_model` (dynamo exporter first, dynamic batch),
then `dlexpert.deploy.benchmark` times eager, torch.compile, ONNX Runtime fp32 and ONNX Runtime dynamic int8 on the
same inputs with the thread count fixed. Rounds are interleaved across backends and the latency is the median (p50)
of all timed calls pooled over the rounds; on a shared 2-core machine timings are noisy, so the load average is
printed before and after.

    python benchmarks/bench_deploy.py [--run-dirs RUN ...] [--vision torchvision:resnet18] [--threads 1]
                                      [--repeats 3] [--no-compile]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BATCHES = (1, 32)


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def train_runs(tmp: Path, epochs: int) -> list[Path]:
    from dlexpert.pipeline import train
    from dlexpert.schema import load_task

    out = []
    for example, data in (("mnist1d.yaml", "mnist1d"), ("digits.yaml", "digits")):
        run_dir = tmp / data
        t = time.perf_counter()
        train(load_task(ROOT / "examples" / example), data=data, out_dir=run_dir, epochs=epochs, progress=False,
              monitor=False)  # fmt: skip
        print(f"trained {data} ({epochs} epochs) in {time.perf_counter() - t:.0f} s -> {run_dir}", flush=True)
        out.append(run_dir)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run-dirs", nargs="*", default=None, help="trained runs to use instead of training two here")
    ap.add_argument("--epochs", type=int, default=5, help="epochs for the runs trained here")
    ap.add_argument("--vision", default="torchvision:resnet18", help="a model spec built without weights")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds over the backends")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--max-time", type=float, default=1.5, help="seconds of timed calls per measurement")
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile (cold compiles take 10-60 s here)")
    args = ap.parse_args()

    import torch

    from dlexpert.deploy import benchmark, export_model, resolve_source

    torch.set_num_threads(args.threads)
    backends = ["eager", "onnxruntime", "onnxruntime-int8"] + ([] if args.no_compile else ["compile"])
    print(f"load average before: {load_average()} (cpu count {os.cpu_count()}); threads fixed at {args.threads}; "
          f"torch {torch.__version__}", flush=True)  # fmt: skip
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = [Path(p) for p in args.run_dirs] if args.run_dirs else train_runs(Path(tmp), args.epochs)
        for spec in [*map(str, runs), args.vision]:
            src = resolve_source(spec)
            out = None if src.run_dir is not None else Path(tmp) / "vision"
            res = export_model(src, to="onnx", dynamic_batch=True, out_dir=out)
            par = res.parity
            print(f"\n{src.name} ({spec}): ONNX by the {res.exporter} exporter, opset {res.opset}, "
                  f"{res.size_bytes / 1e6:.2f} MB incl. external data; parity on {par.n_samples} inputs "
                  f"(batches {par.batch_sizes}): max |diff| {par.max_abs_diff:.2e} "
                  f"(target <= 1e-4: {'MET' if par.passed else 'MISSED'}), mean {par.mean_abs_diff:.2e}",
                  flush=True)  # fmt: skip
            report = benchmark(src, batch_sizes=BATCHES, threads=args.threads, backends=backends, warmup=2,
                               iters=args.iters, max_time_s=args.max_time, repeats=args.repeats,
                               out=Path(tmp) / "bench" / src.name, onnx_model=res.path)  # fmt: skip
            for r in report.results:
                if r.get("error"):
                    print(f"  {r['backend']:<17} batch {r['batch_size']:>2}: error {r['error']}")
                    continue
                extra = f", cold compile {r['compile_s']:.1f} s" if r.get("compile_s") else ""
                diff = f", max |diff| {r['max_abs_diff']:.1e}" if r.get("max_abs_diff") is not None else ""
                print(f"  {r['backend']:<17} batch {r['batch_size']:>2}: p50 {r['latency_ms_p50']:.3f} ms, "
                      f"p95 {r['latency_ms_p95']:.3f} ms, {r['throughput']:.0f} samples/s, "
                      f"peak +{r['peak_mem_mb']:.1f} MB RSS{diff}{extra}")  # fmt: skip
            exp = report.expected_latency
            if exp and exp.get("measured_eager_p50_ms") is not None:
                print(f"  plan expected {exp['ms']:.3g} ms at batch {exp['batch_size']}; measured eager p50 "
                      f"{exp['measured_eager_p50_ms']:.3g} ms ({exp['measured_over_expected']:.3g}x)")  # fmt: skip
            line = []
            for b in BATCHES:
                best = report.best_speedup(b)
                line.append(f"batch {b}: {best[1]:.2f}x ({best[0]})" if best else f"batch {b}: n/a")
            summary.append(f"{src.name:<14} parity {par.max_abs_diff:.1e}  best speed-up over eager fp32: "
                           + ", ".join(line))  # fmt: skip
    print("\nsummary (p50 latency, pooled over interleaved rounds; int8 is ORT dynamic quantization, unchecked "
          "accuracy)")  # fmt: skip
    for s in summary:
        print("  " + s)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
