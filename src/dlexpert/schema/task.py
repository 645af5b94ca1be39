"""`TaskSpec`: the specification's `Input`, field for field, in its camelCase names; and its loader.

Example:
    >>> spec = TaskSpec.model_validate({"task": {"type": "Image Classification", "domain": "vision"}})
    >>> spec.task.type, spec.task.domain
    ('classification', 'CV')
"""

from __future__ import annotations

import functools
import json
import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from .._input import clip, load_yaml, read_user_text
from ..errors import InvalidInputError
from ._quantity import (
    AccuracyTarget,
    Budget,
    Compute,
    DataSize,
    Latency,
    ModelSize,
    UnreadQuantity,
    parse_accuracy_target,
    parse_budget,
    parse_compute,
    parse_data_size,
    parse_latency,
    parse_model_size,
)

if TYPE_CHECKING:
    from ..knowledge import TaskFamily

TaskType = Literal["classification", "detection", "segmentation", "generation", "sequence-modeling", "RL"]
Domain = Literal["CV", "NLP", "audio", "multimodal", "time-series", "tabular"]

TASK_TYPES: tuple[str, ...] = ("classification", "detection", "segmentation", "generation", "sequence-modeling", "RL")
# "tabular" extends the seed's enum: tables are what people most often bring, and they have their own first model
# (gradient-boosted trees, the baseline a network must beat).
DOMAINS: tuple[str, ...] = ("CV", "NLP", "audio", "multimodal", "time-series", "tabular")

# Synonyms accepted for task.type and task.domain (matched case-insensitively, after trimming).
_TYPE_SYNONYMS = {
    "classification": [
        "classify",
        "classifier",
        "image classification",
        "text classification",
        "categorization",
        "recognition",
        "sentiment analysis",
        "audio classification",
        "keyword spotting",
        "tagging",
        "binary classification",
        "multi-class classification",
        "multiclass classification",
        "multi-class",
        "binary",
    ],
    "detection": ["object detection", "detect", "detector", "localization", "bounding boxes"],
    "segmentation": ["semantic segmentation", "instance segmentation", "panoptic segmentation", "segment", "masking"],
    "generation": [
        "generative",
        "generate",
        "text generation",
        "image generation",
        "synthesis",
        "diffusion",
        "text-to-image",
        "chat",
        "summarization",
        "translation",
    ],
    "sequence-modeling": [
        "sequence modeling",
        "sequence modelling",
        "sequence-modelling",
        "sequence",
        "forecasting",
        "time-series forecasting",
        "time series forecasting",
        "language modeling",
        "seq2seq",
        "speech recognition",
        "asr",
        "regression",
        "anomaly detection",
        "sequence labeling",
        "ner",
    ],
    "RL": ["reinforcement learning", "reinforcement-learning", "control", "policy learning", "rl"],
}
_DOMAIN_SYNONYMS = {
    "CV": [
        "computer vision",
        "vision",
        "image",
        "images",
        "video",
        "imaging",
        "medical imaging",
        "cv",
        "satellite imagery",
        "remote sensing",
        "aerial imagery",
        "earth observation",
        "medical images",
        "microscopy",
        "document images",
        "scanned documents",
        "photos",
        "videos",
    ],
    "NLP": [
        "natural language processing",
        "language",
        "text",
        "code",
        "nlp",
        "natural language",
        "llm",
        "llms",
        "language models",
        "documents",
    ],
    "audio": ["speech", "sound", "audio", "acoustic", "music", "voice"],
    "multimodal": ["multi-modal", "multi modal", "vision-language", "vision language", "image-text", "multimodal"],
    "time-series": [
        "time series",
        "timeseries",
        "time-series",
        "temporal",
        "sensor",
        "signals",
        "1d signal",
        "forecasting",
        "tabular sequences",
    ],
    "tabular": ["table", "tables", "tabular data", "structured data", "structured", "csv", "spreadsheet", "rows"],
}
# Head nouns that place a type written in the user's own terms ("gesture classification", "defect detection") when
# no synonym matches whole: the type whose word it contains, if exactly one type's ("detection and classification"
# is refused as before).
_TYPE_CUES = {
    "classification": {"classification", "classifier", "classify", "categorization", "categorisation"},
    "detection": {"detection", "detector"},
    "segmentation": {"segmentation"},
    "generation": {"generation", "chatbot", "chatbots", "assistant", "answering"},
    "sequence-modeling": {"forecasting", "regression", "transcription"},
}
# Words that place a domain written in the user's own terms ("industrial inspection", "CT", "call-centre speech")
# when no synonym matches whole: the domain whose cue words it contains, if exactly one domain's.
_DOMAIN_CUES = {
    "CV": {"image", "images", "imaging", "imagery", "vision", "visual", "video", "videos", "photo", "photos", "camera",
           "cameras", "inspection", "ct", "mri", "x-ray", "xray", "ultrasound", "radiology", "pathology",
           "histopathology", "microscopy", "satellite", "aerial", "drone", "dermatology", "scans", "pixels"},
    "NLP": {"text", "texts", "language", "languages", "nlp", "llm", "llms", "chatbot", "linguistics"},
    "audio": {"speech", "voice", "sound", "sounds", "audio", "acoustic", "acoustics", "music", "podcast", "podcasts"},
    "time-series": {"sensor", "sensors", "signal", "signals", "telemetry", "iot", "ecg", "eeg", "accelerometer",
                    "vibration", "vibrations"},
    "tabular": {"tabular", "table", "tables", "spreadsheet", "spreadsheets", "csv"},
}  # fmt: skip


