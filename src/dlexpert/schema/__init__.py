"""Typed contracts: the task spec (seed Input), the plan (seed Output), and the quantity parsers."""

from __future__ import annotations

import json
from typing import Any, Literal

from ._quantity import (
    AccuracyTarget,
    Budget,
    Compute,
    DataSize,
    Latency,
    ModelSize,
    parse_accuracy_target,
    parse_budget,
    parse_compute,
    parse_data_size,
    parse_latency,
    parse_model_size,
)
from .decisions import Decisions, Estimates, Fallback, ModelRecord, TrainingChoice, read_decisions, record_from_config
from .diagnosis import ISSUES, Diagnosis, Finding, sort_findings
from .evaluation import Evaluation
from .plan import Alternative, Assumption, Evidence, Plan, Question, WorkflowStep
from .run_config import MonitorSettings, RunConfig, RunData
from .task import DOMAINS, TASK_TYPES, TaskSpec, load_task, parse_task

__all__ = [
    "DOMAINS",
    "ISSUES",
    "TASK_TYPES",
    "AccuracyTarget",
    "Alternative",
    "Assumption",
    "Budget",
    "Compute",
    "DataSize",
    "Decisions",
    "Diagnosis",
    "Estimates",
    "Evaluation",
    "Evidence",
    "Fallback",
    "Finding",
    "Latency",
    "ModelRecord",
    "ModelSize",
    "MonitorSettings",
    "Plan",
    "Question",
    "RunConfig",
    "RunData",
    "TaskSpec",
    "TrainingChoice",
    "WorkflowStep",
    "json_schema",
    "load_task",
    "parse_accuracy_target",
    "parse_budget",
    "parse_compute",
    "parse_data_size",
    "parse_latency",
    "parse_model_size",
    "parse_task",
    "read_decisions",
    "record_from_config",
    "sort_findings",
]


def json_schema(which: Literal["input", "output"]) -> dict[str, Any]:
    """JSON Schema of the task spec (`input`) or the plan (`output`)."""
    model = TaskSpec if which == "input" else Plan
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dlexpert task spec (seed Input)" if which == "input" else "dlexpert plan (seed Output)"
    return json.loads(json.dumps(schema))
