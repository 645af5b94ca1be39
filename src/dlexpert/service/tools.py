"""The operations an agent or a web page calls, as plain functions with typed results: the same library calls as
the CLI's `plan`, `diagnose`, `profile`, `catalog` and `schema`, plus `explain_run` (a run folder in one summary).
Every bad input raises `InvalidInputError` with the CLI's one-line message; nothing here imports torch."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..errors import InvalidInputError
from ..schema import Diagnosis, Plan

MAX_INLINE_LOG_BYTES = 32 << 20  # a log passed as content: far above a real trainer_state.json (a few MB)


def plan_task(
    task: dict[str, Any], *, data: str | None = None, target: str | None = None, hardware: str | None = None,
    assume_defaults: bool = False,
) -> Plan:  # fmt: skip
    """The plan for a task spec (the seed Input, decoded), as `dlexpert plan` makes it. Questions the plan needs
    answered are in `Plan.questions` (the CLI exits 3 on them)."""
    from ..advisor import advise
    from ..schema import parse_task

    spec = parse_task(task, source="task")
    if data is None and target is not None:
        raise InvalidInputError("target names the label column of the data table; pass data too")
    profile: Any = None
    if data is not None:
        from ..data.sources import profile_source
        from ..pipeline import fill_from_profile

        profile = profile_source(data, target=target)
        spec = fill_from_profile(spec, profile)
    return advise(spec, profile=profile, hardware=hardware, assume_defaults=assume_defaults)


def diagnose_log(path: str | None = None, *, text: str | None = None, filename: str = "log") -> Diagnosis:
    """The diagnosis of a training log: a run folder or log file at `path`, or the log's `text` itself (JSON,
    JSON lines or CSV; `filename` is how the findings name it)."""
    from ..diagnose import diagnose_history, read_history

    if (path is None) == (text is None):
        raise InvalidInputError("diagnose: give either a path or the log's text, not both and not neither")
    if path is not None:
        return diagnose_history(read_history(path))
    assert text is not None
    return diagnose_bytes(text.encode(), filename)[0]


def diagnose_bytes(data: bytes, filename: str, *, plot: bool = False) -> tuple[Diagnosis, bytes | None]:
    """Diagnose a log given as its content (an upload, inline text): it is written under its plain name into a
    temporary folder and read by the log readers, which parse and never execute or unpickle. Errors and findings
    name `filename`, not the temporary copy. With `plot`, also the curves as PNG (None without matplotlib)."""
    from ..diagnose import diagnose_history, read_history
    from ..diagnose.report import plot_history

    name = safe_filename(filename)
    if len(data) > MAX_INLINE_LOG_BYTES:
        raise InvalidInputError(f"{name}: over {MAX_INLINE_LOG_BYTES >> 20} MiB; diagnose it from its path")
    with tempfile.TemporaryDirectory(prefix="dlexpert-log-") as tmp:
        log = Path(tmp) / name
        log.write_bytes(data)
        try:
            history = read_history(log)
        except InvalidInputError as exc:
            raise InvalidInputError(str(exc).replace(str(log), name)) from None
        diagnosis = diagnose_history(history).model_copy(update={"source": name})
        png = None
        if plot:
            try:
                png = plot_history(history, diagnosis, Path(tmp) / "curves.png").read_bytes()
            except InvalidInputError:  # matplotlib missing: the findings stand without the plot
                png = None
    return diagnosis, png


def safe_filename(name: str) -> str:
    """`name` reduced to a plain file name (no folders, no leading dots, at most 100 safe characters)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name.replace("\\", "/")).name).lstrip(".")[:100]
    return base or "log"