# Labels that give each part one inspection verdict ("Pass/Fail per image", "OK/NG labels"), with no boxes.
_INSPECTION_VERDICTS = re.compile(r"\b(?:ok\s*/\s*(?:nok|ng)|pass\s*/\s*fail|good\s*/\s*(?:bad|defective))\b")
# Defects that are rare: at most this share of the parts (percent), or said in words.
RARE_DEFECT_SHARE = 5.0
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_RARE = re.compile(r"\b(?:rare|imbalanc\w*|unseen|very few|too few)\b")


def _normalise_choice(
    value: object,
    *,
    choices: tuple[str, ...],
    synonyms: dict[str, list[str]],
    what: str,
    cues: dict[str, set[str]] | None = None,
) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected one of {', '.join(choices)}; got {value!r}")
    import difflib

    key = " ".join(value.strip().lower().replace("_", "-").split())
    for choice in choices:
        if key == choice.lower() or key in synonyms.get(choice, []):
            return choice
    named, cued = _named_in_parts(key, choices, synonyms), _cued(key, cues or {})
    if len(named) == 1 and set(cued) <= set(named):  # "audio / sensor time series" names audio, cues time series too
        return named[0]
    if len(cued) == 1:
        return cued[0]
    hint = difflib.get_close_matches(
        key, [c.lower() for c in choices] + functools.reduce(operator.iadd, synonyms.values(), []), n=1
    )
    more = f" (did you mean {hint[0]!r}?)" if hint else ""
    raise ValueError(f"unknown {what} {value!r}{more}; expected one of {', '.join(choices)}")


Q = TypeVar("Q")


def _read_or_keep(parse: Callable[[str], Q], text: str | None) -> Q | None:
    """The constraint as a number, or None when it is stated in words no parser reads ("continuous, duty-cycled"):
    the text is kept and the advisor plans without the number, saying so. Negative, zero, NaN or contradictory
    numbers still raise."""
    if not text:
        return None
    try:
        return parse(text)
    except UnreadQuantity:
        return None


def _named_in_parts(key: str, choices: tuple[str, ...], synonyms: dict[str, list[str]]) -> list[str]:
    """The choices named outright by one part of a list ("time series / observability", "computer vision, search")."""
    parts = [p for p in re.split(r"\s*(?:[/,;|+&]|\band\b)\s*", key) if p]
    return [c for c in choices if any(p == c.lower() or p in synonyms.get(c, []) for p in parts)]


def _cued(text: str, cues: dict[str, set[str]]) -> list[str]:
    """The choices whose cue words appear among the words of `text` (lower case; hyphenated words kept whole)."""
    words = set(re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text.lower()))
    return [choice for choice, cue in cues.items() if words & cue]


def _domains_in(text: str | None) -> set[str]:
    """The domains whose cue words the task's own words hold: they break the tie when a type names families of
    several domains and no domain is stated ("anomaly detection" of "audio / sensor time series" is not visual
    inspection)."""
    return set(_cued(text or "", _DOMAIN_CUES))


