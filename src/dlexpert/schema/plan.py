"""`Plan`: the specification's `Output`, field for field with the same names, plus what makes it checkable.

Additions to the seed's Output: `questions` (what only the user can answer), `assumptions` (what was assumed
instead, and why), `alternatives` (2-3 options compared on accuracy / speed / resources, Step 2), `evidence`
(where each number came from), `warnings`, `workflow` (the seven steps, each marked), and `decisions` (the same
decisions as values, `schema/decisions.py`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .decisions import Decisions


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PretrainedModel(_Out):
    name: str
    source: str
    adaptation: str


class ModelDesign(_Out):
    architecture: str
    rationale: str
    pretrainedModel: PretrainedModel | None = None
    tradeoff: str
    codeFramework: str | None = None


class DataProcessing(_Out):
    normalization: str
    augmentation: list[str] | None = None
    samplingStrategy: str | None = None
    batchSize: str


class Optimizer(_Out):
    type: str
    learningRate: str
    scheduler: str | None = None
    weightDecay: str | None = None


class TrainingTechniques(_Out):
    gradientClipping: str | None = None
    mixedPrecision: bool | None = None
    gradientAccumulation: int | None = None
    ema: bool | None = None


class TrainingStrategy(_Out):
    dataProcessing: DataProcessing
    optimizer: Optimizer
    trainingTechniques: TrainingTechniques
    regularization: list[str] | None = None


class CommonIssue(_Out):
    issue: str
    diagnosis: str
    solution: list[str]


class DebuggingGuidance(_Out):
    visualization: list[str]
    checkpoints: list[str]
    commonIssues: list[CommonIssue]


class ModelCompression(_Out):
    pruning: str | None = None
    quantization: str | None = None
    distillation: str | None = None


class InferenceOptimization(_Out):
    format: list[str]
    batching: str | None = None
    caching: str | None = None


class DistributedTraining(_Out):
    strategy: str
    configuration: str


class EngineeringPractice(_Out):
    modelCompression: ModelCompression | None = None
    inferenceOptimization: InferenceOptimization | None = None
    distributedTraining: DistributedTraining | None = None


class ExpectedPerformance(_Out):
    accuracy: str | None = None
    trainingTime: str | None = None
    inferenceLatency: str | None = None


class Question(_Out):
    """Information only the user has. `field` is the spec path that would answer it."""

    field: str
    question: str
    reason: str


class Assumption(_Out):
    field: str
    value: str
    reason: str


class Alternative(_Out):
    """A candidate compared side by side with the choice (Step 2 feedback loop)."""

    name: str
    architecture: str
    source: str
    params_m: float
    accuracy: str  # the published metric, with dataset
    latency: str  # predicted or measured, with basis
    resources: str  # memory to train and serve
    meets_constraints: bool
    why_not_chosen: str


class Evidence(_Out):
    """One number and where it came from: a catalog row, a paper, a measurement, or a formula."""

    claim: str
    value: str
    source: str


class WorkflowStep(_Out):
    step: int
    name: str
    status: Literal["done", "planned", "needs-input", "not-applicable"]
    note: str


class Plan(_Out):
    """The specification's Output, plus questions, assumptions, alternatives, evidence, warnings and workflow."""

    modelDesign: ModelDesign
    trainingStrategy: TrainingStrategy
    debuggingGuidance: DebuggingGuidance
    engineeringPractice: EngineeringPractice
    expectedPerformance: ExpectedPerformance | None = None
    questions: list[Question] = Field(default_factory=list)
    assumptions: list[Assumption] = Field(default_factory=list)
    alternatives: list[Alternative] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    workflow: list[WorkflowStep] = Field(default_factory=list)
    # The same decisions as values, for `dlexpert train PLAN` (a plan file alone says what to train).
    decisions: Decisions | None = None

    @property
    def needs_input(self) -> bool:
        return bool(self.questions)
