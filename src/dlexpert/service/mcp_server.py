"""`dlexpert mcp`: dlexpert's operations as Model Context Protocol tools over stdio, on the official `mcp` SDK
(`MCPServer`), for coding agents and IDE assistants.

Tools: `plan`, `diagnose`, `profile`, `catalog`, `schema` and `explain_run` answer at once; `start_run`,
`start_train` and `start_compress` start the long commands in the background (`jobs`) and return a run id, which
`run_status` follows. Input schemas come from the function signatures and, for the task spec, from the `TaskSpec`
model with its field descriptions. A bad input is a tool error carrying the CLI's one-line message. Runs live under
one folder (`--runs`), named by run ids that cannot leave it. Nothing here imports torch."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, WithJsonSchema

from ..errors import DlexpertError, InvalidInputError
from ..schema import Diagnosis, Plan
from . import jobs, tools

F = TypeVar("F", bound=Callable[..., Any])

INSTRUCTIONS = (
    "dlexpert plans deep-learning work and carries it out, grounding every claim in a measured number or a cited "
    "source. Start with `plan` (a task spec: task.type, task.domain, task.specificTask, data, constraints). When the "
    "plan has `questions`, ask the user or call again with assume_defaults. `diagnose` reads a training log; "
    "`start_run` trains and evaluates in the background (follow it with `run_status`, then `explain_run`)."
)


DataArg = Annotated[str, Field(description="A built-in dataset name or a path.")]
TargetArg = Annotated[str | None, Field(description="The target column of a table.")]
EpochsArg = Annotated[int | None, Field(ge=1, le=10_000, description="Override the plan's epochs.")]
NewRunIdArg = Annotated[str | None, Field(description="The run folder's name (default: COMMAND-DATE-TIME).")]
TaskArg = Annotated[
    dict[str, Any], WithJsonSchema(tools.task_spec_schema()), Field(description="The task spec (the seed Input).")
]


def _tool_errors(fn: F) -> F:
    """A DlexpertError (bad input, a missing file) becomes an MCP tool error with the CLI's one-line message."""
    from mcp.server.mcpserver.exceptions import ToolError

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DlexpertError as exc:
            raise ToolError(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def build_server(runs: Path) -> Any:
    """An `mcp.server.MCPServer` with dlexpert's tools; runs started through it live under `runs`."""
    from mcp.server import MCPServer
    from mcp_types import ToolAnnotations

    from .. import __version__

    server = MCPServer("dlexpert", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    starts = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)

    @server.tool(annotations=read_only)
    @_tool_errors
    def plan(
        task: TaskArg,
        data: Annotated[str | None, Field(description="Profile this dataset (built-in name or path) first.")] = None,
        target: Annotated[str | None, Field(description="With data: the label column of a table.")] = None,
        hardware: Annotated[str | None, Field(description="Hardware profile name, overriding the spec's.")] = None,
        assume_defaults: Annotated[
            bool, Field(description="Proceed on stated assumptions instead of returning questions.")
        ] = False,
    ) -> Plan:
        """Plan a deep-learning task: architecture, pretrained model, training recipe, debugging checklist,
        deployment path and expected performance, each with its evidence (the seed Output)."""
        return tools.plan_task(task, data=data, target=target, hardware=hardware, assume_defaults=assume_defaults)

    @server.tool(annotations=read_only)
    @_tool_errors
    def diagnose(
        path: Annotated[
            str | None, Field(description="A run folder or log file (TensorBoard, CSV, JSONL, trainer_state.json).")
        ] = None,
        text: Annotated[
            str | None,
            Field(description="Or the log itself: trainer_state.json, Keras history, JSON lines or CSV text."),
        ] = None,
        filename: Annotated[str, Field(description="With text: the log's name, for the report.")] = "log",
    ) -> Diagnosis:
        """Diagnose a training run from its log: each finding with its evidence, cause, severity and solutions."""
        return tools.diagnose_log(path, text=text, filename=filename)

    @server.tool(annotations=read_only)
    @_tool_errors
    def profile(
        source: Annotated[str, Field(description="A built-in dataset name or a path.")],
        target: TargetArg = None,
        test: Annotated[str | None, Field(description="A fixed test set, checked for leakage.")] = None,
        horizon: Annotated[int | None, Field(ge=1, description="Profile series to forecast this far.")] = None,
        freq: Annotated[str | None, Field(description="Forecasting: the series' frequency (D, W, MS...).")] = None,
    ) -> dict[str, Any]:
        """Profile a dataset: counts, class balance, shapes, statistics, duplicates, leakage and problems found."""
        return tools.profile_data(source, target=target, test=test, horizon=horizon, freq=freq)

    @server.tool(annotations=read_only)
    @_tool_errors
    def catalog(
        pattern: Annotated[str | None, Field(description="Glob or substring of the model name.")] = None,
        task: Annotated[str | None, Field(description="classification, detection, segmentation, ...")] = None,
        domain: Annotated[str | None, Field(description="CV, NLP, audio, multimodal or time-series.")] = None,
        family: Annotated[str | None, Field(description="Architecture family, e.g. resnet, vit.")] = None,
        library: Annotated[str | None, Field(description="timm, torchvision, transformers, ...")] = None,
        max_params_m: Annotated[float | None, Field(gt=0, description="Largest parameter count, millions.")] = None,
        max_latency_ms: Annotated[float | None, Field(gt=0, description="Largest batch-1 latency.")] = None,
        hardware: Annotated[str, Field(description="Hardware profile for latency.")] = "cpu-laptop",
        limit: Annotated[int, Field(ge=1, le=500, description="At most this many models.")] = 25,
    ) -> dict[str, Any]:
        """Catalog models matching the filters, best published score first, with sources."""
        return tools.catalog_models(pattern=pattern, task=task, domain=domain, family=family, library=library,
                                    max_params_m=max_params_m, max_latency_ms=max_latency_ms, hardware=hardware,
                                    limit=limit)  # fmt: skip

    @server.tool(annotations=read_only)
    @_tool_errors
    def schema(which: Literal["input", "output"]) -> dict[str, Any]:
        """The JSON Schema of the task spec (input) or of the plan (output)."""
        return tools.json_schema(which)

    @server.tool(annotations=read_only)
    @_tool_errors
    def explain_run(
        run_id: Annotated[str, Field(description="A run folder's name under the runs folder.")],
    ) -> tools.RunExplanation:
        """A run in one summary: its task and model, the headline metric against its baselines, what it ships,
        the diagnosis of its log, its card's summary and the report files it has."""
        return tools.explain_run(_existing_run(runs, run_id))

    @server.tool(annotations=starts)
    @_tool_errors
    def start_run(
        task: TaskArg,
        data: DataArg,
        run_id: NewRunIdArg = None,
        target: TargetArg = None,
        epochs: EpochsArg = None,
        horizon: Annotated[int | None, Field(ge=1, description="Forecasting: steps to forecast.")] = None,
        seed: int = 0,
    ) -> jobs.JobStatus:
        """Start `dlexpert run` in the background: plan, train, evaluate beside baselines, write the model card
        and report. Returns at once with a run id; follow it with run_status, then explain_run."""
        return _start(runs, "run", task, data, run_id, target=target, epochs=epochs, horizon=horizon, seed=seed)

    @server.tool(annotations=starts)
    @_tool_errors
    def start_train(
        task: TaskArg,
        data: DataArg,
        run_id: NewRunIdArg = None,
        target: TargetArg = None,
        epochs: EpochsArg = None,
        seed: int = 0,
    ) -> jobs.JobStatus:
        """Start `dlexpert train` in the background (training only, no evaluation). Returns a run id at once."""
        return _start(runs, "train", task, data, run_id, target=target, epochs=epochs, seed=seed)

    @server.tool(annotations=starts)
    @_tool_errors
    def start_compress(
        run_id: Annotated[str, Field(description="A trained run's folder name.")],
        method: Literal["int8", "fp16", "bf16", "prune", "distill"],
    ) -> jobs.JobStatus:
        """Start `dlexpert compress` on a trained run in the background; the variant is kept only if accuracy
        holds. Follow it with run_status."""
        _existing_run(runs, run_id)
        return jobs.start_job(runs, run_id, "compress", ["--method", method])

    @server.tool(annotations=read_only)
    @_tool_errors
    def run_status(run_id: Annotated[str, Field(description="The id a start_* tool returned.")]) -> jobs.JobStatus:
        """Where a background job stands: running, finished, failed (with its one-line error) or lost, and its
        epochs so far from metrics.jsonl."""
        return jobs.status(runs, run_id)

    return server


def _existing_run(runs: Path, run_id: str) -> Path:
    path = jobs.run_folder(runs, run_id)
    if not path.is_dir():
        raise InvalidInputError(f"run_id: no run {run_id!r} under {runs}")
    return path


def _start(runs: Path, command: str, task: dict[str, Any], data: str, run_id: str | None, *, seed: int,
           **options: Any) -> jobs.JobStatus:  # fmt: skip
    """Validate the spec here, so a bad one is a tool error now rather than a failed job later, then start it."""
    from ..schema import parse_task

    parse_task(task, source="task")
    args = ["--data", data, "--seed", str(seed)]
    for name, value in options.items():
        if value is not None:
            args += [f"--{name}", str(value)]
    runs.mkdir(parents=True, exist_ok=True)
    return jobs.start_job(runs, run_id or jobs.new_run_id(runs, command), command, args, spec=task)


def serve_stdio(runs: Path) -> None:
    """Serve over standard input/output until the client closes it."""
    build_server(runs).run("stdio")