def _allowed_domain_in_words(family: TaskFamily, phrase: str | None, text: str | None) -> str:
    """The domain of a family planned in more than one (`also_in`) that the type's words cue, else the task's words,
    when they cue exactly one of them ("image retrieval / visual search" for an e-commerce marketplace is CV, not
    the text retrieval the family is filed under); else the family's own domain."""
    allowed = {family.domain, *family.also_in}
    for words in (phrase, text):
        cued = _domains_in(words) & allowed
        if len(cued) == 1:
            return cued.pop()
    return family.domain


def _known(
    value: object, choices: tuple[str, ...], synonyms: dict[str, list[str]], cues: dict[str, set[str]] | None = None
) -> str | None:
    """`value` normalised to one of `choices`, or None when it is not one (no error: the caller decides)."""
    try:
        return _normalise_choice(value, choices=choices, synonyms=synonyms, what="", cues=cues)
    except ValueError:
        return None


class _Section(BaseModel):
    # Unknown keys are errors (with a suggestion) so a typo never silently drops a constraint.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


class Task(_Section):
    type: TaskType = Field(
        description="The seed's task type, or what you call it ('pose estimation', 'NER', 'speech-to-text', 'RAG'): "
        "a family in dlexpert's taxonomy maps it onto a seed type.",
        examples=["classification", "object detection", "wake word detection", "retrieval-augmented generation"],
    )
    domain: Domain = Field(
        description="CV, NLP, audio, multimodal, time-series, or tabular (dlexpert's extension); synonyms such as "
        "'vision', 'text', 'speech', 'satellite imagery' are read.",
        examples=["CV", "NLP", "audio", "time-series", "tabular"],
    )
    specificTask: str | None = Field(
        None,
        description="The task in your words: a public dataset it resembles, the classes, languages, bands, where the "
        "model runs.",
        examples=["CIFAR-10", "NER on German and French contracts, 9 entity types", "4-band (RGB + NIR) tiles"],
    )
    family: str | None = Field(
        None,
        description=(
            "The task family from dlexpert's taxonomy (knowledge/data/tasks.yaml), an extension of the seed's Input. "
            "Filled in when task.type names one ('pose estimation', 'wake word detection') or specificTask's words do; "
            "task.type is then the seed type the family is planned as."
        ),
        examples=["keyword-spotting", "token-classification", "forecasting", "rag"],
    )

    @model_validator(mode="before")
    @classmethod
    def _family(cls, v: object) -> object:
        """A type people write ("speech-to-text") becomes its family's seed type and the family is recorded; a domain
        word the seed lacks ("games", "robotics") becomes the family's domain."""
        if not isinstance(v, dict):
            return v
        from ..knowledge import find_task_family, generic_task_family, get_task_family, task_families_named

        v = dict(v)
        phrase = v.get("type") if isinstance(v.get("type"), str) else None
        domain = _known(v.get("domain"), DOMAINS, _DOMAIN_SYNONYMS, _DOMAIN_CUES)
        # Trigger words are looked for in the task in the user's words: specificTask and a domain the seed lacks.
        own = [v.get("specificTask"), v.get("domain") if domain is None or domain != v.get("domain") else None]
        text = " ".join(t for t in own if isinstance(t, str)) or None
        if isinstance(v.get("family"), str):
            try:
                family: TaskFamily | None = get_task_family(v["family"])
            except LookupError as e:
                raise ValueError(str(e)) from None
        else:
            seed_type = _known(phrase, TASK_TYPES, _TYPE_SYNONYMS, _TYPE_CUES) if phrase else None
            family = find_task_family(phrase=phrase, domain=domain, near=_domains_in(text))
            refined = find_task_family(text=text, domain=domain, task_type=family.type) if family is not None else None
            broad = family is not None and (bool(family.generic_for) or family.narrowed_by_words)
            # A family whose phrases say only how or what (`narrowed_by_words`) may be narrowed to one of the type the
            # phrase's own words cue: "question answering" (answering: generation) from a help-center knowledge base,
            # with citations, is RAG, not extractive QA.
            across = (family is not None and family.narrowed_by_words and refined is not None
                      and refined.domain == family.domain and refined.type == seed_type)  # fmt: skip
            if family is not None and broad and refined is not None and (refined.type == family.type or across):
                # The words of the task narrow a generic family of the same type: "image classification" of dog
                # breeds is fine-grained, "semantic segmentation" of Landsat tiles is remote sensing.
                family = refined
            # A multimodal task spans vision and language: a CV or NLP family its type names is not of another domain;
            # nor is a family its type names of another domain when the family allows the stated one (`also_in`).
            spans = family is not None and (
                (domain == "multimodal" and family.domain in {"CV", "NLP"}) or domain in family.also_in
            )
            # A domain only read from a cue word ("video streaming") yields to the one family the type names outright
            # ("recommendation"): the cue says what the items are, the type what is done with them.
            cued_only = _known(v.get("domain"), DOMAINS, _DOMAIN_SYNONYMS) is None
            if family is not None and cued_only and [family] == task_families_named(phrase):
                domain = _allowed_domain_in_words(family, phrase, text)
                v["domain"] = domain
            if family is None or (domain is not None and family.domain != domain and not spans):
                # The type's words name nothing, or a family of another domain ("sentiment analysis" of table rows):
                # the specificTask's words, or the generic family of the stated domain, come first.
                # A trigger of another domain ("bird species" is fine-grained vision) loses to the stated domain's
                # generic family: an audio spec about bird species is audio classification.
                by_words = find_task_family(text=text, domain=domain, task_type=seed_type)
                generic = generic_task_family(family.type if family is not None else seed_type, domain)
                same_domain = by_words is not None and (domain is None or by_words.domain == domain)
                in_domain = by_words if same_domain else (generic or by_words)
                if family is None or (in_domain is not None and in_domain.domain == domain):
                    family = in_domain
        if family is None:
            return v
        v["family"] = family.name
        if (phrase and _known(phrase, TASK_TYPES, _TYPE_SYNONYMS, _TYPE_CUES) is None) or (
            phrase and phrase.strip().lower() in family.phrases and family.domain == (domain or family.domain)
        ):
            v["type"] = family.type
        if domain is None:
            v["domain"] = _allowed_domain_in_words(family, phrase, text)
        return v

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, v: object) -> str:
        return _normalise_choice(v, choices=TASK_TYPES, synonyms=_TYPE_SYNONYMS, what="task type", cues=_TYPE_CUES)

    @field_validator("domain", mode="before")
    @classmethod
    def _domain(cls, v: object) -> str:
        return _normalise_choice(v, choices=DOMAINS, synonyms=_DOMAIN_SYNONYMS, what="domain", cues=_DOMAIN_CUES)


