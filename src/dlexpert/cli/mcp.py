"""`dlexpert mcp`: serve dlexpert's tools to an MCP client (a coding agent, an IDE assistant) over stdio."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import handle_errors


@handle_errors
def mcp(
    runs: Path = typer.Option(Path("runs"), "--runs", help="Folder for the runs started through the server."),
) -> None:
    """Serve plan, diagnose, profile, catalog, schema, explain_run and the background start_run/start_train/
    start_compress/run_status as MCP tools over stdio (for an MCP client to launch; not for a terminal).

    Needs the `mcp` extra: pip install 'dlexpert[serve]'.
    """
    try:
        import mcp as _sdk  # noqa: F401
    except ImportError:
        from ..errors import InvalidInputError

        raise InvalidInputError("dlexpert mcp needs the MCP SDK: pip install 'dlexpert[serve]' (or: pip install "
                                "'mcp>=2.3')") from None  # fmt: skip
    from ..service.mcp_server import serve_stdio

    serve_stdio(runs)
