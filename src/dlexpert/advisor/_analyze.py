"""Step 1, task requirement analysis: normalise the spec into numbers, name the regime, and ask for what is missing.

The seed's feedback loop: "If critical information is missing (e.g., data size, compute resources), MUST ask user
to provide details." Missing facts become `questions` (with reasons); `assume_defaults=True` proceeds on stated
`assumptions` instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from ..knowledge import (
    DatasetInfo,
    FirstModel,
    HardwareProfile,
    TaskFamily,
    find_dataset,
    find_hardware,
    get_hardware,
    get_regimes,
    get_task_family,
)
from ..schema import Assumption, Evidence, Question, TaskSpec
from ..schema._quantity import (
    AccuracyTarget,
    Budget,
    Latency,
    device_kind,
    only_runs_there,
    parse_compute,
    parse_data_size,
    says_no_gpu,
    split_deployment,
)

# Challenge keywords, normalised. A challenge the user writes in their own words maps onto these tags.
_CHALLENGES = {
    "few-shot": ("few-shot", "few shot", "fewshot", "limited labels", "very little data", "tiny dataset"),
    "long-tail": ("long-tail", "long tail", "imbalance", "imbalanced", "unbalanced", "skewed", "rare class"),
    "noisy-labels": ("noisy label", "label noise", "noisy annotation", "annotation noise", "mislabel", "noisy"),
    "domain-shift": (
        "domain shift",
        "domain-shift",
        "distribution shift",
        "covariate shift",
        "out-of-distribution",
        "ood",
        "different camera",
        "production data differs",
    ),
    "real-time": ("real-time", "realtime", "real time", "low latency", "streaming", "on-device", "edge"),
    "small-objects": ("small object", "tiny object"),
    "long-sequences": ("long sequence", "long context", "long document", "long-range"),
    "privacy": ("privacy", "on-premise", "gdpr", "hipaa"),
}


@dataclass
class Context:
    """Everything later steps read: the spec's facts as numbers, the regime, and what was asked or assumed."""

    spec: TaskSpec
    task_type: str
    domain: str
    dataset: DatasetInfo | None
    n_samples: int | None
    n_classes: int | None
    band: str  # small | medium | large
    train_hw: HardwareProfile
    n_devices: int
    n_nodes: int
    device_memory_gb: float
    infer_hw: HardwareProfile
    latency: Latency | None
    size_limit_mb: float | None
    accuracy: AccuracyTarget | None
    budget: Budget | None
    realtime: bool
    challenges: set[str]
    long_tail: bool
    family: TaskFamily | None = None  # the task family (knowledge/data/tasks.yaml) the spec names
    params_limit_m: float | None = None  # the size limit as a parameter count, when the spec states it so
    languages: list[str] = field(default_factory=list)  # non-English languages the text or speech is in
    in_channels: int | None = None  # image bands when not RGB ("RGB + NIR" -> 4), from the task text
    image_side: int | None = None  # training resolution the spec states ("tiles of 1024x1024"), when it does
    runtimes: list[str] = field(default_factory=list)  # serving runtimes the spec names ("as a quantized tflite")
    required_model: str | None = None  # a model the spec says it must use ("fixed to EfficientNet-Lite0")
    scratch_required: bool = False  # the spec says to train from scratch ("train a small GPT from scratch")
    n_tokens: int | None = None  # training tokens, when data.size counts them (a language model's data)
    overhead: bool = False  # satellite/aerial/drone imagery: no canonical "up", so rotations keep the label
    input_shape: tuple[int, ...] | None = None  # per sample, from a data profile when one was given
    n_train: int | None = None  # samples in the training split, from a data profile when one was given
    modality: str | None = None  # image | sequence | tabular | text, from a data profile
    questions: list[Question] = field(default_factory=list)
    assumptions: list[Assumption] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def sequences_per_sample(self) -> int:
        """Sequences one training sample puts through the model: a preference pair is two (chosen and rejected,
        concatenated into one batch by TRL's DPOTrainer), everything else one."""
        return 2 if self.family is not None and self.family.name == "preference-tuning" else 1

    @property
    def first_model(self) -> FirstModel | None:
        """The family's model to fit before any network (tables: gradient-boosted trees), when the data is a table or
        the model comes first in any domain (forecasting's global LightGBM)."""
        first = self.family.first_model if self.family is not None else None
        return first if first is not None and (first.any_domain or self.domain == "tabular") else None

    @property
    def forecasting(self) -> bool:
        """The task forecasts series: windows in time, rolling-origin validation, no classes to balance."""
        return self.family is not None and self.family.name == "forecasting"

    @property
    def regression(self) -> bool:
        """The task family regresses a number per sample (tabular-regression), so the network outputs a value."""
        return self.family is not None and self.family.regression

    @property
    def multilingual(self) -> bool:
        """The text or speech is not (only) English: an English-only pretrained model does not fit."""
        return bool(self.languages)

    @property
    def total_devices(self) -> int:
        return self.n_devices * self.n_nodes

    @property
    def is_llm_task(self) -> bool:
        return self.domain == "NLP" and self.task_type in {"generation", "sequence-modeling"}


