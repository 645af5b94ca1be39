"""What do the live monitors cost? Target (issue "The training doctor"): wall-clock ratio <= 1.05 against the same run
without monitors, measured side by side.

Same model (the MNIST-1D CNN, `cnn1d`, 91k parameters), same data (MNIST-1D, 3600 training samples), same recipe
(AdamW, cosine, batch 64: 56 steps per epoch), same seed, both through `fit()`; one side adds
`create_monitors("default", every=K)`: the NaN/Inf sentinel on every batch, gradient norms, update ratio, dead and
saturated units, predictions, throughput and the learning-rate check on sampled steps, and the online diagnosis
(rules + diagnosis.json) every 10*K steps and at every epoch end. Both run in this one process, alternating (the
order flips every repeat), after one untimed warm-up each. One thread by default, so the two CPU cores of a shared
machine do not add noise; the load average is printed before and after.

On a shared machine other processes move single timings by far more than 5%, so a last, load-independent figure
accounts for the monitors' own work: the CPU time spent in their callback handlers and forward hooks, plus what the
Recorder and TensorBoard logger spend more than in the plain run, as a share of the monitored fit's main-thread CPU.

    python benchmarks/bench_monitor.py [--repeats 5] [--epochs 4] [--every 50] [--threads 1] [--model cnn1d|mlp]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from dlexpert.data import load_data, to_torch_datasets
from dlexpert.engine import TrainConfig, fit
from dlexpert.engine import loop as engine_loop
from dlexpert.engine.events import CallbackRunner
from dlexpert.engine.sampling import n_train_batches
from dlexpert.models import create_model
from dlexpert.monitor import DEFAULT_EVERY, ActivationMonitor, create_monitors

MONITOR_MODULE = "dlexpert.monitor"


def one_fit(sets: Any, shape: tuple[int, ...], n_classes: int, out: Path, *, model: str, epochs: int,
            batch_size: int, every: int | None) -> Any:  # fmt: skip
    torch.manual_seed(0)
    net = create_model(model, input_shape=shape, n_classes=n_classes)
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=3e-3, optimizer="adamw", scheduler="cosine")
    cbs = create_monitors("default", every=every, console=False) if every else []
    return fit(net, train_set=sets.train, val_set=sets.val, cfg=cfg, out_dir=out, callbacks=cbs, progress=False,
               device="cpu")  # fmt: skip


SPENT: dict[str, float] = {}


class TimedRunner(CallbackRunner):
    """Dispatches like the engine's runner and adds up each handler's CPU time (thread time: not inflated by other
    processes' time slices)."""

    def __call__(self, event: str, state: Any) -> None:
        for handler in self.handlers[event]:
            t = time.thread_time()
            handler(state)
            owner = handler.__self__
            key = f"{type(owner).__name__}.{event}"
            if type(owner).__module__.startswith(MONITOR_MODULE):
                key = "monitor " + key
            SPENT[key] = SPENT.get(key, 0.0) + time.thread_time() - t


def _timed_hooks() -> Any:
    """Wrap the activation monitor's forward hooks (they run inside the model's forward, not in a handler)."""
    original = ActivationMonitor._hook

    def hook(self: Any, name: str, kind: str) -> Any:
        inner = original(self, name, kind)

        def timed(*args: Any) -> None:
            t = time.thread_time()
            inner(*args)
            SPENT["monitor ActivationMonitor (forward hooks)"] = (
                SPENT.get("monitor ActivationMonitor (forward hooks)", 0.0) + time.thread_time() - t
            )

        return timed

    ActivationMonitor._hook = hook  # type: ignore[method-assign]
    return original


def account(run: Any) -> tuple[dict[str, float], float]:
    """CPU time per callback handler during `run()`, and the main thread's CPU time of the whole fit."""
    SPENT.clear()
    engine_loop.CallbackRunner = TimedRunner  # type: ignore[misc]
    original = _timed_hooks()
    try:
        t = time.thread_time()
        run()
        main_cpu = time.thread_time() - t
    finally:
        engine_loop.CallbackRunner = CallbackRunner  # type: ignore[misc]
        ActivationMonitor._hook = original  # type: ignore[method-assign]
    return dict(SPENT), main_cpu


def account_monitor_work(plain: Any, monitored: Any) -> float:
    spent_plain, _ = account(plain)
    spent, main_cpu = account(monitored)
    monitors = {k: v for k, v in spent.items() if k.startswith("monitor ")}
    # The engine's own logging does a little more with monitors on (longer rows, more TensorBoard scalars).
    logging = ("Recorder", "TensorBoardLogger")
    extra = sum(v for k, v in spent.items() if k.startswith(logging)) - sum(
        v for k, v in spent_plain.items() if k.startswith(logging)
    )
    print("\nthe monitors' own work in one monitored fit() (CPU time, main thread):")
    for key, v in sorted(monitors.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {key.removeprefix('monitor '):<44}{v * 1e3:8.1f} ms")
    print(f"  {'(Recorder + TensorBoard, over the plain run)':<44}{extra * 1e3:8.1f} ms")
    total = sum(monitors.values()) + max(0.0, extra)
    print(f"  total {total * 1e3:.0f} ms of {main_cpu:.2f} s main-thread CPU = {100 * total / main_cpu:.2f}%")
    return total / main_cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--every", type=int, default=DEFAULT_EVERY, help="monitor sampling interval (optimizer steps)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--model", default="cnn1d", help="a dlexpert model name (cnn1d, mlp, ...)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    splits = load_data("mnist1d", seed=0)
    sets = to_torch_datasets(splits, augment=None)
    shape, n_classes = tuple(splits.input_shape), splits.n_classes
    steps = args.epochs * n_train_batches(len(sets.train), args.batch_size)
    print(
        f"{args.model} on MNIST-1D: {len(sets.train)} train / {len(sets.val)} val, {steps} steps of batch "
        f"{args.batch_size} ({args.epochs} epochs), monitors every {args.every} steps, {args.threads} thread(s)"
    )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    kw = {"model": args.model, "epochs": args.epochs, "batch_size": args.batch_size}

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        one_fit(sets, shape, n_classes, root / "warm-plain", every=None, **kw)  # warm-up, untimed
        monitored = one_fit(sets, shape, n_classes, root / "warm-mon", every=args.every, **kw)
        wall: dict[str, list[float]] = {"plain": [], "monitored": []}
        cpu: dict[str, list[float]] = {"plain": [], "monitored": []}
        for r in range(args.repeats):
            for side in ("plain", "monitored") if r % 2 == 0 else ("monitored", "plain"):
                t, c = time.perf_counter(), time.process_time()
                result = one_fit(sets, shape, n_classes, root / f"{side}{r}",
                                 every=args.every if side == "monitored" else None, **kw)  # fmt: skip
                wall[side].append(time.perf_counter() - t)
                cpu[side].append(time.process_time() - c)
                if side == "monitored":
                    monitored = result
        diagnosis = (root / "warm-mon" / "diagnosis.json").read_text()
        share = account_monitor_work(
            lambda: one_fit(sets, shape, n_classes, root / "timed-plain", every=None, **kw),
            lambda: one_fit(sets, shape, n_classes, root / "timed-mon", every=args.every, **kw),
        )

    print(f"\n{'repeat':<8}{'plain':>10}{'monitored':>11}{'ratio':>8}   {'plain cpu':>10}{'mon cpu':>10}{'ratio':>8}")
    for i in range(args.repeats):
        wp, wm, cp, cm = wall["plain"][i], wall["monitored"][i], cpu["plain"][i], cpu["monitored"][i]
        print(f"{i + 1:<8}{wp:>10.3f}{wm:>11.3f}{wm / wp:>8.3f}   {cp:>10.3f}{cm:>10.3f}{cm / cp:>8.3f}")
    med = statistics.median
    for name, f in (("median", med), ("min", min)):
        wp, wm, cp, cm = f(wall["plain"]), f(wall["monitored"]), f(cpu["plain"]), f(cpu["monitored"])
        print(f"{name:<8}{wp:>10.3f}{wm:>11.3f}{wm / wp:>8.3f}   {cp:>10.3f}{cm:>10.3f}{cm / cp:>8.3f}")
    pairs = [m / p for m, p in zip(wall["monitored"], wall["plain"], strict=True)]
    print(f"median of the per-repeat wall-clock ratios: {med(pairs):.3f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    d = json.loads(diagnosis)
    print(f"\nmonitored run: final val_acc {monitored.final_metrics['val_acc']:.4f}; {len(d['series'])} series; "
          f"findings: {[(f['issue'], f['severity']) for f in d['findings']] or 'none'}")  # fmt: skip
    ratio = med(wall["monitored"]) / med(wall["plain"])
    verdict = "meets" if ratio <= 1.05 else "MISSES"
    print(f"ratio monitored/plain, median wall-clock = {ratio:.3f}: {verdict} the <= 1.05 target (every={args.every})")
    print(f"  the per-repeat ratios spread {min(pairs):.3f}..{max(pairs):.3f} on this machine; the monitors' own CPU "
          f"work, which load does not blur, is {100 * share:.2f}% of the monitored fit")  # fmt: skip


if __name__ == "__main__":
    main()
