"""The planning halves of Steps 4-7: debugging guidance, engineering practice and expected performance."""

from __future__ import annotations

import math
import re

from ..estimate import estimate_gmacs, fixed_schedule_time, predict_latency, rl_training_time, training_time
from ..estimate.scratch import ScratchSize, scratch_size
from ..knowledge import ModelEntry, Problem, find_problem, get_problem, get_regimes
from ..schema import Evidence
from ..schema.decisions import Estimates, Range
from ..schema.plan import (
    CommonIssue,
    DebuggingGuidance,
    DistributedTraining,
    EngineeringPractice,
    ExpectedPerformance,
    InferenceOptimization,
    ModelCompression,
)
from ._analyze import Context
from ._recipe import RecipeChoice
from ._select import LLM_FAMILIES, Candidate

# The seed's four common issues, in its order (Step 5).
SEED_ISSUES = ("overfitting", "underfitting", "nan_inf", "slow_convergence")


def _issue(p: Problem) -> CommonIssue:
    return CommonIssue(issue=p.issue, diagnosis=p.diagnosis, solution=list(p.solutions))


def debugging_guidance(ctx: Context, c: Candidate, rc: RecipeChoice) -> tuple[DebuggingGuidance, list[str]]:
    """Visualisations and checkpoints for this plan; the user's own training issues first, then likely ones."""
    warnings: list[str] = []
    vis = [
        "train and validation loss on one plot, log-scale y (the gap is the overfitting signal)",
        f"learning rate per step (confirm the {rc.recipe.scheduler} schedule actually decays)",
        "global and per-layer gradient norms, log scale (explosion: sudden 10x jumps; vanishing: early layers "
        "orders of magnitude below late ones)",
        "update/weight ratio per layer (healthy around 1e-3; Karpathy, CS231n 'Babysitting the learning process')",
    ]
    one_class = c.normal_only
    if one_class:
        vis += [
            "histograms of the anomaly score on normal and on defective validation samples (their overlap is the "
            "error at any threshold)",
            "anomaly maps over every validation defect, and over the highest-scoring normal samples",
        ]
    elif ctx.domain == "CV":
        vis.append(
            "a grid of augmented training images with their labels, before the first run (catches broken "
            "augmentation and label mix-ups)"
        )
        vis.append(
            "Grad-CAM heatmaps on correct and wrong predictions"
            if c.entry.architecture == "CNN"
            else "attention rollout maps on correct and wrong predictions"
        )
    if ctx.task_type == "classification" and not one_class:
        vis.append("confusion matrix and per-class recall on the validation set")
    if ctx.task_type == "detection":
        vis.append("predicted vs ground-truth boxes on validation images; precision-recall curve per class")
    if ctx.task_type == "segmentation":
        vis.append("predicted masks over images; per-class IoU")
    if ctx.domain == "time-series":
        vis.append("forecast vs actual on held-out windows, and the residuals' autocorrelation")
    if ctx.domain == "audio":
        vis.append("log-mel spectrograms of augmented batches (SpecAugment masks visible)")
    if ctx.domain == "NLP":
        vis.append("token-length histogram against the truncation length; sample generations/predictions per epoch")
    if ctx.task_type == "RL":
        vis = [
            "episode return (mean and spread over seeds)",
            "policy entropy and approximate KL per update",
            "value loss and explained variance",
            "learning rate and clip fraction",
        ]
    checks = []
    if c.entry.family in LLM_FAMILIES:
        checks.append(
            "loss at step 0 well below ln(vocabulary) (~11-12 nats for 32k-150k vocabularies); a value near it means "
            "the weights or the tokenizer did not load"
        )
    elif one_class:
        checks.append(
            "no defective sample among the training images (a one-class model learns whatever it is shown as "
            "normal); defects go to validation and test only"
        )
    elif ctx.n_classes:
        checks.append(
            f"initial loss close to ln({ctx.n_classes}) = {math.log(ctx.n_classes):.2f} for a "
            f"{ctx.n_classes}-class softmax; far above it means bad initialisation or labels"
        )
    elif ctx.task_type == "classification":
        checks.append(
            "initial loss close to ln(C) for a C-class softmax (Karpathy, 'A Recipe for Training Neural "
            "Networks', 2019)"
        )
    checks += [
        "overfit one batch of 8-32 samples to near-zero loss before the full run (proves the model and loss can learn)",
        (
            "decode a tokenized batch back to text: no truncated answers, special tokens and padding where expected"
            if ctx.domain == "NLP"
            else "input statistics after normalisation: mean ~0 and std ~1 per channel on a training batch; no NaN/Inf"
        ),
        "label distribution of train vs validation splits, and no duplicates across them (leakage)",
        "gradient norm stable (no explosion/vanishing) and validation/train loss ratio < 2x (the spec's Step 4 "
        "monitoring checklist)",
        "save best (by validation metric), last (full state, for --resume) and every-N-epoch checkpoints",
    ]
    if ctx.train_hw.kind == "gpu":
        checks.append(
            "GPU utilisation > 80% and data-loader wait < 10% of step time (else raise num_workers, "
            "pin_memory, prefetch)"
        )

    issues: list[CommonIssue] = []
    seen: set[str] = set()
    setup = ctx.spec.existingSetup
    for text in (setup.trainingIssues or []) if setup else []:
        p = find_problem(text)
        if p is None:
            p = get_problem("non_convergence")
            warnings.append(
                f"existingSetup.trainingIssues: {text!r} is not in the problem table; "
                "listing the non-convergence checklist for it"
            )
            issues.append(CommonIssue(issue=f"{text} (reported)", diagnosis=p.diagnosis, solution=list(p.solutions)))
            continue
        if p.issue not in seen:
            seen.add(p.issue)
            ci = _issue(p)
            ci.issue = f"{p.issue} (reported: {text})"
            issues.append(ci)
    likely = []
    if ctx.band == "small" or "few-shot" in ctx.challenges:
        likely.append("few_shot")
    if ctx.long_tail and not ctx.regression and not ctx.forecasting:
        likely.append("class_imbalance")  # a long tail of classes, not of a target's values
    if "noisy-labels" in ctx.challenges:
        likely.append("noisy_labels")
    if "domain-shift" in ctx.challenges:
        likely.append("domain_shift")
    if rc.mixed == "fp16":
        likely.append("mixed_precision_instability")
    if c.adaptation in {"lora", "qlora"} or c.train_memory_gb > 0.5 * ctx.device_memory_gb:
        likely.append("out_of_memory")
    if not c.scratch and c.adaptation in {"full", "partial"}:
        likely.append("catastrophic_forgetting")
    if ctx.train_hw.kind in {"cpu", "edge"}:
        likely.append("insufficient_compute")
    for key in [*likely, *SEED_ISSUES]:
        if key not in seen:
            try:
                p = get_problem(key)
            except KeyError:
                continue
            seen.add(key)
            issues.append(_issue(p))
    if ctx.family is not None:  # the family's usual mistakes, checked before training
        checks += [f"{ctx.family.name} pitfall to rule out: {p} ({ctx.family.source})" for p in ctx.family.pitfalls]
    return DebuggingGuidance(visualization=vis, checkpoints=checks, commonIssues=issues), warnings


