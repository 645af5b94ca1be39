"""MODEL_CARD.md of a forecasting run (issue 16), from its evaluation.json, profile.json and decisions.json only: what
was compared, what ships and why, how it stands against seasonal naive and AutoETS overall and per series."""

from __future__ import annotations

from pathlib import Path

from .._io import atomic_write_text
from ..rundir import RunDir
from ..schema.evaluation import Evaluation
from ..schema.forecast import ForecastSection
from .card import md_table
from .html import inert_markdown

MAX_SERIES_ROWS = 20


FIGURE_CAPTIONS = {
    "forecasts": "The end of each series (worst MASE first): truth, the shipped forecast and its intervals, AutoETS",
    "error_by_step": "Scaled absolute error at each horizon step: the shipped model, seasonal naive, AutoETS",
}


def write_forecast_card(run_dir: str | Path) -> list[Path]:
    """MODEL_CARD.md and report.html (the card with its figures and key figures), both written atomically."""
    rd = RunDir(run_dir)
    card = render_forecast_card(rd)
    return [atomic_write_text(rd / RunDir.CARD, card), atomic_write_text(rd / RunDir.REPORT, _report(rd, card))]


def _report(rd: RunDir, card: str) -> str:
    import html

    from .html import html_page, markdown_to_html

    ev = rd.evaluation()
    section = ev.forecast
    assert section is not None
    by = {c.model: c for c in section.candidates}
    shown = [
        ("mase", f"test MASE ({section.shipped})", ev.metrics["mase"]),
        ("smape", "test sMAPE", ev.metrics["smape"]),
    ]
    shown += [(f"baseline_{n}", f"{n} MASE", by[n].test["mase"]) for n in ("SeasonalNaive", "AutoETS") if n in by]
    kpis = [f'<div class="kpi" data-metric="{key}"><b>{v:.3f}</b>{html.escape(label)}</div>' for key, label, v in shown]
    figures = [(key, FIGURE_CAPTIONS.get(key, key), (rd.path / path).read_bytes()) for key, path in ev.figures.items()]
    head_md, sep, rest_md = card.partition("\n## ")
    meta = f"{html.escape(rd.path.resolve().name)} &middot; evaluated {html.escape(ev.created)}"
    return html_page(title=f"dlexpert report: {section.shipped}", head=markdown_to_html(head_md), meta=meta,
                     kpis=kpis, figures=figures, body=markdown_to_html(sep.lstrip("\n") + rest_md))  # fmt: skip


def render_forecast_card(rd: RunDir) -> str:
    ev = rd.evaluation()
    section = ev.forecast
    if section is None:
        raise ValueError(f"{rd / RunDir.EVALUATION}: not a forecasting evaluation")
    profile, decisions = rd.profile(), rd.decisions()
    lines = [
        f"# Model card: {section.shipped}",
        "",
        f"Forecasts {section.horizon} steps ({section.freq}) ahead for {ev.data['n_series']} series of "
        f"`{ev.data['source']}`; horizon from {section.horizon_source}. Evaluated on {ev.split}.",
        "",
        "## What ships and why",
        "",
        f"**{section.shipped}** ({section.shipped_kind}): {section.reason}.",
        "",
        _verdict(ev, section),
        "",
        "## Test results",
        "",
        md_table(["Metric", "Value"], [[k, f"{v:.4g}"] for k, v in ev.metrics.items()]),
        "",
        "## Every candidate, backtest and test",
        "",
        f"Backtest: {section.backtest_windows} rolling origin(s), one horizon apart, at the end of the training data "
        f"of {section.backtest_series} of {len(section.per_series)} series (the others are too short for every "
        f"window; they are forecast and tested, not backtested); deep forecasters read {section.window} past values.",
        *[f"\nNot a candidate: {line}." for line in section.skipped],
        "",
        md_table(
            ["Model", "Kind", "Backtest MASE", "Test MASE", "Test sMAPE", "Fit (s)"],
            [
                [
                    c.model,
                    c.kind,
                    f"{c.backtest['mase']:.3f}",
                    f"{c.test['mase']:.3f}",
                    f"{c.test['smape']:.2f}",
                    "-" if c.fit_s is None else f"{c.fit_s:.1f}",
                ]
                for c in section.candidates
            ],
        ),
        "",
        "## Per series (worst first)",
        "",
        md_table(
            ["Series", "MASE", "Seasonal naive MASE", "AutoETS MASE", "sMAPE"],
            [
                [
                    s.id,
                    f"{s.mase:.3f}",
                    f"{s.seasonal_naive_mase:.3f}",
                    "-" if s.auto_ets_mase is None else f"{s.auto_ets_mase:.3f}",
                    f"{s.smape:.2f}",
                ]
                for s in sorted(section.per_series, key=lambda s: -s.mase)[:MAX_SERIES_ROWS]
            ],
        ),
        "",
        "## Data",
        "",
        *[f"- {line.strip()}" for line in profile.describe().splitlines()],
        "",
        "## How it ran",
        "",
    ]
    if decisions.forecast is not None:
        f = decisions.forecast
        lines += [f"- candidates: {', '.join(f.baselines)} (statsforecast); {', '.join(f.deep)} (dlexpert, global)",
                  *([f"- trees: {f.trees}"] if f.trees else []), f"- selection: {f.selection}",
                  f"- deep recipe: {f.recipe}"]  # fmt: skip
        lines += [f"- {line}" for line in [*f.notes, f.replaces] if line]
    lines += [f"- figures: {', '.join(f'`{p}`' for p in ev.figures.values())}; every forecast: `forecasts.csv`", ""]
    return inert_markdown("\n".join(lines))


def _verdict(ev: Evaluation, section: ForecastSection) -> str:
    """The shipped forecast against seasonal naive and AutoETS, overall and per series (a model is not compared with
    itself), and its intervals' coverage."""
    by = {c.model: c for c in section.candidates}
    parts = [f"Test MASE {ev.metrics['mase']:.3f}"]
    parts += [f"{name} {by[name].test['mase']:.3f}" for name in ("SeasonalNaive", "AutoETS") if name in by]
    shares = [f"{share:.0%} of series beat {name}"
              for share, name in ((section.beats_seasonal_naive, "seasonal naive"), (section.beats_auto_ets, "AutoETS"))
              if share is not None]  # fmt: skip
    text = "; ".join(parts) + "." + (f" {', '.join(shares)}." if shares else "")
    if section.intervals:
        text += (f" Interval coverage: {section.intervals['coverage_80']:.0%} inside the 80% interval, "
                 f"{section.intervals['coverage_95']:.0%} inside the 95% one ({section.interval_method}).")  # fmt: skip
    return text
