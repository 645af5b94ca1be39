"""Step 3, training strategy design: the recipe from `recipes.yaml`, fitted to the model, the data and the device.

The learning rate is the recipe's, scaled from its reference batch to ours by the recipe's rule (linear scaling:
Goyal et al. 2017, arXiv 1706.02677; square-root for Adam-family at large batch: Malladi et al. 2022,
arXiv 2205.10287) and clamped to the recipe's range. The batch is checked against device memory, and gradient
accumulation makes up the difference to the recipe's batch.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..estimate import training_memory_gb
from ..knowledge import Recipe, get_problem, get_regimes, list_recipes
from ..schema import Evidence
from ..schema.plan import DataProcessing, Optimizer, TrainingStrategy, TrainingTechniques
from ._analyze import Context
from ._select import LLM_FAMILIES, Candidate


@dataclass
class RecipeChoice:
    recipe: Recipe
    strategy: TrainingStrategy
    epochs: int
    micro_batch: int
    global_batch: int
    lr: float
    mixed: str  # "bf16" | "fp16" | "none"
    clip: float | None = None  # max global gradient norm
    early_stopping_patience: int | None = None  # epochs without a better validation metric before stopping
    lr_decay_epochs: tuple[int, ...] = ()  # "step": epochs at which the LR is multiplied by the recipe's lr_gamma
    warmup_epochs: float = 0.0


def _regime(c: Candidate) -> str:
    if c.adaptation == "scratch":
        return "rl" if "RL" in c.entry.tasks and c.entry.family in {"ppo", "sac", "td3", "dqn"} else "scratch"
    if c.adaptation in {"lora", "qlora"}:
        return "lora"
    if c.adaptation == "linear-probe":
        return "linear-probe"
    return "finetune"


def pick_recipe(ctx: Context, c: Candidate) -> Recipe:
    """The recipe for the chosen model's architecture class, domain and regime; the nearest one if none is exact."""
    regime = _regime(c)
    arch = c.entry.architecture
    family = c.entry.family
    side = _train_side(ctx, c)
    # A size-specific recipe (`max_image_px`) applies only when the images trained on are that small, and then it is
    # preferred over the general one for the same regime and architecture: it was written for that input size.
    pool = [r for r in list_recipes() if r.max_image_px is None or (side is not None and side <= r.max_image_px)]

    def score(r: Recipe) -> tuple[int, ...]:
        name = r.name.lower()
        hints = 0
        if family in name or any(f in name for f in family.split("-")):
            hints += 2
        if c.adaptation == "qlora" and "qlora" in name:
            hints += 3
        if c.adaptation == "lora" and "lora" in name and "qlora" not in name:
            hints += 3
        if family in LLM_FAMILIES and "llm" in name:
            hints += 2
        small = c.entry.input_size is not None and c.entry.input_size <= 64 and ctx.domain == "CV"
        if small and "small" in name:
            hints += 2
        if (
            ctx.task_type in name
            or (ctx.task_type == "detection" and "detect" in name)
            or (ctx.task_type == "segmentation" and "segment" in name)
        ):
            hints += 3
        named = ctx.family is not None and ctx.family.name in name  # a recipe written for the task family
        sized = r.max_image_px is not None
        return (r.regime == regime, arch in r.architecture, ctx.domain in r.domains, named, sized, hints)

    return max(pool, key=score)


def _train_side(ctx: Context, c: Candidate) -> int | None:
    """The shorter image side the model trains at: the data's own for a from-scratch model, else the model's."""
    if ctx.domain != "CV":
        return None
    if c.scratch and ctx.modality == "image" and ctx.input_shape and len(ctx.input_shape) >= 2:
        return min(ctx.input_shape[-2:])
    return c.entry.input_size


