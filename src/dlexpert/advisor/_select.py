"""Step 2, model architecture selection: list candidates, filter by the constraints, rank, choose, and compare.

Candidates are catalog entries for the task and domain, plus dlexpert's own from-scratch networks when the data is
large enough for them. Each is checked against the size limit, the latency budget on the inference device, the
training memory of the device, and the accuracy target when it is stated on the same benchmark; policy caps
(parameters per data band, a training-time screen) are soft limits that only decide when something else passes.
Among those that pass, the choice maximises published score minus `cost_penalty_points_per_doubling` points per
doubling of GMACs (the knee of the accuracy/compute front), or follows a cited `family_preference` list where the
candidates' published metrics are not comparable. 2-3 alternatives from other families are set beside it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from ..estimate import (
    LLM_4BIT_BYTES,
    LLM_WEIGHT_BYTES,
    LatencyEstimate,
    estimate_gmacs,
    predict_latency,
    training_memory_gb,
    training_time,
)
from ..knowledge import ModelEntry, get_family, get_regimes, get_task_family, list_models
from ..weights import WeightsStatus
from ._analyze import Context

# The architecture class whose inductive bias fits each data modality, used when no published score ranks the
# candidates: convolutions for the locality and translation structure of images and signals (LeCun et al. 1998;
# Greydanus 2020, arXiv 2011.14439, CNN 94% vs MLP 68% on MNIST-1D), an MLP for feature vectors without order.
SCRATCH_ARCHITECTURE = {"image": "CNN", "sequence": "CNN", "tabular": "MLP"}
DOMAIN_MODALITY = {"CV": "image", "time-series": "sequence", "audio": "sequence"}  # when no data profile says
# Asked of each pretrained candidate when the first choice cannot load here (see `select`).
WeightsCheck = Callable[[ModelEntry], WeightsStatus]

# Libraries whose catalog entries come with pretrained weights; anything else is an architecture trained from scratch.
PRETRAINED_LIBRARIES = {"timm", "torchvision", "transformers", "ultralytics", "open_clip", "diffusers", "nemo"}
LLM_FAMILIES = frozenset(get_regimes()["llm_families"])
# A language model trained from scratch wants about 20 tokens per parameter (Chinchilla: Hoffmann et al. 2022, arXiv
# 2203.15556); more parameters than CHINCHILLA_SLACK x the optimum for the tokens at hand waste the compute.
CHINCHILLA_TOKENS_PER_PARAM = 20
CHINCHILLA_SLACK = 5.0
# Models at least this large (millions of parameters) try full fine-tuning, then LoRA, then (LLMs on CUDA) QLoRA.
LARGE_MODEL_M = 500


@dataclass
class Candidate:
    entry: ModelEntry
    scratch: bool  # trained from scratch (no pretrained weights)
    adaptation: str  # full | partial | linear-probe | lora | qlora | scratch
    latency: LatencyEstimate | None
    train_memory_gb: float
    train_memory_how: str
    size_mb: float  # fp32 weights
    score: float | None  # the reference metric, higher is better
    score_label: str
    failures: list[str] = field(default_factory=list)  # hard constraints it breaks
    soft: list[str] = field(default_factory=list)  # policy caps it exceeds
    unfit: bool = False  # the wrong kind of model for the task (architecture or language), not just a missed number
    needs_compression: str | None = None

    @property
    def normal_only(self) -> bool:
        """The model learns from normal samples only (a one-class anomaly detector)."""
        return get_family(self.entry.family).normal_only

    @property
    def feasible(self) -> bool:
        return not self.failures

    @property
    def cost(self) -> float:
        return self.latency.ms if self.latency else self.entry.params_m


@dataclass
class Selection:
    chosen: Candidate
    alternatives: list[Candidate]
    reference: tuple[str, str]  # (metric, dataset) used for ranking
    n_candidates: int
    n_feasible: int
    all_feasible: bool
    relax: list[str]
    why: str  # how the choice was made, for the rationale
    candidates: list[Candidate] = field(default_factory=list)  # every candidate checked, for inspection and tests
    wanted: str | None = None  # the model the spec names (existingSetup.baseModel, "must use X"), as written
    base: Candidate | None = None  # the catalog's candidate for it, if any


# The share of a deployment device's memory its model's weights may take: the runtime, activations (KV cache for an
# LLM) and the rest of the application need the remainder. A dedicated GPU server gives the model more: vLLM takes
# 90% of the GPU by default (`gpu_memory_utilization=0.9`) for weights and KV cache, and 75% for the weights leaves the
# cache room for a few concurrent requests (heuristic).
DEPLOY_MEMORY_SHARE = 0.6
SERVER_MEMORY_SHARE = 0.75


def _serving_bytes_per_param(entry: ModelEntry, hw_kind: str) -> float:
    """Bytes per weight where the model serves, as the latency estimate assumes them: LLMs 16-bit on GPU servers
    (vLLM/TGI) and 4-bit elsewhere (llama.cpp GGUF Q4); other models fp16 on accelerators, int8 on CPUs and
    microcontrollers (the smallest a plan would ship)."""
    if entry.family in LLM_FAMILIES:
        return LLM_WEIGHT_BYTES.get(hw_kind, LLM_4BIT_BYTES)
    return 2.0 if hw_kind in {"gpu", "edge", "tpu", "npu"} else 1.0


def _serving_weights_gb(entry: ModelEntry, hw_kind: str) -> float:
    return entry.params_m * 1e6 * _serving_bytes_per_param(entry, hw_kind) / 1e9


def serving_precision(hw_kind: str) -> str:
    """Serving precision assumed for latency: fp16 on accelerators, fp32 on CPUs (INT8 is a measured option later)."""
    if hw_kind == "mcu":
        return "int8"  # microcontroller runtimes (TFLite Micro, CMSIS-NN) run int8 graphs only
    return "fp16" if hw_kind in {"gpu", "edge", "tpu", "npu"} else "fp32"


_METRIC_ALIASES = {"boxmap": "map", "map5095": "map", "map": "map", "top1": "top1", "accuracy": "top1", "acc": "top1"}


@lru_cache(maxsize=4096)
def benchmark_key(metric: str, dataset: str) -> tuple[str, str]:
    """Normalise (metric, dataset) so "box mAP"/"COCO-val2017" and "mAP50-95"/"COCO val2017" compare equal."""
    m = re.sub(r"[^a-z0-9]", "", re.sub(r"\(.*?\)", "", metric.lower()))
    return _METRIC_ALIASES.get(m, m), re.sub(r"[^a-z0-9]", "", dataset.lower())


def _primary(entry: ModelEntry, reference: tuple[str, str] | None) -> tuple[float | None, str]:
    """The entry's score on the reference benchmark, as a higher-is-better number, and its label."""
    for m in entry.metrics:
        if reference is None or benchmark_key(m.name, m.dataset) == reference:
            value = m.value if m.higher_is_better else -m.value
            return (
                value,
                f"{m.name} {m.value:g}{m.unit if m.unit == '%' else ' ' + m.unit if m.unit else ''} on {m.dataset}",
            )
    if entry.metrics:
        m = entry.metrics[0]
        return None, f"{m.name} {m.value:g}{'%' if m.unit == '%' else ''} on {m.dataset}"
    return None, "no published metric"


