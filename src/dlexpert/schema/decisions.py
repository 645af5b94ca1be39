"""`Decisions`: what the plan decided, as values, for the stages that carry it out (train, resume, evaluate, bench).

The seed-format `Plan` says the same things in sentences for people; code reads these, never the sentences. The
advisor returns both from one pass, `train`/`run` write `RUN_DIR/decisions.json` next to plan.json, and a later stage
(`train PLAN`, `--resume`, `bench`) reads the file back instead of planning again.

- `ModelRecord`: everything `dlexpert.models.build` needs to make the architecture again (nanoGPT's `model_args`);
  it also rides inside every checkpoint.
- `TrainingChoice`: the recipe, fitted to the data and the device.
- `Estimates`: the plan's numbers (latency, training time, memory) with their ranges and basis.
- `Fallback`: when the first choice cannot run here (weights not available offline, text that the chosen model cannot
  read), what was planned first, why it cannot run, and what replaces it. The replacement has its own recipe.

Example:
    >>> record = ModelRecord(library="dlexpert", name="cnn1d", n_classes=10, input_shape=[1, 40])
    >>> record.pretrained
    False
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InvalidInputError

__all__ = [
    "DECISIONS_VERSION",
    "Decisions",
    "Deployment",
    "Estimates",
    "Fallback",
    "ForecastPlan",
    "ModelRecord",
    "TrainingChoice",
    "read_decisions",
    "record_from_config",
]

# Bumped when a field changes meaning; readers refuse a newer version with a one-line error.
DECISIONS_VERSION = 1

# Libraries `dlexpert.models.build` makes models with; a plan may name others (ultralytics, stable-baselines3...) that
# only the plan's text covers, and `build` refuses them in one line.
BUILDABLE = ("dlexpert", "timm", "torchvision", "transformers", "text")
Adaptation = Literal["scratch", "full", "partial", "linear-probe", "lora", "qlora"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelRecord(_Frozen):
    """One model, rebuildable: `dlexpert.models.build(record)` returns it with a fresh (or pretrained) init.

    `library` "dlexpert" names a from-scratch registry family (`name`, sized by `input_shape`, `width`, `depth`);
    timm/torchvision/transformers name a pretrained `hub_id` whose head gets `n_classes`; "text" is the sentence
    encoder + linear head (`create_text_classifier`), `hub_id` its encoder.
    """

    library: str  # one of BUILDABLE to be trained by dlexpert
    name: str  # registry name (dlexpert) or the catalog's hub id (the weights tag included, e.g. "resnet18.a1_in1k")
    task: Literal["classification", "regression", "segmentation", "detection"] = "classification"
    adaptation: Adaptation = "scratch"
    n_classes: int | None = Field(None, ge=1)  # output units; unknown until the data is read
    input_shape: list[int] | None = None  # one sample, no batch dimension; None for text
    width: int | None = Field(None, ge=1)
    depth: int | None = Field(None, ge=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    options: dict[str, Any] = Field(default_factory=dict)  # family options, e.g. {"batch_norm": True}
    max_length: int | None = Field(None, ge=1)  # text: tokens per input
    in_chans: int | None = Field(None, ge=1)  # image bands when not RGB: timm adapts the pretrained stem

    @property
    def pretrained(self) -> bool:
        """Whether building it loads pretrained weights (and so may need the network or a cache)."""
        return self.library in {"timm", "torchvision", "transformers", "text"}

    @property
    def frozen_body(self) -> bool:
        """A linear probe: only the head trains (a frozen text encoder is not saved with the run's weights)."""
        return self.adaptation == "linear-probe"


class TrainingChoice(_Frozen):
    """The recipe as numbers, fitted to the model, the data and the device (seed Step 3)."""

    catalog_name: str
    family: str
    architecture: str
    recipe: str
    optimizer: str  # the recipe's name: SGD | AdamW | Adam
    lr: float = Field(gt=0)
    momentum: float | None = None
    nesterov: bool = False
    weight_decay: float = Field(ge=0)
    scheduler: str  # cosine | onecycle | step | plateau | constant | linear | poly
    lr_decay_epochs: tuple[int, ...] = ()  # "step": the epochs at whose start the LR is multiplied by `lr_gamma`
    lr_gamma: float | None = Field(None, gt=0, lt=1)
    warmup_epochs: float = Field(0.0, ge=0)
    epochs: int = Field(ge=1)
    early_stopping_patience: int | None = Field(None, ge=1)
    label_smoothing: float = 0.0
    dice_weight: float = Field(0.0, ge=0)  # segmentation: cross-entropy + this x soft Dice (engine TrainConfig)
    gradient_clipping: float | None = None
    ema: bool = False
    mixed_precision: Literal["bf16", "fp16", "none"] = "none"
    micro_batch: int = Field(ge=1)
    accumulation: int = Field(1, ge=1)
    augmentation: tuple[str, ...] = ()
    balanced_sampling: bool = False
    strategy: Literal["auto", "ddp", "fsdp"] = "auto"  # several processes: fsdp when the model must be sharded


class Range(_Frozen):
    value: float
    low: float
    high: float
    basis: str  # how it was made: measured | scaled | fitted | roofline | FLOPs over utilised peak ...


class Estimates(_Frozen):
    """The plan's numbers for the chosen model, each with its range and basis (the plan's sentences quote them)."""

    params_m: float | None = None
    gmacs: float | None = None
    latency_ms: Range | None = None  # batch 1 on the inference device
    latency_device: str | None = None
    training_hours: Range | None = None
    training_device: str | None = None  # hardware profile name the training time is for
    train_memory_gb: float | None = None  # per device at batch 1 (the plan adds activations per sample)


class Deployment(_Frozen):
    """Where the model will run and how it gets there (seed Step 6): the device, its kind, and the export formats."""

    device: str  # hardware profile name, e.g. "cortex-m7", "iphone-ane", "t4"
    kind: Literal["cpu", "gpu", "tpu", "edge", "npu", "mcu", "browser"]
    formats: list[str] = Field(default_factory=list)  # export formats, best first
    precision: str = "fp32"  # the serving precision the latency estimate assumes


class TaskChoice(_Frozen):
    """What the task is, as the taxonomy (knowledge/data/tasks.yaml) names it: how it is measured and what simple
    baseline Step 4 builds first. `family` is None when no family matched the spec's words."""

    family: str | None = None
    metrics: list[str] = Field(default_factory=list)  # the spec's own target metric first, then the family's
    loss: str | None = None
    baseline: str  # the simple baseline to build and beat first (seed Step 4)
    first_step: str | None = None  # what to do before training anything, when that is not training
    # A model fitted before the network and shipped unless the network beats it on validation (tables: gradient-boosted
    # trees, "hist_gradient_boosting", a key of report.strong); the network in `Decisions.model` is its challenger.
    first_model: str | None = None
    source: str | None = None


class Fallback(_Frozen):
    """The first choice could not run here; `Decisions.model` and `.training` are its replacement's, in full."""

    planned: str  # the first choice (catalog name)
    reason: str  # why it cannot run here, one line
    fetch_command: str | None = None  # how to make the first choice possible (e.g. download its weights)


class ForecastPlan(_Frozen):
    """What a forecasting run carries out (issue 16): the candidates backtested on the same rolling origins, how the
    winner is chosen, the deep forecasters' recipe, and the plan's own model when the run does not train it."""

    baselines: list[str]  # statsforecast models
    deep: list[str]  # dlexpert's global forecasters (the model registry)
    trees: str | None = None  # the global LightGBM and what it reads; None when the data is too short to grow trees
    backtest_windows: int
    backtest_series: int  # series long enough for every backtest window (the others are forecast, not backtested)
    window: int  # past values a deep forecaster reads
    selection: str
    recipe: str
    replaces: str | None = None  # how the run departs from the plan's own model, and why
    notes: list[str] = Field(default_factory=list)  # how the baselines adapt to the data (e.g. a long season)


class Decisions(_Frozen):
    """The plan's decisions as values: the model, the recipe, the estimates, and any fallback."""

    version: int = DECISIONS_VERSION
    model: ModelRecord
    training: TrainingChoice
    estimates: Estimates = Estimates()
    deployment: Deployment | None = None
    task: TaskChoice | None = None
    fallback: Fallback | None = None
    notes: list[str] = Field(default_factory=list)  # data-driven adjustments made after planning, one line each
    forecast: ForecastPlan | None = None  # a forecasting run: what it backtests and ships


def read_decisions(path: str | Path) -> Decisions:
    """`decisions.json` back as `Decisions`; one line naming the file and the field when it is not valid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidInputError(f"{path}: cannot be read ({e.strerror or e})") from None
    try:
        return Decisions.model_validate_json(text)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InvalidInputError(f"{path}: `{where}` {err['msg']}; expected dlexpert decisions") from None


def record_from_config(config: dict[str, Any], *, source: str = "the run config") -> ModelRecord:
    """The `ModelRecord` of a run's resolved config (`model_record`), or of the `model_config` block that runs and
    compressed variants wrote before records existed."""
    try:
        if config.get("model_record"):
            return ModelRecord.model_validate(config["model_record"])
        return _legacy_record(dict(config.get("model_config") or {}), config.get("adaptation"), source)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InvalidInputError(f"{source}: model record `{where}` {err['msg']}") from None


def _legacy_record(mc: dict[str, Any], adaptation: str | None, source: str) -> ModelRecord:
    name = mc.pop("name", None)
    if not name:
        raise InvalidInputError(
            f"{source}: has no `model_record` (the run predates it, or the model was built outside dlexpert); "
            "retrain with this version, or load the weights into your own model"
        )
    adaptation = adaptation or "scratch"
    if name in {"minilm_text", "text_encoder"}:
        if mc.get("freeze"):
            adaptation = "linear-probe"
        elif adaptation in {"scratch", "linear-probe"}:
            adaptation = "full"
        return ModelRecord(library="text", name=mc.get("hub_id") or "sentence-transformers/all-MiniLM-L6-v2",
                           adaptation=adaptation, n_classes=mc.get("n_classes"),  # type: ignore[arg-type]
                           max_length=mc.get("max_length"))  # fmt: skip
    if name == "pretrained":
        return ModelRecord(library=mc["library"], name=str(mc["hub_id"]), adaptation=adaptation,  # type: ignore[arg-type]
                           n_classes=mc.get("n_classes"), input_shape=mc.get("input_shape"))  # fmt: skip
    common = {k: mc.pop(k) for k in ("input_shape", "n_classes", "width", "depth", "dropout") if k in mc}
    return ModelRecord(library="dlexpert", name=name, adaptation="scratch", options=mc, **common)