def _mixed_precision(ctx: Context) -> tuple[str, str]:
    hw = ctx.train_hw
    if hw.kind in {"gpu", "tpu", "edge"} and hw.supports_bf16:
        return (
            "bf16",
            f"{hw.display_name} supports bf16: autocast to bf16, no loss scaling needed (same exponent range as fp32)",
        )
    if hw.kind in {"gpu", "edge"} and hw.supports_fp16_tensor_cores:
        return "fp16", f"{hw.display_name} has fp16 tensor cores but no bf16: fp16 autocast with torch.amp.GradScaler"
    return "none", (
        f"{hw.display_name} gains little from autocast (no bf16/fp16 matrix units in the profile); train in fp32"
    )


def _normalization(ctx: Context, c: Candidate) -> str:
    if ctx.in_channels:
        n = ctx.in_channels
        stem = (
            f"timm's in_chans={n} repeats the pretrained RGB filters over the bands and scales them by 3/{n} "
            "(timm.models.adapt_input_conv)"
            if c.entry.library == "timm"
            else f"copy the pretrained RGB filters over the extra bands and scale them by 3/{n} (what timm's "
            "adapt_input_conv and segmentation_models_pytorch's in_channels do)"
        )
        return (
            f"each of the {n} bands standardised with its own mean/std from the training tiles (not ImageNet's RGB "
            f"statistics); the first layer takes {n} bands: {stem}, so early layers start from the RGB features"
        )
    if c.adaptation != "scratch" and ctx.domain in {"CV", "multimodal"} and c.entry.library in {"timm", "torchvision"}:
        for norm in get_regimes()["normalization"]:
            if any(m in c.entry.name.lower() for m in norm["match"]):
                return (
                    f"{norm['name']} statistics the weights were trained with: mean={norm['mean']}, "
                    f"std={norm['std']} ({norm['source']}); resize/crop to {c.entry.input_size or 224}px"
                )
    if ctx.domain == "NLP" or c.entry.family in LLM_FAMILIES:
        return (
            f"the pretrained tokenizer of {c.entry.hub_id} (no numeric normalisation); "
            "truncate/pad to the model's context"
        )
    if ctx.domain == "audio":
        return (
            "log-mel spectrogram (16 kHz, 25 ms window, 10 ms hop, 128 mel bins for AST / 80 for Whisper), "
            "normalised with the feature extractor's mean/std"
        )
    if ctx.domain == "time-series" and ctx.task_type == "sequence-modeling":
        return (
            "per-series z-score with mean/std from the training window only (reversible instance normalisation, "
            "RevIN, Kim et al., ICLR 2022, undone on the forecast); never fit scalers on validation/test data"
        )
    if ctx.task_type == "RL":
        return "running mean/std normalisation of observations and rewards (SB3 VecNormalize), updated only in training"
    if ctx.domain == "tabular":
        return (
            "numeric columns standardised (or quantile-transformed) with statistics from the training split only; "
            "categorical columns one-hot (few values) or embedded (many); identifier columns dropped; dates as "
            "numbers or calendar features. Gradient-boosted trees need none of this"
        )
    return (
        "per-channel mean/std computed on the training split only (the validation and test splits reuse them), "
        "inputs scaled to [0, 1] first"
    )