def _mcu_quantization(ctx: Context, c: Candidate) -> str:
    """A microcontroller runs full-integer int8 graphs: quantization is required, not an option."""
    hw = ctx.infer_hw
    int8_mb = c.entry.params_m  # one byte per parameter
    fits = f"int8 weights ~{int8_mb:.2f} MB of {hw.flash_mb:g} MB flash" if hw.flash_mb else f"~{int8_mb:.2f} MB int8"
    return (
        "full-integer INT8 post-training quantization (weights and activations, int8 input/output) is required: "
        f"microcontroller kernels (CMSIS-NN, TFLite Micro) are int8 and there is no room for fp32 ({fits}; "
        f"activations must fit the {hw.memory_gb * 1e6:.0f} KB SRAM arena). Calibrate on 100-500 training samples; "
        "switch to quantization-aware training if accuracy drops by more than 1 point (Jacob et al. 2018, "
        "arXiv 1712.05877; Lai et al. 2018, arXiv 1801.06601)"
    )


def engineering_practice(ctx: Context, c: Candidate, rc: RecipeChoice) -> tuple[EngineeringPractice, list[Evidence]]:
    """Compression by the gap to the constraint, export by target device, serving, and the distributed strategy."""
    evidence: list[Evidence] = []
    compression = _compression(ctx, c, evidence)
    inference = _inference(ctx, c, evidence)
    return EngineeringPractice(
        modelCompression=compression, inferenceOptimization=inference, distributedTraining=_distributed(ctx, c, rc)
    ), evidence


