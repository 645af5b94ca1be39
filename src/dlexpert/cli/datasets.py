"""`dlexpert datasets`: the built-in datasets (no network needed)."""

from __future__ import annotations

import typer

from ._common import handle_errors


@handle_errors
def datasets() -> None:
    """List built-in datasets with a one-line summary each."""
    from ..data import get_dataset, list_datasets

    for name in list_datasets():
        typer.echo(f"{name:<12} {get_dataset(name).summary}")