def _pool(ctx: Context, *, any_size_scratch: bool = False) -> list[tuple[ModelEntry, bool]]:
    """(entry, scratch) pairs for the task and domain. `any_size_scratch`: dlexpert's from-scratch families join
    even below their `min_samples_scratch` (when no pretrained model can load, they are what is left)."""
    domain = ctx.domain
    pref = preference(ctx)
    encoder_task = pref is not None and pref["key"] == "NLP/sequence-modeling"
    out: list[tuple[ModelEntry, bool]] = []
    # The architectures a task family names are its candidates whatever task their catalog entries list first: CLIP's
    # dual encoder is catalogued as a zero-shot classifier, and it is also what image search embeds with.
    pool = {m.name: m for m in list_models(task=ctx.task_type)}
    if ctx.family is not None:
        pool |= {m.name: m for m in list_models() if m.family in ctx.family.architectures}
    for m in pool.values():
        if get_family(m.family).specialist and (ctx.family is None or m.family not in ctx.family.architectures):
            continue  # a recommender is no candidate for a generic table
        domains = set(m.domains)
        if domain not in domains and not (
            domain == "multimodal" and domains & {"CV", "NLP"} and "multimodal" in domains
        ):
            continue
        if m.library == "dlexpert":
            fam = get_family(m.family)
            n = ctx.n_samples or 0
            # Series and tables: no pretrained model covers them, so a small network from scratch is the deep option
            # at any size (the Step-4 baselines decide whether it ships).
            small_ok = ctx.domain in {"time-series", "tabular"} or ctx.task_type == "RL"
            if any_size_scratch or n >= fam.min_samples_scratch or small_ok:
                out.append((m, True))
            continue
        # Generation in NLP means decoder LLMs (and T5), or the architectures the task family names (translation:
        # NLLB, OPUS-MT); encoders cannot generate. Text classification and token tagging are encoder work (see
        # family_preference): decoders stay out of those pools.
        if domain == "NLP":
            named = ctx.family is not None and m.family in ctx.family.architectures
            if ctx.task_type == "generation" and m.family not in LLM_FAMILIES and not named:
                continue
            if (ctx.task_type == "classification" or encoder_task) and m.family in LLM_FAMILIES:
                continue
        out.append((m, m.library not in PRETRAINED_LIBRARIES or ctx.scratch_required))
    return out