def detect_hardware() -> tuple[str, str]:
    """This machine's hardware as (profile name, description), without importing torch."""
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
            lines = [ln for ln in out.splitlines() if ln.strip()]
            if lines:
                hw = find_hardware(lines[0])
                if hw is not None:
                    return hw.name, f"{len(lines)}x {lines[0]} (nvidia-smi)"
        except (OSError, subprocess.SubprocessError):
            pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    name = "cpu-2core" if cores <= 4 else "cpu-laptop" if cores <= 16 else "cpu-server"
    return name, f"CPU with {cores} usable cores (os.sched_getaffinity)"


def _band(n: int) -> str:
    for b in get_regimes()["data_bands"]:
        if b["max_samples"] is None or n < b["max_samples"]:
            return str(b["name"])
    return "large"


def _challenges(spec: TaskSpec) -> set[str]:
    text = " ".join(spec.challenges).lower()
    return {tag for tag, words in _CHALLENGES.items() if any(w in text for w in words)}


@dataclass
class _Notes:
    """What Step 1 asked, assumed, measured and warned about, in the order it found them."""

    assume_defaults: bool
    questions: list[Question] = field(default_factory=list)
    assumptions: list[Assumption] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def ask_or_assume(self, q: Question, default: str) -> None:
        """Missing information: a question, or with `assume_defaults` an assumption with the question's reason."""
        if self.assume_defaults:
            self.assumptions.append(Assumption(field=q.field, value=default, reason=q.reason))
        else:
            self.questions.append(q)


def analyse(
    spec: TaskSpec, *, hardware: str | None = None, assume_defaults: bool = False, profile: Any = None
) -> Context:
    """Seed Step 1. `hardware` (a profile name, alias, or "auto") overrides `constraints.computeResources`;
    `profile` (a `DataProfile`) adds the measured input shape and modality."""
    notes = _Notes(assume_defaults=assume_defaults)
    cons = spec.constraints
    _unread_constraints(cons, notes)
    dataset = find_dataset(spec.task.specificTask)
    n_samples = _data_size(spec, dataset, notes)
    n_classes = _class_count(spec, dataset, profile, notes)
    train_hw, n_devices, n_nodes, device_memory_gb = _training_hardware(cons, hardware, notes)
    latency = cons.latency_parsed
    infer_hw = _deployment_target(spec, latency, train_hw, notes)
    challenges = _challenges(spec)
    realtime = "real-time" in challenges or (latency is not None and latency.max_ms <= 100)
    if "real-time" in challenges and latency is None:
        latency = _assumed_frame_rate(notes)
    if infer_hw.kind in {"edge", "npu", "mcu"} or train_hw.kind in {"edge", "npu"}:
        challenges.add("real-time")
    challenges |= _data_challenges(spec, profile, n_samples)
    if dataset is not None and dataset.task != spec.task.type:
        notes.warnings.append(
            f"specificTask names {dataset.name}, a {dataset.task} dataset, but task.type is "
            f"{spec.task.type}; using the dataset only for its size"
        )
    input_shape = tuple(profile.input_shape) if profile is not None and profile.input_shape else None
    if input_shape is not None:
        notes.evidence.append(Evidence(claim="input shape per sample", value=str(input_shape),
                                       source=f"data profile of {getattr(profile, 'source', 'the data')}"))  # fmt: skip
    languages = _languages(spec, notes)
    family = _family(spec, notes)
    return Context(
        family=family,
        languages=languages,
        in_channels=_bands(spec, notes) if profile is None else None,
        image_side=_image_side(spec, notes) if profile is None else None,
        runtimes=_named_runtimes(spec),
        required_model=_required_model(spec),
        scratch_required=_scratch_required(spec, notes),
        n_tokens=spec.data.size_parsed.tokens if spec.data.size_parsed is not None else None,
        overhead=spec.task.domain == "CV" and bool(_OVERHEAD.search(_task_text(spec))),
        input_shape=input_shape,
        n_train=_train_count(profile),
        modality=getattr(profile, "modality", None),
        spec=spec,
        task_type=spec.task.type,
        domain=spec.task.domain,
        dataset=dataset,
        n_samples=n_samples,
        n_classes=n_classes,
        band=_band(n_samples) if n_samples is not None else "medium",
        train_hw=train_hw,
        n_devices=n_devices,
        n_nodes=n_nodes,
        device_memory_gb=device_memory_gb,
        infer_hw=infer_hw,
        latency=latency,
        size_limit_mb=_size_limit(cons, infer_hw, notes),
        params_limit_m=cons.model_size_parsed.max_params_m if cons.model_size_parsed is not None else None,
        accuracy=cons.accuracy_parsed,
        budget=cons.budget_parsed,
        realtime=realtime,
        challenges=challenges,
        long_tail="long-tail" in challenges,
        questions=notes.questions,
        assumptions=notes.assumptions,
        evidence=notes.evidence,
        warnings=notes.warnings,
    )


