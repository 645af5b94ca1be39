"""How much does `fit()` cost over a bare PyTorch loop? Target (issue 3): wall-clock ratio <= 1.03.

Same model (an MLP), same synthetic data, same optimizer (AdamW), schedule (cosine, stepped per batch), batch size,
number of steps and a validation pass per epoch on both sides. The bare loop is what a careful user writes by hand;
`fit()` additionally writes metrics.jsonl, TensorBoard events, config.yaml, checkpoints/last.pt every epoch and
best.safetensors on improvement. Both run in this one process, alternating (the order flips every repeat), after one
untimed warm-up each (imports, allocator). One thread by default, so the two CPU cores do not add noise.

Other processes on a shared machine move single timings by far more than 3%; the load average is printed before and
after, and process CPU time is shown next to wall-clock. A last, load-independent figure accounts for the engine's own
work: the CPU time spent inside its callbacks (main thread) and checkpoint writes (background thread) during one
fit(), as a share of that fit's time.

    python benchmarks/bench_engine.py [--repeats 7] [--epochs 3] [--n-train 16384] [--threads 1]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dlexpert.engine import TrainConfig, fit
from dlexpert.engine import callbacks as engine_callbacks
from dlexpert.engine import loop as engine_loop
from dlexpert.engine.events import CallbackRunner

N_FEATURES, HIDDEN, N_CLASSES = 128, 512, 10


def make_data(n_train: int, n_val: int) -> tuple[TensorDataset, TensorDataset]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n_train + n_val, N_FEATURES, generator=g)
    teacher = torch.randn(N_FEATURES, N_CLASSES, generator=g)
    y = (x @ teacher + 0.5 * torch.randn(n_train + n_val, N_CLASSES, generator=g)).argmax(dim=1)
    return TensorDataset(x[:n_train], y[:n_train]), TensorDataset(x[n_train:], y[n_train:])


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(N_FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, N_CLASSES)
    )


def bare_loop(train: TensorDataset, val: TensorDataset, *, epochs: int, batch_size: int, lr: float) -> float:
    """The hand-written baseline. Returns the final validation accuracy."""
    model = make_model()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    gen = torch.Generator().manual_seed(0)
    loader = DataLoader(train, batch_size=batch_size, shuffle=True, drop_last=True, generator=gen)
    total = epochs * len(loader)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1 + math.cos(math.pi * t / total)))
    acc = 0.0
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in DataLoader(val, batch_size=batch_size):
                correct += (model(x).argmax(dim=1) == y).sum().item()
        acc = correct / len(val)
    return acc


def engine_fit(train: TensorDataset, val: TensorDataset, out_dir: Path, *, epochs: int, batch_size: int, lr: float):
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, optimizer="adamw", scheduler="cosine")
    return fit(make_model(), train_set=train, val_set=val, cfg=cfg, out_dir=out_dir, progress=False, device="cpu")


SPENT: dict[str, float] = {}  # CPU seconds per engine part, filled by account_engine_work()


def _add(key: str, seconds: float) -> None:
    SPENT[key] = SPENT.get(key, 0.0) + seconds


class TimedRunner(CallbackRunner):
    """Dispatches like the engine's runner and adds up each handler's CPU time (thread time: not inflated by other
    processes' time slices)."""

    def __call__(self, event: str, state) -> None:
        for handler in self.handlers[event]:
            t = time.thread_time()
            handler(state)
            _add(f"{type(handler.__self__).__name__}.{event}", time.thread_time() - t)


def _timed(name: str, fn):
    def write(*args, **kwargs):
        t = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _add(f"(background) {name}", time.thread_time() - t)

    return write


def account_engine_work(train: TensorDataset, val: TensorDataset, out_dir: Path, **kw) -> None:
    """One fit() with its callbacks and checkpoint writes timed (benchmark-only instrumentation, undone after)."""
    saved = {n: getattr(engine_callbacks, n) for n in ("save_checkpoint", "save_weights")}
    SPENT.clear()
    engine_loop.CallbackRunner = TimedRunner  # type: ignore[misc]
    for name, fn in saved.items():
        setattr(engine_callbacks, name, _timed(name, fn))
    try:
        t = time.thread_time()
        engine_fit(train, val, out_dir, **kw)
        main_cpu = time.thread_time() - t
    finally:
        engine_loop.CallbackRunner = CallbackRunner  # type: ignore[misc]
        for name, fn in saved.items():
            setattr(engine_callbacks, name, fn)
    main = sum(v for k, v in SPENT.items() if not k.startswith("(background)"))
    background = sum(v for k, v in SPENT.items() if k.startswith("(background)"))
    print("\nengine's own work in one fit() (CPU time):")
    for key, v in sorted(SPENT.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {key:<36}{v * 1e3:8.1f} ms")
    print(
        f"  callbacks {main * 1e3:.0f} ms of {main_cpu:.2f} s main-thread CPU = {100 * main / main_cpu:.1f}%; "
        f"with the background checkpoint writes {100 * (main + background) / main_cpu:.1f}%"
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--n-train", type=int, default=16384)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    train, val = make_data(args.n_train, 2048)
    kw = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": 1e-3}
    steps = args.epochs * (args.n_train // args.batch_size)
    print(f"MLP {N_FEATURES}-{HIDDEN}-{HIDDEN}-{N_CLASSES}, {steps} steps of batch {args.batch_size} "
          f"({args.epochs} epochs x {args.n_train} samples), val {len(val)}, {args.threads} thread(s)")  # fmt: skip

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        bare_acc = bare_loop(train, val, **kw)  # warm-up, untimed
        rss_after_bare = peak_rss_mb()
        result = engine_fit(train, val, Path(tmp) / "warmup", **kw)
        wall: dict[str, list[float]] = {"bare": [], "fit": []}
        cpu: dict[str, list[float]] = {"bare": [], "fit": []}  # process CPU time: robust to other load on the box
        for r in range(args.repeats):
            for side in ("bare", "fit") if r % 2 == 0 else ("fit", "bare"):
                t, c = time.perf_counter(), time.process_time()
                if side == "bare":
                    bare_acc = bare_loop(train, val, **kw)
                else:
                    result = engine_fit(train, val, Path(tmp) / f"run{r}", **kw)
                wall[side].append(time.perf_counter() - t)
                cpu[side].append(time.process_time() - c)

    print(f"\n{'repeat':<8}{'bare wall':>10}{'fit wall':>10}{'ratio':>8}   {'bare cpu':>10}{'fit cpu':>10}{'ratio':>8}")
    for i in range(args.repeats):
        wb, wf, cb, cf = wall["bare"][i], wall["fit"][i], cpu["bare"][i], cpu["fit"][i]
        print(f"{i + 1:<8}{wb:>10.3f}{wf:>10.3f}{wf / wb:>8.3f}   {cb:>10.3f}{cf:>10.3f}{cf / cb:>8.3f}")
    med = statistics.median
    rows = {
        "median": (med(wall["bare"]), med(wall["fit"]), med(cpu["bare"]), med(cpu["fit"])),
        "min": (min(wall["bare"]), min(wall["fit"]), min(cpu["bare"]), min(cpu["fit"])),
    }
    for name, (wb, wf, cb, cf) in rows.items():
        print(f"{name:<8}{wb:>10.3f}{wf:>10.3f}{wf / wb:>8.3f}   {cb:>10.3f}{cf:>10.3f}{cf / cb:>8.3f}")
    n = steps * args.batch_size
    wb, wf = rows["median"][0], rows["median"][1]
    print(f"\nthroughput (median wall): bare {n / wb:,.0f} samples/s, fit {n / wf:,.0f} samples/s")
    print(f"final val accuracy: bare {bare_acc:.4f}, fit {result.final_metrics['val_acc']:.4f}")
    print(
        f"peak RSS: {rss_after_bare:.0f} MB after the bare loop, {peak_rss_mb():.0f} MB after fit (process-wide max);"
    )
    print(f"  fit() reports peak_rss_mb={result.peak_rss_mb:.0f}, peak_cuda_mb={result.peak_cuda_mb}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ratio = wf / wb
    verdict = "meets" if ratio <= 1.03 else "MISSES"
    print(
        f"ratio fit/bare, median wall-clock = {ratio:.3f}: {verdict} the <= 1.03 target "
        f"(min wall {rows['min'][1] / rows['min'][0]:.3f}, median CPU {rows['median'][3] / rows['median'][2]:.3f})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        account_engine_work(train, val, Path(tmp) / "accounting", **kw)


if __name__ == "__main__":
    main()