class Data(_Section):
    size: str | None = Field(
        None,
        description="How much labelled data, with its unit; numbers may be written out. Negative, zero, NaN and "
        "astronomical sizes are refused.",
        examples=["50k images", "200 hours of audio", "3 years of daily sales for 500 stores", "2B tokens"],
    )
    quality: str | None = Field(None, description="Label quality in words.", examples=["clean", "some label noise"])
    distribution: str | None = Field(
        None, description="Class balance in words.", examples=["balanced", "long-tail (1:50)", "8% positives"]
    )
    labelAvailability: str | None = Field(
        None, description="How labels exist.", examples=["fully-supervised", "10% labelled", "unlabelled"]
    )
    augmentationNeeded: bool | None = Field(
        None, description="false keeps augmentation to resizing only.", examples=[True, False]
    )

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, v: object) -> object:
        if isinstance(v, int | float) and not isinstance(v, bool):
            v = str(v)
        if isinstance(v, str):
            _read_or_keep(parse_data_size, v)  # a size in words ("a simulator, as many frames as we want") is kept
        return v

    @property
    def size_parsed(self) -> DataSize | None:
        return _read_or_keep(parse_data_size, self.size)


class Constraints(_Section):
    computeResources: str | None = Field(
        None,
        description="What trains the model, and optionally where it runs ('...; deployed on ...'): devices, count, "
        "memory, cores.",
        examples=["single-GPU 24GB", "8x A100 80GB", "CPU (8 cores)", "1x T4 for training; deployed on a Cortex-M7"],
    )
    latencyRequirement: str | None = Field(
        None,
        description="Per-request time on the serving device, as an upper bound; a device named here is where the "
        "model runs. Words with no number are kept and planned without.",
        examples=["inference <50ms", "<30ms on Jetson Orin", "p95 < 0.2 s", "30 fps", "< 2 minutes per volume"],
    )
    accuracyTarget: str | None = Field(
        None,
        description="A metric and a bound; metrics the parser does not list take the comparator's direction.",
        examples=["top-1 acc >90%", "macro-F1 > 0.85", "WER < 8%", "WRMSSE < 0.55"],
    )
    modelSizeLimit: str | None = Field(
        None, description="Largest model to ship, in bytes or parameters.", examples=["<100MB", "< 200KB", "25M params"]
    )
    budget: str | None = Field(
        None, description="Money or GPU-hours, or a level.", examples=["$500", "100 GPU-hours", "low"]
    )
    deploymentTarget: str | None = Field(
        None,
        description=(
            "Where the trained model will run, when that is not where it trains (an extension of the seed's Input). "
            "Without it, the deployment clause of computeResources ('...; deployed on ...'), the device in "
            "latencyRequirement ('<30ms on Jetson Orin'), or the task text ('the app runs offline on iPhones')."
        ),
        examples=[
            "Cortex-M7 microcontroller, 512 KB RAM",
            "iPhone (Core ML)",
            "Android phones",
            "web browser",
            "Jetson Orin Nano",
            "CPU server (8 cores)",
        ],
    )

    @field_validator("computeResources")
    @classmethod
    def _compute(cls, v: str | None) -> str | None:
        if v is not None:
            parse_compute(v)
        return v

    @field_validator("latencyRequirement", mode="before")
    @classmethod
    def _latency(cls, v: object) -> object:
        if isinstance(v, int | float) and not isinstance(v, bool):
            v = f"{v} ms"
        if isinstance(v, str):
            _read_or_keep(parse_latency, v)
        return v

    @field_validator("accuracyTarget", mode="before")
    @classmethod
    def _accuracy(cls, v: object) -> object:
        if isinstance(v, int | float) and not isinstance(v, bool):
            v = str(v)
        if isinstance(v, str):
            _read_or_keep(parse_accuracy_target, v)
        return v

    @field_validator("modelSizeLimit", mode="before")
    @classmethod
    def _model_size(cls, v: object) -> object:
        if isinstance(v, str):
            _read_or_keep(parse_model_size, v)
        return v

    @field_validator("budget", mode="before")
    @classmethod
    def _budget(cls, v: object) -> object:
        if isinstance(v, int | float) and not isinstance(v, bool):
            v = f"${v}"
        if isinstance(v, str):
            _read_or_keep(parse_budget, v)
        return v

    @property
    def compute_parsed(self) -> Compute | None:
        return parse_compute(self.computeResources) if self.computeResources else None

    @property
    def latency_parsed(self) -> Latency | None:
        return _read_or_keep(parse_latency, self.latencyRequirement)

    @property
    def accuracy_parsed(self) -> AccuracyTarget | None:
        return _read_or_keep(parse_accuracy_target, self.accuracyTarget)

    @property
    def model_size_parsed(self) -> ModelSize | None:
        return _read_or_keep(parse_model_size, self.modelSizeLimit)

    @property
    def budget_parsed(self) -> Budget | None:
        return _read_or_keep(parse_budget, self.budget)