# Languages people name in a spec; "multilingual" and friends stand for several unnamed ones.
_LANGUAGES = (
    "german", "french", "italian", "spanish", "portuguese", "dutch", "polish", "czech", "swedish", "danish",
    "norwegian", "finnish", "greek", "turkish", "russian", "ukrainian", "arabic", "hebrew", "persian", "hindi",
    "bengali", "urdu", "tamil", "chinese", "mandarin", "cantonese", "japanese", "korean", "vietnamese", "thai",
    "indonesian", "malay", "swahili", "romanian", "hungarian", "catalan", "indic", "marathi", "telugu", "kannada",
    "malayalam", "gujarati", "punjabi", "nepali", "sinhala", "burmese", "khmer", "tagalog", "filipino", "hausa",
    "yoruba", "igbo", "amharic", "somali", "zulu", "xhosa", "afrikaans", "pashto", "kazakh", "uzbek", "serbian",
    "croatian", "bulgarian", "slovak", "slovenian", "lithuanian", "latvian", "estonian", "icelandic", "irish", "welsh",
    "basque", "galician", "maori",
)  # fmt: skip
# Other names people give a language: its own name ("Bangla", "Farsi"), a mixed register ("Hinglish").
_LANGUAGE_ALIASES = {"bangla": "bengali", "farsi": "persian", "hinglish": "hindi", "flemish": "dutch",
                     "bahasa": "indonesian"}  # fmt: skip
# Code-mixed text (two languages in one sentence) is multilingual whatever it names.
_MULTILINGUAL = re.compile(
    r"multi-?lingual|cross-?lingual|\b(?:\d+|many|several|multiple) languages\b|non-english"
    r"|code-?(?:mixed|mixing|switched|switching)"
)
# A list of three or more ISO 639-1 codes, as product teams write them: "EN, ES, PT-BR, KO, TR, DE, FR chat".
_CODE_LIST = re.compile(r"\b[A-Z]{2}(?:-[A-Z]{2})?(?:\s*(?:,|/|and)\s*[A-Z]{2}(?:-[A-Z]{2})?){2,}\b")
_LANGUAGE_CODES = {
    "de": "german", "fr": "french", "it": "italian", "es": "spanish", "pt": "portuguese", "nl": "dutch", "pl": "polish",
    "cs": "czech", "sv": "swedish", "da": "danish", "no": "norwegian", "nb": "norwegian", "fi": "finnish",
    "el": "greek", "tr": "turkish", "ru": "russian", "ar": "arabic", "he": "hebrew",
    "fa": "persian", "hi": "hindi", "bn": "bengali", "ur": "urdu", "ta": "tamil", "zh": "chinese", "ja": "japanese",
    "ko": "korean", "vi": "vietnamese", "th": "thai", "id": "indonesian", "ms": "malay", "sw": "swahili",
    "ro": "romanian", "hu": "hungarian",
}  # fmt: skip


_OVERHEAD = re.compile(r"satellite|aerial|remote[- ]sensing|drone|\buav\b|overhead|orthophoto|sentinel|landsat")
_BAND_COUNT = re.compile(r"\b(\d{1,3})[- ]?(?:band|channel|spectral band)s?\b")
_NAMED_BANDS = {"rgb": 3, "nir": 1, "near-infrared": 1, "near infrared": 1, "swir": 1, "red-edge": 1, "red edge": 1,
                "thermal": 1, "lidar": 1, "dsm": 1, "elevation": 1, "sar": 2}  # fmt: skip


def _task_text(spec: TaskSpec) -> str:
    return " ".join(filter(None, [spec.task.specificTask, spec.data.distribution, spec.data.quality, spec.data.size,
                                  *spec.challenges])).lower()  # fmt: skip


