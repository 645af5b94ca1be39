"""`dlexpert serve` as a user meets it: a real server on a free loopback port, driven over HTTP and in headless
Chromium (Playwright): the plan form with a field error, a finished run's page with its curves and card, a log
upload with its findings, a live run whose curve grows through server-sent events; screenshots that are not blank;
the security rules; and every API response checked against the server's own OpenAPI schema."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="FastAPI is the `serve` extra")

from ..conftest import EXAMPLES, ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
SCREENSHOTS = ROOT / "build" / "screenshots"  # build/ is git-ignored
REAL_LOG = ROOT / "benchmarks/real_logs/detection-of-tomato-leaf-dis__training-log/training_log.csv"  # tune half
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def dlexpert(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dlexpert", *args], capture_output=True, text=True, timeout=300,
                          env=ENV, **kw)  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(runs: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dlexpert", "serve", "--runs", str(runs), "--port", str(port),
                             *extra], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/api/runs", timeout=1)
            return proc, base
        except urllib.error.HTTPError:
            return proc, base  # up, and refusing without a token
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "server exited") from None
            time.sleep(0.1)
    raise AssertionError("the server did not start in 20 s")


def request(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            body = r.read()
            status = r.status
            kind = r.headers.get("content-type", "")
    except urllib.error.HTTPError as e:
        body, status, kind = e.read(), e.code, e.headers.get("content-type", "")
    return status, json.loads(body) if "json" in kind else body.decode(errors="replace")


def multipart(name: str, filename: str, content: bytes) -> tuple[bytes, dict[str, str]]:
    boundary = "----dlexpert-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder with one finished run: digits trained 2 epochs, evaluated (figures), with its card. Made in this
    process (three `dlexpert` processes would spend seconds each importing torch); the server reads it as it would
    any run."""
    import torch

    from dlexpert.pipeline import train
    from dlexpert.report.card import write_model_card
    from dlexpert.report.evaluate import evaluate_run
    from dlexpert.schema import load_task

    torch.set_num_threads(1)  # the dev machine has 2 cores; the server's process is beside this one
    runs = tmp_path_factory.mktemp("web") / "runs"
    train(load_task(EXAMPLES / "digits.yaml"), data="digits", out_dir=runs / "done", epochs=2, progress=False)
    evaluate_run(runs / "done", latency=False)
    write_model_card(runs / "done")
    return runs


@pytest.fixture(scope="module")
def server(runs: Path) -> Iterator[str]:
    proc, base = start_server(runs)
    yield base
    proc.terminate()
    proc.wait(10)