def profile_data(
    source: str, *, target: str | None = None, test: str | None = None, horizon: int | None = None,
    freq: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The profile of a built-in dataset or a path, as `dlexpert profile --format json` prints it."""
    from ..data.sources import profile_source

    return profile_source(source, target=target, test=test, horizon=horizon, freq=freq).model_dump(mode="json")


def catalog_models(
    *, pattern: str | None = None, task: str | None = None, domain: str | None = None, family: str | None = None,
    library: str | None = None, max_params_m: float | None = None, max_latency_ms: float | None = None,
    hardware: str = "cpu-laptop", limit: int = 25,
) -> dict[str, Any]:  # fmt: skip
    """Catalog models matching the filters, best published score first, as `dlexpert catalog --format json`."""
    from ..catalog import search_catalog

    if not 1 <= limit <= 500:
        raise InvalidInputError(f"limit: expected 1 to 500 rows; got {limit}")
    rows = search_catalog(pattern=pattern, task=task, domain=domain, family=family, library=library,
                          max_params_m=max_params_m, max_latency_ms=max_latency_ms, hardware=hardware)  # fmt: skip
    return {"count": len(rows), "hardware": hardware, "models": rows[:limit]}


def task_spec_schema() -> dict[str, Any]:
    """The TaskSpec JSON Schema with its `$defs` inlined, so it can sit under a tool argument."""
    from ..schema import json_schema

    schema = json_schema("input")
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline({k: v for k, v in node.items() if k != "$ref"} | defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        return [inline(v) for v in node] if isinstance(node, list) else node

    return {k: v for k, v in inline(schema).items() if k not in ("$schema",)}


def json_schema(which: Literal["input", "output"]) -> dict[str, Any]:
    """The JSON Schema of the task spec (`input`) or of the plan (`output`)."""
    from ..schema import json_schema as schema_of

    return schema_of(which)


class RunExplanation(BaseModel):
    """A run folder in one summary: what was trained, how it scored against its baselines, what the diagnosis
    found, and which files hold the rest."""

    run_dir: str
    task: str | None = Field(None, description="The spec's task in the user's words.")
    model: str | None = Field(None, description="The model the run trained (or the forecaster it shipped).")
    epochs_logged: int = Field(0, description="Epochs in metrics.jsonl so far.")
    last_epoch: dict[str, Any] | None = Field(None, description="The last epoch row of metrics.jsonl.")
    metric: str | None = Field(None, description="The headline metric's name.")
    value: float | None = Field(None, description="The headline metric on the test split (evaluation.json).")
    baselines: list[str] = Field(default_factory=list, description="The model against each baseline, in words.")
    ships: str | None = Field(None, description="What the run delivers, when it is not the trained network.")
    findings: list[dict[str, Any]] = Field(
        default_factory=list, description="The diagnosis of its training log: issue, severity, evidence, solutions."
    )
    card_summary: str | None = Field(None, description="The model card's first paragraph.")
    files: list[str] = Field(default_factory=list, description="The run's reports and artefacts that exist.")


def explain_run(run_dir: str | Path) -> RunExplanation:
    """Read a run folder (training may still be going on): its evaluation, the diagnosis of its log and its card."""
    from ..rundir import RunDir
    from ..schema.evaluation import headline_metric

    run = RunDir(run_dir)
    if not run.path.is_dir():
        raise InvalidInputError(f"{run.path}: no such run folder")
    if not any(run.has(name) for name in (run.TASK, run.CONFIG, run.METRICS, run.EVALUATION)):
        raise InvalidInputError(f"{run.path}: not a dlexpert run folder (no task.yaml, config.yaml or metrics.jsonl)")
    out = RunExplanation(run_dir=str(run.path))
    if run.has(run.TASK):
        out.task = run.task().task.specificTask
    epochs = run.epochs()
    out.epochs_logged, out.last_epoch = len(epochs), (epochs[-1] if epochs else None)
    if run.has(run.EVALUATION):
        evaluation = run.evaluation()
        key, name = headline_metric(evaluation.task if evaluation.forecast is None else "forecasting")
        out.metric, out.value, out.model = name, evaluation.metrics.get(key), evaluation.model
        out.baselines = list(evaluation.baseline.summary)
        if evaluation.forecast is not None:
            out.ships, out.model = evaluation.forecast.reason, evaluation.forecast.shipped
        elif evaluation.deliverable is not None:
            out.ships = evaluation.deliverable.reason
    if run.has(run.METRICS):
        out.findings = [f.model_dump(mode="json", exclude_none=True) for f in diagnose_log(str(run.path)).findings]
    if run.has(run.CARD):
        out.card_summary = _first_paragraph((run / run.CARD).read_text(encoding="utf-8"))
    names = (run.PLAN, run.EVALUATION, run.DIAGNOSIS, run.BENCH, run.CARD, run.REPORT, run.METRICS)
    out.files = [name for name in names if run.has(name)]
    return out


def _first_paragraph(markdown: str) -> str | None:
    """The first paragraph of prose after the title (headings, tables and comments skipped)."""
    for block in re.split(r"\n\s*\n", markdown):
        block = block.strip()
        if block and not block.startswith(("#", "|", "<!--", "```", ">")):
            return " ".join(block.split())[:1000]
    return None