def _check_fit_to_task(ctx: Context, c: Candidate) -> None:
    """What the spec's words rule out: input bands the stem cannot take, weights too big for the deployment device,
    an architecture the task family does not use, English-only pretraining for other languages."""
    entry = c.entry
    if ctx.in_channels and entry.library != "timm" and not c.scratch and "CV" in entry.domains:
        # timm adapts a pretrained stem to any band count; elsewhere the first layer must be adapted by hand.
        note = f"its RGB stem must be adapted by hand to {ctx.in_channels} bands"
        (c.failures if ctx.task_type == "classification" else c.soft).append(note)
    serving_gb = _serving_weights_gb(entry, ctx.infer_hw.kind)
    capacity_gb = ctx.infer_hw.flash_mb / 1e3 if ctx.infer_hw.flash_mb else ctx.infer_hw.memory_gb  # MCUs: flash
    share = SERVER_MEMORY_SHARE if ctx.infer_hw.kind in {"gpu", "tpu"} else DEPLOY_MEMORY_SHARE
    if ctx.infer_hw.name != ctx.train_hw.name and serving_gb > share * capacity_gb:
        c.failures.append(
            f"its weights ({serving_gb:.2g} GB at {_serving_bytes_per_param(entry, ctx.infer_hw.kind):g} B/param) "
            f"do not fit {share:.0%} of the {capacity_gb:g} GB of {ctx.infer_hw.display_name}"
        )
    if ctx.family is not None and ctx.family.architectures and entry.family not in ctx.family.architectures:
        used = ", ".join(ctx.family.architectures)
        c.failures.append(f"a {entry.family} model; {ctx.family.name} is done with {used}")
        c.unfit = True
    if _needs_instance_masks(ctx) and entry.family not in get_task_family("instance-segmentation").architectures:
        c.failures.append(f"a {entry.family} model gives a class per pixel; the task asks for a mask per object")
        c.unfit = True
    if entry.conditioning not in {None, "text"} and _FROM_TEXT.search(_words_of_task(ctx)):
        c.failures.append(f"it generates {_DRAWN[entry.conditioning]}; the task generates images from text")
        c.unfit = True
    if _tags_tokens(ctx) and entry.sentence_embedding:
        c.failures.append(
            "a sentence-embedding checkpoint: its training pooled the tokens into one sentence vector, so its token "
            "states are not what a per-token tagger starts from (a masked-language-model encoder is)"
        )
        c.unfit = True
    if ctx.multilingual and entry.languages == "en":
        c.failures.append(f"pretrained on English only; the data is in {', '.join(ctx.languages)}")
        c.unfit = True


def _tags_tokens(ctx: Context) -> bool:
    """The task labels each token (NER, PII, POS): a per-token head on the encoder's token states. Sentence-embedding
    checkpoints (sentence-transformers, Reimers & Gurevych 2019, arXiv 1908.10084) are fine-tuned from a masked-language
    encoder with a pooled-sentence objective: good for one vector per text, not the start of a token tagger, where NER
    work fine-tunes the MLM encoder itself (Devlin et al. 2019, arXiv 1810.04805, Sec. 5.3; Conneau et al. 2020, XLM-R,
    arXiv 1911.02116, Table 2)."""
    return ctx.family is not None and ctx.family.name == "token-classification"


# A generation task whose samples follow a text prompt: an unconditional or class-conditional model cannot serve it.
_FROM_TEXT = re.compile(r"\btext[- ]to[- ](?:image|video)\b|\bprompts?\b|\bcaptions?\b|\bfrom (?:a )?text\b")
_DRAWN = {"none": "unconditional samples", "class": "samples of a given class"}


# A mask per object, said in the task's words or its labels: an instance segmenter's output, whatever family the domain
# picked (a remote-sensing "building instance segmentation" with "instance masks with roof class").
_INSTANCE = re.compile(r"\binstance[- ](?:segmentation|masks?)\b|\bmasks? per (?:object|instance)\b")


def _needs_instance_masks(ctx: Context) -> bool:
    if ctx.task_type != "segmentation" or (ctx.family is not None and ctx.family.name == "instance-segmentation"):
        return False
    labels = (ctx.spec.data.labelAvailability or "").lower()
    return bool(_INSTANCE.search(f"{_words_of_task(ctx)} {labels}"))


def _words_of_task(ctx: Context) -> str:
    t = ctx.spec.task
    return " ".join(w for w in (t.specificTask, *ctx.spec.challenges) if w).lower()


# Task families whose model writes a sequence (a transcript, a translation, a waveform): a linear probe on frozen
# features outputs one label per input, so small data fine-tunes the model that writes (Whisper is an encoder-decoder
# whose decoder writes the text: Radford et al. 2022, arXiv 2212.04356).
WRITES_SEQUENCES = frozenset(
    {"asr", "summarization", "translation", "instruction-tuning", "code-generation", "text-to-speech",
     "image-generation", "llm-pretraining", "preference-tuning"}
)  # fmt: skip


def _adaptation(ctx: Context, entry: ModelEntry, scratch: bool) -> str:
    reg = get_regimes()
    if scratch:
        return "scratch"
    n = ctx.n_samples or 0
    per_class = n / ctx.n_classes if ctx.n_classes else None
    if ctx.domain == "multimodal" and ctx.band == "small":
        return "linear-probe"  # zero-shot first, then a linear probe on frozen image/text embeddings (CLIP, Sec. 3)
    if entry.params_m >= LARGE_MODEL_M or entry.family in LLM_FAMILIES:
        return "full"  # refined by memory below (LoRA / QLoRA)
    if ctx.task_type in {"segmentation", "detection"}:
        return "full"  # every image holds many labelled pixels or boxes; torchvision's references fine-tune it all
    if ctx.family is not None and ctx.family.name in WRITES_SEQUENCES:
        return "partial" if ctx.train_hw.kind in {"cpu", "edge", "npu"} else "full"  # a linear head cannot transcribe
    if n and (
        n < reg["tiny_data_samples"] or (per_class is not None and per_class <= reg["linear_probe_max_per_class"])
    ):
        return "linear-probe"
    if ctx.train_hw.kind in {"cpu", "edge", "npu"}:
        return "partial"
    return "full"


