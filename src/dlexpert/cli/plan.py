"""`dlexpert plan TASK`: turn a task spec into a grounded plan (seed Steps 1-3 and the planning half of 4-7)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import typer

from ..errors import InvalidInputError
from ._common import err_console, handle_errors


class PlanFormat(str, Enum):
    json = "json"
    md = "md"


@handle_errors
def plan(
    task: str = typer.Argument(
        ..., help="Task spec in YAML or JSON (the seed's Input shape); '-' reads standard input."
    ),
    data: str | None = typer.Option(
        None,
        "--data",
        help="Profile this dataset (built-in name or path); its size, classes and input shape inform the plan.",
    ),
    target: str | None = typer.Option(None, "--target", help="With --data: the label column of a table."),
    hardware: str | None = typer.Option(
        None,
        "--hardware",
        help="Hardware profile name or alias, or 'auto' to detect "
        "this machine; overrides constraints.computeResources.",
    ),
    assume_defaults: bool = typer.Option(
        False,
        "--assume-defaults",
        help="Proceed on stated assumptions when critical information is missing, instead of asking (exit 3).",
    ),
    fmt: PlanFormat = typer.Option(
        PlanFormat.md, "--format", help="json: exactly one JSON document on stdout; md: a readable report."
    ),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the plan to this file (atomically)."),
) -> None:
    """Plan a deep-learning task: architecture, pretrained model, recipe, debugging, deployment, expectations.

    Exit codes: 0 planned; 2 invalid input; 3 the plan needs information only you have (questions are printed;
    --assume-defaults proceeds instead).
    """
    from .._io import atomic_write_text
    from ..advisor import advise
    from ..report.plan_md import render_plan_md
    from ..schema import load_task

    spec = load_task(task)
    if data is None and target is not None:
        raise InvalidInputError("--target names the label column of the --data table; pass --data too")
    profile: Any = None
    if data is not None:
        from ..data import profile_dataset
        from ..data.dense import is_dense_source, load_dense, profile_dense
        from ..pipeline import fill_from_profile, regresses

        profile = (profile_dense(load_dense(data)) if is_dense_source(data)
                   else profile_dataset(data, target=target, regression=regresses(spec)))  # fmt: skip
        spec = fill_from_profile(spec, profile)
    result = advise(spec, profile=profile, hardware=hardware, assume_defaults=assume_defaults)
    text = result.model_dump_json(indent=2, exclude_none=True) if fmt is PlanFormat.json else render_plan_md(result)
    if output is not None:
        atomic_write_text(output, text + "\n")
        err_console.print(f"plan written to {output}")
    else:
        typer.echo(text)
    for w in result.warnings:
        err_console.print(f"[yellow]warning:[/] {w}", markup=True)
    for a in result.assumptions:
        err_console.print(f"assumed {a.field} = {a.value!r}: {a.reason}", markup=False)
    if result.questions:
        for q in result.questions:
            err_console.print(f"[bold]question[/] ({q.field}): {q.question} Why: {q.reason}", markup=True)
        err_console.print("the plan needs the answers above; add them to the spec, or rerun with --assume-defaults")
        raise typer.Exit(3)
