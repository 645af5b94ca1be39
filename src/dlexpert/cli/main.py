"""`dlexpert`: the command line. Each command lives in its own file and calls one library function."""

from __future__ import annotations

import sys

import typer

from .bench import bench
from .card import card
from .catalog import catalog
from .compress import compress
from .datasets import datasets
from .diagnose import diagnose
from .evaluate import evaluate
from .export import export
from .mcp import mcp
from .plan import plan
from .profile import profile
from .run import run
from .schema import schema
from .serve import serve
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
app.command()(mcp)
app.command()(serve)


def main() -> None:
    """Run the command; a usage error (an unknown option, a value out of range, a missing argument) is one line and
    exit 2, like every other invalid input. (Typer raises click's exceptions, from the click it vendors.)"""
    try:
        code = app(standalone_mode=False)
    except Exception as exc:
        exit_code = getattr(exc, "exit_code", None)
        if not (hasattr(exc, "format_message") and isinstance(exit_code, int)):
            raise  # not a usage error: handle_errors already turned the command's own errors into one line
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help() or "", end="", file=sys.stderr)  # typer's rich help prints itself
        else:
            where = f"{ctx.command_path}: " if ctx is not None else ""
            print(f"error: {where}{' '.join(exc.format_message().split())} (see --help)", file=sys.stderr)
        sys.exit(exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
