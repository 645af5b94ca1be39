"""`dlexpert mcp` driven by the MCP SDK's own client: over stdio as an agent launches it (list the tools, check their
schemas, call each one, bad input), and in process to check which tools keep torch out."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp", reason="the MCP SDK is the `serve` extra")

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from dlexpert.schema import Diagnosis, Plan

TASK = {"task": {"type": "classification", "domain": "CV", "specificTask": "sort photos of 10 bird species"},
        "data": {"size": "5k images", "labelAvailability": "fully-supervised"}}  # fmt: skip
# A Keras CSVLogger file as people commit them: validation loss turns up after epoch 2 while training loss falls.
OVERFIT_CSV = "epoch,accuracy,loss,val_accuracy,val_loss\n" + "\n".join(
    f"{e},{0.5 + 0.05 * e:.3f},{1.2 * 0.8**e:.4f},{0.55 + 0.01 * min(e, 2):.3f},{0.9 + 0.08 * max(0, e - 2) ** 1.3:.4f}"
    for e in range(10)
)
EXPECTED_TOOLS = {"plan", "diagnose", "profile", "catalog", "schema", "explain_run", "start_run", "start_train",
                  "start_compress", "run_status"}  # fmt: skip


def with_client(runs: Path, body: Callable[[Client], Awaitable[Any]]) -> Any:
    """Launch `dlexpert mcp --runs RUNS` as an agent does (a stdio subprocess) and run `body` against it."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "dlexpert", "mcp", "--runs", str(runs)],
                                   env={"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
                                        "PYTHONPATH": os.environ.get("PYTHONPATH", "")})  # fmt: skip

    async def main() -> Any:
        async with Client(params, read_timeout_seconds=120) as client:
            return await body(client)

    return asyncio.run(main())


def error_text(result: Any) -> str:
    assert result.is_error, result.structured_content
    return result.content[0].text


def test_the_tools_their_schemas_and_every_read_only_call_over_stdio(tmp_path: Path) -> None:
    async def body(c: Client) -> dict[str, Any]:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        calls = {
            "plan": await c.call_tool("plan", {"task": TASK, "assume_defaults": True}),
            "diagnose": await c.call_tool("diagnose", {"text": OVERFIT_CSV, "filename": "training.log"}),
            "profile": await c.call_tool("profile", {"source": "digits"}),
            "catalog": await c.call_tool("catalog", {"task": "classification", "max_params_m": 10, "limit": 3}),
            "schema": await c.call_tool("schema", {"which": "output"}),
        }
        return {"tools": tools, "calls": calls}

    got = with_client(tmp_path / "runs", body)
    tools, calls = got["tools"], got["calls"]
    assert set(tools) == EXPECTED_TOOLS
    for tool in tools.values():
        assert tool.input_schema["type"] == "object" and tool.description and tool.output_schema
    task_schema = tools["plan"].input_schema["properties"]["task"]
    assert {"task", "data", "constraints"} <= set(task_schema["properties"])  # the TaskSpec model, inlined
    assert task_schema["properties"]["task"]["properties"]["specificTask"]["description"]
    assert "$ref" not in json.dumps(task_schema)
    assert tools["plan"].annotations.read_only_hint and not tools["start_run"].annotations.read_only_hint

    assert not any(r.is_error for r in calls.values()), {k: r.content for k, r in calls.items() if r.is_error}
    plan = Plan.model_validate(calls["plan"].structured_content)
    assert plan.modelDesign.pretrainedModel.source and plan.evidence
    diagnosis = Diagnosis.model_validate(calls["diagnose"].structured_content)
    assert "overfitting" in [f.issue for f in diagnosis.findings] and diagnosis.source == "training.log"
    assert calls["profile"].structured_content["n_classes"] == 10
    catalog = calls["catalog"].structured_content
    assert 0 < len(catalog["models"]) <= 3 and all(m["params_m"] <= 10 for m in catalog["models"])
    assert calls["schema"].structured_content["title"] == "dlexpert plan (seed Output)"


