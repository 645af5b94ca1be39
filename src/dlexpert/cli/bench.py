"""`dlexpert bench RUN_DIR|MODEL`: latency, throughput and memory across eager, torch.compile, ONNX Runtime and
the run's variants, beside the plan's expected latency and the task's requirement."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer

from ._common import check_format, err_console, fail, handle_errors

# The largest batch a benchmark times: 4096 samples of 3x224x224 float32 are 2.5 GB.
MAX_BATCH = 4096


@handle_errors
def bench(
    source: str = typer.Argument(
        ..., help="A run directory, MODEL (torchvision:NAME, timm:NAME, dlexpert:NAME), or FILE.onnx."
    ),
    batch_sizes: str = typer.Option("1,8,32", "--batch-sizes", help="Comma-separated batch sizes."),
    threads: int | None = typer.Option(
        None, "--threads", min=1, help="torch and ORT intra-op threads (default: torch's current count)."
    ),
    backends: str | None = typer.Option(
        None,
        "--backends",
        help="Subset of eager,compile,onnxruntime,onnxruntime-int8,variants,deliverable (default: all; deliverable: "
        "the baseline a run ships when it won Step 4).",
    ),
    no_compile: bool = typer.Option(False, "--no-compile", help="Skip torch.compile (slow cold compiles)."),
    warmup: int = typer.Option(3, "--warmup", min=0, help="Untimed calls before timing."),
    iters: int = typer.Option(50, "--iters", min=1, help="Timed calls per backend and batch size (at most)."),
    max_time: float = typer.Option(
        2.0,
        "--max-time",
        min=0.01,
        max=3600.0,
        help="Seconds of timed calls per measurement (at most; 3 calls at least).",
    ),
    repeats: int = typer.Option(1, "--repeats", min=1, help="Interleaved rounds over all backends (pooled)."),
    input_shape: str | None = typer.Option(None, "--input-shape", help="One sample's shape for MODEL, e.g. 3,224,224."),
    out: Path | None = typer.Option(None, "--out", help="Folder for bench.json (default: the run directory)."),
    fmt: str = typer.Option("text", "--format", help="json: one JSON document on stdout; text: a table on stderr."),
) -> None:
    """Benchmark a model across backends on the same inputs, with thread counts fixed and stated.

    Writes RUN_DIR/bench.json (atomically). Exit codes: 0 measured; 2 invalid input.
    """
    from .._input import clip
    from ..deploy import benchmark
    from ..deploy._source import parse_input_shape

    check_format(fmt)
    try:
        sizes = [int(v) for v in batch_sizes.replace(" ", "").split(",") if v]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1 or max(sizes) > MAX_BATCH:
        fail(f"--batch-sizes: expected integers from 1 to {MAX_BATCH} such as 1,8,32; got {clip(batch_sizes)}", 2)
    cores = os.cpu_count() or 1
    if threads is not None and threads > cores:
        fail(f"--threads {threads}: this machine has {cores} cores; a benchmark runs at most one thread per core", 2)
    chosen = [b.strip() for b in backends.split(",") if b.strip()] if backends else None
    if no_compile:
        from ..deploy.bench import BACKENDS

        chosen = [b for b in (chosen or BACKENDS) if b != "compile"]
    report = benchmark(
        source,
        batch_sizes=sizes,
        threads=threads,
        backends=chosen,
        warmup=warmup,
        iters=iters,
        max_time_s=max_time,
        repeats=repeats,
        input_shape=parse_input_shape(input_shape),
        out=out,
        progress=None if fmt == "json" else _progress,
    )
    doc = report.to_dict()
    if fmt == "json":
        typer.echo(json.dumps(doc, indent=2))
    else:
        _print_table(doc)


def _progress(msg: str) -> None:
    err_console.print(f"[dim]{msg}[/]", markup=True, highlight=False)


def _fmt(v: Any, spec: str = ".3g") -> str:
    return "-" if v is None else format(v, spec)


def _table_console() -> Any:
    """stderr, at least 150 columns wide when it is not a terminal (logs, CI), so the table is not squeezed."""
    import sys

    from rich.console import Console

    return Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 150)


def _print_table(doc: dict[str, Any]) -> None:
    from rich.table import Table

    req, exp = doc.get("requirement") or {}, doc.get("expected_latency") or {}
    table = Table(title=f"dlexpert bench {doc['source']}  ({doc['threads']} thread(s); {doc.get('inputs') or ''})")
    for col in (
        "backend",
        "batch",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "samples/s",
        "peak MB",
        "max |diff|",
        "compile s",
        "plan expects",
        "",
    ):
        table.add_column(col, justify="left" if col in {"backend", ""} else "right")
    for r in doc["results"]:
        mark = ""
        if r.get("fastest_meeting_requirement"):
            mark = "* fastest within the requirement"
        elif r.get("meets_requirement") is False:
            mark = "misses the requirement"
        if r.get("error"):
            mark = f"error: {r['error']}"
        expects = ""
        if exp.get("ms") and r["backend"] == "eager" and r["batch_size"] == exp.get("batch_size"):
            expects = f"{exp['ms']:.3g}"
        table.add_row(
            r["backend"],
            str(r["batch_size"]),
            _fmt(r.get("latency_ms_p50")),
            _fmt(r.get("latency_ms_p95")),
            _fmt(r.get("latency_ms_p99")),
            _fmt(r.get("throughput"), ".4g"),
            _fmt(r.get("peak_mem_mb")),
            _fmt(r.get("max_abs_diff"), ".2g"),
            _fmt(r.get("compile_s"), ".1f"),
            expects,
            mark,
        )
    _table_console().print(table)
    if exp.get("ms"):
        line = f"plan expected {exp['ms']:.3g} ms at batch {exp.get('batch_size')}"
        if exp.get("range_ms"):
            line += f" (range {exp['range_ms'][0]:.3g}-{exp['range_ms'][1]:.3g} ms)"
        if exp.get("measured_eager_p50_ms") is not None:
            ratio = exp["measured_over_expected"]
            line += (
                f"; measured eager p50 {exp['measured_eager_p50_ms']:.3g} ms = {ratio:.3g}x "
                f"the estimate ({'inside' if exp.get('within_range') else 'outside'} its range)"
            )
        err_console.print(line, markup=False)
    if req.get("max_ms"):
        best = doc.get("fastest_meeting_requirement")
        err_console.print(
            f"requirement {req['text']!r} ({req['compared_on']} at batch {req['batch_size']}): "
            + (f"fastest backend meeting it: {best}" if best else "no backend meets it"),
            markup=False,
        )
    m = doc.get("machine") or {}
    err_console.print(f"memory: {doc.get('memory_method')}; load average {m.get('load_average')}", markup=False)
    for note in doc.get("notes") or []:
        err_console.print(f"note: {note}", markup=False)