def _shipped(entry: ModelEntry, size_mb: float, precision: str) -> tuple[float, str]:
    """The weights' size (MB) and precision as they ship: fp16 on accelerators (phones' NPUs, GPUs, Jetsons and TPUs
    run 16-bit weights, and the latency estimate assumes them), else the fp32 file (a CPU's INT8 is a measured option,
    not a default)."""
    return (min(size_mb, entry.params_m * 2.0), "fp16") if precision == "fp16" else (size_mb, "fp32")


def _memory_fit(
    ctx: Context, cand_entry: ModelEntry, adaptation: str, mixed: bool
) -> tuple[str, float, str, list[str]]:
    """Choose the adaptation that fits the device memory (LLMs fall back to LoRA, then QLoRA)."""
    reg = get_regimes()
    usable = ctx.device_memory_gb * reg["usable_memory_fraction"]
    sharded = ctx.total_devices if ctx.train_hw.kind in {"gpu", "tpu"} else 1
    order = [adaptation]
    # From scratch every weight trains: there is no pretrained base for LoRA or QLoRA to adapt.
    if adaptation != "scratch" and (cand_entry.params_m >= LARGE_MODEL_M or cand_entry.family in LLM_FAMILIES):
        # QLoRA's 4-bit kernels (bitsandbytes) need a CUDA GPU.
        cuda = ctx.train_hw.kind in {"gpu", "edge"}
        order = ["full", "lora", "qlora"] if cand_entry.family in LLM_FAMILIES and cuda else ["full", "lora"]
    last: tuple[str, float, str] | None = None
    for ad in order:
        need, how = training_memory_gb(
            cand_entry,
            adaptation="full" if ad == "scratch" else ad,
            batch_size=ctx.sequences_per_sample,
            mixed_precision=mixed,
        )
        # Full fine-tuning can shard weights/grads/optimizer state over all devices (FSDP / ZeRO-3).
        per_device = need / sharded if ad in {"full", "scratch"} else need
        last = (ad, per_device, how)
        if per_device <= usable:
            return ad, per_device, how, []
    assert last is not None
    ad, need, how = last
    return (
        ad,
        need,
        how,
        [
            f"needs ~{need:.1f} GB per device to train ({ad}) but {ctx.train_hw.display_name} offers "
            f"~{usable:.0f} GB usable"
        ],
    )


def _reference(ctx: Context, pool: list[tuple[ModelEntry, bool]]) -> tuple[str, str] | None:
    """The (metric, dataset) candidates are ranked on: the task family's own benchmark when a candidate reports it,
    else the most reported one, or the named dataset's; among the architectures the task family uses, when it names
    them (instance masks are scored in mask AP, not mIoU)."""
    fit = [(e, s) for e, s in pool if ctx.family is not None and e.family in ctx.family.architectures]
    pool = fit or pool
    counts = Counter(benchmark_key(m.name, m.dataset) for e, _ in pool for m in e.metrics[:1])
    reference = counts.most_common(1)[0][0] if counts else None
    ranked_on = (ctx.family.ranked_on or "").lower() if ctx.family is not None else ""
    own = [benchmark_key(m.name, m.dataset) for e, _ in pool for m in e.metrics
           if ranked_on and ranked_on in m.dataset.lower()]  # fmt: skip
    if own:
        reference = own[0]
    if ctx.dataset is not None:
        on_dataset = [
            benchmark_key(m.name, m.dataset)
            for e, _ in pool
            for m in e.metrics
            if ctx.dataset.name.lower() in m.dataset.lower()
        ]
        # Rank on the named benchmark only when enough candidates report it to make a ranking.
        if len(on_dataset) >= 3:
            reference = Counter(on_dataset).most_common(1)[0][0]
    return reference


