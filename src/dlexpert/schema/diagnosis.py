"""What `dlexpert diagnose` returns: findings in the seed's `commonIssues` shape, plus severity and evidence.

A `Finding` is `{issue, diagnosis, solution}` as the seed's `debuggingGuidance.commonIssues` has it, with
`severity` (info|warning|error), `evidence` (the numbers the rule saw) and where the problem began. A healthy run
has no finding of severity warning or above (DESIGN.md, "Diagnosis vocabulary").
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["info", "warning", "error"]
SEVERITY_RANK = {"error": 2, "warning": 1, "info": 0}

# DESIGN.md's vocabulary (these must exist) and the additions the issue asks for.
ISSUES = (
    "nan_inf",
    "exploding_gradients",
    "vanishing_gradients",
    "dead_relu",
    "overfitting",
    "underfitting",
    "slow_convergence",
    "loss_oscillation",
    "lr_not_decaying",
    "data_bottleneck",
    "loss_spike",
    "poor_initialization",
    "constant_prediction",
    "train_val_gap",
)


class Finding(BaseModel):
    """One problem seen in a run: what, how sure and how bad, the numbers, and what to do (most effective first)."""

    model_config = ConfigDict(extra="forbid")

    issue: str
    severity: Severity
    diagnosis: str = Field(description="What was seen and what it means, with numbers.")
    solution: list[str] = Field(description="What to do, most effective first.")
    evidence: dict[str, Any] = Field(default_factory=dict, description="The numbers the rule measured.")
    axis: Literal["step", "epoch"] | None = Field(default=None, description="Unit of `began_at`.")
    began_at: float | None = Field(default=None, description="Step or epoch where the problem began.")
    confidence: float = Field(default=1.0, ge=0.0, le=1.0, description="How clearly the data shows it (orders ties).")
    rule: str = Field(description="Name of the rule that raised it.")
    source: str | None = Field(default=None, description="Where the rule's thresholds come from.")


class Diagnosis(BaseModel):
    """All findings for one run, most important first, and what was read to reach them."""

    model_config = ConfigDict(extra="forbid")

    source: str
    healthy: bool = Field(description="True when no finding has severity warning or error.")
    findings: list[Finding]
    series: list[str] = Field(default_factory=list, description="Series read, as canonical name@axis.")
    unknown_series: list[str] = Field(default_factory=list, description="Series kept but not understood.")
    warnings: list[str] = Field(default_factory=list, description="What could not be read, and why.")
    actions: list[dict[str, Any]] = Field(default_factory=list, description="Auto-remedy actions taken, if any.")


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most important first: severity, then confidence, then the earliest onset."""
    return sorted(
        findings,
        key=lambda f: (-SEVERITY_RANK[f.severity], -f.confidence, f.began_at if f.began_at is not None else 1e30),
    )
