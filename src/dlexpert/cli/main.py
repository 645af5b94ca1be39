"""`dlexpert`: the command line. Each command lives in its own file and calls one library function."""

from __future__ import annotations

import typer

from .bench import bench
from .card import card
from .catalog import catalog
from .compress import compress
from .datasets import datasets
from .diagnose import diagnose
from .evaluate import evaluate
from .export import export
from .plan import plan
from .profile import profile
from .run import run
from .schema import schema
from .train import train

app = typer.Typer(
    name="dlexpert",
    help="A deep-learning engineer in a box: grounded plans, with every number measured or cited.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(plan)
app.command()(schema)
app.command()(catalog)
app.command()(profile)
app.command()(train)
app.command()(run)
app.command()(datasets)
app.command()(diagnose)
app.command()(evaluate)
app.command()(compress)
app.command()(export)
app.command()(bench)
app.command()(card)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
