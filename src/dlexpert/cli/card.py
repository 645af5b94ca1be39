"""`dlexpert card RUN_DIR`: MODEL_CARD.md (Hugging Face format) and a self-contained report.html.

Seed Step 7 ("generate a model card"); the library side is `dlexpert.report.card`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import err_console, fail, handle_errors, locks_run


@handle_errors
@locks_run("run_dir")
def card(
    run_dir: Path = typer.Argument(..., help="A trained run directory (made by `dlexpert run` or `train`)."),
    html: bool = typer.Option(True, "--html/--no-html", help="Also write report.html with the plots embedded."),
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 when MODEL_CARD.md disagrees with evaluation.json."
    ),
) -> None:
    """Write RUN_DIR/MODEL_CARD.md and RUN_DIR/report.html (atomically). A run without evaluation.json is
    evaluated first.

    Exit codes: 0 written (or, with --check, the card matches); 1 the card drifted from the evaluation (--check);
    2 invalid input (not a trained run).
    """
    from ..report.card import verify_card, write_model_card
    from ..rundir import RunDir
    from ..runs import load_run_config

    rd = RunDir(run_dir)
    if rd.is_forecast():  # a forecasting run: its own card and page
        from ..report.card_forecast import render_forecast_card, write_forecast_card

        if check:
            written = (rd / RunDir.CARD).read_text() if (rd / RunDir.CARD).is_file() else ""
            if written != render_forecast_card(rd):
                fail(f"{rd / RunDir.CARD} does not match {RunDir.EVALUATION}: rewrite it with `dlexpert card`", 1)
            err_console.print(f"{rd / RunDir.CARD} matches {RunDir.EVALUATION}", markup=False)
            return
        for path in write_forecast_card(run_dir):
            err_console.print(f"wrote {path}", markup=False)
        return
    load_run_config(run_dir)  # not a run directory: one line, exit 2 (with --check too)
    if check:
        problems = verify_card(run_dir)
        if problems:
            fail(f"{run_dir / RunDir.CARD} does not match {RunDir.EVALUATION}: " + "; ".join(problems), 1)
        err_console.print(f"{run_dir / RunDir.CARD} matches {RunDir.EVALUATION}", markup=False)
        return

    def say(msg: str) -> None:
        err_console.print(f"[dim]{msg}[/]", markup=True, highlight=False)

    for path in write_model_card(run_dir, html=html, progress=say):
        err_console.print(f"wrote {path}", markup=False)