def _candidate(
    ctx: Context, entry: ModelEntry, scratch: bool, reference: tuple[str, str] | None, *, small_scratch_note: bool
) -> Candidate:
    """One catalog entry checked against every constraint (hard failures) and policy cap (soft notes)."""
    reg = get_regimes()
    infer_prec = serving_precision(ctx.infer_hw.kind)
    mixed = ctx.train_hw.kind in {"gpu", "tpu"}
    caps = reg["param_caps"]["by_band"]
    cap_band = caps.get(ctx.domain, caps["default"])[ctx.band]
    cap_compute = reg["param_caps"]["by_compute"].get(ctx.train_hw.kind, 400)
    adaptation = _adaptation(ctx, entry, scratch)
    adaptation, mem, mem_how, mem_fail = _memory_fit(ctx, entry, adaptation, mixed)
    per_token = ctx.latency is not None and ctx.latency.per_token
    latency = (
        predict_latency(entry, ctx.infer_hw, precision=infer_prec, per_token=per_token)
        if ctx.task_type != "RL"
        else None
    )
    score, label = _primary(entry, reference)
    size_mb = entry.file_size_mb or entry.params_m * 4
    shipped_mb, ships = _shipped(entry, size_mb, infer_prec)
    c = Candidate(
        entry=entry,
        scratch=scratch,
        adaptation=adaptation,
        latency=latency,
        train_memory_gb=mem,
        train_memory_how=mem_how,
        size_mb=size_mb,
        score=score,
        score_label=label,
    )
    c.failures += mem_fail
    _check_fit_to_task(ctx, c)
    n_min = get_family(entry.family).min_samples_scratch
    if small_scratch_note and entry.library == "dlexpert" and (ctx.n_samples or 0) < n_min:
        c.soft.append(f"{ctx.n_samples or 0:,} samples is below the {n_min:,} {entry.family} usually needs")
    if ctx.params_limit_m is not None and entry.params_m > ctx.params_limit_m:
        c.failures.append(
            f"{entry.params_m:g}M parameters exceed the {ctx.params_limit_m:g}M-parameter limit (quantization makes "
            "the file smaller, not the model)"
        )
    elif ctx.params_limit_m is None and ctx.size_limit_mb is not None and shipped_mb > ctx.size_limit_mb:
        if entry.params_m * 1.0 <= ctx.size_limit_mb:
            c.needs_compression = (
                f"INT8 weights: {shipped_mb:.0f} MB {ships} -> ~{entry.params_m:.0f} MB (limit "
                f"{ctx.size_limit_mb:g} MB)"
            )
            c.soft.append(f"fits the {ctx.size_limit_mb:g} MB limit only after INT8 quantization")
        else:
            c.failures.append(
                f"{shipped_mb:.0f} MB {ships} (~{entry.params_m:.0f} MB even as INT8) exceeds the "
                f"{ctx.size_limit_mb:g} MB limit"
            )
    if ctx.latency is not None and latency is not None and latency.ms > ctx.latency.max_ms:
        c.failures.append(
            f"predicted {latency.ms:.1f} ms on {ctx.infer_hw.display_name} exceeds {ctx.latency.max_ms:g} ms"
        )
    if ctx.accuracy is not None and reference is not None and score is not None and ctx.accuracy.bounded:
        target = ctx.accuracy.value * 100
        metric_ok = (ctx.accuracy.metric in {"accuracy", "top5"} and reference[0].startswith("top")) or (
            ctx.accuracy.metric.lower() in reference[0].lower()
        )
        on_benchmark = ctx.dataset is not None and benchmark_key("", ctx.dataset.name)[1] in reference[1]
        if metric_ok and on_benchmark and ctx.accuracy.higher_is_better and score < target:
            c.failures.append(f"published {label} is below the target {ctx.accuracy.text!r}")
    if (
        ctx.accuracy is not None
        and score is None
        and ctx.dataset is not None
        and reference is not None
        and benchmark_key("", ctx.dataset.name)[1] in reference[1]
    ):
        c.failures.append(f"no published {reference[0]} on {ctx.dataset.name} shows it can reach {ctx.accuracy.text!r}")
    is_llm = entry.family in LLM_FAMILIES
    optimal_m = _compute_optimal_m(ctx) if scratch and is_llm else None
    if optimal_m is not None and ctx.n_tokens and entry.params_m > CHINCHILLA_SLACK * optimal_m:
        c.failures.append(
            f"{entry.params_m:.0f}M params from scratch on {ctx.n_tokens / 1e6:,.0f}M tokens: compute-optimal is "
            f"~{optimal_m:,.0f}M (about {CHINCHILLA_TOKENS_PER_PARAM} tokens per parameter, Hoffmann et al. 2022, "
            "arXiv 2203.15556); a smaller configuration of this architecture fits the data"
        )
    if entry.params_m > cap_band and not is_llm and not scratch:
        c.soft.append(f"{entry.params_m:.0f}M params is above the {cap_band}M cap for {ctx.band} data")
    # Under one MAC per weight and sample, the weights are lookup tables (DLRM's embeddings), not compute to train.
    lookups = entry.gmacs is not None and entry.gmacs * 1e3 < entry.params_m
    if entry.params_m > cap_compute and not is_llm and not lookups:
        c.soft.append(f"{entry.params_m:.0f}M params is above the {cap_compute}M cap for {ctx.train_hw.kind} training")
    if ctx.task_type != "RL":
        hours = _screen_hours(ctx, c, mixed)
        if hours > reg["max_training_hours"]:
            c.soft.append(
                f"training would take ~{hours:.0f} h on {ctx.total_devices} x "
                f"{ctx.train_hw.display_name} (limit {reg['max_training_hours']} h)"
            )
    if ctx.realtime and not get_family(entry.family).lightweight and ctx.latency is None:
        c.soft.append(f"{entry.family} is not a lightweight family and the task is real-time")
    return c