def _compression(ctx: Context, c: Candidate, evidence: list[Evidence]) -> ModelCompression:
    """Quantization, pruning and distillation by the gap between the model and its size or latency constraint."""
    comp = get_regimes()["compression"]
    e = c.entry
    size_gap = c.size_mb / ctx.size_limit_mb if ctx.size_limit_mb else 0.0
    lat_gap = c.latency.ms / ctx.latency.max_ms if (ctx.latency and c.latency) else 0.0
    gap = max(size_gap, lat_gap)
    cpu_target = ctx.infer_hw.kind == "cpu"
    quant = prune = distil = None
    if gap > 1.0:
        if gap <= comp["quantization_max_gap"]:
            quant = (
                f"INT8 post-training quantization closes a {gap:.1f}x gap (fp32 -> int8 is at most 4x smaller): "
                + (
                    "static PTQ with ~500 calibration samples from the training set for conv nets, dynamic for "
                    "Linear/LSTM-heavy models; measure latency, INT8 is not always faster on CPUs"
                    if cpu_target
                    else "TensorRT INT8 with entropy calibration, or FP16 first if it suffices"
                )
            )
        else:
            quant = "INT8 PTQ after distillation (quantization alone reaches at most 4x)"
            distil = (
                f"distil into a smaller student from a lightweight family: the gap is {gap:.1f}x, beyond what "
                f"quantization ({comp['quantization_max_gap']:g}x) gives; KD loss T=4, alpha=0.9 (Hinton et al. "
                "2015, arXiv 1503.02531)"
            )
        if gap > 2 and gap <= comp["pruning_max_gap"]:
            prune = (
                "structured channel pruning (torch-pruning, 30-50% of channels) + short fine-tune: 2-5x at a "
                "1-3% accuracy drop per the spec; keep only if measured latency improves"
            )
        evidence.append(
            Evidence(
                claim="compression gap",
                value=f"{gap:.2f}x",
                source=(
                    f"size {c.size_mb:.0f} MB vs limit {ctx.size_limit_mb} MB; latency "
                    f"{c.latency.ms if c.latency else float('nan'):.1f} ms vs budget "
                    f"{ctx.latency.max_ms if ctx.latency else float('nan'):g} ms; {comp['source']}"
                ),
            )
        )
    elif ctx.realtime and cpu_target:
        quant = (
            "optional INT8 (ONNX Runtime quantize_static) for a CPU real-time target: keep it only if the "
            "measured p95 latency improves and accuracy drops < 1 point"
        )
    elif _decoder_llm(e):
        quant = "serve with 8-bit or 4-bit weights (AWQ/GPTQ) if memory-bound; decode speed is bandwidth-bound"
    elif ctx.infer_hw.kind in {"gpu", "edge"}:
        quant = "FP16 inference (no calibration, <0.1 point change typically); INT8 only if latency requires it"
    else:
        quant = "not needed: the model meets its size and latency constraints in fp32"
    if ctx.infer_hw.kind == "mcu":
        quant = _mcu_quantization(ctx, c)
    return ModelCompression(pruning=prune, quantization=quant, distillation=distil)


def _decoder_llm(e: ModelEntry) -> bool:
    """A decoder-only language model at any size (Qwen2.5-0.5B included): served by LLM runtimes (vLLM, llama.cpp's
    GGUF) with a KV cache, not by a generic graph runtime. T5 encoder-decoders export to ONNX like other models."""
    return e.family in LLM_FAMILIES and e.family != "t5"


