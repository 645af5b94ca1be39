"""What `dlexpert diagnose` returns: findings in the seed's `commonIssues` shape, plus severity and evidence.

A `Finding` is `{issue, diagnosis, solution}` as the seed's `debuggingGuidance.commonIssues` has it, with
`severity` (info|warning|error), `evidence` (the numbers the rule saw) and where the problem began. A healthy run
has no finding of severity warning or above (DESIGN.md, "Diagnosis vocabulary").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
    "divergence",
    "stuck",
    "invalid_loss",
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


# ------------------------------------------------------------------------------------------ causes before symptoms


@dataclass(frozen=True)
class Explains:
    """`cause` explains `effect`: when both are found in one run (the cause at warning or above) and the conditions
    hold, the effect is ranked after its cause, its severity is capped at the cause's, and its diagnosis says it is
    likely a consequence. `cause_if` / `effect_if` map an evidence key (or "severity") of that finding to the values
    it must have (None matches a key the finding does not report)."""

    cause: str
    effect: str
    why: str  # the mechanism, written for the user; the comment above each entry cites where it comes from
    cause_if: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    effect_if: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


# Which finding explains which, and why. A finding that names the mechanism (nan_inf, exploding or vanishing gradients,
# a learning rate that makes the loss oscillate, a loss still falling steadily but too slowly, a layer of dead units)
# comes before the symptoms that mechanism produces (underfitting, constant predictions, loss spikes, dead units): the
# remedy of the cause is the one to apply first, and the symptom usually goes away with it (seed Step 5 lists causes
# with their remedies; AUTOTRAINER, Zhang et al. ICSE 2021, likewise diagnoses the gradient or activation problem
# behind a run that does not converge, not the non-convergence itself).
_AFTER_NAN = "the curves after the first non-finite value are not training any more"
CAUSAL_LINKS: tuple[Explains, ...] = (
    # seed Step 5 (NaN/Inf): once the loss is NaN/Inf training is over; curve shapes after it are artefacts.
    *(
        Explains("nan_inf", effect, _AFTER_NAN, cause_if={"severity": ("error",)})
        for effect in (
            "loss_spike",
            "loss_oscillation",
            "underfitting",
            "slow_convergence",
            "constant_prediction",
            "overfitting",
            "train_val_gap",
            "divergence",
            "stuck",
        )
    ),
    # An impossible loss (a negative cross-entropy, a loss unbounded below) is the diagnosis: the shapes of its curve
    # are not a training signal.
    *(
        Explains("invalid_loss", effect, "the loss values are not a valid loss, so their shape says nothing")
        for effect in (
            "loss_spike",
            "loss_oscillation",
            "underfitting",
            "slow_convergence",
            "overfitting",
            "train_val_gap",
            "divergence",
            "stuck",
            "exploding_gradients",
            "lr_not_decaying",
        )
    ),
    # problems.yaml exploding_gradients: the loss rises at the steps where the gradient norm surges (Pascanu et al.,
    # arXiv 1211.5063).
    Explains("exploding_gradients", "loss_spike", "the loss jumps where the gradient norm surged"),
    Explains("exploding_gradients", "loss_oscillation", "the surging updates throw the loss up and down"),
    Explains("exploding_gradients", "underfitting", "the oversized updates keep the model from fitting"),
    Explains("exploding_gradients", "divergence", "the oversized updates drove the loss up"),
    Explains("exploding_gradients", "stuck", "the oversized updates collapsed the model to a constant"),
    # constant_prediction's causes (rule docstring; Karpathy's recipe): a learning rate high enough to collapse the
    # output to the label prior.
    Explains("exploding_gradients", "constant_prediction", "oversized updates collapsed the output to one class"),
    # problems.yaml dead_relu: dead units "usually follow too high a learning rate" (one large update pushes them into
    # the negative region); only for units that died during training (dead from the start points at initialisation).
    Explains(
        "exploding_gradients",
        "dead_relu",
        "oversized updates pushed the units into the negative region",
        effect_if={"dead_from_start": (False,)},
    ),
    # problems.yaml vanishing_gradients: saturated sigmoid/tanh units are a common cause (Glorot & Bengio, 2010), and
    # exploded weights drive the pre-activations into saturation, where the gradient is ~0.
    Explains("exploding_gradients", "vanishing_gradients", "exploded weights saturate the activations"),
    # problems.yaml vanishing_gradients: tiny first-layer gradients "while the loss stays flat"; the input's signal
    # does not train the early layers, so the head learns the label prior only.
    Explains("vanishing_gradients", "underfitting", "the early layers get almost no gradient, so nothing is learned"),
    # divergence and stuck (diagnose/rules/failure.py) are the outcome; a specific mechanism found in the same run is
    # the diagnosis to act on, so it ranks first.
    Explains("vanishing_gradients", "stuck", "the early layers get almost no gradient, so nothing moves"),
    Explains("constant_prediction", "stuck", "a constant output is why the loss and accuracy do not move"),
    Explains("slow_convergence", "stuck", "the loss still falls, too slowly to leave chance yet"),
    Explains("loss_oscillation", "divergence", "the overshooting learning rate drives the loss up"),
    Explains("vanishing_gradients", "slow_convergence", "the early layers get almost no gradient and learn slowly"),
    Explains(
        "vanishing_gradients", "constant_prediction", "with untrained early layers only the label prior is learned"
    ),
    # Amazon SageMaker Debugger DeadRelu / constant_prediction's causes (rule docstring): a layer with >= 99% dead
    # units (dead_relu at error) passes no signal forward and no gradient back; a partly dead layer still learns.
    *(
        Explains(
            "dead_relu",
            effect,
            "a layer whose units are all dead passes no signal or gradient",
            cause_if={"severity": ("error",)},
        )
        for effect in ("constant_prediction", "underfitting", "vanishing_gradients")
    ),
    # problems.yaml loss_oscillation (check the learning rate first) and dead_relu (follows too high a learning rate):
    # an oscillating loss is the direct evidence of a learning rate that overshoots; the spikes are its upswings.
    Explains("loss_oscillation", "loss_spike", "the spikes are the oscillation's upswings"),
    Explains("loss_oscillation", "underfitting", "the learning rate overshoots instead of descending"),
    Explains("loss_oscillation", "constant_prediction", "too high a learning rate collapses the output to one class"),
    Explains(
        "loss_oscillation",
        "dead_relu",
        "too high a learning rate pushes units into the negative region",
        effect_if={"dead_from_start": (False,)},
    ),
    # problems.yaml loss_oscillation remedies: a decaying schedule damps late oscillation; it was planned but not run.
    Explains("lr_not_decaying", "loss_oscillation", "the planned decay that would damp the swings never happened"),
    # problems.yaml slow_convergence: the loss "is still falling steadily at the end of the budget" (a learning rate
    # too low), which is not underfitting (a model that cannot fit: problems.yaml underfitting); a model still early
    # in learning predicts the label prior.
    Explains("slow_convergence", "underfitting", "the loss is still falling steadily, only too slowly"),
    Explains("slow_convergence", "constant_prediction", "the model has not yet learned to tell the classes apart"),
    # problems.yaml poor_initialization / dead_relu (large negative biases): units dead from the first measurement.
    Explains(
        "poor_initialization",
        "dead_relu",
        "the initialisation left the units dead from the start",
        effect_if={"dead_from_start": (True,)},
    ),
    # problems.yaml constant_prediction: "the model ignores its input", so it cannot fit its training set ...
    Explains(
        "constant_prediction",
        "underfitting",
        "a model whose output ignores its input cannot fit the data",
        effect_if={"weights_barely_move": (False, None)},
    ),
    # ... unless the weights barely move (update/weight ratio < 1e-5: problems.yaml bad_update_ratio, CS231n ~1e-3):
    # then the constant output is the untrained network's, and the learning rate is the cause.
    Explains(
        "underfitting",
        "constant_prediction",
        "the weights barely move, so the output is still the untrained one",
        cause_if={"weights_barely_move": (True,)},
    ),
)


def _matches(f: Finding, conditions: Mapping[str, tuple[Any, ...]]) -> bool:
    return all((f.severity if k == "severity" else f.evidence.get(k)) in ok for k, ok in conditions.items())


def _links(findings: list[Finding]) -> dict[int, list[tuple[int, Explains]]]:
    """For each finding (by position), the findings that explain it and the link that says so."""
    by_issue: dict[str, list[int]] = {}
    for i, f in enumerate(findings):
        by_issue.setdefault(f.issue, []).append(i)
    causes: dict[int, list[tuple[int, Explains]]] = {}
    for link in CAUSAL_LINKS:
        for c in by_issue.get(link.cause, []):
            cause = findings[c]
            if SEVERITY_RANK[cause.severity] < SEVERITY_RANK["warning"] or not _matches(cause, link.cause_if):
                continue
            for e in by_issue.get(link.effect, []):
                if _matches(findings[e], link.effect_if):
                    causes.setdefault(e, []).append((c, link))
    return causes


def _key(f: Finding, severity: str) -> tuple[float, float, float]:
    return (-SEVERITY_RANK[severity], -f.confidence, f.began_at if f.began_at is not None else 1e30)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most important first: severity, then confidence, then the earliest onset; and causes before the symptoms
    they explain (`CAUSAL_LINKS`). A symptom whose cause was found is placed after it, its severity capped at the
    cause's, and its diagnosis and evidence (`explained_by`) say so; findings without a link keep their order.
    """
    causes = _links(findings)
    severity = [f.severity for f in findings]
    # Cap severities cause-first (a cause's own cap passes on); a cycle of links stops after len(findings) rounds.
    for _ in range(len(findings)):
        changed = False
        for e, cs in causes.items():
            cap = max((severity[c] for c, _ in cs), key=SEVERITY_RANK.__getitem__)
            new = min(severity[e], cap, key=SEVERITY_RANK.__getitem__)
            if new != severity[e]:
                severity[e], changed = new, True
        if not changed:
            break
    # Kahn's topological order, taking the most important finding whose causes are all placed; on a cycle, the most
    # important remaining one.
    left = set(range(len(findings)))
    order: list[int] = []
    while left:
        ready = [i for i in left if all(c not in left for c, _ in causes.get(i, []))] or list(left)
        best = min(ready, key=lambda i: (_key(findings[i], severity[i]), i))
        order.append(best)
        left.remove(best)
    return [_explained(findings[i], severity[i], [(findings[c], k) for c, k in causes.get(i, [])]) for i in order]


def _explained(f: Finding, severity: str, causes: list[tuple[Finding, Explains]]) -> Finding:
    """`f` with its severity capped and its causes named (unchanged, the same object, when nothing explains it)."""
    if not causes or "explained_by" in f.evidence:  # already annotated (sorted twice)
        return f
    names = list(dict.fromkeys(c.issue for c, _ in causes))
    why = "; ".join(dict.fromkeys(f"{_said(link.cause)}: {link.why}" for _, link in causes))
    evidence = {**f.evidence, "explained_by": names}
    if severity != f.severity:
        evidence["severity_before"] = f.severity
    note = f" Likely a consequence of {' and '.join(_said(n) for n in names)}, reported before this ({why})."
    return f.model_copy(update={"severity": severity, "diagnosis": f.diagnosis + note, "evidence": evidence})


_SAID = {"nan_inf": "the NaN/Inf values", "dead_relu": "the dead ReLU units", "lr_not_decaying": "the lr not decaying"}


def _said(issue: str) -> str:
    """An issue as a diagnosis names it in words ("exploding gradients", not "exploding_gradients")."""
    return _SAID.get(issue, issue.replace("_", " "))