def design_training(ctx: Context, c: Candidate) -> tuple[RecipeChoice, list[Evidence]]:
    """Seed Step 3: the whole recipe, with the reason for the learning rate and the batch-size arithmetic."""
    reg = get_regimes()
    r = pick_recipe(ctx, c)
    evidence = [
        Evidence(
            claim=f"training recipe {r.name}",
            value=f"{r.optimizer} lr {r.lr:g} @ batch {r.reference_batch_size}, {r.scheduler}, wd {r.weight_decay:g}",
            source=r.source,
        )
    ]
    mixed, mixed_why = _mixed_precision(ctx)
    mixed_bool = mixed != "none"

    micro, accumulation, global_batch, batch_text = _batch(ctx, c, r, mixed_bool)

    # Learning rate: scale from the recipe's batch to ours, clamp to the recipe's range.
    ratio = global_batch / r.reference_batch_size
    factor = {"linear": ratio, "sqrt": math.sqrt(ratio), "none": 1.0}[r.lr_scaling]
    lr = min(max(r.lr * factor, r.lr_range[0]), r.lr_range[1])
    lr_text = (
        f"{lr:.2g} ({r.lr:g} at batch {r.reference_batch_size}, {r.lr_scaling} scaling to batch {global_batch}"
        f", kept within {r.lr_range[0]:g}-{r.lr_range[1]:g} for {r.optimizer} in this regime): {r.rationale}"
    )
    evidence.append(
        Evidence(
            claim="learning rate", value=f"{lr:.2g}", source=f"{r.source}; scaling Goyal et al. 2017, arXiv 1706.02677"
        )
    )

    # Epochs: the recipe's for its regime, fewer for fine-tuning on small data is already in the recipe; a recipe
    # measured in optimizer steps gets the epochs that make those steps on this data.
    epochs, warmup_epochs = r.epochs, r.warmup_epochs
    if ctx.n_samples and r.steps:
        n_train = ctx.n_train or max(1, int(ctx.n_samples * TRAIN_SHARE))
        epochs, steps_text = _epochs_for_steps(n_train, global_batch, r.steps)
        warmup_epochs = round(r.warmup_epochs * epochs / r.epochs, 2)
        evidence.append(Evidence(claim="epochs for the recipe's step schedule", value=str(epochs), source=steps_text))
    elif ctx.n_samples and c.adaptation == "scratch" and r.regime == "scratch":
        epochs = max(r.epochs, reg["defaults"]["epochs_by_band"][ctx.band]) if ctx.band == "small" else r.epochs
        epochs, steps_text = _step_budget(ctx.n_samples, global_batch, epochs)
        if steps_text:
            evidence.append(Evidence(claim="epochs for a step budget", value=str(epochs), source=steps_text))
    stated = _stated_epochs(ctx)
    if stated is not None:
        epochs = stated[0]
        evidence.append(Evidence(claim="epochs", value=str(epochs), source=f"from the spec: {stated[1]!r}"))
    warmup = (
        f"{warmup_epochs:g} warmup epoch(s)"
        if warmup_epochs
        else f"warmup over {100 * r.warmup_steps_fraction:.3g}% of the steps"
        if r.warmup_steps_fraction
        else "no warmup"
    )
    decay_epochs = tuple(r.lr_decay_epochs(epochs)) if r.scheduler == "step" else ()
    scheduler = f"{r.scheduler} over {epochs} epochs with {warmup}"
    if decay_epochs:
        at = ", ".join(map(str, decay_epochs[:6])) + (
            f", ... ({len(decay_epochs)} in all)" if len(decay_epochs) > 6 else ""
        )
        scheduler += f"; LR x{r.lr_gamma:g} at epochs {at}"
    if r.optimizer == "SGD":
        opt = f"SGD (momentum {r.momentum or 0.9:g}{', Nesterov' if r.nesterov else ''})"
    else:
        opt = r.optimizer
    if c.adaptation in {"lora", "qlora"}:
        opt += (
            " on LoRA adapters (r=16, alpha=32, dropout 0.05 on all linear projections)"
            if c.adaptation == "lora"
            else " (paged 8-bit) on LoRA adapters over a 4-bit NF4 base with double quantization"
        )

    aug = _augmentation(ctx, c, r)

    # Sampling: balanced for long-tail classes, from the problem table; series are split in time, never at random.
    sampling = "uniform shuffling each epoch; stratified train/validation split"
    if ctx.forecasting:
        sampling = ("windows from every series, shuffled each epoch; validation on each series' last horizon and "
                    "rolling-origin backtests, never a random split (the future must not train the past)")  # fmt: skip
    elif ctx.long_tail and not ctx.regression:
        fixes = get_problem("class_imbalance").solutions
        sampling = f"class-balanced sampling for long-tail data: {fixes[0]}" + (
            f"; then {fixes[1]}" if len(fixes) > 1 else ""
        )

    clip, patience, reg_list = _regularization(ctx, c, r, epochs)

    strategy = TrainingStrategy(
        dataProcessing=DataProcessing(
            normalization=_normalization(ctx, c),
            augmentation=aug or None,
            samplingStrategy=sampling,
            batchSize=batch_text,
        ),
        optimizer=Optimizer(type=opt, learningRate=lr_text, scheduler=scheduler, weightDecay=f"{r.weight_decay:g}"),
        trainingTechniques=TrainingTechniques(
            gradientClipping=f"clip_grad_norm_(max_norm={clip:g})" if clip else None,
            mixedPrecision=mixed_bool,
            gradientAccumulation=accumulation,
            ema=r.ema or None,
        ),
        regularization=reg_list or None,
    )
    evidence.append(Evidence(claim="mixed precision", value=mixed, source=mixed_why))
    return RecipeChoice(
        recipe=r, strategy=strategy, epochs=epochs, micro_batch=micro, global_batch=global_batch, lr=lr, mixed=mixed,
        clip=clip, early_stopping_patience=patience, lr_decay_epochs=decay_epochs, warmup_epochs=warmup_epochs,
    ), evidence  # fmt: skip


