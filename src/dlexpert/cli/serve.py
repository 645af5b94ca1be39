"""`dlexpert serve`: the local web app and HTTP API (FastAPI; OpenAPI at /docs)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ._common import err_console, handle_errors


@handle_errors
def serve(
    runs: Path = typer.Option(Path("runs"), "--runs", help="The folder of runs to show (and to start runs in)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; beyond loopback it needs --token."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
    token: str | None = typer.Option(
        None, "--token", help="A secret every request must carry (default: $DLEXPERT_TOKEN)."
    ),
) -> None:
    """Serve the plan form, the runs with live curves, log diagnosis and the JSON API in a browser.

    Needs the `serve` extra: pip install 'dlexpert[serve]'. Exit 2: a non-loopback --host without a token."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        from ..errors import InvalidInputError

        raise InvalidInputError("dlexpert serve needs FastAPI and uvicorn: pip install 'dlexpert[serve]'") from None
    from ..service.web import check_binding
    from ..service.web import serve as run_server

    token = token or os.environ.get("DLEXPERT_TOKEN") or None
    check_binding(host, token)
    err_console.print(f"dlexpert serving {runs} at http://{host}:{port}/ (API docs at /docs); Ctrl-C stops it",
                      markup=False)  # fmt: skip
    run_server(runs, host=host, port=port, token=token)
