"""`dlexpert profile SRC`: counts, imbalance, shapes, statistics, duplicates, leakage and corrupt files."""

from __future__ import annotations

import typer

from ._common import check_format, err_console, handle_errors


@handle_errors
def profile(
    src: str = typer.Argument(
        ...,
        help="Built-in dataset name or a path (image folder, CSV/Parquet, .npz, JSONL; a COCO, YOLO or Pascal VOC "
        "detection folder, or images/ + masks/ for segmentation).",
    ),
    target: str | None = typer.Option(None, "--target", help="Target column for tables."),
    test: str | None = typer.Option(None, "--test", help="A fixed test set to check for leakage."),
    image_size: int = typer.Option(
        64, "--image-size", min=4, max=4096, help="Largest image side (smaller images keep theirs)."
    ),
    dropna: bool = typer.Option(False, "--dropna", help="Drop table rows with missing values instead of failing."),
    fmt: str = typer.Option("json", "--format", help="json: the DataProfile on stdout; text: a summary."),
    horizon: int | None = typer.Option(
        None, "--horizon", min=1, help="Profile series to forecast this many steps ahead (a long or wide table)."
    ),
    freq: str | None = typer.Option(None, "--freq", help="Forecasting: the series' frequency (D, W, MS, QS, YS, h)."),
    regression: bool = typer.Option(
        False, "--regression", help="Read the table's target as a number to predict (regression), not class labels."
    ),
) -> None:
    """Profile a dataset; problems found are listed and map to the problem table's keys. With --horizon (or the
    built-in `store-sales`) the table is read as series to forecast; with --regression its target as numbers."""
    from ..data.sources import profile_source

    check_format(fmt)
    p = profile_source(src, target=target, test=test, image_size=image_size, dropna=dropna, horizon=horizon, freq=freq,
                       regression=regression)  # fmt: skip
    if fmt == "json":
        typer.echo(p.model_dump_json(indent=2))
    else:
        err_console.print(p.describe(), markup=False, highlight=False)
    from rich.markup import escape

    for w in p.warnings:  # what a person should see goes to stderr in either format (an empty class folder...)
        err_console.print(f"[yellow]warning:[/] {escape(w)}", markup=True, highlight=False)