_RUNTIMES = {  # words people use for a serving runtime -> the export format the plan names
    "tflite": "TFLite (LiteRT)", "litert": "TFLite (LiteRT)", "tensorflow lite": "TFLite (LiteRT)",
    "core ml": "Core ML", "coreml": "Core ML", "onnx": "ONNX", "tensorrt": "TensorRT", "openvino": "OpenVINO",
    "executorch": "ExecuTorch", "tfjs": "TensorFlow.js", "tensorflow.js": "TensorFlow.js", "ncnn": "ncnn",
    "gguf": "GGUF for llama.cpp", "llama.cpp": "GGUF for llama.cpp", "vllm": "safetensors for vLLM / TGI",
}  # fmt: skip


def _constraint_text(spec: TaskSpec) -> str:
    """Every free-text word of the spec where a user names hardware, runtimes or models, lower case."""
    cons = spec.constraints
    return " ".join(filter(None, [cons.computeResources, cons.deploymentTarget, cons.latencyRequirement,
                                  cons.modelSizeLimit, _task_text(spec)])).lower()  # fmt: skip


def _named_runtimes(spec: TaskSpec) -> list[str]:
    """Serving runtimes the spec itself names, in the order of `_RUNTIMES`: the user's stack is kept."""
    text = _constraint_text(spec)
    found = [
        fmt
        for word, fmt in _RUNTIMES.items()
        for m in re.finditer(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text)
        if not re.search(r"\b(?:no|not|without|avoid|instead of|can't use|cannot use)\b[\w ]{0,12}$", text[: m.start()])
    ]
    return list(dict.fromkeys(found))


# "fixed to X", "must use X", "X is mandated": a model name (letters with a digit: EfficientNet-Lite0, ResNet-50,
# YOLOv8n) the spec says is not up for choice.
_REQUIRED_MODEL = re.compile(
    r"\b(?:fixed to|must use|must be|have to use|has to be|required to use|stuck with|mandated to use|only allowed)"
    r"\s+(?:an?\s+|the\s+)?([a-z][a-z0-9_.\-/]*\d[a-z0-9_.\-/]*)"
)


def _required_model(spec: TaskSpec) -> str | None:
    """A model the spec says it must use, as written; `existingSetup.baseModel` says the same in a field."""
    m = _REQUIRED_MODEL.search(_constraint_text(spec))
    return m.group(1).strip(".-/") if m else None


def _image_side(spec: TaskSpec, notes: _Notes) -> int | None:
    """The image resolution the spec states ("8k tiles of 512x512", "1024 x 1024 px"): the longer side."""
    if spec.task.domain not in {"CV", "multimodal"}:
        return None
    m = re.search(r"\b(\d{2,5})\s*[x×]\s*(\d{2,5})\b", _task_text(spec))
    if m is None:
        return None
    side = max(int(m.group(1)), int(m.group(2)))
    if not 16 <= side <= 20_000:
        return None
    notes.evidence.append(Evidence(claim="image resolution", value=f"{m.group(1)}x{m.group(2)}",
                                   source=f"task text {m.group(0)!r}; compute scales with the pixels"))  # fmt: skip
    return side


def _bands(spec: TaskSpec, notes: _Notes) -> int | None:
    """Input bands of an image task when they are not RGB: "4-band", "13 spectral bands", "RGB + NIR"."""
    if spec.task.domain not in {"CV", "multimodal"}:
        return None
    text = _task_text(spec)
    m = _BAND_COUNT.search(text)
    if m:
        bands = int(m.group(1))
        source = f"task text {m.group(0)!r}"
    elif re.search(r"rgb\s*(?:\+|and|plus|,)\s*(?:nir|near[- ]infrared|swir|thermal|lidar|dsm|elevation)", text):
        parts = re.findall(r"rgb|nir|near[- ]infrared|swir|red[- ]edge|thermal|lidar|dsm|elevation|\bsar\b", text)
        bands = sum(_NAMED_BANDS.get(p.replace("near infrared", "near-infrared"), 1) for p in dict.fromkeys(parts))
        source = f"task text ({' + '.join(dict.fromkeys(parts))})"
    else:
        return None
    if bands in (0, 3) or bands > 256:
        return None
    notes.evidence.append(Evidence(claim="input bands", value=str(bands), source=source))
    return bands


def _family(spec: TaskSpec, notes: _Notes) -> TaskFamily | None:
    """The task family the spec names, with what it is measured by and how its data is counted."""
    if spec.task.family is None:
        return None
    f = get_task_family(spec.task.family)
    notes.evidence.append(
        Evidence(
            claim="task family",
            value=f"{f.name}: {f.input} -> {f.output}; measured by {', '.join(f.metrics)}; "
            f"loss: {f.loss}; data counted in {f.size_unit}",
            source=f.source,
        )
    )
    return f


