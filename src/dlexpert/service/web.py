"""`dlexpert serve`: a local web app and HTTP API on FastAPI (OpenAPI at /docs), for people who would rather look
than read. Pages are server-rendered HTML (Jinja2, autoescaped) with one small script for the live curves; nothing
is loaded from elsewhere, and every page carries a CSP that allows only this server.

Pages: `/` the plan form (every seed Input field, with the schema's descriptions and examples) and the plan;
`/runs` the runs under `--runs`; `/runs/ID` one run (live curves over server-sent events, the diagnosis, the figures,
variants, bench, links to the card and report); `/diagnose` a log upload and its findings with the plot.
API: `/api/plan`, `/api/diagnose`, `/api/runs`, `/api/runs/ID`, `/api/runs/ID/metrics`, `/api/runs/ID/events`,
`/api/catalog`, `/api/schema/{input,output}`.

Safety: 127.0.0.1 by default; another address needs a token (`--token` or DLEXPERT_TOKEN), which every request
carries (`Authorization: Bearer`, or `?token=` once, which sets a cookie). Uploads are capped (MAX_UPLOAD_BYTES, 413
beyond) and read in a temporary folder by the log readers, which never execute or unpickle anything. Run ids and file
names cannot leave `--runs`. Errors are JSON `{"error": one line}` (pages show the line), never a traceback."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import DlexpertError, InvalidInputError
from ..rundir import RunDir
from ..schema import Diagnosis, Plan
from . import jobs, tools

HERE = Path(__file__).parent
MAX_UPLOAD_BYTES = tools.MAX_INLINE_LOG_BYTES  # a log upload; a real trainer_state.json or event file is a few MB
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
RUN_FILES = ("MODEL_CARD.md", "report.html", "evaluation.json", "plan.json", "bench.json", "diagnosis.json")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class PlanRequest(BaseModel):
    task: dict[str, Any] = Field(description="The task spec (the seed Input), as `dlexpert schema input` describes.")
    data: str | None = Field(None, description="Profile this dataset (built-in name or path) first.")
    hardware: str | None = Field(None, description="Hardware profile name, overriding the spec's.")
    assume_defaults: bool = Field(False, description="Proceed on stated assumptions instead of returning questions.")


class DiagnoseResponse(BaseModel):
    diagnosis: Diagnosis
    plot: str | None = Field(None, description="The curves with the findings marked, as a PNG data URI.")


class RunRow(BaseModel):
    run_id: str
    state: str = Field(description="running, evaluated, trained, failed, lost or planned.")
    task: str | None = None
    model: str | None = None
    metric: str | None = None
    value: float | None = None
    baseline: float | None = Field(None, description="The Step-4 baseline's value of the same metric.")
    updated: str = Field(description="When the run folder last changed (local time).")


class ErrorBody(BaseModel):
    error: str = Field(description="One line: the field or file, and what was expected.")
    field: str | None = None


def check_binding(host: str, token: str | None) -> None:
    """A non-loopback address only with a token: the app plans, reads logs and starts nothing, but runs are private."""
    if token:
        return
    try:
        loopback = host in LOOPBACK or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise InvalidInputError(f"--host {host}: serving beyond this machine needs a token; pass --token TOKEN (or "
                                "set DLEXPERT_TOKEN), which every request must then carry")  # fmt: skip


def create_app(runs: Path, *, token: str | None = None) -> FastAPI:
    """The app: pages, API and static files; runs read from (and started under) `runs`."""
    app = FastAPI(title="dlexpert", version=_version(), description=__doc__.split("\n\n")[0],
                  responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody}})  # fmt: skip
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    summaries = RunSummaries(runs)
    _install_guards(app, token)

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"runs": runs, **context}, status_code=status)

    # ---------------------------------------------------------------- API
    @app.post("/api/plan", response_model=Plan, response_model_exclude_none=True, tags=["api"])
    def api_plan(body: PlanRequest) -> Plan:
        """The plan for a task spec (questions, when it needs answers only you have, are in `questions`)."""
        return tools.plan_task(body.task, data=body.data, hardware=body.hardware, assume_defaults=body.assume_defaults)

    @app.post("/api/diagnose", response_model=DiagnoseResponse, tags=["api"])
    async def api_diagnose(log: UploadFile = File(description="trainer_state.json, CSV, JSONL or a TensorBoard event "
                                                  "file")) -> DiagnoseResponse:  # fmt: skip
        """Diagnose an uploaded training log: findings with evidence and solutions, and the plot."""
        return await _diagnose_upload(log)

    @app.get("/api/runs", response_model=list[RunRow], tags=["api"])
    def api_runs() -> list[RunRow]:
        """The runs under --runs, newest first."""
        return summaries.rows()

    @app.get("/api/runs/{run_id}", response_model=tools.RunExplanation, tags=["api"])
    def api_run(run_id: str) -> tools.RunExplanation:
        """One run: its metric against the baselines, what it ships, the diagnosis, the card's summary."""
        return tools.explain_run(_run_path(runs, run_id))

    @app.get("/api/runs/{run_id}/metrics", tags=["api"])
    def api_metrics(run_id: str) -> list[dict[str, Any]]:
        """The epoch rows of the run's metrics.jsonl."""
        return RunDir(_run_path(runs, run_id)).epochs()

    @app.get("/api/runs/{run_id}/events", tags=["api"], response_class=StreamingResponse)
    async def api_events(run_id: str, request: Request) -> StreamingResponse:
        """Server-sent events: each epoch row of metrics.jsonl as it is written (`event: epoch`), then `event: end`
        when the run stops writing."""
        path = _run_path(runs, run_id)
        return StreamingResponse(_epoch_events(path, request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})  # fmt: skip

    @app.get("/api/catalog", tags=["api"])
    def api_catalog(task: str | None = None, domain: str | None = None, max_params_m: float | None = Query(None, gt=0),
                    limit: int = Query(25, ge=1, le=500)) -> dict[str, Any]:  # fmt: skip
        """Catalog models matching the filters, best published score first."""
        return tools.catalog_models(task=task, domain=domain, max_params_m=max_params_m, limit=limit)

    @app.get("/api/schema/{which}", tags=["api"])
    def api_schema(which: Literal["input", "output"]) -> dict[str, Any]:
        """The JSON Schema of the task spec (input) or the plan (output)."""
        return tools.json_schema(which)

    # ---------------------------------------------------------------- pages
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def plan_page(request: Request) -> HTMLResponse:
        return page(request, "plan.html", form=plan_form(), values={}, errors={}, plan_html=None)

    @app.post("/", response_class=HTMLResponse, include_in_schema=False)
    async def plan_submit(request: Request) -> HTMLResponse:
        values = {k: str(v) for k, v in (await request.form()).items()}
        spec, errors = spec_from_form(values)
        if errors:
            return page(request, "plan.html", 400, form=plan_form(), values=values, errors=errors, plan_html=None)
        try:
            result = tools.plan_task(spec, assume_defaults=values.get("assume_defaults") == "on")
        except DlexpertError as exc:
            return page(request, "plan.html", 400, form=plan_form(), values=values, errors={"": str(exc)},
                        plan_html=None)  # fmt: skip
        return page(request, "plan.html", form=plan_form(), values=values, errors={}, plan=result,
                    plan_html=_markdown_html(_plan_markdown(result)))  # fmt: skip

    @app.get("/runs", response_class=HTMLResponse, include_in_schema=False)
    def runs_page(request: Request) -> HTMLResponse:
        return page(request, "runs.html", rows=summaries.rows())

    @app.get("/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
    def run_page(request: Request, run_id: str) -> HTMLResponse:
        path = _run_path(runs, run_id)
        run = RunDir(path)
        return page(request, "run.html", run_id=run_id, info=tools.explain_run(path), row=summaries.row(path),
                    figures=sorted(p.name for p in (path / RunDir.FIGURES).glob("*.png")),
                    variants=[_variant(v) for v in run.variants()],
                    bench=run.bench() if run.has(RunDir.BENCH) else None)  # fmt: skip

    @app.get("/runs/{run_id}/files/{name:path}", include_in_schema=False)
    def run_file(run_id: str, name: str) -> Response:
        return _run_file(_run_path(runs, run_id), name)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:  # browsers ask for it beside a Markdown or JSON file; there is none
        return Response(status_code=204)

    @app.get("/diagnose", response_class=HTMLResponse, include_in_schema=False)
    def diagnose_page(request: Request) -> HTMLResponse:
        return page(request, "diagnose.html", result=None, error=None)

    @app.post("/diagnose", response_class=HTMLResponse, include_in_schema=False)
    async def diagnose_submit(request: Request, log: UploadFile = File(...)) -> HTMLResponse:
        try:
            result = await _diagnose_upload(log)
        except DlexpertError as exc:
            status = 400 if exc.exit_code == 2 else 500
            return page(request, "diagnose.html", status, result=None, error=str(exc))
        return page(request, "diagnose.html", result=result, log_name=log.filename, error=None,
                    report_html=_markdown_html(_diagnosis_markdown(result.diagnosis)))  # fmt: skip

    return app


# -------------------------------------------------------------------- the plan form


def plan_form() -> list[dict[str, Any]]:
    """The spec's fields as form sections: [{name, description, fields: [{name, label, description, examples, enum,
    kind}]}], read off the TaskSpec schema (so a field added to the model appears here)."""
    sections = []
    for section, node in tools.task_spec_schema()["properties"].items():
        node = _object_of(node)
        if "properties" not in node:  # a list of strings (challenges)
            sections.append({"name": section, "description": node.get("description", ""),
                             "fields": [_field(section, section, node)]})  # fmt: skip
            continue
        fields = [_field(f"{section}.{name}", name, prop) for name, prop in node["properties"].items()]
        sections.append({"name": section, "description": node.get("description", ""), "fields": fields})
    return sections


def _object_of(node: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [object, null]` read as the object, with the outer description."""
    for option in node.get("anyOf", []):
        if option.get("type") == "object":
            return option | {"description": node.get("description", option.get("description", ""))}
    return node


def _field(name: str, label: str, prop: dict[str, Any]) -> dict[str, Any]:
    types = [prop.get("type")] + [o.get("type") for o in prop.get("anyOf", [])]
    kind = "bool" if "boolean" in types else "list" if "array" in types else "text"
    return {"name": name, "label": label, "description": prop.get("description", ""), "kind": kind,
            "examples": [str(e) if not isinstance(e, list) else ", ".join(map(str, e))
                         for e in prop.get("examples", [])][:4]}  # fmt: skip


def spec_from_form(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's values as a task spec, and the errors by field (the schema's one-line messages)."""
    from ..schema.task import field_errors

    spec: dict[str, Any] = {}
    kinds = {f["name"]: f["kind"] for s in plan_form() for f in s["fields"]}
    for name, kind in kinds.items():
        raw = values.get(name, "").strip()
        if not raw or (kind == "bool" and raw == "unset"):
            continue
        value: Any = [v.strip() for v in raw.split(",") if v.strip()] if kind == "list" else raw
        if kind == "bool":
            value = raw == "yes"
        section, _, key = name.partition(".")
        if key:
            spec.setdefault(section, {})[key] = value
        else:
            spec[section] = value
    errors: dict[str, str] = {}
    for where, message in field_errors(spec, source="form").items():  # "challenges.0" shows at "challenges"
        field = max((n for n in kinds if where == n or where.startswith(n + ".")), key=len, default="")
        errors[field] = errors.get(field) or message
    return spec, errors


def _plan_markdown(plan: Plan) -> str:
    from ..report.plan_md import render_plan_md

    return render_plan_md(plan)


def _diagnosis_markdown(diagnosis: Diagnosis) -> str:
    from ..diagnose.report import render_markdown

    return render_markdown(diagnosis)


def _markdown_html(markdown: str) -> str:
    """Markdown made by dlexpert, its user text inert, rendered and sanitised as report.html's card is."""
    from ..report.html import inert_markdown, markdown_to_html

    return markdown_to_html(inert_markdown(markdown))


# -------------------------------------------------------------------- runs


class RunSummaries:
    """The runs page's rows, each re-read only when its folder's files changed (the page stays fast at 200 runs)."""

    def __init__(self, runs: Path) -> None:
        self.runs = runs
        self._cache: dict[str, tuple[tuple[int, ...], RunRow | None]] = {}

    def rows(self) -> list[RunRow]:
        if not self.runs.is_dir():
            return []
        folders = [p for p in self.runs.iterdir() if p.is_dir() and jobs.RUN_ID.fullmatch(p.name)]
        rows = [row for row in map(self.row, folders) if row is not None]
        return sorted(rows, key=lambda r: r.updated, reverse=True)

    def row(self, path: Path) -> RunRow | None:
        stamp = _stamp(path)
        cached = self._cache.get(path.name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        row = _summarise(self.runs, path)
        self._cache[path.name] = (stamp, row)
        return row


def _stamp(path: Path) -> tuple[int, ...]:
    """What changes when a run does: the folder and its key files' modification times and sizes."""
    out = [path.stat().st_mtime_ns]
    for name in (RunDir.METRICS, RunDir.EVALUATION, RunDir.TASK, RunDir.LOCK):
        try:
            st = (path / name).stat()
            out += [st.st_mtime_ns, st.st_size]
        except OSError:
            out += [0, 0]
    job = path.parent / jobs.JOBS / path.name / "job.json"
    out.append(job.stat().st_mtime_ns if job.exists() else 0)
    return tuple(out)


def _summarise(runs: Path, path: Path) -> RunRow | None:
    """One row from the run's files, read through the input boundary as plain JSON/YAML (a full pydantic read of 200
    evaluations is too slow)."""
    from .._input import load_yaml

    run = RunDir(path)
    if not any(run.has(n) for n in (RunDir.TASK, RunDir.CONFIG, RunDir.METRICS)):
        return None
    row = RunRow(run_id=path.name, state="planned", updated=time.strftime("%Y-%m-%d %H:%M", time.localtime(
        max(path.stat().st_mtime, *((path / n).stat().st_mtime for n in (RunDir.METRICS, RunDir.EVALUATION)
                                    if run.has(n))))))  # fmt: skip

    try:
        task = load_yaml(run.text(RunDir.TASK), source=str(path / RunDir.TASK)) if run.has(RunDir.TASK) else None
        row.task = (task.get("task") or {}).get("specificTask") if isinstance(task, dict) else None
        if run.has(RunDir.EVALUATION):
            _headline(row, json.loads(run.text(RunDir.EVALUATION)))
    except (OSError, ValueError, AttributeError):  # InvalidInputError is a ValueError
        row.state = "unreadable"
        return row
    row.state = _state(runs, path, evaluated=run.has(RunDir.EVALUATION), trained=run.has(RunDir.METRICS))
    return row


def _headline(row: RunRow, evaluation: dict[str, Any]) -> None:
    from ..schema.evaluation import headline_metric

    forecast = evaluation.get("forecast")
    key, name = headline_metric("forecasting" if forecast else str(evaluation.get("task")))
    baseline = (evaluation.get("baseline") or {}).get("linear") or (evaluation.get("baseline") or {}).get("majority")
    row.model = forecast.get("shipped") if forecast else evaluation.get("model")
    row.metric, row.value = name, (evaluation.get("metrics") or {}).get(key)
    if forecast:
        naive = [c for c in forecast.get("candidates", []) if c.get("model") == "SeasonalNaive"]
        row.baseline = naive[0]["test"]["mase"] if naive else None
    elif baseline:
        row.baseline = (baseline.get("metrics") or {}).get(key)


def _state(runs: Path, path: Path, *, evaluated: bool, trained: bool) -> str:
    if (runs / jobs.JOBS / path.name / "job.json").is_file():
        state = jobs.status(runs, path.name).state
        if state != "finished":
            return state
    elif _writer_alive(path):
        return "running"
    return "evaluated" if evaluated else "trained" if trained else "planned"


def _writer_alive(path: Path) -> bool:
    """Whether the pid in RUN/.lock (its last writer) is alive and the metrics changed in the last 10 minutes."""
    try:
        pid = int((path / RunDir.LOCK).read_text().strip() or 0)
        return jobs.pid_alive(pid) and time.time() - (path / RunDir.METRICS).stat().st_mtime < 600
    except (OSError, ValueError):
        return False


def _run_path(runs: Path, run_id: str) -> Path:
    path = jobs.run_folder(runs, run_id)
    if not path.is_dir():
        raise StarletteHTTPException(404, f"no run {run_id!r} under {runs}")
    return path


def _run_file(path: Path, name: str) -> Response:
    """A report or figure of the run: the names in RUN_FILES, or figures/NAME.png; anything else is 404."""
    target = (path / name).resolve()
    allowed = name in RUN_FILES or (name.startswith("figures/") and name.endswith(".png") and name.count("/") == 1)
    if not allowed or not target.is_relative_to(path.resolve()) or not target.is_file():
        raise StarletteHTTPException(404, f"{name}: not a report or figure of this run")
    media = {".md": "text/markdown; charset=utf-8", ".html": "text/html; charset=utf-8", ".png": "image/png",
             ".json": "application/json"}[target.suffix]  # fmt: skip
    return FileResponse(target, media_type=media)


def _variant(folder: Path) -> dict[str, Any]:
    try:
        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = {}
    return {"name": folder.name, "report": report if isinstance(report, dict) else {}}


async def _epoch_events(path: Path, request: Request) -> AsyncIterator[str]:
    """Follow metrics.jsonl: every epoch row (already there, then new) as an SSE event; `end` once nothing is
    written for a while and no writer holds the run."""
    offset, idle, log = 0, 0.0, path / RunDir.METRICS
    while not await request.is_disconnected():
        chunk = b""
        if log.is_file():
            with open(log, "rb") as f:
                f.seek(offset)
                chunk = f.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits for its newline
        offset += len(complete)
        for line in complete.splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and row.get("kind") == "epoch":
                yield f"event: epoch\ndata: {json.dumps(row)}\n\n"
        idle = 0.0 if complete else idle + 0.5
        if idle >= 3 and not _writer_alive(path):
            yield "event: end\ndata: {}\n\n"
            return
        await asyncio.sleep(0.5)


async def _diagnose_upload(log: UploadFile) -> DiagnoseResponse:
    """The upload (at most MAX_UPLOAD_BYTES, else 413) diagnosed with its plot (`tools.diagnose_bytes`)."""
    data = await log.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise StarletteHTTPException(413, f"{log.filename}: over {MAX_UPLOAD_BYTES >> 20} MiB; diagnose it with "
                                     "`dlexpert diagnose PATH` instead")  # fmt: skip
    diagnosis, png = tools.diagnose_bytes(data, log.filename or "log", plot=True)
    plot = "data:image/png;base64," + base64.b64encode(png).decode() if png else None
    return DiagnoseResponse(diagnosis=diagnosis, plot=plot)


# -------------------------------------------------------------------- guards


def _install_guards(app: FastAPI, token: str | None) -> None:
    """The token check, the page headers (CSP), and errors as one JSON line (or the page's error line)."""

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        given = None
        if token:
            header = request.headers.get("authorization", "")
            given = request.query_params.get("token") or request.cookies.get("dlexpert_token") or (
                header.removeprefix("Bearer ") if header.startswith("Bearer ") else None)  # fmt: skip
            if not (given and secrets.compare_digest(given, token)):
                return JSONResponse({"error": "a token is required: send 'Authorization: Bearer TOKEN', or open the "
                                     "page once with ?token=TOKEN"}, status_code=401)  # fmt: skip
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        if token and request.query_params.get("token"):
            response.set_cookie("dlexpert_token", token, httponly=True, samesite="strict")
        return response

    @app.exception_handler(DlexpertError)
    async def dlexpert_error(request: Request, exc: DlexpertError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=400 if exc.exit_code == 2 else 500)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        return JSONResponse({"error": f"{field or 'request'}: {err.get('msg', 'invalid')}", "field": field or None},
                            status_code=422)  # fmt: skip

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": f"internal error: {type(exc).__name__} (see the server's log)"}, status_code=500)


def _version() -> str:
    from .. import __version__

    return __version__


def serve(runs: Path, *, host: str = "127.0.0.1", port: int = 8000, token: str | None = None) -> None:
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    check_binding(host, token)
    uvicorn.run(create_app(runs, token=token), host=host, port=port, log_level="warning")
