"""report.html: the model card as one self-contained page, with the run's plots embedded as data: URIs.

No script, stylesheet, font or image is fetched from anywhere: the page opens offline in any browser, and copies
as a single file. The plots are the training curves (loss, metric, learning rate, gradient norm; drawn by
`diagnose.report.plot_history`, with the diagnosis' findings marked), the confusion matrix, the reliability
diagram and the failure grid from `evaluate`. The text is MODEL_CARD.md's, rendered by Python-Markdown.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._io import atomic_write_text
from ..rundir import RunDir

if TYPE_CHECKING:
    from .card import CardFacts

__all__ = ["write_report_html"]

_CSS = """
body { font: 15px/1.5 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1d1d1f;
       max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.7em; margin-bottom: .2em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .92em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f5f7; } tr:nth-child(even) td { background: #fafbfc; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; border-radius: 4px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
figure { margin: 0; border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px; background: #fff; }
figure img { width: 100%; height: auto; display: block; }
#fig-failures { grid-column: 1 / -1; }
figcaption { font-size: .85em; color: #555; margin-top: 4px; }
.meta { color: #555; font-size: .9em; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.kpi { border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.kpi b { display: block; font-size: 1.4em; }
"""


# The run's linear baseline shown beside its figures: the first of these metrics it has, with its label.
BASELINE_KPIS = (("accuracy", "linear baseline"), ("miou", "colour baseline mIoU"), ("map", "colour baseline mAP"))


# The page's one stylesheet is allowed by its hash: no inline style, and no style a card's text could inject.
_STYLE_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode() + "'"


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figures(facts: CardFacts) -> list[tuple[str, str, bytes]]:
    """(id, caption, PNG bytes) for each plot available: curves drawn now, the evaluation's figures from disk (or
    drawn now from evaluation.json when `evaluate --no-figures` left them out)."""
    from .figures import plot_confusion, plot_reliability

    ev, run_dir = facts.evaluation, facts.run_dir
    out: list[tuple[str, str, bytes]] = []
    with tempfile.TemporaryDirectory(prefix="dlexpert-report-") as tmp:
        if facts.diagnosis is not None:
            try:
                from ..diagnose import read_history
                from ..diagnose.report import plot_history

                path = plot_history(read_history(run_dir), facts.diagnosis, Path(tmp) / "curves.png")
                out.append(
                    (
                        "curves",
                        "Training curves: loss, accuracy, learning rate and gradient norm, with the "
                        "diagnosis' findings marked where they began",
                        path.read_bytes(),
                    )
                )
            except Exception as exc:  # a run whose logs cannot be drawn still gets its report
                facts.notes.append(f"training curves not drawn: {exc}")
        drawn: dict[str, Callable[[Any, Path], Path]] = {"confusion": plot_confusion, "reliability": plot_reliability}
        captions = {
            "confusion": "Confusion matrix (rows: true class, normalised; numbers: counts)",
            "reliability": "Reliability diagram: accuracy against confidence, with the ECE",
            "failures": "The most confidently wrong test samples: true -> predicted (confidence)",
        }
        if ev.task == "detection":
            captions["confusion"] = "Boxes at IoU 0.5, true class by predicted class; background: missed or false"
            captions["failures"] = "The test images with the most errors: true boxes green, predictions red"
        if ev.task == "segmentation":
            captions["confusion"] = "Confusion matrix over test pixels (rows: true class, normalised; numbers: pixels)"
            captions["failures"] = "The test images with the lowest pixel accuracy: image, true mask, predicted mask"
        for key in ("confusion", "reliability", "failures"):
            rel = ev.figures.get(key)
            if rel and (run_dir / rel).is_file():
                out.append((key, captions[key], (run_dir / rel).read_bytes()))
            elif key in drawn and getattr(ev, "calibration" if key == "reliability" else key) is not None:
                section = ev.calibration if key == "reliability" else ev.confusion
                path = drawn[key](section, Path(tmp) / f"{key}.png")
                out.append((key, captions[key], path.read_bytes()))
    return out


def render_report_html(facts: CardFacts, *, render_card: Callable[[CardFacts], str]) -> str:
    """The page for `facts` (a `CardFacts`); `render_card` is `report.card.render_card`, passed in so that this
    module does not import card (card imports it)."""
    figures = _figures(facts)  # first: a plot that cannot be drawn leaves a note the card then prints
    card = render_card(facts)
    body_md = card.split("\n---\n", 1)[1] if card.startswith("---\n") else card
    head_md, sep, rest_md = body_md.partition("\n## ")  # title and summary above the plots, sections below
    head, body = markdown_to_html(head_md), markdown_to_html(sep.lstrip("\n") + rest_md)
    ev = facts.evaluation
    kpis = []
    for key, label in (
        ("accuracy", "test accuracy"),
        ("miou", "test mIoU"),
        ("dice", "foreground Dice"),
        ("map", "box mAP"),
        ("map50", "mAP50"),
        ("f1_macro", "macro F1"),
        ("balanced_accuracy", "balanced acc."),
        ("auroc_ovr_macro", "AUROC"),
        ("ece", "ECE"),
        ("mae", "MAE"),
        ("rmse", "RMSE"),
    ):
        if key in ev.metrics:
            v = ev.metrics[key]
            shown = f"{100 * v:.2f}%" if key in {"accuracy", "f1_macro", "balanced_accuracy"} else f"{v:.4g}"
            kpis.append(f'<div class="kpi" data-metric="{key}"><b>{shown}</b>{html.escape(label)}</div>')
    linear = ev.baseline.linear
    for key, label in BASELINE_KPIS:
        if linear is not None and key in linear.metrics:
            v = linear.metrics[key]
            shown = f"{100 * v:.2f}%" if key == "accuracy" else f"{v:.3f}"
            kpis.append(f'<div class="kpi" data-metric="baseline_linear"><b>{shown}</b>{label}</div>')
            break
    rows = ev.latency["rows"] if ev.latency else []
    for r in rows:
        if r.get("latency_ms_p50") is not None:
            kpis.append(
                f'<div class="kpi" data-metric="latency_b{r["batch_size"]}"><b>{r["latency_ms_p50"]:.3g} ms'
                f"</b>p50, batch {r['batch_size']}</div>"
            )
    meta = (f"{html.escape(facts.name)} &middot; weights <code>{html.escape(ev.model_version)}</code>\n"
            f"&middot; evaluated {html.escape(ev.created)}")  # fmt: skip
    return html_page(title=f"dlexpert report: {facts.name}", head=head, meta=meta, kpis=kpis, figures=figures,
                     body=body)  # fmt: skip


# The card's own HTML: its generator comment and the collapsible config. Any other "<" is written as text.
_CARD_TAGS = re.compile(r"<(?!!--|/?(?:details|summary)>)")
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.DOTALL)


def inert_markdown(text: str) -> str:
    """Markdown whose HTML is only the card's own (`_CARD_TAGS`): outside code spans every other "<" becomes "&lt;" and
    an image "![" becomes "!\\[", so a class name, a task description or a series id that holds markup shows as text
    on any Markdown viewer."""
    parts = _CODE.split(text)
    for i in range(0, len(parts), 2):  # the even parts are outside code
        parts[i] = _CARD_TAGS.sub("&lt;", parts[i]).replace("![", "!\\[")
    return "".join(parts)


def markdown_to_html(text: str) -> str:
    """The card's Markdown as HTML for the page, sanitised by nh3 (Ammonia) whatever the Markdown held: its safe tags
    without images (the page's figures are added outside the card, so a data-URI image in a class name cannot pose
    as one), with their safe attributes, a table cell's alignment among them."""
    import markdown
    import nh3
    from markdown.extensions.tables import TableExtension

    rendered = markdown.markdown(text, extensions=[TableExtension(use_align_attribute=True), "fenced_code",
                                                   "md_in_html"], output_format="html")  # fmt: skip
    tags = set(nh3.ALLOWED_TAGS) - {"img", "map", "area"}
    attributes = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items() if tag in tags}
    return nh3.clean(rendered, tags=tags, attributes=attributes)


def html_page(
    *, title: str, head: str, meta: str, kpis: list[str], figures: list[tuple[str, str, bytes]], body: str
) -> str:
    """The self-contained page every report uses: no script, images as data URIs, a CSP that allows nothing else."""
    figs = "\n".join(
        f'<figure id="fig-{key}"><img alt="{html.escape(caption)}" src="{_data_uri(png)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for key, caption, png in figures
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src {_STYLE_HASH}">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
{head}
<p class="meta">{meta}</p>
<div class="kpis">{"".join(kpis)}</div>
<h2 id="plots">Plots</h2>
<div class="figures">
{figs}
</div>
{body}
</body>
</html>
"""


def write_report_html(facts: CardFacts, *, render_card: Callable[[CardFacts], str]) -> Path:
    """Render and write RUN_DIR/report.html atomically (`render_card` as in `render_report_html`)."""
    return atomic_write_text(facts.run_dir / RunDir.REPORT, render_report_html(facts, render_card=render_card))
