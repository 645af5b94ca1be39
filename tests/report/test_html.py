"""report.html opened in headless Chromium: the page renders offline, every plot decodes, nothing is fetched.

Chromium is Debian's package (`apt-get install chromium`; .ci/run installs it); Playwright drives it. Without
either, the test is skipped and says which is missing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from dlexpert.report.card import write_model_card

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
# Flags for a closed network: no background connections, no component updates (see the env notes on Chromium).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip


@pytest.fixture(scope="module")
def page_of_report(evaluated_run: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    if CHROMIUM is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the [dev] extra")
    src, _ = evaluated_run
    run_dir = tmp_path_factory.mktemp("html") / "run"
    shutil.copytree(src, run_dir)
    write_model_card(run_dir)
    requests: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("request", lambda req: requests.append(req.url))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto((run_dir / "report.html").as_uri(), wait_until="load")
        facts = page.evaluate(
            """() => ({
                title: document.title,
                h1: document.querySelector('h1')?.innerText,
                images: Array.from(document.images).map(i => ({id: i.closest('figure')?.id, src: i.src.slice(0, 22),
                                                               ok: i.complete && i.naturalWidth > 0,
                                                               width: i.getBoundingClientRect().width})),
                kpi: document.querySelector('[data-metric="accuracy"] b')?.innerText,
                headings: Array.from(document.querySelectorAll('h2')).map(h => h.innerText),
                tables: document.querySelectorAll('table').length,
                latencyRows: Array.from(document.querySelectorAll('table'))
                    .filter(t => t.innerText.includes('p50 ms'))
                    .map(t => Array.from(t.tBodies[0].rows).map(r => r.cells[1].innerText)),
                perClassRows: (() => { const h = Array.from(document.querySelectorAll('h3'))
                                          .find(e => e.innerText === 'Per class');
                                        const t = h && h.nextElementSibling;
                                        return t && t.tagName === 'TABLE' ? t.tBodies[0].rows.length : -1; })(),
                height: document.body.scrollHeight,
            })"""
        )
        screenshot = page.screenshot(full_page=False)
        browser.close()
    return run_dir, facts, requests, errors, screenshot


def test_the_report_renders_offline_with_every_plot(page_of_report: Any) -> None:
    run_dir, facts, requests, errors, screenshot = page_of_report
    ev = json.loads((run_dir / "evaluation.json").read_text())
    assert facts["title"] == f"dlexpert report: {run_dir.name}" and facts["h1"] == f"Model card: {run_dir.name}"
    figures = {i["id"]: i for i in facts["images"]}
    assert set(figures) >= {"fig-curves", "fig-confusion", "fig-reliability", "fig-failures"}
    for fig_id, img in figures.items():
        assert img["ok"], f"{fig_id} did not decode"
        assert img["src"].startswith("data:image/png"), fig_id  # embedded, not linked
        assert img["width"] > 200, fig_id  # laid out at a readable size
    # Nothing but the page itself was requested: no fonts, scripts, styles or images from anywhere.
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    assert errors == []
    assert facts["kpi"] == f"{100 * ev['metrics']['accuracy']:.2f}%"
    assert facts["perClassRows"] == len(ev["per_class"]) == 10
    for h in ("Model details", "Evaluation", "Bias, risks and limitations", "Ethical considerations"):
        assert any(x.startswith(h) for x in facts["headings"]), h
    assert facts["tables"] >= 6 and facts["height"] > 3000
    assert facts["latencyRows"] == [["1", "32"]]  # single-sample and batched, from bench
    assert len(screenshot) > 20_000  # a blank 1200x900 PNG is a few KB


def test_the_report_is_one_file(page_of_report: Any) -> None:
    run_dir = page_of_report[0]
    html = (run_dir / "report.html").read_text()
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert 'src="figures/' not in html and "<link" not in html


MARKUP = [
    "<style>body{display:none}</style>",
    "<img src=x onerror=\"document.title='pwned'\">",
    "![fake plot](data:image/png;base64,iVBORw0KGgo=)",
    '<a href="javascript:alert(1)" style="position:fixed;top:0;left:0;font-size:400px">click</a>',
]


def test_markup_planted_in_the_spec_and_the_labels_stays_text(evaluated_run: tuple[Path, Any], tmp_path: Path) -> None:
    """Issue 17: class names and a task description holding HTML, CSS and Markdown images are shown as text; the
    page's figures, KPIs and title are what the evaluation says, and no planted element is live."""
    import yaml

    if CHROMIUM is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the [dev] extra")
    run_dir = tmp_path / "run"
    shutil.copytree(evaluated_run[0], run_dir)
    task = yaml.safe_load((run_dir / "task.yaml").read_text())
    task["task"]["specificTask"] = " ".join(MARKUP)
    (run_dir / "task.yaml").write_text(yaml.safe_dump(task))
    ev = json.loads((run_dir / "evaluation.json").read_text())
    for row, markup in zip(ev["per_class"], MARKUP, strict=False):
        row["name"] = markup
    (run_dir / "evaluation.json").write_text(json.dumps(ev))
    write_model_card(run_dir)
    card = (run_dir / "MODEL_CARD.md").read_text().split("\n---\n", 1)[1]
    assert "<style>" not in card and "<img" not in card and "![fake" not in card  # inert on any Markdown viewer
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.goto((run_dir / "report.html").as_uri(), wait_until="load")
        facts = page.evaluate(
            """() => ({
                title: document.title,
                display: getComputedStyle(document.body).display,
                images: Array.from(document.images).map(i => i.closest('figure')?.id || 'outside a figure'),
                decoded: Array.from(document.images).every(i => i.complete && i.naturalWidth > 0),
                styles: document.querySelectorAll('style').length,
                links: Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href')),
                styled: document.querySelectorAll('body [style]').length,
                kpi: document.querySelector('[data-metric="accuracy"] b')?.innerText,
                text: document.body.innerText,
            })"""
        )
        screenshot = page.screenshot(full_page=False, path=tmp_path / "planted.png")  # kept for a look (--basetemp)
        browser.close()
    assert facts["title"] == f"dlexpert report: {run_dir.name}" and facts["display"] != "none"
    assert set(facts["images"]) >= {"fig-curves", "fig-confusion", "fig-reliability", "fig-failures"}
    assert facts["decoded"] and len(screenshot) > 20_000  # the plots render; the page is not blanked
    assert all(i.startswith("fig-") for i in facts["images"]) and facts["styles"] == 1 and facts["styled"] == 0
    assert not any(href and href.startswith("javascript:") for href in facts["links"])
    assert facts["kpi"] == f"{100 * ev['metrics']['accuracy']:.2f}%"
    assert "<style>body{display:none}</style>" in facts["text"] and "![fake plot]" in facts["text"]
    assert errors == []  # no planted style or script even reached the CSP