def _languages(spec: TaskSpec, notes: _Notes) -> list[str]:
    """Non-English languages the spec names for its text or speech ("German, French and Italian contracts")."""
    if spec.task.domain not in {"NLP", "audio", "multimodal"}:
        return []
    text = _task_text(spec)
    found = [lang for lang in _LANGUAGES if re.search(rf"\b{lang}\b", text)]
    found += [lang for alias, lang in _LANGUAGE_ALIASES.items() if re.search(rf"\b{alias}\b", text)]
    found = list(dict.fromkeys(found))
    if not found:
        found = _coded_languages(spec)
    if not found and (_MULTILINGUAL.search(text) or spec.task.family == "translation"):
        found = ["multilingual"]  # translation has a second language by definition
    if found:
        notes.evidence.append(Evidence(claim="languages", value=", ".join(found),
                                       source="task text; English-only pretrained models are excluded"))  # fmt: skip
    return found


def _coded_languages(spec: TaskSpec) -> list[str]:
    """Non-English languages named by code in a list of three or more language codes ("EN, ES, PT-BR, KO"; a list
    of country codes such as "US, UK, CA" names none). UK is left out: it is more often the country than Ukrainian."""
    raw = " ".join(filter(None, [spec.task.specificTask, spec.data.distribution, spec.data.quality, *spec.challenges]))
    found: list[str] = []
    for m in _CODE_LIST.finditer(raw):
        codes = [c.split("-")[0].lower() for c in re.findall(r"[A-Z]{2}(?:-[A-Z]{2})?", m.group(0))]
        if sum(c in _LANGUAGE_CODES or c == "en" for c in codes) >= 3:
            found += [_LANGUAGE_CODES[c] for c in codes if c in _LANGUAGE_CODES]
    return list(dict.fromkeys(found))


def _unread_constraints(cons: Any, notes: _Notes) -> None:
    """Constraints stated in words with no number the parsers read ("continuous, duty-cycled"): planned without them,
    and said."""
    for name, text, parsed in (
        ("latencyRequirement", cons.latencyRequirement, cons.latency_parsed),
        ("accuracyTarget", cons.accuracyTarget, cons.accuracy_parsed),
        ("modelSizeLimit", cons.modelSizeLimit, cons.model_size_parsed),
        ("budget", cons.budget, cons.budget_parsed),
    ):
        if text and parsed is None:
            notes.assumptions.append(
                Assumption(
                    field=f"constraints.{name}",
                    value="not used as a number",
                    reason=f"{text!r} states no number dlexpert reads; write one (e.g. '<50ms', '<20MB', "
                    "'top-1 > 90%', '$500') to plan for it",
                )
            )
    latency = cons.latency_parsed
    if latency is not None and not re.search(r"\d", cons.latencyRequirement or ""):
        notes.assumptions.append(
            Assumption(
                field="constraints.latencyRequirement",
                value=f"{latency.max_ms:g} ms",
                reason=f"{cons.latencyRequirement!r} states no number: real-time is read as {latency.max_ms:g} ms, "
                "the limit for a response that feels instantaneous (Nielsen, Usability Engineering, 1993, ch. 5); "
                "write a number to plan for another",
            )
        )


# "train a small GPT from scratch (not finetune)", "no pretrained weights allowed": the user rules fine-tuning out.
_SCRATCH = re.compile(
    r"\bfrom scratch\b|\bnot (?:to )?fine-?tun|\bno pre-?trained\b|\bwithout pre-?trained\b"
    r"|\bfrom (?:a )?random(?:ly)?[- ]init|\brandom(?:ly)?[- ]initiali[sz]"  # "pretrain ... from random init"
)


def _scratch_required(spec: TaskSpec, notes: _Notes) -> bool:
    """The spec's words say to train from scratch: every candidate is then its architecture, randomly initialised."""
    text = _task_text(spec)
    m = _SCRATCH.search(text)
    if m:
        said = text[max(0, m.start() - 30) : m.end() + 20]
        notes.evidence.append(Evidence(claim="training from scratch", value="required", source=f"task text {said!r}"))
    return m is not None