class ExistingSetup(_Section):
    framework: str | None = Field(None, description="What you train with today.", examples=["PyTorch"])
    baseModel: str | None = Field(
        None, description="A model you already use; kept when it meets every constraint.", examples=["resnet50"]
    )
    trainingIssues: list[str] | None = Field(
        None,
        description="Problems you already see; matched to the problem table and answered first.",
        examples=[["overfitting", "loss is NaN after a few epochs"]],
    )

    @field_validator("framework")
    @classmethod
    def _framework(cls, v: str | None) -> str | None:
        if v is None:
            return v
        words = " ".join(v.split())
        if not words:
            raise ValueError("expected the framework you train with today, such as PyTorch or TensorFlow; got ''")
        # The whole name, else its first word: "MATLAB Deep Learning Toolbox" and "PyTorch 2.1" name their framework.
        # Any other is what the user works with ("OpenCV.js (WASM)", "NeMo"): kept as written, and the plan says how
        # its PyTorch recipe reaches it.
        low = words.lower()
        known = _FRAMEWORKS.get(low) or _FRAMEWORKS.get(re.split(r"[\s/,(]+", low, maxsplit=1)[0])
        if known is None and len(words) > MAX_FRAMEWORK_CHARS:
            raise ValueError(f"expected a framework name of at most {MAX_FRAMEWORK_CHARS} characters; got "
                             f"{clip(words)}")  # fmt: skip
        return known or words


MAX_FRAMEWORK_CHARS = 80

