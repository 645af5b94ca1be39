"""Estimates with error bars: inference latency, training memory and training time.

Latency, in order of preference (each result says which basis it used):
1. measured: the catalog holds a measurement on this very device (timm's CPU tables, Ultralytics' T4 figures);
2. scaled: measured on another CPU, scaled by the ratio of peak fp32 FLOP/s; the error bar is how well that
   scaling predicts timm's i9-10940X table from its i7-12700H table;
3. fitted: a least-squares fit of timm's i7-12700H latencies on GMACs and activation elements (timm SOURCE.md notes
   MACs + activations predict better than MACs alone), scaled to the target CPU; the error bar is the fit's median
   relative error;
4. roofline: max(compute time at the measured large-batch efficiency, memory traffic / bandwidth) for GPUs and
   accelerators, where no table covers the device. Batch-1 GPU latency is launch-bound, so the error bar is wide.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from functools import cache

from ..knowledge import HardwareProfile, ModelEntry, get_hardware, get_regimes, list_models

__all__ = [
    "LatencyEstimate",
    "TimeEstimate",
    "cpu_batch1_speedup",
    "estimate_gmacs",
    "fixed_schedule_time",
    "predict_latency",
    "rl_training_time",
    "training_memory_gb",
    "training_time",
]

REFERENCE_CPU = "cpu-i7-12700h"  # timm results/benchmark-infer-fp32-nchw-pt240-cpu-i7_12700h-dynamo.csv
SECOND_CPU = "cpu-i9-10940x"  # timm results/benchmark-infer-fp32-nchw-pt240-cpu-i9_10940x-dynamo.csv
# Fixed per-call overhead of a framework on a GPU at batch 1 (kernel launches, sync): ~5-10 us per kernel, ~100
# kernels for a ResNet-50 (PyTorch CUDA semantics docs, "asynchronous execution"); 1 ms is the floor we assume.
GPU_BATCH1_FLOOR_MS = 1.0
# The same floor on a CPU: PyTorch eager dispatches each module call in ~10 us at batch 1 (measured on this project's
# 2-core machine, 2026-12-05: a 3-layer MLP 0.026 ms, a 12-layer conv1d stack 0.15 ms); a small network of about ten
# layers costs ~0.1 ms before any arithmetic.
CPU_BATCH1_FLOOR_MS = 0.1


@dataclass(frozen=True)
class LatencyEstimate:
    ms: float
    low_ms: float
    high_ms: float
    basis: str  # measured | scaled | fitted | roofline
    source: str

    def describe(self) -> str:
        if self.basis == "measured":
            return f"{_fmt_ms(self.ms)} ms (measured; {self.source})"
        return (
            f"{_fmt_ms(self.ms)} ms (range {_fmt_ms(self.low_ms)}-{_fmt_ms(self.high_ms)} ms; {self.basis}: "
            f"{self.source})"
        )


def _fmt_ms(ms: float) -> str:
    """Three significant figures, without scientific notation for the small latencies of tiny models."""
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 1:
        return f"{ms:.1f}"
    return f"{ms:.3g}"


@dataclass(frozen=True)
class TimeEstimate:
    hours: float
    low_hours: float
    high_hours: float
    total_flops: float
    basis: str

    def describe(self) -> str:
        return f"{_fmt_hours(self.low_hours)} to {_fmt_hours(self.high_hours)} ({self.basis})"


def _fmt_hours(h: float) -> str:
    if h < 1 / 60:
        return f"{h * 3600:.0f} s"
    if h < 1:
        return f"{h * 60:.0f} min"
    if h < 48:
        return f"{h:.1f} h"
    return f"{h / 24:.1f} days"


# Tokens per sample assumed when a sequence model's MACs scale with length: 128 for encoder inputs (a typical short
# text after tokenisation), 512 for a language-model training sample (BERT's pretraining length).
ENCODER_TOKENS = 128
LM_TRAIN_TOKENS = 512
# Audio Transformers see 50 frames per second of audio: wav2vec 2.0's feature encoder strides 20 ms (Baevski et al.
# 2020, arXiv 2006.11477, Sec. 2), Whisper's encoder halves 100 mel frames/s with a stride-2 conv (Radford et al.
# 2022, arXiv 2212.04356, Sec. 2.2). A sample is one second of audio (data sizes in hours count seconds).
AUDIO_FRAMES_PER_SECOND = 50
SPEECH_FRAME_FAMILIES = frozenset({"wav2vec2", "hubert", "wavlm", "whisper"})
# Denoising steps per generated image: the DDIM/PNDM default in diffusers pipelines.
DIFFUSION_STEPS = 50


def estimate_gmacs(entry: ModelEntry, *, training: bool = False) -> tuple[float, str]:
    """GMACs per sample (per generated token for LLM inference) and how the figure was obtained.

    The catalog's figure when it has one; otherwise parameters x tokens for sequence models (each weight is used
    once per token: Kaplan et al. 2020, arXiv 2001.08361, C_forward ~ 2N FLOPs/token, N without the embeddings, which
    an encoder's entry gives as `embedding_params_m`); otherwise parameters x 1.
    """
    if entry.gmacs is not None:
        return entry.gmacs, "catalog"
    if entry.family in get_regimes()["llm_families"]:
        if training:
            tokens = min(entry.context_length or LM_TRAIN_TOKENS, LM_TRAIN_TOKENS)
            return entry.params_m * 1e6 * tokens / 1e9, f"params x {tokens} tokens per sample (Kaplan et al. 2020)"
        return entry.params_m * 1e6 / 1e9, "params x 1 token (per generated token; Kaplan et al. 2020)"
    if entry.family in SPEECH_FRAME_FAMILIES:
        frames = AUDIO_FRAMES_PER_SECOND
        return entry.params_m * 1e6 * frames / 1e9, f"params x {frames} frames per second of audio (Kaplan et al. 2020)"
    if entry.architecture in {"Transformer", "RNN"} and entry.input_size:
        tokens = min(entry.input_size, ENCODER_TOKENS)
        if entry.embedding_params_m:  # a table lookup costs no multiply-accumulates
            weights = entry.params_m - entry.embedding_params_m
            how = (f"{weights:.3g}M non-embedding params x {tokens} tokens (Kaplan et al. 2020; the "
                   f"{entry.embedding_params_m:g}M of token embeddings are looked up)")  # fmt: skip
            return weights * 1e6 * tokens / 1e9, how
        return entry.params_m * 1e6 * tokens / 1e9, f"params x {tokens} tokens (Kaplan et al. 2020)"
    if entry.architecture in {"CNN", "Hybrid"}:
        # A convolution applies each weight at every output position: counting it once is a lower bound only.
        return entry.params_m * 1e6 / 1e9, "params x 1 (no MAC count published; a lower bound for a convolutional net)"
    return entry.params_m * 1e6 / 1e9, "params x 1 (no MAC count published)"


def cpu_batch1_speedup(cores: int, parallel_fraction: float) -> float:
    """Amdahl's law: how many times faster than one core a batch-1 forward pass runs on `cores` cores, when
    `parallel_fraction` of its time parallelises (one image's layers split into small per-thread tiles)."""
    return 1.0 / ((1.0 - parallel_fraction) + parallel_fraction / max(1, cores))


def _batch1_cpu_flops(hw: HardwareProfile) -> float:
    """The FLOP/s a CPU brings to one batch-1 forward pass: one core's peak x the Amdahl speedup over its cores
    (regimes.yaml `cpu_batch1`); a 14-core laptop is not 7x a 2-core runner for one image."""
    cores = hw.cores or 1
    p = get_regimes()["cpu_batch1"]["parallel_fraction"]
    return _peak(hw, "fp32") / cores * cpu_batch1_speedup(cores, p)


def _peak(hw: HardwareProfile, precision: str) -> float:
    """Peak TFLOP/s for a precision, falling back to the nearest one the device lists."""
    for p in (precision, "bf16" if precision == "fp16" else "fp16", "fp32"):
        if p in hw.peak_tflops:
            return hw.peak_tflops[p]
    return max(hw.peak_tflops.values())


def _lstsq3(rows: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Weighted least squares y = a*x1 + b*x2 + c minimising squared *relative* error (weights 1/y^2), via the 3x3
    normal equations (Cramer's rule). Relative error keeps small models, the ones CPUs serve, from being swamped
    by the large ones. No numpy on the plan path."""
    s = [[0.0] * 3 for _ in range(3)]
    t = [0.0] * 3
    for x1, x2, y in rows:
        w = 1.0 / (y * y)
        v = (x1, x2, 1.0)
        for i in range(3):
            t[i] += w * v[i] * y
            for j in range(3):
                s[i][j] += w * v[i] * v[j]

    def det(m: list[list[float]]) -> float:
        return (
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        )

    d = det(s)
    if abs(d) < 1e-12:
        return 0.0, 0.0, statistics.median(y for *_, y in rows)
    coef = []
    for k in range(3):
        m = [row[:] for row in s]
        for i in range(3):
            m[i][k] = t[i]
        coef.append(det(m) / d)
    return coef[0], coef[1], coef[2]


@cache
def _cpu_fit() -> tuple[tuple[float, float, float], float, int, float]:
    """Fit ms = a*gmacs + b*macts + c on the reference CPU table.

    Returns (coef, median relative error, n rows, smallest GMACs in the table); outside the table's range the fit
    is not used.
    """
    rows = [
        (m.gmacs, m.macts_m, m.latency_ms[REFERENCE_CPU])
        for m in list_models(library="timm")
        if REFERENCE_CPU in m.latency_ms and m.gmacs is not None and m.macts_m is not None
    ]
    if len(rows) < 10:
        return (0.0, 0.0, 0.0), float("nan"), 0, float("inf")
    a, b, c = _lstsq3(rows)
    rel = [abs(a * g + b * x + c - y) / y for g, x, y in rows]
    return (a, b, c), statistics.median(rel), len(rows), min(g for g, _, _ in rows)


@cache
def _gpu_efficiency() -> float:
    """Median achieved fraction of fp16 peak at batch 1024 on the RTX 4090 (timm's AMP inference table)."""
    try:
        hw = get_hardware("rtx4090")
    except Exception:
        return 0.3
    peak = _peak(hw, "fp16") * 1e12
    eff = [
        2 * m.gmacs * 1e9 * m.throughput["rtx4090"] / peak
        for m in list_models(library="timm")
        if "rtx4090" in m.throughput and m.gmacs
    ]
    return min(1.0, max(0.05, statistics.median(eff))) if eff else 0.3


def predict_latency(
    entry: ModelEntry, hw: HardwareProfile, *, precision: str = "fp32", per_token: bool = False
) -> LatencyEstimate:
    """Batch-1 inference latency of `entry` on `hw`, with a range and the basis it rests on.

    Diffusion models are predicted per image: one denoising pass x DIFFUSION_STEPS. Language models are predicted
    as the wait for the first token of an answer (`per_token`: the time per generated token after it).

    Example:
        >>> predict_latency(get_model("timm/resnet50.a1_in1k"), get_hardware("cpu-i7-12700h")).basis  # doctest: +SKIP
        'measured'
    """
    if entry.family in get_regimes()["llm_families"] and hw.name not in entry.latency_ms:
        return _llm_latency(entry, hw, per_token=per_token)
    est = _predict_once(entry, hw, precision=precision)
    if entry.architecture == "Diffusion":
        k = DIFFUSION_STEPS
        return LatencyEstimate(
            est.ms * k, est.low_ms * k, est.high_ms * k, est.basis, f"{k} denoising steps x ({est.source})"
        )
    return est


# A language model answers after reading its prompt: the first token waits for the prefill of the whole prompt
# (compute-bound: 2 x params FLOPs per prompt token) plus one decode step (memory-bound: every weight is read once per
# token; Pope et al. 2022, Efficiently Scaling Transformer Inference, arXiv 2211.05102, Sec. 2). A short chat prompt
# with its system text is assumed. Weights are served at 4 bits on CPUs, phones and boards (llama.cpp GGUF Q4,
# ~0.56 bytes/param with scales) and at 16 bits on GPUs (vLLM/TGI); 70% of peak bandwidth and 30% of peak compute
# are reached.
LLM_PROMPT_TOKENS = 256
LLM_WEIGHT_BYTES = {"gpu": 2.0, "tpu": 2.0}  # every other kind: 4-bit
LLM_4BIT_BYTES = 0.56


def _llm_latency(entry: ModelEntry, hw: HardwareProfile, *, per_token: bool) -> LatencyEstimate:
    params = entry.params_m * 1e6
    bytes_per = LLM_WEIGHT_BYTES.get(hw.kind, LLM_4BIT_BYTES)
    decode_ms = params * bytes_per / (hw.bandwidth_gbs * 1e9 * 0.7) * 1e3
    compute = "fp16" if hw.kind in {"gpu", "tpu", "edge", "npu"} else "int8" if "int8" in hw.peak_tflops else "fp32"
    prefill_ms = 2 * params * LLM_PROMPT_TOKENS / (_peak(hw, compute) * 1e12 * 0.3) * 1e3
    ms = decode_ms if per_token else prefill_ms + decode_ms
    gb = params * bytes_per / 1e9
    weights = f"{gb:.1f} GB of weights ({bytes_per:g} B/param) at 70% of {hw.bandwidth_gbs:g} GB/s"
    how = (
        f"per generated token: {weights}"
        if per_token
        else f"first token: prefill of a {LLM_PROMPT_TOKENS}-token prompt at 30% of {_peak(hw, compute):g} TFLOP/s "
        f"{compute} ({prefill_ms:,.0f} ms) + one decode step reading {weights} ({decode_ms:,.0f} ms)"
    )
    return LatencyEstimate(ms, ms * 0.5, ms * 2.0, "roofline", f"{how}; Pope et al. 2022, arXiv 2211.05102")


def _predict_once(entry: ModelEntry, hw: HardwareProfile, *, precision: str = "fp32") -> LatencyEstimate:
    if hw.name in entry.latency_ms:
        ms = entry.latency_ms[hw.name]
        return LatencyEstimate(ms, ms * 0.9, ms * 1.1, "measured", entry.source)
    if hw.kind == "cpu":
        target = _batch1_cpu_flops(hw)
        low, high = get_regimes()["cpu_batch1"]["band"]
        for ref_name in (REFERENCE_CPU, SECOND_CPU):
            if ref_name in entry.latency_ms:
                ref = get_hardware(ref_name)
                ms = entry.latency_ms[ref_name] * _batch1_cpu_flops(ref) / target
                return LatencyEstimate(
                    ms,
                    ms * low,
                    ms * high,
                    "scaled",
                    f"measured on {ref.display_name} ({entry.source}), scaled by batch-1 CPU FLOP/s "
                    f"{_batch1_cpu_flops(ref):.3f}/{target:.3f} TFLOP/s (one core's peak x Amdahl speedup over the "
                    f"cores, {get_regimes()['cpu_batch1']['source']}); range {low:g}x-{high:g}x",
                )
        coef, err, n, smallest = _cpu_fit()
        gmacs, how = estimate_gmacs(entry)
        macts = entry.macts_m if entry.macts_m is not None else 0.0
        if n and (entry.macts_m is not None or entry.gmacs is not None) and gmacs >= smallest:
            ref = get_hardware(REFERENCE_CPU)
            ms = max(0.05, coef[0] * gmacs + coef[1] * macts + coef[2]) * _batch1_cpu_flops(ref) / target
            return LatencyEstimate(
                ms,
                ms * min(low, 1 - err),
                ms * max(high, 1 + 2 * err),
                "fitted",
                f"fit of {n} timm i7-12700H latencies on GMACs ({how}) and activations, "
                f"median error {err:.0%}, scaled to {hw.display_name}",
            )
    # Roofline for everything else (and CPUs without any MAC count).
    gmacs, how = estimate_gmacs(entry)
    bytes_per = {"fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2, "int8": 1}.get(precision, 4)
    eff = 0.3 if hw.kind == "cpu" else _gpu_efficiency()
    compute_s = 2 * gmacs * 1e9 / (_peak(hw, precision) * 1e12 * eff)
    # A call reads at most the weights its MACs touch: an embedding table is looked up a few rows at a time (DLRM's
    # 4.2B parameters against 2.4M MACs), while a dense network reads every weight at least once.
    weights_read = min(entry.params_m * 1e6, gmacs * 1e9) if entry.gmacs is not None else entry.params_m * 1e6
    traffic = weights_read * bytes_per + (entry.macts_m or 0.0) * 1e6 * bytes_per * 2
    memory_s = traffic / (hw.bandwidth_gbs * 1e9)
    floor = GPU_BATCH1_FLOOR_MS if hw.kind in {"gpu", "edge"} else CPU_BATCH1_FLOOR_MS if hw.kind == "cpu" else 0.0
    ms = max(compute_s, memory_s) * 1e3 + floor
    return LatencyEstimate(
        ms,
        ms * 0.5,
        ms * 3.0,
        "roofline",
        f"roofline on {hw.display_name}: {2 * gmacs:.2f} GFLOPs ({how}) at {eff:.0%} of "
        f"{_peak(hw, precision):.1f} TFLOP/s {precision} vs {traffic / 1e6:.0f} MB at "
        f"{hw.bandwidth_gbs:.0f} GB/s, plus {floor:g} ms per-call floor; batch-1 roofline "
        "estimates are rough (0.5x-3x): measure with `dlexpert bench`",
    )


def training_memory_gb(
    entry: ModelEntry, *, adaptation: str, batch_size: int, mixed_precision: bool
) -> tuple[float, str]:
    """Device memory to train: parameters x bytes for the adaptation (ZeRO's accounting) + activations."""
    reg = get_regimes()
    bpp = reg["train_bytes_per_param"]
    key = {
        "full": "full_mixed" if mixed_precision else "full_fp32",
        "linear-probe": "frozen_backbone",
        "partial": "full_mixed" if mixed_precision else "full_fp32",
        "lora": "lora",
        "qlora": "qlora",
    }[adaptation]
    weights = entry.params_m * 1e6 * bpp[key]
    act_bytes = 2 if mixed_precision else 4
    if entry.macts_m is not None:
        acts = entry.macts_m * 1e6 * act_bytes * reg["activation_train_factor"] * batch_size
        factor = reg["activation_train_factor"]
        act_how = f"{entry.macts_m:.0f}M activations x {factor:g} x {act_bytes} B x batch {batch_size}"
    else:
        # Transformers: ~34 x seq x hidden bytes per layer per sample in 16-bit (Korthikanti et al. 2022,
        # arXiv 2205.05198, Eq. 1, without the attention-score term). Shape from parameters: params ~ 12 L d^2 with
        # L ~ d / 64 (BERT-base: 12 x 768), so d ~ (params x 64 / 12)^(1/3).
        seq = entry.input_size or 512
        hidden = (entry.params_m * 1e6 * 64 / 12) ** (1 / 3)
        layers = max(1.0, hidden / 64)
        acts = 34 * seq * hidden * layers * batch_size * (act_bytes / 2)
        if adaptation in {"lora", "qlora"}:
            acts *= 0.5  # gradient checkpointing is standard with (Q)LoRA (PEFT docs); stores ~half
        act_how = (
            f"~34 B x seq {seq} x hidden {hidden:.0f} x {layers:.0f} layers x batch {batch_size} "
            "(Korthikanti et al. 2022)"
        )
    if adaptation == "linear-probe":
        acts *= 1 / reg["activation_train_factor"]  # no backward through the backbone
    total = (weights + acts) / 1e9
    return total, f"{bpp[key]} B/param x {entry.params_m:.0f}M params ({key}; {bpp['source']}) + {act_how}"


def rl_training_time(env_steps: int, *, pixels: bool) -> TimeEstimate:
    """Wall-clock RL training: environment steps over the whole loop's steps per second (regimes.yaml
    `rl_env_steps_per_s`); simulation and acting dominate, not the network's FLOPs."""
    reg = get_regimes()["rl_env_steps_per_s"]
    lo, hi = reg["pixels" if pixels else "vector"]
    fast, slow = env_steps / hi / 3600, env_steps / lo / 3600
    kind = "pixel-observation" if pixels else "vector-observation"
    basis = f"{env_steps:,} environment steps at {lo:,}-{hi:,} steps/s for {kind} environments ({reg['source']})"
    return TimeEstimate((fast * slow) ** 0.5, fast, slow, 0.0, basis)


def fixed_schedule_time(family: str, hw: HardwareProfile) -> TimeEstimate | None:
    """Training time of a library whose schedule is fixed by design (regimes.yaml `fixed_schedules`, e.g. nnU-Net's
    1000 epochs of 250 iterations): its published epoch time, scaled from the reference GPU by fp16 peak; None for
    every other family."""
    sched = get_regimes()["fixed_schedules"].get(family)
    if sched is None:
        return None
    ref = get_hardware(sched["reference_device"])
    scale = _peak(ref, "fp16") / _peak(hw, "fp16")
    lo_s, hi_s = sched["epoch_seconds"]
    fast, slow = (sched["epochs"] * sec * scale / 3600 for sec in (lo_s, hi_s))
    basis = (
        f"{sched['epochs']} epochs x {lo_s}-{hi_s} s per epoch measured on {ref.display_name}, scaled by fp16 peak "
        f"{_peak(ref, 'fp16'):g}/{_peak(hw, 'fp16'):g} TFLOP/s to {hw.display_name} ({sched['source']})"
    )
    return TimeEstimate((fast * slow) ** 0.5, fast, slow, 0.0, basis)


def training_time(
    *,
    gmacs: float,
    n_samples: int,
    epochs: float,
    hw: HardwareProfile,
    n_devices: int,
    precision: str,
    backward: bool = True,
    batch_size: int | None = None,
    val_fraction: float = 0.1,
    loader: tuple[float, str] | None = None,
    family: str | None = None,
) -> TimeEstimate:
    """Wall-clock training time: FLOPs over utilised peak, plus a per-step floor, plus evaluation.

    - compute: 2 x GMACs x (3 with backward) x samples x epochs over the device's utilised peak. The factor 3
      (forward + backward = 3x forward FLOPs) follows Kaplan et al. 2020, arXiv 2001.08361, Sec. 2.1.
    - per step (`batch_size` given): a framework floor per optimizer step (kernel launches, optimizer, data handoff;
      regimes.yaml `step_overhead_ms`), which dominates for small models: without it a 25k-parameter net "trains" on
      100k clips for 200 epochs in under a second.
    - evaluation: one forward pass over the validation split (`val_fraction` of the samples) per epoch.
    - per epoch: checkpoint and logging (regimes.yaml `epoch_overhead_s`), added to whichever bound the epoch hits.
    - data loading (`loader`: samples/s and its basis): decoding and augmenting on the CPU bounds the whole run.
    - utilisation: the device kind's range, or on a GPU the lower one of a `family` built of depthwise-separable blocks
      (regimes.yaml `utilisation.mobile_families`).
    """
    reg = get_regimes()
    util = reg["utilisation"]
    mobile = hw.kind == "gpu" and family in util["mobile_families"]
    lo_u, hi_u = util["gpu_mobile"] if mobile else util.get(hw.kind, util["cpu"])
    source = f"{util['mobile_source']}; {family} is of that class" if mobile else util["source"]
    flops = 2 * gmacs * 1e9 * (3 if backward else 1) * n_samples * epochs
    eval_flops = 2 * gmacs * 1e9 * n_samples * val_fraction * epochs if backward else 0.0
    peak = _peak(hw, precision) * 1e12 * n_devices
    fast, slow = (flops + eval_flops) / (peak * hi_u) / 3600, (flops + eval_flops) / (peak * lo_u) / 3600
    basis = (
        f"{flops:.2e} FLOPs = 2 x {gmacs:.2f} GMACs x {3 if backward else 1} x {n_samples:,} samples x {epochs:g} "
        f"epochs, at {lo_u:.0%}-{hi_u:.0%} of {n_devices} x {_peak(hw, precision):.1f} TFLOP/s {precision} on "
        f"{hw.display_name} ({source})"
    )
    if eval_flops:
        basis += f"; plus a validation pass over {val_fraction:.0%} of the samples per epoch"
    if batch_size:
        lo_ms, hi_ms = reg["step_overhead_ms"].get(hw.kind, reg["step_overhead_ms"]["cpu"])
        steps = math.ceil(n_samples / (batch_size * max(1, n_devices))) * epochs
        fast, slow = max(fast, steps * lo_ms / 3.6e6), max(slow, steps * hi_ms / 3.6e6)
        basis += (
            f"; at least {lo_ms:g}-{hi_ms:g} ms per step x {steps:,.0f} steps (batch {batch_size}) "
            f"({reg['step_overhead_ms']['source']})"
        )
    if loader is not None:
        rate, how = loader
        bound = n_samples * epochs / rate / 3600
        # The measured rate is the best case: real pipelines (file reads, collation, a busy host) reach 2/3 of it.
        fast, slow = max(fast, bound), max(slow, bound * 1.5)
        basis += f"; data loading at least {bound * 3600:,.0f} s ({how})"
    if backward:  # checkpoints and logging come on top of whichever bound the epoch hits
        lo_e, hi_e = reg["epoch_overhead_s"]
        fast, slow = fast + epochs * lo_e / 3600, slow + epochs * hi_e / 3600
        basis += f"; plus {lo_e:g}-{hi_e:g} s per epoch for checkpoint and logging ({reg['epoch_overhead_source']})"
    return TimeEstimate((fast * slow) ** 0.5, fast, slow, flops, basis)
