"""`dlexpert datasets`: the built-in datasets (no network needed)."""

from __future__ import annotations

import typer

from ._common import handle_errors


@handle_errors
def datasets() -> None:
    """List built-in datasets with a one-line summary each."""
    from ..data import get_dataset, list_datasets
    from ..data.dense import BUILTINS
    from ..data.forecast import BUILTINS as SERIES

    for name in list_datasets():
        typer.echo(f"{name:<12} {get_dataset(name).summary}")
    for name, (task, loader) in BUILTINS.items():  # detection / segmentation (issue 15)
        summary = (loader.__doc__ or "").strip().splitlines()[0]
        typer.echo(f"{name:<12} {summary} [{task}]")
    for name, summary in SERIES.items():  # forecasting (issue 16)
        typer.echo(f"{name:<12} {summary} [forecasting]")