def _inference(ctx: Context, c: Candidate, evidence: list[Evidence]) -> InferenceOptimization:
    """Export formats for the deployment device (or the runtime the spec names), batching and caching."""
    reg = get_regimes()
    e = c.entry
    kind = "llm" if _decoder_llm(e) else ctx.infer_hw.kind
    fmt = reg["export_formats"].get(kind, reg["export_formats"]["cpu"])
    formats = list(fmt["formats"])
    why = f"{fmt['why']} ({fmt['source']})"
    if kind != "llm" and ctx.infer_hw.export_formats:  # a named platform decides its runtime (Core ML on iPhones)
        formats, why = list(ctx.infer_hw.export_formats), f"the runtimes of {ctx.infer_hw.display_name}"
    if ctx.runtimes:  # a runtime the spec names ("runs ... as a quantized tflite") comes first
        formats = [*ctx.runtimes, *(f for f in formats if f not in ctx.runtimes)]
        why += f"; {', '.join(ctx.runtimes)} named in the spec"
    evidence.append(Evidence(claim="export formats", value=", ".join(formats), source=why))
    if ctx.latency is not None:
        budget = ctx.latency.max_ms
        batching = (
            f"batch 1 per request for the {budget:g} ms budget; if throughput matters, dynamic batching with a "
            f"max queue delay of {max(1.0, budget * 0.1):.0f} ms (10% of the budget; Triton/TorchServe)"
        )
    elif kind == "llm":
        batching = "continuous batching (vLLM / TGI) so new requests join running decode steps"
    else:
        batching = "offline/batch scoring at the largest batch that fits memory; measure throughput vs batch size"
    if kind == "llm":
        caching = "KV cache with paged attention and prefix caching for shared prompts (vLLM, arXiv 2309.06180)"
    elif c.adaptation == "linear-probe":
        caching = "cache frozen-backbone features once; training the head is then a pass over an (N, D) matrix"
    elif ctx.domain == "NLP":
        caching = "cache embeddings/predictions keyed by a hash of the normalised input text"
    else:
        caching = "cache decoded and resized inputs between epochs; at serving, reuse preprocessing buffers"
    return InferenceOptimization(format=formats, batching=batching, caching=caching)


def _distributed(ctx: Context, c: Candidate, rc: RecipeChoice) -> DistributedTraining | None:
    """DDP when the model fits one device, FSDP when its training state must be sharded; none on one device."""
    devices = ctx.total_devices
    if devices > 1 and ctx.train_hw.kind in {"gpu", "tpu"}:
        full_gb, usable = _full_training_gb(ctx, c)
        launch = f"torchrun --nnodes={ctx.n_nodes} --nproc_per_node={ctx.n_devices}" + (
            " --rdzv_backend=c10d --rdzv_endpoint=HOST:29500" if ctx.n_nodes > 1 else ""
        )
        if needs_sharding(ctx, c):
            strategy = "FSDP (full sharding; DeepSpeed ZeRO-3 is the equivalent)"
            conf = (
                f"weights+grads+Adam state need ~{full_gb:.0f} GB (16 B/param, ZeRO arXiv 1910.02054) > "
                f"{usable:.0f} GB per device, so shard them over {devices} devices; {launch}; bf16 mixed precision "
                f"policy; activation checkpointing per block"
            )
        else:
            strategy = "DDP"
            conf = (
                f"the model fits one device, so replicate it: {launch}; global batch {rc.global_batch} = per-device "
                f"{rc.micro_batch} x {devices} x accumulation; learning rate already scaled to that batch "
                f"(Goyal et al. 2017); DistributedSampler with set_epoch"
            )
        return DistributedTraining(strategy=strategy, configuration=conf)
    if devices == 1:
        return DistributedTraining(
            strategy="none (single device)",
            configuration="one process; add torchrun + DDP only when a second device is available",
        )
    return None


def _full_training_gb(ctx: Context, c: Candidate) -> tuple[float, float]:
    """Weights + gradients + Adam state of full training (16 B/param mixed, ZeRO arXiv 1910.02054), and the usable
    memory of one device, in GB."""
    reg = get_regimes()
    full_gb = c.entry.params_m * 1e6 * reg["train_bytes_per_param"]["full_mixed"] / 1e9
    return full_gb, ctx.device_memory_gb * reg["usable_memory_fraction"]