def _data_size(spec: TaskSpec, dataset: DatasetInfo | None, notes: _Notes) -> int | None:
    """Training samples: from `data.size`, else from a named public dataset, else asked (or assumed per domain)."""
    size = spec.data.size_parsed
    if size is not None:
        notes.evidence.append(
            Evidence(
                claim="training samples", value=f"{size.n_samples:,} ({size.unit})", source=f"data.size {size.text!r}"
            )
        )
        return size.n_samples
    if dataset is not None:
        notes.evidence.append(
            Evidence(claim=f"training samples of {dataset.name}", value=f"{dataset.n_train:,}", source=dataset.source)
        )
        return dataset.n_train
    unread = f"data.size {spec.data.size!r} gives no count dlexpert reads. " if spec.data.size else ""
    q = Question(
        field="data.size",
        question=f"{unread}How many labelled training samples do you have (e.g. '10k images')?",
        reason="Step 2's principles pick transfer learning (<10k), fine-tuning + augmentation (10k-100k) "
        "or training from scratch (>100k) by data size; epochs and training time scale with it too.",
    )
    default = get_regimes()["defaults"]["data_size"][spec.task.domain]
    notes.ask_or_assume(q, default)
    return parse_data_size(default).n_samples if notes.assume_defaults else None


def _class_count(spec: TaskSpec, dataset: DatasetInfo | None, profile: Any, notes: _Notes) -> int | None:
    """Classes: measured in the data, else written in the spec ("37 classes"), else the named dataset's."""
    n_classes = dataset.n_classes if dataset else None
    written = " ".join(filter(None, [spec.task.specificTask, spec.data.distribution, spec.data.size]))
    m = re.search(r"(\d[\d,]*)\s*(?:classes|categories|labels|species|classes?)\b", written.lower())
    if m:
        n_classes = int(m.group(1).replace(",", ""))
        notes.evidence.append(Evidence(claim="classes", value=str(n_classes), source=f"spec text {m.group(0)!r}"))
    elif n_classes is not None and dataset is not None:
        notes.evidence.append(Evidence(claim=f"classes in {dataset.name}", value=str(n_classes), source=dataset.source))
    if getattr(profile, "n_classes", None):  # measured beats written
        n_classes = int(profile.n_classes)
    return n_classes


def _training_hardware(cons: Any, hardware: str | None, notes: _Notes) -> tuple[HardwareProfile, int, int, float]:
    """(device, devices per node, nodes, memory per device in GB): `--hardware` beats the spec; "auto" detects this
    machine; a spec that names no device is asked (or the default assumed)."""
    compute = cons.compute_parsed
    n_devices, n_nodes = (compute.n_devices, compute.n_nodes) if compute is not None else (1, 1)
    mem = None
    runs_only = compute is not None and only_runs_there(split_deployment(compute.text)[0])
    if hardware:
        train_hw = _named_hardware(hardware, notes)
    elif compute is not None and not runs_only:
        train_hw, mem = _hardware_from_text(compute, notes), compute.memory_gb
    else:
        default = get_regimes()["defaults"]["compute"]
        parsed = parse_compute(default)
        train_hw = find_hardware(parsed.device or default) or _generic(parsed.kind, parsed.memory_gb, None)
        if runs_only:
            assert compute is not None
            n_devices, n_nodes = 1, 1
            _trains_elsewhere(compute.text, default, train_hw, notes)
        else:
            q = Question(
                field="constraints.computeResources",
                question="What will you train on (e.g. 'single-GPU 24GB', '8x A100', 'CPU (8 cores)')?",
                reason="Model size, batch size, mixed precision, adaptation method (full fine-tuning vs LoRA) "
                "and training time all depend on the device and its memory.",
            )
            notes.ask_or_assume(q, default)
    if mem and mem > train_hw.memory_gb * 1.05 and train_hw.kind != "cpu":
        notes.warnings.append(
            f"computeResources says {mem:g} GB but {train_hw.display_name} has {train_hw.memory_gb:g} GB; "
            f"planning with {train_hw.memory_gb:g} GB"
        )
        mem = None
    return train_hw, n_devices, n_nodes, mem or train_hw.memory_gb


def _trains_elsewhere(text: str, default: str, train_hw: HardwareProfile, notes: _Notes) -> None:
    """computeResources names only a device that does not train networks: it is the deployment target, and the
    training device is the default, said as an assumption."""
    notes.assumptions.append(
        Assumption(
            field="constraints.computeResources",
            value=default,
            reason=f"{text!r} is where the model runs (a {device_kind(text)} does not train networks); what it trains "
            "on is not said, so the default is planned and the device is the deployment target",
        )
    )
    notes.evidence.append(Evidence(claim="training hardware", value=f"1 x {train_hw.display_name}",
                                   source=f"assumed (regimes.yaml defaults.compute {default!r})"))  # fmt: skip