# What users write as their framework, to the name the plan uses. Frameworks other than PyTorch are kept: the plan
# says how its PyTorch recipe carries over (advisor: codeFramework).
_FRAMEWORKS = {
    "pytorch": "PyTorch",
    "torch": "PyTorch",
    "lightning": "PyTorch",
    "pytorch lightning": "PyTorch",
    "tensorflow": "TensorFlow",
    "tf": "TensorFlow",
    "keras": "Keras",
    "jax": "JAX",
    "flax": "JAX",
    "matlab": "MATLAB",
    "paddlepaddle": "PaddlePaddle",
    "paddle": "PaddlePaddle",
    "mxnet": "MXNet",
    "scikit-learn": "scikit-learn",
    "sklearn": "scikit-learn",
    # The PyTorch libraries the catalog's models come from (advisor._SOURCE_NAMES) are PyTorch setups.
    **dict.fromkeys(["transformers", "timm", "torchvision", "ultralytics", "open_clip", "diffusers",
                     "stable-baselines3", "peft"], "PyTorch"),
}  # fmt: skip
KNOWN_FRAMEWORKS = frozenset(_FRAMEWORKS.values())


class TaskSpec(_Section):
    """The specification's `Input`. Quantities stay text as the user wrote them; `*_parsed` give the numbers."""

    task: Task = Field(description="What to learn: type, domain and the task in your words.")
    data: Data = Field(default_factory=Data, description="How much data, how clean, how balanced.")
    constraints: Constraints = Field(
        default_factory=Constraints, description="Hardware for training and serving, latency, accuracy, size, budget."
    )
    challenges: list[str] = Field(
        default_factory=list,
        description="Known difficulties, in your words; mapped onto few-shot, long-tail, noisy labels, domain shift, "
        "real-time, small objects, long sequences, privacy.",
        examples=[["long-tail", "domain-shift (different cameras)"], ["real-time", "small objects"]],
    )
    existingSetup: ExistingSetup | None = Field(None, description="What you have today.")

    @field_validator("challenges", mode="before")
    @classmethod
    def _challenges(cls, v: object) -> object:
        if isinstance(v, str):
            return [v]
        return [] if v is None else v

    @model_validator(mode="after")
    def _family_from_the_data(self) -> TaskSpec:
        """A generic family (or none) gives way to one the labels or challenges name: "normal-only" images are
        anomaly detection whatever task.type says. Same seed type and domain only."""
        from ..knowledge import find_task_family, get_task_family

        t = self.task
        labels = (self.data.labelAvailability or "").lower()
        if t.family == "object-detection" and _INSPECTION_VERDICTS.search(labels) and "box" not in labels:
            self._file_as_inspection_verdicts()
            return self
        if (t.family is not None and not get_task_family(t.family).generic_for) or re.search(
            r"\bfully[- ](?:supervised|labell?ed)\b", labels
        ):
            return self  # a narrower family is named already, or the labels are all there
        words = " ".join([labels, *self.challenges])
        named = find_task_family(text=words, domain=t.domain, task_type=t.type) if words.strip() else None
        if named is not None and (named.type, named.domain) == (t.type, t.domain):
            t.family = named.name
        return self

    def _file_as_inspection_verdicts(self) -> None:
        """A detection task whose labels give each part a pass/fail verdict and no boxes cannot train a box detector:
        it is visual anomaly detection when defects are rare (fitted on the good parts: PatchCore), else image
        classification of the verdict."""
        from ..knowledge import generic_task_family

        t = self.task
        text = " ".join([self.data.distribution or "", *self.challenges]).lower()
        rare = _RARE.search(text) is not None or any(float(p) <= RARE_DEFECT_SHARE for p in _PERCENT.findall(text))
        generic = generic_task_family("classification", t.domain)
        t.type = "classification"
        t.family = "visual-anomaly-detection" if rare else (generic.name if generic else None)

    @model_validator(mode="after")
    def _consistent(self) -> TaskSpec:
        """Reject constraints that contradict each other; the message names both fields."""
        challenges = " ".join(self.challenges).lower()
        size = self.data.size_parsed
        dist = (self.data.distribution or "").lower()
        says_balanced = re.match(r"\s*(?:roughly |approximately |about |fully |perfectly |well[- ])?balanced\b", dist)
        skew_words = (
            "imbalanc",
            "unbalanc",
            "dominat",
            "rare",
            "skew",
            "minority",
            "majority",
            "long tail",
            "long-tail",
        )
        if (
            says_balanced
            and not any(w in dist for w in skew_words)
            and ("long-tail" in challenges or "long tail" in challenges or "imbalance" in challenges)
        ):
            raise ValueError(
                "data.distribution says 'balanced' but challenges lists a long-tail/imbalance problem; "
                "make data.distribution 'long-tail' or drop the challenge"
            )
        if size is not None and ("few-shot" in challenges or "few shot" in challenges) and size.n_samples > 100_000:
            raise ValueError(
                f"challenges lists 'few-shot' but data.size is {size.text!r} ({size.n_samples:,} samples); "
                "few-shot means a handful of labelled examples per class"
            )
        label = (self.data.labelAvailability or "").lower()
        target = self.constraints.accuracy_parsed
        if (
            label in {"none", "unlabeled", "unlabelled"}
            and self.task.type in {"classification", "detection", "segmentation"}
            and target
        ):
            raise ValueError(
                f"data.labelAvailability is {self.data.labelAvailability!r} but constraints.accuracyTarget "
                f"{target.text!r} needs labels to measure; say 'weakly-supervised' or provide a labelled test set"
            )
        if self.task.type == "RL" and self.data.labelAvailability and label.startswith("fully"):
            raise ValueError(
                "task.type is RL, which learns from rewards, but data.labelAvailability says fully-supervised; "
                "use task.type 'classification' or 'sequence-modeling' for supervised learning"
            )
        return self