def select(ctx: Context, *, weights: WeightsCheck | None = None) -> Selection:
    """Seed Step 2: candidates -> constraint checks -> ranking -> choice + alternatives.

    `weights`: only models that can be trained here are candidates (their weights load, they read the data), and
    dlexpert's from-scratch families join the pool whatever the data size (with a note when it is below their need).
    """
    pool = _pool(ctx, any_size_scratch=weights is not None)
    if not pool:
        raise LookupError(f"the catalog has no model for {ctx.task_type} in {ctx.domain}")
    if weights is not None:  # only what can run here is a candidate for a plan that must run here
        pool = [(entry, scratch) for entry, scratch in pool if weights(entry).available]
    reference = _reference(ctx, pool)
    cands = [
        _candidate(ctx, entry, scratch, reference, small_scratch_note=weights is not None) for entry, scratch in pool
    ]

    if not cands:
        raise LookupError(f"no catalog model for {ctx.task_type} in {ctx.domain} can be trained on this machine")
    feasible = [c for c in cands if c.feasible]
    # From scratch, a checkpoint's published score says nothing about the candidate: none needs one to be preferred.
    ranked = preference(ctx) is not None or ctx.scratch_required
    preferred = (
        [c for c in feasible if not c.soft and (ranked or c.score is not None)]
        or [c for c in feasible if ranked or c.score is not None]
        or feasible
    )
    all_feasible = bool(feasible)
    if not feasible:
        # Nothing meets every constraint: the closest option (fewest failures, then cheapest) is named plainly. From
        # scratch, a checkpoint's published score says nothing about the candidate, so its absence does not count.
        preferred = sorted(
            cands,
            key=lambda c: (
                c.unfit,
                c.score is None and not ctx.scratch_required,
                len(c.failures),
                _overshoot(c, ctx),
                c.cost,
            ),
        )[:1]
    chosen = _knee(preferred, ctx)
    base = _existing_base(ctx, cands)
    # The user's own base model stays when it meets every constraint: switching has a cost the catalog can't see. It
    # stays too when nothing meets them all and it misses no more of them than the closest alternative (a reference
    # YOLO11l 14% over a 10 ms budget, against a detector 30 points under the accuracy target).
    if base is not None and (base.feasible or _no_worse_than(base, chosen)):
        chosen = base
    alternatives = _alternatives(chosen, feasible or cands, ctx)
    relax = [] if all_feasible else _relax_advice(chosen, ctx)
    pref = preference(ctx)
    if base is not None and chosen is base and base.feasible:
        why = f"it is the model you already use or must use ({_wanted_model(ctx)}) and meets every constraint"
    elif base is not None and chosen is base:
        why = (
            f"it is the model you already use or must use ({_wanted_model(ctx)}); no candidate meets every "
            "constraint, and it misses no more of them than the closest alternative, so switching would not help"
        )
    elif not all_feasible:
        why = "none meets every constraint, so this is the closest (fewest and smallest violations)"
    elif pref is not None:
        why = (
            f"published metrics are not comparable across these families, so they are ranked "
            f"{' > '.join(pref['order'])}: {pref['reason']}"
        )
    elif ctx.scratch_required:
        why = (
            "the spec asks for training from scratch, so no checkpoint's published score applies: it is the "
            "architecture whose inductive bias fits the data and the cheapest to train within the limits"
        )
    else:
        why = (
            f"it maximises published score minus {_penalty(ctx):g} points per doubling of GMACs ({_budget(ctx)[1]}), "
            "the knee of the "
            f"accuracy/compute front (the trade-off calibrated on {get_regimes()['cost_penalty_source']}); its score: "
            f"{chosen.score_label}"
        )
    return Selection(
        chosen=chosen,
        alternatives=alternatives,
        reference=reference or ("", ""),
        n_candidates=len(cands),
        n_feasible=len(feasible),
        all_feasible=all_feasible,
        relax=relax,
        why=why,
        candidates=cands,
        wanted=_wanted_model(ctx),
        base=base,
    )


def _no_worse_than(base: Candidate, chosen: Candidate) -> bool:
    """Neither meets every constraint, and `base` (the right kind of model) breaks no more of them than `chosen`."""
    return not chosen.feasible and not base.unfit and len(base.failures) <= len(chosen.failures)


def _wanted_model(ctx: Context) -> str | None:
    """`existingSetup.baseModel`, else a model the spec's words say it must use."""
    setup = ctx.spec.existingSetup
    return setup.baseModel if setup is not None and setup.baseModel else ctx.required_model


def _existing_base(ctx: Context, cands: list[Candidate]) -> Candidate | None:
    wanted = _wanted_model(ctx)
    if not wanted:
        return None
    want = re.sub(r"[^a-z0-9.]", "", wanted.lower())
    matches = [
        c
        for c in cands
        if want
        and (
            want == re.sub(r"[^a-z0-9.]", "", c.entry.hub_id.lower().split("/")[-1])
            or want == re.sub(r"[^a-z0-9.]", "", c.entry.hub_id.lower())
        )
    ]
    if not matches:
        matches = [c for c in cands if want and want in re.sub(r"[^a-z0-9.]", "", c.entry.hub_id.lower())]
    if not matches:  # "our Mistral-7B SFT checkpoint": the family and size named inside other words
        named = [(len(k), c) for c in cands for k in _family_and_size(c.entry.hub_id) if k in want]
        longest = max((n for n, _ in named), default=0)
        matches = [c for n, c in named if n == longest]
    if not matches:  # "YOLO11l reference weights", "Mask R-CNN, ResNet-50-FPN backbone": the name among other words
        named = [(len(k), c) for c in cands if (k := _checkpoint_name(c.entry.hub_id)) and _names(wanted, k)]
        longest = max((n for n, _ in named), default=0)
        matches = [c for n, c in named if n == longest]
    if not matches:  # "plain U-Net on RGB": the architecture family named, no checkpoint; its cheapest model
        named_family = [c for c in cands if (k := _family_name(c.entry.family)) and _names(wanted, k)]
        return min(named_family, key=lambda c: c.cost) if named_family else None
    return min(matches, key=lambda c: len(c.entry.hub_id)) if matches else None


def _family_name(family: str) -> str:
    """How people write an architecture family, in lower-case letters and digits ('U-Net' -> 'unet'), or '' for a
    catch-all family or a name too short to tell from other words ('VGG')."""
    display = get_family(family).display_name
    name = re.sub(r"[^a-z0-9]", "", re.sub(r"\s*\(.*", "", display).lower())
    return "" if "catch-all" in display or len(name) < _MIN_FAMILY_CHARS else name


