"""`dlexpert profile SRC`: counts, imbalance, shapes, statistics, duplicates, leakage and corrupt files."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from ._common import err_console, handle_errors

if TYPE_CHECKING:
    from ..data import DataProfile
    from ..data.dense import DenseProfile


@handle_errors
def profile(
    src: str = typer.Argument(
        ...,
        help="Built-in dataset name or a path (image folder, CSV/Parquet, .npz, JSONL; a COCO, YOLO or Pascal VOC "
        "detection folder, or images/ + masks/ for segmentation).",
    ),
    target: str | None = typer.Option(None, "--target", help="Target column for tables."),
    test: str | None = typer.Option(None, "--test", help="A fixed test set to check for leakage."),
    image_size: int = typer.Option(64, "--image-size", min=4, help="Largest image side (smaller images keep theirs)."),
    dropna: bool = typer.Option(False, "--dropna", help="Drop table rows with missing values instead of failing."),
    fmt: str = typer.Option("json", "--format", help="json: the DataProfile on stdout; text: a summary."),
) -> None:
    """Profile a dataset; problems found are listed and map to the problem table's keys."""
    from ..data import profile_dataset
    from ..data.dense import is_dense_source, load_dense, profile_dense

    if is_dense_source(src):
        p: DataProfile | DenseProfile = profile_dense(load_dense(src, test=test))
    else:
        p = profile_dataset(src, target=target, test=test, image_size=image_size, dropna=dropna)
    if fmt == "json":
        typer.echo(p.model_dump_json(indent=2))
        for w in p.warnings:  # the document is on stdout; what a person should see goes to stderr as well
            err_console.print(f"[yellow]warning:[/] {w}", markup=True, highlight=False)
    else:
        err_console.print(p.describe(), markup=False, highlight=False)
