"""Record types of the knowledge base. Every data file in `knowledge/data/` is validated against one of these.

Knowledge is data with sources (DESIGN.md "Principles"): every record carries `source`, a citation a user can
follow (a CSV file and row key, a paper, a documentation page).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TaskType = Literal["classification", "detection", "segmentation", "generation", "sequence-modeling", "RL"]
Domain = Literal["CV", "NLP", "audio", "multimodal", "time-series", "tabular"]
ArchitectureClass = Literal["CNN", "Transformer", "RNN", "GNN", "Diffusion", "Hybrid", "MLP"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Metric(_Record):
    """One published number: `value` of `name` on `dataset` (e.g. top1 84.2 on ImageNet-1k val)."""

    name: str  # "top1", "mAP", "mIoU", "GLUE", "MMLU", "WER", "MASE", "FID", "return", ...
    value: float
    dataset: str
    higher_is_better: bool = True
    unit: str = "%"  # "%", "", "dB", ...


class ModelEntry(_Record):
    """A pretrained (or well-known from-scratch) model the advisor can recommend.

    `name` is unique over the whole catalog. `hub_id` is what the loading library takes
    (timm model name, torchvision `builder.WEIGHTS`, Hugging Face repo id, or a package/class path).
    """

    name: str
    family: str  # key into architectures.yaml
    architecture: ArchitectureClass
    tasks: list[TaskType]
    domains: list[Domain]
    library: str  # timm, torchvision, transformers, ultralytics, stable-baselines3, open_clip, diffusers, ...
    hub_id: str
    source: str  # citation for the numbers in this record
    license: str = "unknown"
    params_m: float = Field(gt=0)  # parameters, millions
    gmacs: float | None = None  # multiply-accumulates per sample at `input_size`, billions
    # Encoders: the token-embedding table (vocabulary x width), looked up rather than multiplied, so it adds no
    # multiply-accumulates (Kaplan et al. 2020 count non-embedding parameters); most of a multilingual encoder's size.
    embedding_params_m: float | None = Field(None, ge=0)
    macts_m: float | None = None  # activation elements per sample, millions (timm's infer_macts)
    input_size: int | None = None  # image side in pixels, or sequence length for text/audio
    file_size_mb: float | None = None
    pretrain: str | None = None  # pretraining data, e.g. in1k, in21k, laion2b, webtext
    metrics: list[Metric] = Field(default_factory=list)
    # Measured latency in ms per batch-1 sample, keyed by hardware profile name (e.g. "cpu-i7-12700h").
    latency_ms: dict[str, float] = Field(default_factory=dict)
    # Measured throughput in samples/s at the batch size the source used, keyed by hardware profile name.
    throughput: dict[str, float] = Field(default_factory=dict)
    robustness_rank_diff: float | None = None  # mean rank change over ImageNet-R/Sketch/A/V2 (timm results)
    context_length: int | None = None  # LLMs and text encoders
    # Languages of the pretraining text/speech: "en" (English only), "multilingual"; None where it does not apply.
    languages: Literal["en", "multilingual"] | None = None
    # Generative models: what a sample is drawn from (a text prompt, a class label, nothing); None elsewhere.
    conditioning: Literal["text", "class", "none"] | None = None
    # Sentence-embedding checkpoints (sentence-transformers): fine-tuned to pool their tokens into one vector per text.
    sentence_embedding: bool = False
    notes: str = ""


class ArchitectureFamily(_Record):
    """An architecture family with its inductive bias, data needs and cost."""

    name: str  # key, e.g. "resnet", "vit", "bert", "llama", "tcn"
    architecture: ArchitectureClass
    display_name: str
    domains: list[Domain]
    tasks: list[TaskType]
    inductive_bias: str
    data_needs: str  # e.g. "scratch needs >100k images; fine-tunes well from 1k"
    min_samples_scratch: int  # below this, training from scratch is not advised (Step 2 principles)
    complexity: str  # e.g. "O(HW k^2 C^2) per layer; linear in pixels"
    lightweight: bool = False  # MobileNet / EfficientNet / DistilBERT class (Step 2 "real-time")
    # A candidate only where a task family names it: a recommender reads interaction logs, not a generic table.
    specialist: bool = False
    # Trained on normal samples only (one-class: an anomaly detector): no class labels to balance, mix or flip.
    normal_only: bool = False
    # The pretrained network that stays frozen while the rest trains from random initialisation (EfficientAD's
    # teacher): such a family is trained "from scratch" and still transfers.
    frozen_pretrained: str | None = None
    strengths: list[str] = Field(default_factory=list)
    weaknesses: list[str] = Field(default_factory=list)
    source: str


class HardwareProfile(_Record):
    """A device with its peak throughput per precision, memory and bandwidth."""

    name: str  # key, e.g. "a100-80gb", "cpu-laptop"
    display_name: str
    kind: Literal["cpu", "gpu", "tpu", "edge", "npu", "mcu", "browser"]
    aliases: list[str] = Field(default_factory=list)  # lower-case strings that name it in free text
    peak_tflops: dict[str, float]  # precision ("fp32", "tf32", "fp16", "bf16", "int8") -> dense TFLOP/s (TOPS for int8)
    memory_gb: float
    bandwidth_gbs: float
    cores: int | None = None  # CPUs
    tdp_w: float | None = None
    supports_bf16: bool = False
    supports_fp16_tensor_cores: bool = False
    flash_mb: float | None = None  # microcontrollers: program flash, where int8 weights live (RAM is `memory_gb`)
    # The runtimes that serve a model here, best first; None: regimes.yaml's export_formats for the kind.
    export_formats: list[str] | None = None
    # timm benchmark file measured on this device (latency is then read, not predicted).
    measured_table: str | None = None
    source: str


class Recipe(_Record):
    """A training recipe for an architecture class in a regime, with its source."""

    name: str
    architecture: list[ArchitectureClass]
    domains: list[Domain]
    regime: Literal["scratch", "finetune", "linear-probe", "lora", "rl"]
    # Applies only to images whose shorter side (from the data profile) is at most this many pixels; None: any input.
    max_image_px: int | None = Field(None, ge=1)
    optimizer: Literal["SGD", "AdamW", "Adam", "Lion", "LAMB"]
    momentum: float | None = None
    nesterov: bool = False
    lr: float  # at `reference_batch_size`
    lr_range: tuple[float, float]  # sensible range for this optimizer and regime
    reference_batch_size: int
    lr_scaling: Literal["linear", "sqrt", "none"] = "linear"
    scheduler: Literal["cosine", "onecycle", "step", "plateau", "constant", "linear", "poly"]
    # "step": the LR is multiplied by `lr_gamma` at each milestone, as fractions of the epochs (so a schedule stretched
    # or shortened for the data keeps its shape): listed (`lr_milestones`), or every `lr_decay_period` from
    # `lr_decay_start`.
    lr_milestones: list[float] | None = None
    lr_decay_start: float | None = Field(None, ge=0, lt=1)
    lr_decay_period: float | None = Field(None, gt=0, le=1)
    lr_gamma: float | None = Field(None, gt=0, lt=1)
    warmup_epochs: float = 0.0
    warmup_steps_fraction: float | None = None
    weight_decay: float
    epochs: int
    # The schedule's length in optimizer steps, where the recipe is measured that way (Detectron2's "1x" is 90k
    # iterations): the plan's epochs are then the steps over the data's batches, and `warmup_epochs` (given for
    # `epochs`) keep their share of the run.
    steps: int | None = Field(None, ge=1)
    label_smoothing: float = 0.0
    dice_weight: float = Field(0.0, ge=0)  # segmentation: loss = cross-entropy + dice_weight x soft Dice
    gradient_clipping: float | None = None
    ema: bool = False
    dropout: float | None = None
    augmentation: list[str] = Field(default_factory=list)
    regularization: list[str] = Field(default_factory=list)
    # Training compute per sample in units of one forward+backward pass at the model's input size: multi-crop
    # self-supervised recipes pass several crops per image and an EMA teacher forward.
    passes_per_sample: float = Field(1.0, gt=0)
    rationale: str  # why these values, written for the user
    source: str

    @model_validator(mode="after")
    def _step_schedule(self) -> Recipe:
        if self.scheduler == "step" and (self.lr_gamma is None or not (self.lr_milestones or self.lr_decay_period)):
            raise ValueError(f"recipe {self.name}: scheduler step needs lr_gamma and lr_milestones or lr_decay_period")
        return self

    def lr_decay_epochs(self, epochs: int) -> list[int]:
        """The epochs (0-based, ascending) at whose start a "step" schedule multiplies the LR by `lr_gamma`."""
        if self.lr_milestones:
            fractions = list(self.lr_milestones)
        elif self.lr_decay_period:
            start, n = self.lr_decay_start or 0.0, round((1 - (self.lr_decay_start or 0.0)) / self.lr_decay_period)
            fractions = [start + i * self.lr_decay_period for i in range(n)]
        else:
            return []
        return sorted({e for f in fractions if 0 < (e := round(f * epochs)) < epochs})


class Problem(_Record):
    """A training or data problem: how to recognise it and what to do, most effective fix first."""

    issue: str  # key from DESIGN.md's vocabulary or the seed's failure handling
    title: str
    symptoms: list[str]
    diagnosis: str  # how to confirm it
    solutions: list[str]  # most effective first
    aliases: list[str] = Field(default_factory=list)  # free-text phrases that name it ("loss is nan", "overfit")
    category: Literal["training", "data", "compute", "deployment", "modelling"] = "training"
    source: str


class ReferenceResult(_Record):
    """A published result of a model family on a named dataset (for expected performance)."""

    family: str
    model: str
    metric: str
    value: float
    regime: Literal["scratch", "finetune", "linear-probe", "zero-shot"]
    source: str


class DatasetInfo(_Record):
    """A public dataset a spec may name in `task.specificTask`; fills data facts the user left out."""

    name: str
    aliases: list[str] = Field(default_factory=list)
    task: TaskType
    domain: Domain
    n_train: int
    n_test: int | None = None
    n_classes: int | None = None
    input_shape: str  # e.g. "32x32x3", "40 (1-D)", "variable-length text"
    results: list[ReferenceResult] = Field(default_factory=list)
    source: str


class FirstModel(_Record):
    """A model that is not a network and that an expert fits before any (tables: gradient-boosted trees; forecasting:
    a global LightGBM on lags). The run fits it in Step 4 as the strong baseline `estimator` and ships it unless the
    planned network, its challenger, beats it: on validation for a table (`report.deliverable.choose`), in the
    rolling-origin backtest for series (`forecast.choose`)."""

    estimator: str  # report.strong's key ("hist_gradient_boosting"), or the forecasting candidate's name ("LightGBM")
    name: str  # for people, with the equivalent libraries
    why: str
    source: str
    any_domain: bool = False  # it comes first whatever the data's domain, not only for a table

    @property
    def short_name(self) -> str:
        """The name without its parenthesis: "gradient-boosted trees"."""
        return self.name.split(" (")[0]


class TaskFamily(_Record):
    """A family of tasks as people name them (knowledge/data/tasks.yaml): which seed type/domain it is, what goes in
    and comes out, how it is measured and trained, the baseline to beat and the usual mistakes."""

    name: str  # key, e.g. "keyword-spotting"
    type: TaskType  # the seed's task.type it is planned as
    domain: Domain  # the usual domain; a spec's own domain wins
    phrases: list[str]  # what users write as task.type for it (lower case, matched whole)
    triggers: list[str] = Field(default_factory=list)  # words in specificTask that name it (lower case, whole words)
    input: str  # image | video clip | multispectral raster | token sequence | waveform | table | series | environment
    output: str
    metrics: list[str]
    loss: str
    baselines: str  # the simple baseline to build first (seed Step 4)
    # Architecture families (architectures.yaml) that do this task; empty: any the type/domain allows.
    architectures: list[str] = Field(default_factory=list)
    # The benchmark its candidates are ranked on when any of them reports it (part of a dataset name): a retrieval
    # encoder is judged on retrieval, not on the MNLI score most text encoders report.
    ranked_on: str | None = None
    pitfalls: list[str] = Field(default_factory=list)
    first_step: str | None = None  # what an expert does before training anything, when that is not training
    first_model: FirstModel | None = None  # the model to beat, fitted before the network and shipped unless it loses
    regression: bool = False  # its output is a number per sample (a value to regress, MSE), not a class
    size_unit: str  # what data.size counts: images, clips x frames, tokens, hours of audio, series x length, steps
    # "type/domain" pairs whose specs belong here when their words name no narrower family, e.g. "classification/CV"
    generic_for: list[str] = Field(default_factory=list)
    # Its phrases say how the model is trained, not what it does ("LLM fine-tuning"): the task's words may narrow it to
    # a family of the same type, as they narrow a generic one.
    narrowed_by_words: bool = False
    # Domains a spec may state and still mean this family when its type names it: a table of dated sales is a series.
    also_in: list[Domain] = Field(default_factory=list)
    source: str
