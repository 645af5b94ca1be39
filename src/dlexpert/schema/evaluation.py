"""What `dlexpert evaluate` returns and writes to RUN_DIR/evaluation.json (seed Step 7: validate and document).

`metrics` is a flat name -> number map, so a task type adds its own metrics (detection `map50`, segmentation
`miou`/`dice`) without a schema change; the sections beside it (`per_class`, `confusion`, `calibration`,
`failures`) are filled for the tasks they apply to and stay `None` otherwise. Every figure the model card prints
comes from here, so the card cannot drift from what was measured.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .forecast import ForecastSection

EVALUATION_SCHEMA_VERSION = 1


def headline_metric(task: str) -> tuple[str, str]:
    """(`metrics` key, name) of the figure a task is summarised and weighed against its baselines by."""
    named = {"segmentation": ("miou", "mIoU"), "detection": ("map", "mAP"), "forecasting": ("mase", "MASE"),
             "regression": ("r2", "R2")}  # fmt: skip
    return named.get(task, ("accuracy", "accuracy"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClassResult(_Strict):
    """One row of the per-class table."""

    name: str
    support: int = Field(description="Test samples of this class.")
    precision: float
    recall: float
    f1: float
    auroc: float | None = Field(None, description="One-vs-rest AUROC; None when the class is absent from the test set.")


class Confusion(_Strict):
    """Rows are true classes, columns predicted classes, both in `labels` order (the model's output order)."""

    labels: list[str]
    matrix: list[list[int]]


class CalibrationBin(_Strict):
    lower: float
    upper: float
    count: int
    confidence: float | None = Field(None, description="Mean top-1 probability in the bin.")
    accuracy: float | None = Field(None, description="Fraction correct in the bin.")


class Calibration(_Strict):
    """Expected calibration error over equal-width confidence bins (Guo et al. 2017, arXiv 1706.04599)."""

    ece: float
    mce: float = Field(description="Maximum calibration error: the largest |accuracy - confidence| of a bin.")
    n_bins: int
    mean_confidence: float
    bins: list[CalibrationBin]
    verdict: str = Field(description="overconfident, underconfident or well calibrated, with the numbers.")


class BaselineResult(_Strict):
    model: str
    metrics: dict[str, float]
    how: str = Field(description="How it was fitted and on which split it was measured.")
    val_accuracy: float | None = Field(None, description="Accuracy on the validation split (the Step 4 check).")
    key: str | None = Field(None, description="Short name of a strong baseline (report/strong.py), for files.")


class PublicResult(_Strict):
    """A published figure for the same dataset, from the knowledge base (knowledge/data/datasets.yaml)."""

    dataset: str
    model: str
    metric: str
    value: float = Field(description="As published (percent for accuracy).")
    source: str


# What Step 4's validation scores measure. Both are higher-is-better: a regression is scored by R^2 on the same
# samples, a monotone transform of their mean squared error (1 - MSE / variance of the targets).
SCORE_METRIC_DESCRIPTION = (
    "What the validation scores here measure: 'accuracy' (classification), or 'r2' (regression: R^2 = 1 - MSE / the "
    "variance of the scored targets, higher is better like accuracy)."
)


class ValidationChoice(_Strict):
    """Network or baseline? What decides what the run ships (seed Step 4), from data the test split never touches."""

    metric: str = Field("accuracy", description=SCORE_METRIC_DESCRIPTION)
    baseline: str = Field(description="The baseline weighed against the network ('linear' for the linear one).")
    baseline_score: float = Field(description="Its accuracy, as `scored_by` says.")
    scored_by: str = Field(
        description="Repeated stratified k-fold (forward chaining for windows of one time line) on train+validation "
        "(small data), or validation."
    )
    scores: dict[str, float] = Field(default_factory=dict, description="Every baseline's score, as `scored_by` says.")
    baseline_rule: str = Field(
        "", description="Why that baseline: the best score, or a preferred one within a standard error of it."
    )
    network_val_accuracy: float
    network_settled_accuracy: float | None = Field(
        None, description="Mean validation accuracy of the evaluations around the kept checkpoint."
    )
    n_val: int
    margin: float = Field(description="How far above the baseline the network's validation accuracy must be.")
    network_ships: bool
    rule: str


class Baselines(_Strict):
    metric: str = Field(
        "accuracy",
        description=SCORE_METRIC_DESCRIPTION + " It applies to `model_val_accuracy` and every baseline's "
        "`val_accuracy`; a regression's majority baseline is the training mean.",
    )
    majority: BaselineResult | None = None
    linear: BaselineResult | None = None
    strong: list[BaselineResult] = Field(
        default_factory=list, description="The modality's strong simple baselines (trees, 1-NN, DTW, MiniRocket)."
    )
    skipped: list[str] = Field(default_factory=list, description="Strong baselines not fitted, and why.")
    model_val_accuracy: float | None = Field(None, description="The model's accuracy on the same validation split.")
    choice: ValidationChoice | None = Field(None, description="Step 4's paired test: does the network ship?")
    public: list[PublicResult] = Field(default_factory=list)
    summary: list[str] = Field(default_factory=list, description="The model against each baseline, in words.")

    @property
    def winner_on_validation(self) -> BaselineResult | None:
        """The baseline the run ships instead of the network (`choice`), or None when the network ships."""
        if self.choice is None or self.choice.network_ships:
            return None
        candidates = [b for b in (self.linear, *self.strong) if b is not None]
        return next(b for b in candidates if (b.key or "linear") == self.choice.baseline)


class WrongExample(_Strict):
    index: int = Field(description="Position in the evaluated split.")
    id: str | None = Field(None, description="The sample's name in its source (file, row).")
    true: str
    predicted: str
    confidence: float = Field(description="The model's probability for its (wrong) prediction.")
    true_probability: float


class ConfusedPair(_Strict):
    true: str
    predicted: str
    count: int
    rate: float = Field(description="count / test samples of the true class.")


class WorstImage(_Strict):
    """Segmentation and detection: one of the test images the model got most wrong."""

    id: str
    index: int = Field(description="Position in the evaluated split.")
    score: float = Field(description="Pixel accuracy (segmentation), or the share of boxes found right (detection).")
    errors: int = Field(description="Wrong pixels, or boxes missed, falsely found or of the wrong class.")


class Failures(_Strict):
    """Seed Step 7's "analyze failure cases (which classes/samples are error-prone)"."""

    n_errors: int
    unit: str = Field("samples", description="What `n_errors` and the pairs' counts count: samples, or pixels.")
    confidently_wrong: list[WrongExample]
    confused_pairs: list[ConfusedPair]
    error_prone_classes: list[str] = Field(
        description="Classes with the lowest recall (segmentation: IoU), worst first, with numbers."
    )
    worst_images: list[WorstImage] = Field(
        default_factory=list, description="Segmentation and detection: the images with the lowest score."
    )
    grid: str | None = Field(None, description="PNG of the most confidently wrong inputs, relative to the run dir.")


class Deliverable(_Strict):
    """What the run ships when it is not the trained network: Step 4's linear baseline won where models are chosen."""

    model: str
    path: str = Field(description="The saved model, relative to the run dir.")
    format: str = Field(description="skops: scikit-learn's safe format (no pickle); load with skops.io.load.")
    metric: str = Field("accuracy", description=SCORE_METRIC_DESCRIPTION + " It applies to the three scores below.")
    inputs: str = Field(description="What the saved model reads.")
    layout: str | None = Field(
        None, description="How the inputs are laid out for it (report.strong.features): flat, series, series_flat, text"
    )
    val_accuracy: float
    model_val_accuracy: float = Field(description="The trained network's accuracy on the same validation split.")
    test_accuracy: float | None = Field(
        description="Its score on the evaluated split; None when the split cannot give one (R2 of a test split whose "
        "targets are all equal)."
    )
    reason: str
    load: str = Field(description="Python that loads it and predicts.")


class Evaluation(_Strict):
    schema_version: int = EVALUATION_SCHEMA_VERSION
    run_dir: str
    task: str = Field(description="classification or regression (detection and segmentation add their metrics).")
    split: str = Field(description="Which data was evaluated: the run's test split, or a test set given with --data.")
    n_samples: int
    model: str
    model_version: str = Field(description="sha256 of the weights file that was evaluated.")
    weights: str = Field(description="The weights file, relative to the run dir.")
    model_info: dict[str, Any] = Field(
        default_factory=dict, description="Parameters (all, trainable) and the weights file's size in bytes."
    )
    data: dict[str, Any] = Field(description="source, test source, version (a content hash) and how it was split.")
    metrics: dict[str, float]
    per_class: list[ClassResult] | None = None
    confusion: Confusion | None = None
    calibration: Calibration | None = None
    baseline: Baselines = Field(default_factory=Baselines)
    deliverable: Deliverable | None = Field(
        None, description="Set when the run ships something other than the trained network (see Deliverable)."
    )
    failures: Failures | None = None
    latency: dict[str, Any] | None = Field(None, description="Eager batch-1 and batched timings from `bench`.")
    expected: dict[str, Any] | None = Field(None, description="The plan's expected accuracy and the task's target.")
    forecast: ForecastSection | None = Field(
        None, description="Forecasting: every candidate's backtest and test errors, what ships and why, per series."
    )
    figures: dict[str, str] = Field(default_factory=dict, description="PNG figures, relative to the run dir.")
    warnings: list[str] = Field(default_factory=list)
    environment: dict[str, Any] = Field(default_factory=dict)
    created: str