# "we usually run ~200 epochs", "train for 50 epochs": the number of epochs the user already trains for.
_EPOCHS = re.compile(r"(?<![\w.])~?(\d{1,4})\s*(?:-\s*\d{1,4}\s*)?epochs?\b")


def _stated_epochs(ctx: Context) -> tuple[int, str] | None:
    """The epochs the spec says the user trains for (compute resources, budget, the task's words), and the words."""
    cons, task = ctx.spec.constraints, ctx.spec.task
    for text in (cons.computeResources, cons.budget, task.specificTask):
        m = _EPOCHS.search(text.lower()) if text else None
        if m and int(m.group(1)) > 0:
            return int(m.group(1)), m.group(0).strip()
    return None


def _epochs_for_steps(n_train: int, global_batch: int, steps: int) -> tuple[int, str]:
    """The epochs that make a recipe's `steps` optimizer steps over `n_train` training samples (at most
    `max_scratch_epochs`), and the arithmetic."""
    steps_per_epoch = math.ceil(n_train / global_batch)
    epochs = max(1, min(math.ceil(steps / steps_per_epoch), get_regimes()["defaults"]["max_scratch_epochs"]))
    return epochs, (
        f"the recipe runs {steps} optimizer steps; ~{n_train} training samples at batch {global_batch} make "
        f"{steps_per_epoch} steps per epoch, so {epochs} epochs"
    )


def _step_budget(n_samples: int, global_batch: int, epochs: int) -> tuple[int, str]:
    """Epochs raised until a from-scratch run takes `min_scratch_steps` optimizer steps (regimes.yaml), and why."""
    defaults = get_regimes()["defaults"]
    n_train = max(1, int(n_samples * TRAIN_SHARE))
    steps_per_epoch = math.ceil(n_train / global_batch)
    need = min(math.ceil(defaults["min_scratch_steps"] / steps_per_epoch), defaults["max_scratch_epochs"])
    if need <= epochs:
        return epochs, ""
    return need, (
        f"{epochs} epochs of ~{n_train} training samples at batch {global_batch} would be {epochs * steps_per_epoch} "
        f"optimizer steps; {need} epochs reach {defaults['min_scratch_steps']} (UCR deep baselines train 1500-2000 "
        "epochs at batch 16: Ismail Fawaz et al. 2019, arXiv 1809.04356, Sec. 4.1)"
    )