def _named_hardware(hardware: str, notes: _Notes) -> HardwareProfile:
    """`--hardware NAME`, or "auto": this machine."""
    if hardware == "auto":
        name, desc = detect_hardware()
        train_hw = get_hardware(name)
        notes.evidence.append(Evidence(claim="training hardware (detected)", value=train_hw.display_name, source=desc))
    else:
        train_hw = get_hardware(hardware)
        notes.evidence.append(Evidence(claim="training hardware", value=train_hw.display_name, source="--hardware"))
    return train_hw


def _hardware_from_text(compute: Any, notes: _Notes) -> HardwareProfile:
    """The device `computeResources` describes. A named device wins; an unnamed CPU is sized by its core count, not
    by the word "cpu"."""
    found = find_hardware(compute.device) if compute.device else None
    if found is None and compute.kind != "cpu":
        found = find_hardware(split_deployment(compute.text)[0])  # the training part: not "...; deployed on X"
    if found is not None and (found.kind == "cpu") != (compute.kind == "cpu"):
        found = None
    train_hw = found or _generic(compute.kind, compute.memory_gb, compute.cores)
    model = _MODEL_NAME.search(split_deployment(compute.text)[0]) if found is None and compute.kind == "gpu" else None
    if model is not None:
        notes.assumptions.append(
            Assumption(
                field="constraints.computeResources",
                value=train_hw.display_name,
                reason=f"{model.group(0)!r} is not in the hardware table (knowledge/data/hardware.yaml), so its speed "
                f"is not known: the plan uses the generic GPU profile for {compute.memory_gb or 24:g} GB",
            )
        )
    notes.evidence.append(
        Evidence(
            claim="training hardware",
            value=f"{compute.n_nodes * compute.n_devices} x {train_hw.display_name}",
            source=f"constraints.computeResources {compute.text!r} -> {train_hw.source}",
        )
    )
    if re.search(r"\bmulti", compute.text.lower()) and not re.search(r"\d", compute.text):
        notes.assumptions.append(
            Assumption(
                field="constraints.computeResources",
                value="2 devices",
                reason="'multi-GPU' without a count; the plan assumes the minimum, two",
            )
        )
    return train_hw


# A device model written as letters and digits ("RTX A5000", "RTX 5000 Ada", "A800"): named, so it should be known.
_MODEL_NAME = re.compile(
    r"\b(?:(?:rtx|gtx|quadro|titan|tesla|radeon|instinct|arc)\s+)?(?!(?:fp|bf|tf|int)\d)(?:[a-z]{1,3}\d{2,4}[a-z]{0,3}|\d{4})\b",
    re.IGNORECASE,
)


def _deployment_target(
    spec: TaskSpec, latency: Latency | None, train_hw: HardwareProfile, notes: _Notes
) -> HardwareProfile:
    """Where the model will run: `constraints.deploymentTarget`, else the deployment clause of computeResources
    ("...; deployed on a Cortex-M7"), else the device in the latency requirement, else a deployment phrase in the task
    text ("the app runs offline on iPhones"), else the training device."""
    cons = spec.constraints
    compute = cons.compute_parsed
    written = [
        ("constraints.deploymentTarget", cons.deploymentTarget),
        ("constraints.computeResources", compute.deployment if compute else None),
        (
            "constraints.latencyRequirement",
            (latency.hardware if latency else None) or _named_device(cons.latencyRequirement),
        ),
        ("task text", _deployment_phrase(" ".join([spec.task.specificTask or "", *spec.challenges]))),
    ]
    for where, text in written:
        if not text:
            continue
        kind = device_kind(text)
        found = _hardware_of_kind(text, kind) or find_hardware(text) or (_generic(kind, None, None) if kind else None)
        if found is not None and found.kind == "gpu" and says_no_gpu(text):
            # "archivists' laptops (Apple M1 / Intel, no NVIDIA GPU)": a fleet that has no GPU to count on is
            # planned on its CPU, the device every machine of it shares.
            found = _generic("cpu", None, None)
        if found is None:
            notes.warnings.append(
                f"{where} names a deployment device in {text!r} that no hardware profile matches; "
                f"predicting latency on {train_hw.display_name} instead"
            )
            return train_hw
        value = f"{found.display_name} ({found.kind})"
        notes.evidence.append(Evidence(claim="deployment target", value=value, source=f"{where} {text!r}"))
        return found
    return train_hw