# ------------------------------------------------------------------------------------------------- loading

_FIELDS: dict[tuple[str, ...], list[str]] = {
    (): list(TaskSpec.model_fields),
    ("task",): list(Task.model_fields),
    ("data",): list(Data.model_fields),
    ("constraints",): list(Constraints.model_fields),
    ("existingSetup",): list(ExistingSetup.model_fields),
}


def _format_error(err: ErrorDetails, source: str) -> str:
    loc = tuple(str(p) for p in err["loc"])
    field = ".".join(loc) or "(document)"
    kind = err["type"]
    if kind == "extra_forbidden":
        import difflib

        valid = _FIELDS.get(loc[:-1], [])
        hint = difflib.get_close_matches(loc[-1], valid, n=1, cutoff=0.5)
        suggestion = f"; did you mean {'.'.join([*loc[:-1], hint[0]])!r}?" if hint else ""
        return f"{source}: unknown key {field!r}{suggestion} (valid keys here: {', '.join(valid)})"
    if kind == "missing":
        return f"{source}: missing required field {field!r}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        msg = f"expected {msg.removeprefix('Input should be ')}"
    elif kind in {"string_type", "bool_type", "list_type", "model_type", "dict_type", "bool_parsing"}:
        msg = f"{msg[0].lower()}{msg[1:]}; got {clip(err.get('input'))}"
    return f"{source}: {field}: {msg}"


def field_errors(data: dict[str, Any], *, source: str) -> dict[str, str]:
    """Every problem of a decoded spec by field path ("" for one between fields), each as `parse_task`'s one line;
    {} when it is valid. For forms that show each error next to its field."""
    try:
        TaskSpec.model_validate(data)
    except ValidationError as exc:
        return {".".join(str(p) for p in err["loc"]): _format_error(err, source) for err in exc.errors()}
    return {}


def parse_task(data: object, *, source: str = "<spec>") -> TaskSpec:
    """Validate a decoded document as a `TaskSpec`; raise `InvalidInputError` with one line naming the field."""
    if data is None:
        raise InvalidInputError(f"{source}: the task spec is empty; expected a mapping with at least 'task'")
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"{source}: expected a mapping with keys task, data, constraints; got a {type(data).__name__}"
        )
    try:
        return TaskSpec.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(_format_error(exc.errors()[0], source)) from None


def load_task(path: str | Path) -> TaskSpec:
    """Read a task spec from a YAML or JSON file, or from standard input when `path` is "-".

    Example:
        >>> spec = load_task("examples/cifar10-resnet.yaml")  # doctest: +SKIP
    """
    source = "<stdin>" if str(path) == "-" else str(path)
    text = read_user_text(path, expected="a task spec in YAML or JSON")
    if not text.strip():
        raise InvalidInputError(
            f"{source}: the file is empty; expected a task spec with at least 'task.type' and 'task.domain'"
        )
    return parse_task(_decode(text, source), source=source)


def _decode(text: str, source: str) -> object:
    if source.endswith(".json") or text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"{source}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
            ) from None
        except RecursionError:
            raise InvalidInputError(f"{source}: nested too deeply to be a task spec") from None
    return load_yaml(text, source=source)