def needs_sharding(ctx: Context, c: Candidate) -> bool:
    """Several accelerators and a fully trained model that does not fit one of them: FSDP shards it."""
    if ctx.total_devices <= 1 or ctx.train_hw.kind not in {"gpu", "tpu"} or c.adaptation not in {"full", "scratch"}:
        return False
    full_gb, usable = _full_training_gb(ctx, c)
    return full_gb > usable


# Heuristic: a plan whose training alone takes longer than this on the stated hardware, at its fastest, is not one to
# start as written; the plan says so and what would shorten it (two weeks: a project sprint without a first result).
LONG_TRAINING_DAYS = 14


def long_training_warning(ctx: Context, c: Candidate, estimates: Estimates) -> str | None:
    """A warning when the training-time estimate is over LONG_TRAINING_DAYS at its low end, with what shortens it."""
    hours = estimates.training_hours
    if hours is None or hours.low < 24 * LONG_TRAINING_DAYS:
        return None
    shorter = ["train on a GPU"] if ctx.train_hw.kind == "cpu" else ["more accelerators"]
    shorter += ["fewer epochs or samples", f"a model smaller than {c.entry.params_m:g}M parameters"]
    if ctx.family is not None and ctx.family.first_step:
        shorter.append(f"{ctx.family.name}'s first step, which trains nothing")
    return (f"training takes {hours.low / 24:.0f}-{hours.high / 24:.0f} days on {ctx.train_hw.display_name}, more "
            f"than {LONG_TRAINING_DAYS} days before a first result; to shorten it: {'; '.join(shorter)}")  # fmt: skip