def _batch(ctx: Context, c: Candidate, r: Recipe, mixed_bool: bool) -> tuple[int, int, int, str]:
    """(micro-batch, accumulation steps, global batch, the sentence that explains them)."""
    reg = get_regimes()
    # Batch: the recipe's, capped by data size (>= ~10 steps per epoch), then by device memory; never below
    # MIN_BATCH (or the whole set when it is smaller): BatchNorm statistics over 2-4 samples are noise, and batch 2 on
    # 36 series swung test accuracy 58-70% between seeds (ArrowHead, issue 12).
    n = ctx.n_samples or 10_000
    by_data = 2 ** int(math.log2(max(1, n // 10)))
    target = max(1, min(r.reference_batch_size, max(by_data, min(MIN_BATCH, n))))
    adaptation = "full" if c.adaptation == "scratch" else c.adaptation
    one, _ = training_memory_gb(c.entry, adaptation=adaptation, batch_size=1, mixed_precision=mixed_bool)
    two, _ = training_memory_gb(c.entry, adaptation=adaptation, batch_size=2, mixed_precision=mixed_bool)
    per_sequence = max(two - one, 1e-6)
    fixed = one - per_sequence
    per_sample = per_sequence * ctx.sequences_per_sample
    usable = ctx.device_memory_gb * reg["usable_memory_fraction"]
    shard = ctx.total_devices if adaptation in {"full"} and ctx.train_hw.kind in {"gpu", "tpu"} else 1
    fixed /= shard
    fits = int(max(1, (usable - fixed) // per_sample))
    micro = 2 ** int(math.log2(max(1, min(target, fits))))
    devices = ctx.total_devices if ctx.train_hw.kind in {"gpu", "tpu"} else 1
    accumulation = max(1, math.ceil(target / (micro * devices)))
    global_batch = micro * devices * accumulation
    batch_text = (
        f"{micro} per device x {devices} device(s) x {accumulation} accumulation step(s) = {global_batch} "
        f"(recipe batch {r.reference_batch_size}); memory ~{fixed + per_sample * micro:.1f} GB of "
        f"~{usable:.1f} GB usable on {ctx.train_hw.display_name}"
    )
    return micro, accumulation, global_batch, batch_text


# Overhead imagery (satellite, aerial, drone) has no canonical up: quarter turns and flips keep every label.
OVERHEAD_ROTATIONS = (
    "RandomRotate90 + vertical flips: overhead imagery has no canonical up, so all 8 dihedral transforms keep the "
    "label (and the mask)"
)


def _augmentation(ctx: Context, c: Candidate, r: Recipe) -> list[str]:
    """The recipe's augmentation, fitted to the image size, the label semantics and the data's challenges."""
    # Augmentation: the recipe's list for the domain, unless the user said none is needed.
    aug = list(r.augmentation)
    if ctx.spec.data.augmentationNeeded is False:
        aug = [a for a in aug if any(k in a.lower() for k in ("resize", "crop(", "centercrop"))] or []
    size = _train_side(ctx, c)  # a from-scratch model trains at the data's own resolution
    if ctx.task_type in ("segmentation", "detection"):
        data_side = min(ctx.input_shape[-2:]) if ctx.input_shape and len(ctx.input_shape) >= 2 else None
        return _dense_augmentation(ctx, aug, data_side or size)  # dense models train at the data's image size
    if size is not None and size <= 64 and ctx.domain == "CV":
        crop = f"RandomCrop({size}, padding={max(1, size // 8)})"
        aug = [(crop if re.match(r"Random(Resized)?Crop\(", a) else a) for a in aug]
    elif size is not None and ctx.domain == "CV":
        # The recipe's crop size is the paper's; the model's own input size is what it was pretrained at.
        aug = [re.sub(r"RandomResizedCrop\(\d+", f"RandomResizedCrop({size}", a) for a in aug]
    if re.search(r"digit|character|letter|handwrit|\bocr\b", (ctx.spec.task.specificTask or "").lower()):
        # Mirror images of characters are other characters (or none): flips change the label.
        aug = [a for a in aug if "flip" not in a.lower()]
    # A one-class model learns what normal looks like: label-mixing or strong policies would teach it other normals.
    one_class = c.normal_only
    if ctx.spec.data.augmentationNeeded is not False and not one_class:
        if (
            "few-shot" in ctx.challenges
            and ctx.domain == "CV"
            and ctx.task_type == "classification"  # image-level policies; dense labels have their own recipes
            and not any("TrivialAugment" in a or "RandAugment" in a for a in aug)
        ):
            aug.append(
                "TrivialAugmentWide (strong augmentation for small data; Müller & Hutter 2021, arXiv 2103.10158)"
            )
        if ctx.overhead:
            aug.append(OVERHEAD_ROTATIONS)
        if "domain-shift" in ctx.challenges and ctx.domain == "CV":
            aug.append("ColorJitter(0.4, 0.4, 0.4) + RandomGrayscale(0.1) + GaussianBlur: photometric shift robustness")
        if "noisy-labels" in ctx.challenges and not any("mixup" in a.lower() for a in aug) and ctx.domain == "CV":
            aug.append("Mixup(alpha=0.2): softens noisy labels (Zhang et al. 2018, arXiv 1710.09412, Sec. 3.2)")
    return aug


def _dense_augmentation(ctx: Context, aug: list[str], size: int | None) -> list[str]:
    """A dense recipe's multi-scale steps at `size`, the data's image side (the recipe's sizes are its paper's, e.g.
    0.5-2x of 520 px then a 480 px crop): batches keep the data's size, and the scale range stays the recipe's."""
    if size is not None:
        aug = [re.sub(r"(RandomResize\([\d.]+-[\d.]+x of )\d+", rf"\g<1>{size}", a) for a in aug]
        aug = [re.sub(r"RandomCrop\(\d+", f"RandomCrop({size}", a) for a in aug]
    if ctx.spec.data.augmentationNeeded is not False and ctx.overhead:
        aug.append(OVERHEAD_ROTATIONS)
    return aug


# The smallest batch planned (the whole set when it is smaller): BatchNorm needs a few samples per batch for its
# statistics (Ioffe & Szegedy 2015; Wu & He 2018, arXiv 1803.08494, Fig. 1: BN error rises steeply below batch 16).
MIN_BATCH = 16
# The share of the data that trains when the loader also holds out validation and test parts (80%: 10% validation,
# and 10% test unless a test set is given); the step budget counts steps over it.
TRAIN_SHARE = 0.8
# Schedules whose LR does not anneal to a planned end, where patience on the validation metric decides the length.
PATIENT_SCHEDULES = ("constant", "plateau")


def _regularization(ctx: Context, c: Candidate, r: Recipe, epochs: int) -> tuple[float | None, int | None, list[str]]:
    """(gradient clip, early-stopping patience, the regularisation list) for this model and data."""
    clip = r.gradient_clipping
    issues = " ".join(ctx.spec.existingSetup.trainingIssues or []) if ctx.spec.existingSetup else ""
    if clip is None and (
        any(w in issues.lower() for w in ("nan", "explod", "inf", "spike")) or c.entry.architecture == "RNN"
    ):
        clip = 1.0
    reg_list = list(r.regularization)
    if "noisy-labels" in ctx.challenges and not any("smoothing" in x for x in reg_list):
        reg_list.append("label smoothing 0.1 (robust to label noise; Lukasik et al. 2020, arXiv 2003.02819)")
    patience = None
    if ctx.band == "small" and c.adaptation != "linear-probe":
        if r.scheduler in PATIENT_SCHEDULES:
            # Small data overfits; with a flat LR the validation metric is a fair stopping signal (Prechelt 1998,
            # "Early Stopping - But When?": patience criteria), a fifth of the run and at least 5 epochs.
            patience = max(5, epochs // 5)
            reg_list.append(
                f"early stopping on the validation metric (patience {patience} epochs); keep the best checkpoint"
            )
        else:
            # An annealed schedule is judged at its end: mid-run plateaus at a high LR are not convergence (stopping
            # there cost digits 99.2% -> 98.6% test accuracy, benchmarks/bench_digits.py seed 0).
            reg_list.append(f"no early stopping: the {r.scheduler} schedule runs its {epochs} epochs; the best "
                            "validation checkpoint is kept")  # fmt: skip
    if c.adaptation == "partial":
        reg_list.append("freeze the stem and first stages; train the last stage and the head (CPU compute budget)")
    return clip, patience, reg_list