# A checkpoint name this short ("t5", "vit") is a word people write for other things too; a family's name ("U-Net",
# "BERT") is written as it is.
_MIN_NAME_CHARS = 5
_MIN_FAMILY_CHARS = 4


def _checkpoint_name(hub_id: str) -> str:
    """The checkpoint's own name in lower-case letters and digits, without its file or weights tag or its tokenizer's
    casing: 'yolo11l.pt' -> 'yolo11l', 'maskrcnn_resnet50_fpn.COCO_V1' -> 'maskrcnnresnet50fpn',
    'google/mobilebert-uncased' -> 'mobilebert'."""
    last = re.sub(r"\.(?:pt|pth|onnx|[A-Z][A-Z0-9_]*)$|[-_](?:un)?cased$", "", hub_id.split("/")[-1])
    name = re.sub(r"[^a-z0-9]", "", last.lower())
    return name if len(name) >= _MIN_NAME_CHARS else ""


def _names(text: str, name: str) -> bool:
    """`name` spelled out in `text` from the start of one of its words to the end of one, whatever the separators:
    "Stable Diffusion v1.5 reference weights" names 'stablediffusionv15'."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    joined, starts, ends, at = "".join(words), set(), set(), 0
    for w in words:
        starts.add(at)
        at += len(w)
        ends.add(at)
    return any(i in starts and i + len(name) in ends for i in _occurrences(joined, name))


def _occurrences(text: str, part: str) -> list[int]:
    return [m.start() for m in re.finditer(f"(?={re.escape(part)})", text)]


def _family_and_size(hub_id: str) -> list[str]:
    """How people name a checkpoint they fine-tuned from this one: its name up to its size, and its first word with
    its size ('meta-llama/Llama-3.1-8B-Instruct' -> 'llama3.18b', 'llama8b'); none when the name has no size."""
    words = hub_id.lower().split("/")[-1].replace("_", "-").split("-")
    size = next((i for i, w in enumerate(words) if re.fullmatch(r"\d+(?:\.\d+)?[bm]", w)), None)
    if size is None or size == 0:
        return []
    return list(dict.fromkeys(["".join(words[: size + 1]), words[0] + words[size]]))


def _screen_hours(ctx: Context, c: Candidate, mixed: bool) -> float:
    """Geometric-mean training time for a screening number of epochs (regimes.yaml `screening_epochs`)."""
    reg = get_regimes()
    epochs = reg["screening_epochs"]["scratch" if c.scratch else "finetune"]
    if c.scratch and c.entry.family in LLM_FAMILIES:
        epochs = 1  # a language model pretrains on each token about once (Hoffmann et al. 2022)
    gmacs, _ = estimate_gmacs(c.entry, training=True)
    prec = "bf16" if mixed and ctx.train_hw.supports_bf16 else "fp16" if mixed else "fp32"
    est = training_time(
        gmacs=gmacs,
        n_samples=ctx.n_samples or 10_000,
        epochs=epochs,
        hw=ctx.train_hw,
        n_devices=ctx.total_devices if ctx.train_hw.kind in {"gpu", "tpu"} else 1,
        precision=prec,
        backward=c.adaptation != "linear-probe",
        family=c.entry.family,
    )
    return est.hours


def _compute_optimal_m(ctx: Context) -> float | None:
    """Millions of parameters a language model trained from scratch on the spec's tokens should have (Chinchilla)."""
    return ctx.n_tokens / CHINCHILLA_TOKENS_PER_PARAM / 1e6 if ctx.n_tokens else None


def _overshoot(c: Candidate, ctx: Context) -> float:
    over = 0.0
    optimal_m = _compute_optimal_m(ctx) if c.scratch and c.entry.family in LLM_FAMILIES else None
    if optimal_m is not None:
        over += max(0.0, math.log(c.entry.params_m / (CHINCHILLA_SLACK * optimal_m)))
    if ctx.latency is not None and c.latency is not None:
        over += max(0.0, math.log(c.latency.ms / ctx.latency.max_ms))
    if ctx.params_limit_m is not None:
        over += max(0.0, math.log(c.entry.params_m / ctx.params_limit_m))
    elif ctx.size_limit_mb is not None:
        over += max(0.0, math.log(c.entry.params_m / ctx.size_limit_mb))
    return over


# A spec that states no budget but trains on this many accelerators or more has a high compute budget.
MANY_DEVICES = 4


def _budget(ctx: Context) -> tuple[str, str]:
    """(the budget level, why): the one the spec states, else high for MANY_DEVICES or more accelerators to train on,
    else medium."""
    if ctx.budget is not None and ctx.budget.level is not None:
        return ctx.budget.level, f"a {ctx.budget.level} budget, as stated"
    if ctx.train_hw.kind in {"gpu", "tpu"} and ctx.total_devices >= MANY_DEVICES:
        return "high", f"a high budget: none stated, and {ctx.total_devices} x {ctx.train_hw.display_name} to train on"
    return "medium", "a medium budget: none stated"


def _penalty(ctx: Context) -> float:
    return float(get_regimes()["cost_penalty_points_per_doubling"][_budget(ctx)[0]])


def _gmacs(c: Candidate, macs_per_param: float) -> float:
    """GMACs, or parameters x the pool's median GMACs-per-parameter when the catalog has no MAC count."""
    return c.entry.gmacs if c.entry.gmacs else max(c.entry.params_m * macs_per_param, 1e-6)