def expected_performance(
    ctx: Context, c: Candidate, rc: RecipeChoice
) -> tuple[ExpectedPerformance, list[Evidence], Estimates]:
    """Accuracy as a range with its basis, training time from FLOPs, latency from the estimator; the same numbers as
    `Estimates` for the stages that compare against them (bench)."""
    evidence: list[Evidence] = []
    e = c.entry
    # ---- accuracy
    acc: str
    ds = ctx.dataset
    if ds is not None and ds.results:
        same = (
            [r for r in ds.results if r.family == e.family]
            or [r for r in ds.results if (r.regime == "scratch") == c.scratch]
            or ds.results
        )
        lo, hi = min(r.value for r in same), max(r.value for r in same)
        refs = "; ".join(f"{r.model} {r.value:g}% ({r.source})" for r in same)
        acc = (
            f"{lo:g}-{hi:g}% {same[0].metric} on {ds.name}, from published results of comparable models: {refs}"
            if lo != hi
            else f"~{lo:g}% {same[0].metric} on {ds.name} ({refs})"
        )
        evidence.append(
            Evidence(
                claim=f"published results on {ds.name}",
                value=f"{lo:g}-{hi:g}%" if lo != hi else f"{lo:g}%",
                source=refs,
            )
        )
    elif ds is not None and any(ds.name.lower() in m.dataset.lower() for m in e.metrics):
        m = next(m for m in e.metrics if ds.name.lower() in m.dataset.lower())
        acc = f"{m.value:g}{m.unit} {m.name} on {m.dataset}, as published for this exact model ({e.source})"
    elif ctx.first_model is not None:
        acc = (
            f"not predictable from the spec alone: Step 4 measures the {ctx.first_model.short_name}, the "
            "simple baselines and the challenger on your validation and test splits"
        )
    else:
        basis = c.score_label
        acc = (
            f"not predictable from the spec alone: the model's published {basis} ({e.source}) ranks it among the "
            f"candidates, and transfer accuracy tracks that ranking (Kornblith et al. 2019, arXiv 1805.08974); the "
            f"baseline run in Step 4 measures it on your data"
        )
    if ctx.accuracy is not None:
        acc += f". Target: {ctx.accuracy.text}"
        if ds is not None and ds.results and ctx.accuracy.bounded and ctx.accuracy.higher_is_better:
            best = max(r.value for r in ds.results)
            if ctx.accuracy.value * 100 > best:
                acc += f" is above the best published {best:g}% on {ds.name}; expect to miss it"
    # ---- training time
    gmacs, how = estimate_gmacs(e, training=True)
    built = built_size(ctx, e)
    if built is not None:
        gmacs, how = built.gmacs, f"counted for {e.hub_id} as built for this data's shape {list(ctx.input_shape or ())}"
    elif ctx.image_side and e.input_size and ctx.domain in {"CV", "multimodal"} and how == "catalog":
        # Convolutions and patch embeddings cost in proportion to the pixels: 1024x1024 tiles are 21x a 224 crop.
        scale = (ctx.image_side / e.input_size) ** 2
        gmacs, how = (
            gmacs * scale,
            f"catalog {gmacs:.2f} GMACs at {e.input_size} px x ({ctx.image_side}/{e.input_size})^2",
        )
    n = ctx.n_samples or 10_000
    time_est = None
    fixed = fixed_schedule_time(e.family, ctx.train_hw)
    if ctx.task_type == "RL":
        steps, how = _env_steps(ctx, n)
        time_est = rl_training_time(steps, pixels=ctx.domain == "CV")
        train_text = f"{time_est.describe()}; {how}"
    elif fixed is not None:
        time_est = fixed
        train_text = f"{fixed.describe()}; one fold, and {e.family} trains five for its ensemble"
    else:
        prec = "bf16" if rc.mixed == "bf16" else "fp16" if rc.mixed == "fp16" else "fp32"
        if c.adaptation == "linear-probe":
            time_est = training_time(
                gmacs=gmacs,
                n_samples=n,
                epochs=1,
                hw=ctx.train_hw,
                n_devices=ctx.total_devices,
                precision=prec,
                backward=False,
                family=e.family,
            )
            train_text = (
                f"{time_est.describe()}: one forward pass to cache features; the linear head then trains in seconds"
            )
        else:
            passes = rc.recipe.passes_per_sample
            if passes != 1.0:
                gmacs, how = gmacs * passes, f"{how} x {passes:g} passes per sample ({rc.recipe.name})"
            time_est = training_time(
                gmacs=gmacs, n_samples=n, epochs=rc.epochs, hw=ctx.train_hw, n_devices=ctx.total_devices,
                precision=prec, batch_size=rc.global_batch, loader=_loader_rate(ctx), family=e.family,
            )  # fmt: skip
            train_text = time_est.describe()
        evidence.append(
            Evidence(
                claim="training compute",
                value=f"{time_est.total_flops:.2e} FLOPs",
                source=f"{time_est.basis}; GMACs basis: {how}",
            )
        )
    # ---- latency
    lat_text = None
    if c.latency is not None:
        lat_text = f"{c.latency.describe()} at batch 1 on {ctx.infer_hw.display_name}"
        evidence.append(Evidence(claim="inference latency", value=f"{c.latency.ms:.2f} ms", source=c.latency.source))
        if ctx.infer_hw.name != ctx.train_hw.name:
            other = predict_latency(e, ctx.train_hw, precision="fp32" if ctx.train_hw.kind == "cpu" else "fp16")
            lat_text += f"; {other.ms:.1f} ms on the training device {ctx.train_hw.display_name}"
    estimates = Estimates(
        params_m=built.params_m if built else e.params_m,
        gmacs=built.gmacs if built else e.gmacs,
        latency_ms=Range(value=c.latency.ms, low=c.latency.low_ms, high=c.latency.high_ms, basis=c.latency.basis)
        if c.latency is not None
        else None,
        latency_device=ctx.infer_hw.display_name if c.latency is not None else None,
        training_device=ctx.train_hw.name,
        training_hours=Range(
            value=time_est.hours, low=time_est.low_hours, high=time_est.high_hours, basis=time_est.basis
        )
        if time_est is not None
        else None,
        train_memory_gb=c.train_memory_gb,
    )
    if ctx.first_model is not None:  # the numbers above are the network's: say so
        trees = ctx.first_model.short_name
        train_text = train_text and f"the challenger: {train_text}; the {trees} are not estimated here"
        lat_text = lat_text and f"the challenger: {lat_text}"
    return ExpectedPerformance(accuracy=acc, trainingTime=train_text, inferenceLatency=lat_text), evidence, estimates


# Gymnasium's usual TimeLimit for continuous control (MuJoCo v4 tasks: 1000 steps per episode).
_DEFAULT_EPISODE_STEPS = 1000


