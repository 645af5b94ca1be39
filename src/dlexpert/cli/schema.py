"""`dlexpert schema input|output`: print the JSON Schema of the task spec or of the plan."""

from __future__ import annotations

import json
from enum import Enum

import typer

from ._common import handle_errors


class Which(str, Enum):
    input = "input"
    output = "output"


@handle_errors
def schema(
    which: Which = typer.Argument(..., help="input: the task spec (seed Input); output: the plan (seed Output)"),
) -> None:
    """Print the JSON Schema of the task spec or of the plan."""
    from ..schema import json_schema

    typer.echo(json.dumps(json_schema(which.value), indent=2))
