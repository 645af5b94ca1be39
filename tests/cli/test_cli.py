"""The command line as scripts call it: real subprocesses, exit codes, one JSON document, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import EXAMPLES

DLEXPERT = [sys.executable, "-m", "dlexpert.cli.main"]


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([*DLEXPERT, *args], input=stdin, capture_output=True, text=True, timeout=120, env=env)


def in_process(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line run in this process (typer's runner): the exit code and streams `run` gives, without a new
    interpreter importing torch (seconds on 2 cores); a traceback is raised here, not hidden behind exit code 1."""
    from typer.testing import CliRunner

    from dlexpert.cli.main import app

    r = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return subprocess.CompletedProcess(["dlexpert", *args], r.exit_code, r.stdout, r.stderr)


def test_plan_json_is_one_document_on_stdout() -> None:
    r = run("plan", str(EXAMPLES / "cifar10-resnet.yaml"), "--format", "json")
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert set(plan) >= {"modelDesign", "trainingStrategy", "debuggingGuidance", "engineeringPractice"}
    assert plan["modelDesign"]["pretrainedModel"]["source"]


@pytest.mark.parametrize("example", ["edge-detection.yaml", "cifar10-resnet.yaml"])  # the second asks timm's cache
def test_plan_does_not_import_torch(example: str) -> None:
    code = (
        f"import sys, runpy; sys.argv=['dlexpert','plan',{str(EXAMPLES / example)!r},'--format','json']\n"
        "try:\n runpy.run_module('dlexpert.cli.main', run_name='__main__')\nexcept SystemExit: pass\n"
        "assert 'torch' not in sys.modules, 'plan imported torch'"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_plan_markdown_has_checklist_and_alternatives_table() -> None:
    r = run("plan", str(EXAMPLES / "llm-support-bot.yaml"), "--format", "md")
    assert r.returncode == 0, r.stderr
    assert "- [x] Step 1: Task requirement analysis" in r.stdout
    assert "| model | architecture | params (M) | accuracy | latency |" in r.stdout


def test_plan_reads_stdin_and_writes_file_atomically(tmp_path: Path) -> None:
    spec = (EXAMPLES / "sensor-forecast.yaml").read_text()
    out = tmp_path / "plan.json"
    r = run("plan", "-", "--format", "json", "-o", str(out), stdin=spec)
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["modelDesign"]["architecture"]
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]  # no temporary file left behind


def test_missing_information_exits_3_with_questions_and_still_prints_json(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("task: {type: classification, domain: CV}\n")
    r = run("plan", str(spec), "--format", "json")
    assert r.returncode == 3
    doc = json.loads(r.stdout)
    assert {q["field"] for q in doc["questions"]} == {"data.size", "constraints.computeResources"}
    assert "question" in r.stderr
    r2 = run("plan", str(spec), "--format", "json", "--assume-defaults")
    assert r2.returncode == 0
    assert len(json.loads(r2.stdout)["assumptions"]) == 2


def test_hardware_option_overrides_and_auto_detects(tmp_path: Path) -> None:
    r = run("plan", str(EXAMPLES / "cifar10-resnet.yaml"), "--format", "json", "--hardware", "cpu-laptop")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["trainingStrategy"]["trainingTechniques"]["mixedPrecision"] is False
    auto = run("plan", str(EXAMPLES / "cifar10-resnet.yaml"), "--format", "json", "--hardware", "auto")
    assert auto.returncode == 0, auto.stderr
    assert any(e["claim"] == "training hardware (detected)" for e in json.loads(auto.stdout)["evidence"])
    bad = run("plan", str(EXAMPLES / "cifar10-resnet.yaml"), "--hardware", "gtx9999")
    assert bad.returncode == 2 and "unknown hardware profile 'gtx9999'" in bad.stderr


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "empty"),
        ("task: [", "invalid YAML"),
        ("task: {type: classification, domain: CV}\nconstrains: {}\n", "did you mean 'constraints'"),
        ("task: {type: clasification, domain: CV}\n", "expected one of"),
        (
            "task: {type: classification, domain: CV}\nconstraints: {latencyRequirement: '< -5 ms'}\n",
            "latencyRequirement",
        ),
        (
            "task: {type: classification, domain: CV}\ndata: {distribution: balanced}\nchallenges: [long-tail]\n",
            "balanced",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path: Path, content: str, needle: str) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(content)
    r = run("plan", str(spec))
    assert r.returncode == 2
    assert needle in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert str(spec) in r.stderr
    assert r.stdout == ""


def test_missing_file_exits_2() -> None:
    r = run("plan", "no/such/spec.yaml")
    assert r.returncode == 2 and "no such file" in r.stderr


def test_schema_commands_print_json_schema() -> None:
    for which, key in (("input", "TaskSpec"), ("output", "Plan")):
        r = run("schema", which)
        assert r.returncode == 0
        doc = json.loads(r.stdout)
        assert doc["$schema"].startswith("https://json-schema.org/")
        assert key in doc["title"] or doc["properties"]


def test_catalog_filters_by_task_latency_and_hardware() -> None:
    r = run(
        "catalog",
        "--task",
        "classification",
        "--max-latency-ms",
        "10",
        "--hardware",
        "cpu-laptop",
        "--format",
        "json",
        "--limit",
        "500",
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["count"] > 10
    assert all(m["latency_ms"] <= 10 for m in doc["models"])
    scores = [float(m["score"].split()[1]) for m in doc["models"] if m["score"].startswith("top1")]
    assert scores == sorted(scores, reverse=True)


def test_catalog_glob_and_table() -> None:
    r = run("catalog", "convnext_tiny*", "--limit", "3")
    assert r.returncode == 0, r.stderr
    assert "convnext_tiny" in r.stdout
    bad = run("catalog", "--task", "dancing")
    assert bad.returncode == 2 and "expected one of" in bad.stderr