def _env_steps(ctx: Context, n: int) -> tuple[int, str]:
    """Environment steps the data size stands for: episodes x steps per episode ("200-step episodes") when
    data.size counts episodes, else the count itself."""
    size = (ctx.spec.data.size or "").lower()
    if "episode" not in size:
        return n, f"{n:,} environment steps (data.size)"
    text = " ".join(filter(None, [ctx.spec.task.specificTask, ctx.spec.data.size])).lower()
    m = re.search(r"(\d[\d,]*)[- ]steps?\b[^.;]*?episodes?|episodes? of (?:up to )?(\d[\d,]*) steps?", text)
    length = int((m.group(1) or m.group(2)).replace(",", "")) if m else _DEFAULT_EPISODE_STEPS
    where = "from the spec" if m else "assumed: Gymnasium's usual 1000-step time limit"
    return n * length, f"{n:,} episodes x {length:,} steps ({where})"


def _loader_rate(ctx: Context) -> tuple[float, str] | None:
    """Samples per second the data loaders can decode and augment, with its basis, for images read from files (and
    video clips, frame by frame) and audio clips (decoded and turned into log-mel features); None where the data is
    already tensors (a profiled array, text, tables)."""
    side = max(ctx.input_shape[-2:]) if ctx.input_shape and len(ctx.input_shape) >= 2 else None
    reg = get_regimes()["loader"]
    cores = ctx.total_devices * reg["cores_per_device"].get(ctx.train_hw.kind, ctx.train_hw.cores or 1)
    if ctx.train_hw.kind == "cpu":
        cores = max(1, (ctx.train_hw.cores or 2) // 2)  # the other half computes
    if ctx.domain == "audio" and ctx.input_shape is None:
        seconds, said = _clip_seconds(ctx, reg["default_clip_seconds"])
        rate = reg["audio_seconds_per_core_s"] * cores / seconds
        return rate, f"{rate:,.0f} clips/s of {seconds:g} s ({said}) from {cores} loader cores ({reg['audio_source']})"
    if ctx.domain not in {"CV", "multimodal"} or (side is not None and side < 64):
        return None
    per_sample = reg["frames_per_clip"] if ctx.family is not None and ctx.family.name == "video-classification" else 1
    pixels = ctx.image_side**2 if ctx.image_side else 0
    slower = max(1.0, pixels / reg["reference_pixels"]) ** reg["pixel_exponent"]
    rate = reg["images_per_core_s"] * cores / per_sample / slower
    unit = f"clips ({per_sample} frames each)" if per_sample > 1 else "images"
    size = f" of {ctx.image_side} px, {slower:.1f}x slower to decode than the reference" if slower > 1 else ""
    return rate, f"{rate:,.0f} {unit}/s{size} from {cores} loader cores ({reg['source']})"


_WORD_SECONDS = {"one": 1.0, "two": 2.0, "three": 3.0, "five": 5.0, "ten": 10.0, "half a": 0.5}


def _clip_seconds(ctx: Context, defaults: dict[str, float]) -> tuple[float, str]:
    """Length of one audio sample: "one-second clips", "5 s clips", "10-sec segments" in the spec, else the usual
    length for the task type, and whether the spec said it."""
    text = " ".join(filter(None, [ctx.spec.data.size, ctx.spec.task.specificTask])).lower()
    m = re.search(r"(\d+(?:\.\d+)?|one|two|three|five|ten|half a)[- ]?(?:s|sec|secs|second|seconds)\b[- ]?(?:long )?"
                  r"(?:clips?|segments?|recordings?|utterances?|windows?|samples?|audio)", text)  # fmt: skip
    if m:
        word = m.group(1)
        return _WORD_SECONDS.get(word) or float(word), "from the spec"
    kind = "classification" if ctx.task_type == "classification" else "other"
    return defaults[kind], f"assumed for {'a clip to classify' if kind == 'classification' else 'an utterance'}"


def built_size(ctx: Context, entry: ModelEntry) -> ScratchSize | None:
    """Parameters and MACs of dlexpert's own network as it will be built for the profiled data (the catalog quotes
    the family's reference configuration); None for other libraries or when no data profile gave the shape."""
    if entry.library != "dlexpert" or not ctx.input_shape or not ctx.n_classes:
        return None
    return scratch_size(entry.hub_id, ctx.input_shape, ctx.n_classes)
