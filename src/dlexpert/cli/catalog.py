"""`dlexpert catalog [FILTER]`: list and filter the pretrained-model catalog, with each number's source."""

from __future__ import annotations

import json
from enum import Enum

import typer

from ._common import err_console, handle_errors


class CatalogFormat(str, Enum):
    table = "table"
    json = "json"


@handle_errors
def catalog(
    pattern: str | None = typer.Argument(None, help="Glob ('convnext_*') or substring of the model name."),
    task: str | None = typer.Option(
        None,
        "--task",
        help="classification, detection, segmentation, generation, sequence-modeling or RL (synonyms accepted).",
    ),
    domain: str | None = typer.Option(None, "--domain", help="CV, NLP, audio, multimodal or time-series."),
    family: str | None = typer.Option(None, "--family", help="Architecture family, e.g. resnet, vit, llama."),
    library: str | None = typer.Option(None, "--library", help="timm, torchvision, transformers, ultralytics, ..."),
    max_params: float | None = typer.Option(None, "--max-params", help="Largest parameter count, in millions."),
    max_latency_ms: float | None = typer.Option(
        None,
        "--max-latency-ms",
        help="Largest batch-1 latency on --hardware (measured where the catalog has it, else predicted).",
    ),
    hardware: str = typer.Option(
        "cpu-laptop", "--hardware", help="Hardware profile for --max-latency-ms and the latency column."
    ),
    limit: int = typer.Option(25, "--limit", min=1, help="Show at most this many rows (best published score first)."),
    fmt: CatalogFormat = typer.Option(CatalogFormat.table, "--format"),
) -> None:
    """List catalog models, best published score first. Example: --task classification --max-latency-ms 10."""
    from ..catalog import search_catalog

    rows = search_catalog(
        pattern=pattern,
        task=task,
        domain=domain,
        family=family,
        library=library,
        max_params_m=max_params,
        max_latency_ms=max_latency_ms,
        hardware=hardware,
    )
    shown = rows[:limit]
    if fmt is CatalogFormat.json:
        typer.echo(json.dumps({"count": len(rows), "hardware": hardware, "models": shown}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} models (showing {len(shown)}); latency on {hardware}", show_lines=False)
    for col in ("name", "family", "params (M)", "GMACs", "score", f"latency ms ({hardware})", "basis"):
        table.add_column(col, overflow="fold")
    for r in shown:
        table.add_row(
            r["name"],
            r["family"],
            f"{r['params_m']:g}",
            "" if r["gmacs"] is None else f"{r['gmacs']:g}",
            r["score"],
            f"{r['latency_ms']:.2f}" if r["latency_ms"] is not None else "",
            r["latency_basis"] or "",
        )
    Console(width=200).print(table)
    if not rows:
        err_console.print("no model matches these filters")