def utility(c: Candidate, penalty: float, macs_per_param: float) -> float:
    """Published score minus `penalty` points per doubling of compute (the accuracy/compute knee)."""
    return (c.score or 0.0) - penalty * math.log2(max(_gmacs(c, macs_per_param), 1e-6))


def preference(ctx: Context) -> dict | None:
    """The first `family_preference` entry (regimes.yaml) whose key (or one of its list of keys) and `when` pattern
    match this task, if any."""
    text = " ".join(filter(None, [ctx.spec.task.specificTask, *ctx.spec.challenges])).lower()
    if ctx.task_type == "RL":
        if re.search(r"continuous|robot|mujoco|torque|locomotion|\barm\b|drone|joint", text):
            key = "RL/continuous"
        elif re.search(r"discrete|atari|game|cartpole|grid|board|maze|lunar", text):
            key = "RL/discrete"
        else:
            key = "RL/unknown"
    else:
        key = f"{ctx.domain}/{ctx.task_type}"
    side = min(ctx.input_shape[-2:]) if ctx.modality == "image" and ctx.input_shape else None
    for entry in get_regimes()["family_preference"]:
        keys = entry["key"] if isinstance(entry["key"], list) else [entry["key"]]
        if key not in keys or (entry.get("when") and not re.search(entry["when"], text)):
            continue
        if entry.get("task_family") and (ctx.family is None or ctx.family.name != entry["task_family"]):
            continue
        if "when_max_image_px" in entry and (side is None or side > entry["when_max_image_px"]):
            continue
        return dict(entry)
    return None


def _knee(cands: list[Candidate], ctx: Context) -> Candidate:
    pref = preference(ctx)
    if pref is not None:
        order = pref["order"]
        rank = {f: i for i, f in enumerate(order)}
        # Built-in networks first among equals: `dlexpert train` builds them without downloads.
        # Within a family: the best published score, then built-in networks (`dlexpert train` builds them without
        # downloads), then the cheapest.
        return min(
            cands,
            key=lambda c: (
                rank.get(c.entry.family, len(order)),
                -(c.score if c.score is not None else -1e9),
                c.entry.library != "dlexpert",
                c.cost,
            ),
        )
    # From scratch, a checkpoint's published score says nothing about the candidate (its weights are not used).
    scored = [c for c in cands if c.score is not None] if not ctx.scratch_required else []
    if not scored:  # nothing to rank by: the architecture whose inductive bias fits the data, then the cheapest
        fit = SCRATCH_ARCHITECTURE.get(ctx.modality or DOMAIN_MODALITY.get(ctx.domain, ""))
        return min(cands, key=lambda c: (c.entry.architecture != fit, c.cost))
    penalty = _penalty(ctx)
    ratios = sorted(c.entry.gmacs / c.entry.params_m for c in scored if c.entry.gmacs)
    macs_per_param = ratios[len(ratios) // 2] if ratios else 1.0
    # Prefer pretrained over scratch in the small and medium bands (Step 2 principles), then the best utility.
    return max(scored, key=lambda c: (not (c.scratch and ctx.band != "large"), utility(c, penalty, macs_per_param)))


def _alternatives(chosen: Candidate, cands: list[Candidate], ctx: Context) -> list[Candidate]:
    """Up to three from other families: the most accurate, the fastest, and a different architecture class."""
    others = [c for c in cands if c.entry.family != chosen.entry.family]
    picks: list[Candidate] = []

    def add(c: Candidate | None) -> None:
        if c is not None and all(c.entry.family != p.entry.family for p in picks) and len(picks) < 3:
            picks.append(c)

    scored = [c for c in others if c.score is not None]
    within = [c for c in scored if not c.soft] or scored
    if scored:
        add(max(scored, key=lambda c: (c.score or 0, -c.cost)))
        faster = [c for c in within if c.cost < chosen.cost]
        if faster:
            add(max(faster, key=lambda c: c.score or 0))
    other_arch = [c for c in (within or others) if c.entry.architecture != chosen.entry.architecture]
    if other_arch:
        add(max(other_arch, key=lambda c: (c.score if c.score is not None else -1e9, -c.cost)))
    if len(picks) < 2:
        for c in sorted(others, key=lambda c: (c.failures != [], c.soft != [], c.cost)):
            add(c)
            if len(picks) >= 2:
                break
    return picks


def _relax_advice(c: Candidate, ctx: Context) -> list[str]:
    out = []
    if ctx.latency is not None and c.latency is not None and c.latency.ms > ctx.latency.max_ms:
        out.append(
            f"relax constraints.latencyRequirement to >= {c.latency.ms * 1.1:.0f} ms, or serve on faster "
            f"hardware than {ctx.infer_hw.display_name}"
        )
    if ctx.params_limit_m is not None and c.entry.params_m > ctx.params_limit_m:
        out.append(f"relax constraints.modelSizeLimit to >= {c.entry.params_m:g}M parameters ({c.entry.name})")
    elif ctx.params_limit_m is None and ctx.size_limit_mb is not None and c.entry.params_m > ctx.size_limit_mb:
        out.append(f"relax constraints.modelSizeLimit to >= {c.entry.params_m:.0f} MB (INT8 weights of {c.entry.name})")
    for f in c.failures:
        if "GB per device" in f:
            out.append("train on a device with more memory, or on several GPUs with FSDP")
        if "below the target" in f:
            out.append("lower constraints.accuracyTarget, or allow a larger model")
    return out