def test_the_api_answers_and_every_response_fits_its_openapi_schema(server: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    status, doc = request(server + "/openapi.json")
    assert status == 200 and "/api/plan" in doc["paths"]
    import yaml

    task = yaml.safe_load((EXAMPLES / "digits.yaml").read_text())
    json_post = {"Content-Type": "application/json"}
    upload = multipart("log", "training_log.csv", REAL_LOG.read_bytes())
    calls = {
        ("/api/plan", "post"): request(
            server + "/api/plan", data=json.dumps({"task": task}).encode(), headers=json_post
        ),
        ("/api/runs", "get"): request(server + "/api/runs"),
        ("/api/runs/{run_id}", "get"): request(server + "/api/runs/done"),
        ("/api/catalog", "get"): request(server + "/api/catalog?task=classification&limit=2"),
        ("/api/schema/{which}", "get"): request(server + "/api/schema/input"),
        ("/api/diagnose", "post"): request(server + "/api/diagnose", data=upload[0], headers=upload[1]),
    }
    for (path, method), (status, body) in calls.items():
        assert status == 200, (path, body)
        schema = doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        jsonschema.validate(body, {**schema, "components": doc["components"]})
    assert calls[("/api/runs", "get")][1][0]["run_id"] == "done"
    assert "overfitting" in [f["issue"] for f in calls[("/api/diagnose", "post")][1]["diagnosis"]["findings"]]
    bad = request(server + "/api/plan", data=json.dumps({"task": {"task": {"type": "clasification"}}}).encode(),
                  headers={"Content-Type": "application/json"})  # fmt: skip
    assert bad[0] == 400 and "did you mean 'classification'" in bad[1]["error"] and "\n" not in bad[1]["error"]


def test_security_token_traversal_size_and_malformed_uploads(server: str, runs: Path) -> None:
    refused = dlexpert("serve", "--runs", str(runs), "--host", "0.0.0.0", "--port", str(free_port()))
    assert refused.returncode == 2 and "needs a token" in refused.stderr and len(refused.stderr.splitlines()) == 1
    for path in ("/runs/..%2F..%2Fetc", "/api/runs/..%2Fdone", "/runs/done/files/..%2F..%2Fetc%2Fpasswd",
                 "/runs/done/files/checkpoints/best.safetensors", "/runs/done/files/config.yaml"):  # fmt: skip
        status, body = request(server + path)
        assert status in (403, 404) and "Traceback" not in str(body), (path, status, body)
    big = multipart("log", "big.csv", b"0" * (33 << 20))
    status, body = request(server + "/api/diagnose", data=big[0], headers=big[1])
    assert status == 413 and "32 MiB" in body["error"]
    garbage = multipart("log", "x.csv", bytes(range(256)) * 64)
    status, body = request(server + "/api/diagnose", data=garbage[0], headers=garbage[1])
    assert 400 <= status < 500 and body["error"].startswith("x.csv") and "\n" not in body["error"]
    proc, base = start_server(runs, "--token", "s3cret")
    try:
        assert request(base + "/api/runs")[0] == 401
        assert request(base + "/api/runs", headers={"Authorization": "Bearer s3cret"})[0] == 200
        assert request(base + "/api/runs", headers={"Authorization": "Bearer wrong"})[0] == 401
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the [dev] extra")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def screenshot(page: Any, name: str) -> Path:
    """Save the page to build/screenshots/NAME.png and check it is not blank (its pixels vary)."""
    import numpy as np
    from PIL import Image

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    pixels = np.asarray(Image.open(path).convert("L"), dtype=float)
    assert pixels.std() > 10, f"{path} looks blank"
    return path


def open_page(browser: Any, url: str) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(url, wait_until="load")
    return page, errors


def test_plan_form_gives_a_plan_and_puts_an_error_next_to_its_field(server: str, browser: Any) -> None:
    page, errors = open_page(browser, server + "/")
    page.fill("[name='task.type']", "classification")
    page.fill("[name='task.domain']", "CV")
    page.fill("[name='task.specificTask']", "sort photos of 10 bird species")
    page.fill("[name='data.size']", "5k images")
    page.check("[name='assume_defaults']")
    page.click("button[type=submit]")
    page.wait_for_selector("#plan")
    headings = page.locator("#plan h2, #plan h3").all_inner_texts()
    assert {"Workflow", "Alternatives", "Evidence"} <= set(headings), headings
    assert page.locator("#plan table").count() >= 2
    screenshot(page, "plan")
    page.fill("[name='data.size']", "-5 images")
    page.click("button[type=submit]")
    error = page.locator(".field.invalid [data-field='data.size']")
    assert error.count() == 1 and "data.size" in error.inner_text()
    screenshot(page, "plan-error")
    assert [e for e in errors if "status of 400" not in e] == [], errors  # the page with an error is a 400


def test_a_finished_run_shows_its_curves_findings_figures_and_card(server: str, browser: Any) -> None:
    page, errors = open_page(browser, server + "/runs")
    assert page.locator("#runs tbody tr").count() == 1 and "evaluated" in page.inner_text("#runs")
    page.click("text=done")
    page.wait_for_selector("#chart polyline[data-key='val_loss']")
    assert page.locator("#chart polyline").count() == 2
    assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    assert page.locator(".figures img").count() >= 2
    screenshot(page, "run")
    page.click("text=MODEL_CARD.md")
    assert "# " in page.inner_text("body") and "digits" in page.inner_text("body")  # the card's Markdown, as text
    assert not errors, errors


def test_an_uploaded_real_log_shows_its_findings_and_plot(server: str, browser: Any) -> None:
    page, errors = open_page(browser, server + "/diagnose")
    page.set_input_files("#log", str(REAL_LOG))
    page.click("button[type=submit]")
    page.wait_for_selector("#diagnosis")
    assert "overfitting" in page.inner_text("#diagnosis")
    assert page.evaluate("document.getElementById('diagnosis-plot').naturalWidth") > 100
    screenshot(page, "diagnose")
    assert not errors, errors


def test_a_live_run_s_curve_grows_through_server_sent_events(runs: Path, server: str, browser: Any) -> None:
    from dlexpert.service import jobs

    spec = {"task": {"type": "classification", "domain": "CV", "specificTask": "live digits"}}
    jobs.start_job(runs, "live", "train", ["--data", "digits", "--epochs", "30"], spec=spec)  # ~1 s an epoch
    run_dir = runs / "live"
    for _ in range(600):  # the page is opened while the run trains: after its first epoch, before its last
        if jobs.status(runs, "live").epochs_done >= 1:
            break
        time.sleep(0.1)
    page, errors = open_page(browser, server + "/runs/live")
    page.wait_for_selector("#chart polyline")
    points = "document.querySelector('#chart polyline').getAttribute('points').split(' ').length"
    first = page.evaluate(points)
    for _ in range(1200):  # polled from here: the page's CSP forbids the eval that wait_for_function needs
        if page.evaluate(points) > first:
            break
        time.sleep(0.1)
    grew = page.evaluate(points) > first
    os.killpg(jobs.status(runs, "live").pid or 0, signal.SIGTERM)  # the job's process group: supervisor and train
    assert grew, "the curve did not grow while the run trained"
    assert (run_dir / "metrics.jsonl").is_file() and first >= 1
    assert not errors, errors


def test_form_values_become_a_spec_and_each_error_lands_on_its_field() -> None:
    from dlexpert.service.web import spec_from_form

    spec, errors = spec_from_form({"task.type": "classification", "task.domain": "CV", "challenges": "long-tail, "
                                   "real-time", "data.augmentationNeeded": "no", "data.quality": " "})  # fmt: skip
    assert spec == {"task": {"type": "classification", "domain": "CV"}, "challenges": ["long-tail", "real-time"],
                    "data": {"augmentationNeeded": False}} and errors == {}  # fmt: skip
    _, errors = spec_from_form({"task.type": "classification", "task.domain": "CV", "data.size": "-5 images"})
    assert list(errors) == ["data.size"] and "must not be negative" in errors["data.size"]
    _, errors = spec_from_form({"task.type": "classification", "task.domain": "CV", "data.distribution": "balanced",
                                "challenges": "long-tail"})  # fmt: skip
    assert list(errors) == [""] and "data.distribution says 'balanced'" in errors[""]  # between fields: the form's