def test_bad_input_is_a_tool_error_with_the_cli_s_one_line_message(tmp_path: Path) -> None:
    bad_spec_text = {"task": {"type": "classificaton", "domain": "CV"}}

    async def body(c: Client) -> list[str]:
        return [
            error_text(await c.call_tool("plan", {"task": bad_spec_text})),
            error_text(await c.call_tool("diagnose", {})),
            error_text(await c.call_tool("diagnose", {"path": str(tmp_path / "missing.csv")})),
            error_text(await c.call_tool("explain_run", {"run_id": "../etc"})),
            error_text(await c.call_tool("run_status", {"run_id": "never-started"})),
            error_text(await c.call_tool("catalog", {"limit": 0})),
            error_text(await c.call_tool("start_compress", {"run_id": "nope", "method": "int8"})),
        ]

    spec_error, neither, missing, traversal, unknown, limit, no_run = with_client(tmp_path / "runs", body)
    assert "task.type: unknown task type 'classificaton' (did you mean 'classification'?)" in spec_error
    assert "\n" not in spec_error and "Traceback" not in spec_error
    assert "either a path or the log's text" in neither
    assert f"{tmp_path / 'missing.csv'}: no such file or folder" in missing
    assert "run_id: expected a folder name" in traversal and "'../etc'" in traversal
    assert "no job 'never-started'" in unknown
    assert "limit" in limit
    assert "no run 'nope'" in no_run


@pytest.mark.slow  # ~14 s: a whole training job behind the MCP server; kept out of `make test` for its 15-minute budget
def test_a_background_job_is_followed_to_its_end_and_a_failed_one_says_why(tmp_path: Path) -> None:
    """start_run returns at once with a run id; run_status follows it. The failing job (data that does not exist)
    ends in `failed` with the command's one-line error; the training job ends `finished` with its epochs logged,
    and explain_run then reads its folder."""
    runs = tmp_path / "runs"

    async def body(c: Client) -> dict[str, Any]:
        t = time.perf_counter()
        started = await c.call_tool("start_train", {"task": TASK | {"task": {"type": "classification",
                                    "domain": "CV", "specificTask": "digits"}}, "data": "digits", "epochs": 1,
                                    "run_id": "tiny"})  # fmt: skip
        returned_in = time.perf_counter() - t
        failing = await c.call_tool("start_run", {"task": TASK, "data": str(tmp_path / "nothing-here")})
        states: dict[str, Any] = {}
        for run_id in ("tiny", failing.structured_content["run_id"]):
            for _ in range(600):
                status = (await c.call_tool("run_status", {"run_id": run_id})).structured_content
                if status["state"] != "running":
                    break
                await asyncio.sleep(0.5)
            states[run_id] = status
        explained = await c.call_tool("explain_run", {"run_id": "tiny"})
        again = await c.call_tool("start_train", {"task": TASK, "data": "digits", "run_id": "tiny"})
        return {"started": started, "returned_in": returned_in, "states": states, "explained": explained,
                "again": again}  # fmt: skip

    got = with_client(runs, body)
    assert got["returned_in"] < 10 and got["started"].structured_content["state"] in ("running", "finished")
    tiny, failed = got["states"]["tiny"], next(v for k, v in got["states"].items() if k != "tiny")
    assert tiny["state"] == "finished" and tiny["exit_code"] == 0 and tiny["epochs_done"] == 1, tiny
    assert failed["state"] == "failed" and failed["exit_code"] == 2 and "nothing-here" in failed["error"], failed
    explained = got["explained"].structured_content
    assert explained["epochs_logged"] == 1 and explained["task"] == "digits" and "metrics.jsonl" in explained["files"]
    assert "tiny exists" in error_text(got["again"])
    assert (runs / ".jobs" / "tiny" / "task.yaml").is_file() and (runs / "tiny" / "metrics.jsonl").is_file()


def test_plan_diagnose_catalog_and_schema_never_import_torch(tmp_path: Path) -> None:
    """The server's light tools, called in process through the SDK's in-memory client, leave torch unimported."""
    code = f"""
import asyncio, sys
from mcp import Client
from dlexpert.service.mcp_server import build_server
async def main():
    async with Client(build_server({str(tmp_path)!r})) as c:
        for name, args in [("plan", {{"task": {TASK!r}, "assume_defaults": True}}),
                           ("diagnose", {{"text": {OVERFIT_CSV!r}}}), ("catalog", {{"limit": 2}}),
                           ("schema", {{"which": "input"}})]:
            r = await c.call_tool(name, args)
            assert not r.is_error, (name, r.content)
asyncio.run(main())
assert "torch" not in sys.modules, "a light MCP tool imported torch"
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