def _hardware_of_kind(text: str, kind: str | None) -> HardwareProfile | None:
    """The profile named in the first clause of `text` that names a device of the kind the whole text is read as: "one
    on-prem GPU server (1x L4 24 GB) inside our network, CPU nodes for indexing" serves on the L4 (the longest alias
    of the whole text is "cpu", which would plan a laptop CPU)."""
    if kind is None:
        return None
    for clause in re.split(r"[,;]|\band\b", text):
        found = find_hardware(clause) if device_kind(clause) == kind else None
        if found is not None and found.kind == kind:
            return found
    return None


_DEPLOY_PHRASE = re.compile(
    r"(?:deploy\w*|runs?|running|serv\w*|ship\w*|inference)\s+(?:offline\s+|locally\s+|fully\s+)?(?:on|in|to)\s+"
    r"(?:an?\s+|the\s+|our\s+|their\s+)?([\w .+-]{2,60})"
)


def _named_device(text: str | None) -> str | None:
    """`text` when it names a device ("the app runs offline on iPhones, < 30 ms"): a latency is measured where the
    model runs."""
    return text if text and device_kind(text) is not None else None


def _deployment_phrase(text: str) -> str | None:
    """ "...; the app runs offline on iPhones" -> "iPhones": a device named after a deployment verb, if any."""
    for m in _DEPLOY_PHRASE.finditer(text.lower()):
        if device_kind(m.group(1)) is not None or find_hardware(m.group(1)) is not None:
            return m.group(1).strip()
    return None


def _size_limit(cons: Any, infer_hw: HardwareProfile, notes: _Notes) -> float | None:
    """The model size limit in MB: the spec's, else half a microcontroller's flash for int8 weights (the firmware, the
    runtime and the rest of the application need the other half)."""
    if cons.model_size_parsed is not None:
        return float(cons.model_size_parsed.max_mb)
    if infer_hw.flash_mb is None:
        return None
    limit = infer_hw.flash_mb / 2
    notes.evidence.append(
        Evidence(
            claim="model size limit (int8 weights)",
            value=f"{limit:g} MB",
            source=f"half the {infer_hw.flash_mb:g} MB flash of {infer_hw.display_name}",
        )
    )
    return limit


def _assumed_frame_rate(notes: _Notes) -> Latency:
    notes.assumptions.append(
        Assumption(
            field="constraints.latencyRequirement",
            value="<33 ms (30 fps)",
            reason="challenges says real-time but gives no number; 30 frames per second is the usual video rate",
        )
    )
    return Latency(text="30 fps (assumed for 'real-time')", max_ms=1000 / 30)


def _train_count(profile: Any) -> int | None:
    """The training split's size in a data profile (samples of a table or series set, images of a dense set)."""
    counts = getattr(profile, "n_images", None) or getattr(profile, "n_samples", None)
    return int(counts["train"]) if isinstance(counts, dict) and counts.get("train") else None


def _data_challenges(spec: TaskSpec, profile: Any, n_samples: int | None) -> set[str]:
    """Challenges the data itself shows: a long tail (written or measured), noisy labels, very few samples."""
    found = set()
    dist = (spec.data.distribution or "").lower()
    if any(w in dist for w in ("long", "tail", "imbalanc", "unbalanc", "skew")) or getattr(
        profile, "imbalanced", False
    ):
        found.add("long-tail")
    quality = (spec.data.quality or "").lower()
    if any(w in quality for w in ("noisy", "noise", "crowd", "weak", "errors", "mislabel", "poor")):
        found.add("noisy-labels")
    if n_samples is not None and n_samples < get_regimes()["tiny_data_samples"]:
        found.add("few-shot")
    return found


def _generic(kind: str, memory_gb: float | None, cores: int | None) -> HardwareProfile:
    """A profile for a device the text does not name: the closest generic one by kind and memory."""
    if kind == "cpu":
        if cores is not None and cores <= 4:
            return get_hardware("cpu-2core")
        return get_hardware("cpu-server" if cores and cores > 16 else "cpu-laptop")
    if kind == "tpu":
        return get_hardware("tpu-v4")
    if kind == "edge":
        return get_hardware("jetson-orin")
    if kind == "npu":
        return get_hardware("phone-npu")
    if kind == "mcu":
        return get_hardware("cortex-m4")  # the smallest common class: a plan that fits it fits the others
    if kind == "browser":
        return get_hardware("browser-webgpu")
    # A GPU of unnamed model: pick by memory (16 GB T4/V100 class, 24 GB A10/3090/4090 class, 40/80 GB A100).
    mem = memory_gb or 24
    if mem <= 16:
        return get_hardware("t4")
    if mem <= 24:
        return get_hardware("a10")
    if mem <= 48:
        return get_hardware("a100-40gb")
    if mem <= 80:
        return get_hardware("a100-80gb")
    return get_hardware("h200")
