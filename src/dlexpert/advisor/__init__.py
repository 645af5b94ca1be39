"""The advisor: the specification's Steps 1-3 and the planning halves of Steps 4-7, as one pure function.

Example:
    >>> from dlexpert import advise, parse_task
    >>> spec = parse_task({"task": {"type": "classification", "domain": "CV", "specificTask": "CIFAR-10"},
    ...                    "constraints": {"computeResources": "single-GPU 24GB"}})
    >>> plan = advise(spec)  # doctest: +SKIP
    >>> plan.modelDesign.pretrainedModel.name  # doctest: +SKIP
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from ..errors import InvalidInputError
from ..forecast.roster import SELECTION, baseline_names, roster_note
from ..knowledge import FirstModel, ModelEntry, get_family, get_regimes
from ..report.deliverable import MIN_VAL_FOR_NETWORK, NETWORK_MARGIN_Z, SWITCH_ALPHA
from ..report.regressors import describe as describe_regressor
from ..report.strong import CV_FOLDS, CV_MAX_SAMPLES, CV_MAX_SECONDS, CV_REPEATS, describe
from ..schema import Alternative, Evidence, Plan, TaskSpec, WorkflowStep
from ..schema.decisions import BUILDABLE, Decisions, Deployment, Fallback, ModelRecord, TaskChoice, TrainingChoice
from ..schema.plan import ModelDesign, PretrainedModel
from ..schema.task import KNOWN_FRAMEWORKS
from ..weights import WeightsStatus, weights_status
from ._analyze import Context, analyse, detect_hardware
from ._practice import (
    built_size,
    debugging_guidance,
    engineering_practice,
    expected_performance,
    long_training_warning,
    needs_sharding,
)
from ._recipe import RecipeChoice, design_training
from ._select import PRETRAINED_LIBRARIES, Candidate, Selection, benchmark_key, select, serving_precision

__all__ = ["Context", "Decisions", "TrainingChoice", "advise", "advise_with_decisions", "analyse", "detect_hardware"]


_ADAPTATION_TEXT = {
    "full": "full fine-tuning of all layers (lower learning rate than from scratch, new task head)",
    # A generative model keeps its pretrained output head: it already speaks the vocabulary (or pixel/audio space).
    "full-generative": "full fine-tuning of all layers at a low learning rate, keeping the pretrained output head",
    "partial": "partial freezing: freeze the stem and early stages, fine-tune the last stage and a new head",
    "linear-probe": "frozen backbone + linear probe: train only a new head on cached features",
    "lora": "LoRA adapters (r=16) on the attention and MLP projections; base weights frozen in bf16",
    "qlora": "QLoRA: LoRA adapters over a 4-bit NF4-quantized frozen base, paged optimizer",
    "scratch": "none (trained from scratch)",
}
# How a PyTorch plan reaches a framework that has no PyTorch interop of its own (MathWorks: importNetworkFromONNX).
_CARRY_OVER = {
    "MATLAB": "export the trained network to ONNX and load it with importNetworkFromONNX, or build the same recipe in "
    "Deep Learning Toolbox",
}
_SOURCE_NAMES = {
    "timm": "timm (Hugging Face Hub)",
    "torchvision": "TorchVision",
    "transformers": "HuggingFace",
    "ultralytics": "Ultralytics",
    "open_clip": "OpenCLIP",
    "diffusers": "HuggingFace Diffusers",
    "stable-baselines3": "Stable-Baselines3",
    "dlexpert": "dlexpert (built in)",
}


def advise(spec: TaskSpec, *, profile: Any = None, hardware: str | None = None, assume_defaults: bool = False) -> Plan:
    """Turn a task spec into a grounded plan (see `advise_with_decisions` for the decisions as values)."""
    return advise_with_decisions(spec, profile=profile, hardware=hardware, assume_defaults=assume_defaults)[0]


def advise_with_decisions(
    spec: TaskSpec,
    *,
    profile: Any = None,
    hardware: str | None = None,
    assume_defaults: bool = False,
    runnable_here: bool = False,
    offline: bool | None = None,
) -> tuple[Plan, Decisions]:
    """Turn a task spec into a grounded plan and the same decisions as values. Reads the knowledge base, and (for
    `runnable_here`) the local weight caches.

    Args:
        spec: the task spec (seed Input).
        profile: a `DataProfile` of the user's data (input shape, modality), from `dlexpert.data.profile_dataset`.
        hardware: a hardware profile name or alias, or "auto" to detect this machine; overrides computeResources.
        assume_defaults: proceed on stated assumptions when critical facts are missing (else they become questions).
        runnable_here: plan what can be trained on this machine now (`train`, `run`): when the best model cannot
            (its pretrained weights are not available offline), the plan is for the best one that can, with its own
            recipe, and `Decisions.fallback` says what was planned first and why it could not run. Without it, the
            plan is the best model anywhere, with a warning when it cannot load here.
        offline: whether weights can be downloaded now: None reads `HF_HUB_OFFLINE`; True after a download failed.

    Returns:
        The plan and the decisions. When `plan.questions` is non-empty, the plan is partial (the CLI exits 3).

    Example:
        >>> plan, decisions = advise_with_decisions(spec, profile=profile, runnable_here=True)  # doctest: +SKIP
        >>> decisions.model.name, decisions.training.lr  # doctest: +SKIP
    """
    ctx = analyse(spec, hardware=hardware, assume_defaults=assume_defaults, profile=profile)
    check = _runnable_check(ctx, offline=offline, buildable_only=runnable_here)
    sel = _select(ctx)
    status = check(sel.chosen.entry)
    fallback = None
    if not status.available and (runnable_here or ctx.modality == "text"):
        fallback = Fallback(planned=sel.chosen.entry.name, reason=status.reason, fetch_command=status.fetch_command)
        sel = _select(ctx, weights=check)
    c = sel.chosen
    rc, ev_recipe = design_training(ctx, c)
    guidance, guide_warnings = debugging_guidance(ctx, c, rc)
    practice, ev_practice = engineering_practice(ctx, c, rc)
    expected, ev_expected, estimates = expected_performance(ctx, c, rc)

    warnings = list(ctx.warnings) + guide_warnings
    long_training = long_training_warning(ctx, c, estimates)
    warnings += [long_training] if long_training else []
    if fallback is not None:
        warnings.insert(0, _fallback_text(fallback, c))
    elif not status.available:
        warnings.insert(
            0,
            f"{c.entry.name} cannot be trained on this machine now ({status.reason}); fetch its weights with "
            f"{status.fetch_command}, or `dlexpert run` here will plan a fallback that can",
        )
    if not sel.all_feasible:
        warnings.insert(
            0,
            f"no candidate meets every constraint ({sel.n_candidates} checked); the closest is "
            f"{c.entry.name}: {'; '.join(c.failures)}. To get a plan that meets them: "
            f"{'; '.join(sel.relax) or 'relax the failing constraint'}",
        )
    named = _named_model_note(sel, c)
    warnings += [named] if named else []
    if ctx.dataset is not None and not c.scratch:
        key = benchmark_key("", ctx.dataset.name)[1]
        if any(key and key in benchmark_key(m.name, m.dataset)[1] for m in c.entry.metrics):
            warnings.append(
                f"{c.entry.hub_id} was already trained and evaluated on {ctx.dataset.name}: evaluate the "
                "published weights before training; fine-tune only if your label set or data differ"
            )
    if ctx.family is not None and ctx.family.first_step:  # what an expert does before training anything: first
        warnings.insert(0, f"{ctx.family.name}: {ctx.family.first_step}; the model below is what to train if it does")
    evidence = [*ctx.evidence, *_model_evidence(ctx, c), *ev_recipe, *ev_practice, *ev_expected]
    formats = list(practice.inferenceOptimization.format) if practice.inferenceOptimization else []
    deployment = Deployment(device=ctx.infer_hw.name, kind=ctx.infer_hw.kind, formats=formats,
                            precision=serving_precision(ctx.infer_hw.kind))  # fmt: skip
    task = _task_choice(ctx)
    decisions = Decisions(model=_model_record(ctx, c), training=_training_choice(ctx, c, rc), estimates=estimates,
                          deployment=deployment, task=task, fallback=fallback)  # fmt: skip
    plan = Plan(
        modelDesign=_model_design(ctx, sel),
        trainingStrategy=rc.strategy,
        debuggingGuidance=guidance,
        engineeringPractice=practice,
        expectedPerformance=expected,
        questions=ctx.questions,
        assumptions=ctx.assumptions,
        alternatives=[_alternative(ctx, a, c) for a in sel.alternatives],
        evidence=evidence,
        warnings=warnings,
        workflow=_workflow(ctx, sel, task),
        decisions=decisions,
    )
    return plan, decisions


def _select(ctx: Context, **kwargs: Any) -> Selection:
    try:
        return select(ctx, **kwargs)
    except LookupError as exc:
        raise InvalidInputError(f"task: {exc}; try another task.type/domain pair (see `dlexpert catalog`)") from None


def _runnable_check(ctx: Context, *, offline: bool | None, buildable_only: bool = False) -> Any:
    """Can `dlexpert train` build and feed this catalog entry here? Its weights must load (`weights_status`), and
    text data needs a model that reads text (a transformers encoder); `buildable_only` (a plan that must run here):
    its library is one dlexpert builds."""

    def check(entry: ModelEntry) -> WeightsStatus:
        if buildable_only and entry.library not in BUILDABLE:
            return WeightsStatus(False, "", reason=f"dlexpert does not build {entry.library} models")
        if ctx.modality == "text" and entry.library != "transformers":
            return WeightsStatus(False, "", reason=f"{entry.name} does not read raw text (the data is text)")
        return weights_status(entry.library, entry.hub_id, offline=offline)

    return check


def _fallback_text(fb: Fallback, c: Candidate) -> str:
    how = f"; to train it instead, fetch its weights: {fb.fetch_command}" if fb.fetch_command else ""
    return (
        f"fallback: {fb.planned} was the first choice but cannot be trained here ({fb.reason}); this plan is for "
        f"{c.entry.name} ({'from scratch' if c.scratch else c.adaptation}), with its own recipe{how}"
    )


def _model_record(ctx: Context, c: Candidate) -> ModelRecord:
    """What `dlexpert.models.build` makes: the registry family or the pretrained hub id, sized for the data."""
    library = c.entry.library
    if ctx.modality == "text" and library == "transformers":
        library = "text"  # a sentence encoder with mean pooling and a linear head (`create_text_classifier`)
    return ModelRecord(
        library=library,
        name=c.entry.hub_id,
        task=_output_task(ctx),
        adaptation=c.adaptation,  # type: ignore[arg-type]
        n_classes=ctx.n_classes,
        input_shape=list(ctx.input_shape) if ctx.input_shape and library != "text" else None,
        in_chans=ctx.in_channels if library == "timm" else None,
    )


def _output_task(ctx: Context) -> Any:
    """What the network outputs: a class per sample, a value per sample (a family that regresses one: house prices),
    a class per pixel, or boxes."""
    if ctx.regression:
        return "regression"
    kind = ctx.spec.task.type
    return kind if kind in {"segmentation", "detection"} else "classification"


def _training_choice(ctx: Context, c: Candidate, rc: RecipeChoice) -> TrainingChoice:
    r = rc.recipe
    return TrainingChoice(
        catalog_name=c.entry.name,
        family=c.entry.family,
        architecture=c.entry.architecture,
        recipe=r.name,
        optimizer=r.optimizer,
        lr=rc.lr,
        momentum=r.momentum,
        nesterov=r.nesterov,
        weight_decay=r.weight_decay,
        scheduler=r.scheduler,
        lr_decay_epochs=rc.lr_decay_epochs,
        lr_gamma=r.lr_gamma,
        warmup_epochs=rc.warmup_epochs,
        epochs=rc.epochs,
        early_stopping_patience=rc.early_stopping_patience,
        label_smoothing=r.label_smoothing,
        dice_weight=r.dice_weight if ctx.task_type == "segmentation" else 0.0,
        gradient_clipping=rc.clip,
        ema=bool(r.ema),
        mixed_precision=rc.mixed,  # type: ignore[arg-type]
        micro_batch=rc.micro_batch,
        accumulation=rc.strategy.trainingTechniques.gradientAccumulation or 1,
        augmentation=tuple(rc.strategy.dataProcessing.augmentation or ()),
        balanced_sampling=ctx.long_tail and ctx.task_type == "classification",
        strategy="fsdp" if needs_sharding(ctx, c) else "auto",
    )


def _model_evidence(ctx: Context, c: Candidate) -> list[Evidence]:
    e = c.entry
    out = [Evidence(claim=f"{e.name} parameters", value=f"{e.params_m:g}M", source=e.source)]
    built = built_size(ctx, e)
    if built is not None:
        out.append(
            Evidence(
                claim=f"{e.hub_id} as built for input {list(ctx.input_shape or ())}, {ctx.n_classes} classes",
                value=f"{built.params:,} parameters, {built.macs:,} MACs per sample",
                source="counted layer by layer (dlexpert.estimate.scratch; tests check it against the built model)",
            )
        )
    for m in e.metrics[:3]:
        out.append(Evidence(claim=f"{e.name} {m.name} on {m.dataset}", value=f"{m.value:g}{m.unit}", source=e.source))
    if e.gmacs is not None:
        out.append(Evidence(claim=f"{e.name} GMACs at {e.input_size}", value=f"{e.gmacs:g}", source=e.source))
    out.append(
        Evidence(
            claim="training memory per device",
            value=f"~{c.train_memory_gb:.1f} GB at batch 1",
            source=c.train_memory_how,
        )
    )
    return out


def _adaptation_text(ctx: Context, c: Candidate) -> str:
    """How the pretrained model is adapted: for a generative task also the loss it is tuned on (a DPO loss is not
    a new head's cross-entropy), and for a full fine-tune that one device cannot hold, how it is sharded."""
    generative = ctx.task_type == "generation"
    text = _ADAPTATION_TEXT["full-generative" if generative and c.adaptation == "full" else c.adaptation]
    if generative and ctx.family is not None:
        text += f"; loss: {ctx.family.loss}"
    if needs_sharding(ctx, c):
        text += (f"; weights, gradients and optimizer state sharded over the {ctx.total_devices} GPUs "
                 "(FSDP full sharding, the equivalent of DeepSpeed ZeRO-3)")  # fmt: skip
    return text


def _size_text(ctx: Context, e: ModelEntry) -> str:
    built = built_size(ctx, e)
    if built is not None:
        return (f"{built.params_m:.3g}M parameters and {built.macs / 1e6:.3g}M MACs per sample as built for this data "
                f"(the reference design in the catalog: {e.params_m:g}M)")  # fmt: skip
    macs = f", {e.gmacs:g} GMACs at {e.input_size}px" if e.gmacs and e.input_size else ""
    return f"{e.params_m:g}M parameters{macs}"


def _model_design(ctx: Context, sel: Selection) -> ModelDesign:
    if ctx.first_model is not None:
        return _first_model_design(ctx, sel, ctx.first_model)
    c = sel.chosen
    e = c.entry
    fam = get_family(e.family)
    parts = [
        f"{fam.display_name} ({fam.architecture}): {fam.inductive_bias}",
        f"Chosen from {sel.n_candidates} catalog candidates for {ctx.task_type} in {ctx.domain}, "
        f"{sel.n_feasible} of which meet every constraint; {sel.why}.",
        _size_text(ctx, e)
        + (f"; predicted latency {c.latency.describe()} on {ctx.infer_hw.display_name}" if c.latency else "")
        + ".",
        f"Data needs: {fam.data_needs}",
    ]
    if c.needs_compression:
        parts.append(f"Meets the size limit only after compression: {c.needs_compression}.")
    if c.soft:
        parts.append("Note: " + "; ".join(c.soft) + ".")
    n = ctx.n_samples
    band = next(b for b in get_regimes()["data_bands"] if b["name"] == ctx.band)
    pretrained = None
    if not c.scratch:
        pretrained = PretrainedModel(
            name=e.hub_id, source=_SOURCE_NAMES.get(e.library, e.library), adaptation=_adaptation_text(ctx, c)
        )
    n_text = f"{n:,} samples" if n is not None else "an unknown number of samples"
    if c.scratch and fam.frozen_pretrained:
        tradeoff = (
            f"Transfer through a frozen network: {fam.display_name} trains its other parts from random "
            f"initialisation against {fam.frozen_pretrained}, which stays as pretrained. It needs >= "
            f"{fam.min_samples_scratch:,} samples and there are {n_text}."
        )
    elif c.scratch:
        why = (
            "the spec asks for it"
            if ctx.scratch_required and e.library in PRETRAINED_LIBRARIES
            else "no pretrained weights cover this input"
        )
        tradeoff = (
            f"Training from scratch ({why}): {fam.display_name} needs >= {fam.min_samples_scratch:,} samples from "
            f"scratch and there are {n_text}. Step 2 for {ctx.band} data: {band['strategy']} ({band['source']})."
        )
    else:
        scratch_ok = n is not None and n >= fam.min_samples_scratch
        tradeoff = (
            f"{ctx.band.capitalize()} data ({n_text}): {band['strategy']} ({band['source']}). "
            f"Fine-tuning pretrained {e.hub_id} ({e.pretrain or 'pretrained'} weights) converges in a few "
            f"epochs and needs far less data; training {fam.display_name} from scratch needs >= "
            f"{fam.min_samples_scratch:,} samples"
            + (
                ", which you have, so scratch training is an option at several times the compute."
                if scratch_ok
                else ", which you do not have."
            )
            + f" Adaptation: {_adaptation_text(ctx, c)}."
        )
        if c.adaptation in {"lora", "qlora"}:
            tradeoff += (
                f" Full fine-tuning would need ~16 bytes/param (~{e.params_m * 16 / 1e3:.0f} GB) for weights, "
                f"gradients and Adam state; {c.adaptation.upper()} fits in ~{c.train_memory_gb:.0f} GB."
            )
    framework = "PyTorch"
    setup = ctx.spec.existingSetup
    if setup and setup.framework and setup.framework != "PyTorch":
        carry = _CARRY_OVER.get(setup.framework) or (
            "the same recipe applies with its own APIs"
            if setup.framework in KNOWN_FRAMEWORKS
            else "export the trained network to ONNX, which most runtimes import, or build the same recipe there"
        )
        framework = f"PyTorch (your existing setup is {setup.framework}; {carry})"
    library = {
        "timm": " + timm",
        "torchvision": " + torchvision",
        "transformers": " + transformers",
        "ultralytics": " + ultralytics",
        "stable-baselines3": " + stable-baselines3",
    }.get(e.library, "")
    if c.adaptation in {"lora", "qlora"}:
        library += " + peft" + (" + bitsandbytes" if c.adaptation == "qlora" else "")
    return ModelDesign(
        architecture=f"{fam.architecture} ({fam.display_name}: {e.name})",
        rationale=" ".join(parts),
        pretrainedModel=pretrained,
        tradeoff=tradeoff,
        codeFramework=framework + library,
    )


def _first_model_design(ctx: Context, sel: Selection, first: FirstModel) -> ModelDesign:
    """A model that is not a network comes first (tables: gradient-boosted trees), and the selected network is its
    challenger: Step 4 fits both on the same splits and ships the network only when it wins on validation."""
    e = sel.chosen.entry
    fam = get_family(e.family)
    challenger = f"{fam.architecture} ({fam.display_name}: {e.name})"
    n_text = f"{ctx.n_samples:,} rows" if ctx.n_samples is not None else "an unknown number of rows"
    if ctx.forecasting:
        return _forecast_first_design(ctx, first, challenger=challenger, size=_size_text(ctx, e))
    if ctx.regression:
        how = (
            f"The run fits them as {describe_regressor(first.estimator)}, beside the training mean and "
            f"{describe_regressor('ridge')}. Up to {CV_MAX_SAMPLES:,} training and validation rows these are compared "
            f"by R2 in {CV_REPEATS}x repeated {CV_FOLDS}-fold cross-validation, and ridge, the simpler model, is kept "
            f"unless the trees score significantly higher (one-sided corrected resampled t-test, p < "
            f"{SWITCH_ALPHA:g}); above that the validation split decides. The challenger, {challenger}, "
            f"{_size_text(ctx, e)}, learns the standardised target (mean squared error) with the recipe below and "
            f"ships only when its validation R2 beats that choice by more than {NETWORK_MARGIN_Z:g} standard error of "
            f"the paired difference of squared errors, never on fewer than {MIN_VAL_FOR_NETWORK} validation samples; "
            "the run keeps both and evaluation.json's `deliverable` says which ships."
        )
    else:
        how = (
            f"The run fits them as {describe(first.estimator)}, beside logistic regression and 1-NN. Up to "
            f"{CV_MAX_SAMPLES:,} training and validation rows (and {CV_MAX_SECONDS:g} s of refits) these are compared "
            f"by {CV_REPEATS}x repeated {CV_FOLDS}-fold cross-validation, and the simpler model is kept unless the "
            f"trees score significantly higher (one-sided corrected resampled t-test, p < {SWITCH_ALPHA:g}); above "
            f"that the validation split decides. The challenger, {challenger}, {_size_text(ctx, e)}, is trained with "
            f"the recipe below and ships only when its validation accuracy beats that choice by more than "
            f"{NETWORK_MARGIN_Z:g} standard error, never on fewer than {MIN_VAL_FOR_NETWORK} validation samples; the "
            "run keeps both and evaluation.json's `deliverable` says which ships."
        )
    rationale = f"{first.name} first: {first.why} ({first.source}). {how} Data: {n_text}."
    return ModelDesign(architecture=f"{first.name}; challenger: {challenger}", rationale=rationale,
                       tradeoff=_TREES_TRADEOFF, codeFramework=_TREES_FRAMEWORK)  # fmt: skip


def _forecast_first_design(ctx: Context, first: FirstModel, *, challenger: str, size: str) -> ModelDesign:
    """Forecasting: the global trees first, the selected network their challenger, and the backtest judges both
    beside the statistical baselines."""
    data = ctx.spec.data.size_parsed
    n_text = (f"{data.n_series or 1:,} series x {data.n_timesteps:,} steps" if data is not None and data.n_timesteps
              else f"{ctx.n_samples:,} observations" if ctx.n_samples is not None else "an unknown amount")  # fmt: skip
    rationale = (
        f"{first.name} first: {first.why} ({first.source}). `dlexpert run` backtests it on the same rolling origins "
        f"as statsforecast's {', '.join(baseline_names(1))} and the challenger, {challenger}, {size}, and ships the "
        f"{SELECTION}. Data: {n_text}."
    )
    return ModelDesign(architecture=f"{first.name}; challenger: {challenger}", rationale=rationale,
                       tradeoff=_FORECAST_TREES_TRADEOFF, codeFramework=_FORECAST_TREES_FRAMEWORK)  # fmt: skip


_FORECAST_TREES_FRAMEWORK = "mlforecast + LightGBM (the trees), statsforecast (the baselines), PyTorch (the challenger)"
_FORECAST_TREES_TRADEOFF = (
    "Trees on lags fit every series at once on a CPU in seconds and read covariates known ahead as columns, but cannot "
    "extrapolate a level they have not seen (hence the differencing) and forecast one step at a time; a network reads "
    "a whole window and outputs the horizon at once, and is worth its training time when it wins the backtest."
)
_TREES_FRAMEWORK = "scikit-learn (the trees) + PyTorch (the challenger)"
_TREES_TRADEOFF = (
    "Trees need no feature scaling, take missing values as they come (HistGradientBoosting learns where to send them) "
    "and fit on a CPU; the network needs the scaling, tuning and training time below for a gain that, on most tables, "
    "does not come (the studies above). It is worth that cost when it wins on your validation split."
)


def _alternative(ctx: Context, a: Candidate, chosen: Candidate) -> Alternative:
    e = a.entry
    fam = get_family(e.family)
    reasons = []
    if a.failures:
        reasons.append("breaks a constraint: " + "; ".join(a.failures))
    if a.soft:
        reasons.append("; ".join(a.soft))
    if a.score is not None and chosen.score is not None and a.entry.gmacs and chosen.entry.gmacs:
        ratio = a.entry.gmacs / chosen.entry.gmacs
        cost = f"{a.entry.gmacs:g} vs {chosen.entry.gmacs:g} GMACs"
        if a.score > chosen.score:
            reasons.append(f"{a.score - chosen.score:.1f} points more accurate for {ratio:.1f}x the compute ({cost})")
        elif ratio < 1:
            reasons.append(
                f"{1 / ratio:.1f}x less compute ({cost}) but {chosen.score - a.score:.1f} points less accurate"
            )
        else:
            reasons.append(f"{chosen.score - a.score:.1f} points less accurate at {ratio:.1f}x the compute ({cost})")
    elif a.score is not None and chosen.score is not None:
        diff = a.score - chosen.score
        reasons.append(f"{abs(diff):.1f} points {'more' if diff > 0 else 'less'} on the shared benchmark")
    latency = a.latency.describe() if a.latency else "n/a"
    resources = (
        f"train ~{a.train_memory_gb:.1f} GB/device at batch 1 ({a.adaptation}); serve {a.size_mb:.0f} MB fp32 weights"
    )
    return Alternative(
        name=e.hub_id,
        architecture=f"{fam.architecture} ({fam.display_name})",
        source=_SOURCE_NAMES.get(e.library, e.library),
        params_m=e.params_m,
        accuracy=a.score_label,
        latency=latency,
        resources=resources,
        meets_constraints=a.feasible,
        why_not_chosen="; ".join(reasons) or "close second",
    )


# With rare classes, accuracy and ROC-AUC stay high for a model that misses them; precision-recall does not.
IMBALANCED_METRICS = (
    "PR-AUC (average precision) of the rare class(es) and macro-F1: with imbalanced classes accuracy and ROC-AUC look "
    "good on a model that misses the rare class (Saito & Rehmsmeier 2015, PLoS ONE 10(3) e0118432)"
)


# The user's own words quoted back in a plan (a model name, a current system) are cut to this many characters.
AS_WRITTEN_CHARS = 80
# Words that name a network (an architecture, or a name with a digit: "DLRMv2", "Llama-2-70B", "TD3"), as against a
# current system that is none ("hand-written rules", "static thresholds", "a commercial vendor").
_NAMES_A_MODEL = re.compile(
    r"\b(?:[a-z]+-?\d[\w.-]*|lstm|bilstm|gru|rnn|cnn|transformer|bert|gpt|llama|resnet|u-?net|yolo|vit|network|"
    r"model|checkpoint|encoder|embedder|autoencoder|mobilenet|efficientnet|squeezenet)\b"
)


def _named_model_note(sel: Selection, chosen: Candidate) -> str | None:
    """What became of the model the spec names: not in the catalog (so unchecked), or checked and replaced."""
    if not sel.wanted or (sel.base is not None and (sel.base is chosen or not sel.base.failures)):
        return None  # kept, or set aside only for weights this machine lacks (the fallback's own warning says so)
    wanted = textwrap.shorten(sel.wanted, AS_WRITTEN_CHARS, placeholder="...")
    if sel.base is None:
        if not _NAMES_A_MODEL.search(wanted.lower()):
            return None  # a current system that is no network ("hand-written rules", "a vendor"): Step 4 scores it
        return (
            f"the model you name ({wanted}) is not in dlexpert's catalog, so the plan cannot check it against your "
            f"constraints and plans {chosen.entry.hub_id}, the best catalogued fit; if yours is fixed (a benchmark's "
            "reference model, a contract), train it with the recipe below and compare the two on the same split"
        )
    return (
        f"the model you name ({wanted}, {sel.base.entry.hub_id} in the catalog) breaks "
        f"{'; '.join(sel.base.failures)}, so the plan uses {chosen.entry.hub_id} instead"
    )


def _task_choice(ctx: Context) -> TaskChoice:
    """The task as the taxonomy names it; Step 4's baseline is the family's (tasks.yaml), else the domain's
    (regimes.yaml `step4_baselines`)."""
    f = ctx.family
    target = ctx.spec.constraints.accuracy_parsed
    yours = [f"{target.metric} (your target: {target.text})"] if target is not None else []
    if ctx.long_tail and ctx.task_type == "classification":
        yours.append(IMBALANCED_METRICS)
    if f is not None:
        first = ctx.first_model.estimator if ctx.first_model else None
        return TaskChoice(family=f.name, metrics=yours + list(f.metrics), loss=f.loss,
                          baseline=_beside_current(ctx, f.baselines), first_step=f.first_step, first_model=first,
                          source=f.source)  # fmt: skip
    entry = get_regimes()["step4_baselines"].get(ctx.domain)
    if entry is None:
        return TaskChoice(metrics=yours, baseline=_beside_current(ctx, "the simplest model that could work"))
    return TaskChoice(metrics=yours, baseline=_beside_current(ctx, entry["baselines"]), source=entry["source"])


def _beside_current(ctx: Context, baseline: str) -> str:
    """The model the user runs today (`existingSetup.baseModel`) is the first baseline to beat, on the same split."""
    setup = ctx.spec.existingSetup
    if setup is None or not setup.baseModel or not setup.baseModel.strip():
        return baseline
    current = textwrap.shorten(setup.baseModel, AS_WRITTEN_CHARS, placeholder="...")
    return f"your current model ({current}), scored on the same test split; then {baseline}"


def _registry_name(entry: ModelEntry) -> str:
    """The name `dlexpert.models` builds a dlexpert network by (its hub id), else the catalog's name."""
    return entry.hub_id if entry.library == "dlexpert" and entry.hub_id else entry.name


def _step4_models(ctx: Context, sel: Selection, task: TaskChoice) -> str:
    """What Step 4 runs after the baseline, and with which command."""
    if task.family == "forecasting":
        entry = sel.chosen.entry
        return roster_note(_registry_name(entry), entry.library, sequence_net="sequence-modeling" in entry.tasks)
    first = ctx.first_model
    if first is None:
        return "the planned model: `dlexpert train` / `dlexpert run`"
    return (f"the {first.short_name} and the challenger on the same splits: `dlexpert run`, or `dlexpert train` (the "
            "challenger) then `dlexpert evaluate` (the trees and the choice)")  # fmt: skip


def _workflow(ctx: Context, sel: Selection, task: TaskChoice) -> list[WorkflowStep]:
    asked = bool(ctx.questions)
    return [
        WorkflowStep(
            step=1,
            name="Task requirement analysis",
            status="needs-input" if asked else "done",
            note=("missing: " + ", ".join(q.field for q in ctx.questions))
            if asked
            else f"{ctx.task_type}/{ctx.domain}, {ctx.band} data, {ctx.train_hw.display_name}",
        ),
        WorkflowStep(
            step=2,
            name="Model architecture selection",
            status="done",
            note=(f"{ctx.first_model.short_name}, challenged by " if ctx.first_model else "")
            + f"{sel.chosen.entry.name}; {len(sel.alternatives)} alternatives; "
            f"{sel.n_feasible}/{sel.n_candidates} candidates feasible",
        ),
        WorkflowStep(step=3, name="Training strategy design", status="done", note="recipe, batch and LR fitted"),
        WorkflowStep(
            step=4,
            name="Experiment execution and monitoring",
            status="planned",
            note=f"baseline first ({task.baseline}{f'; {task.source}' if task.source else ''}), then "
            + _step4_models(ctx, sel, task),
        ),
        WorkflowStep(
            step=5,
            name="Problem diagnosis and tuning",
            status="planned",
            note="debuggingGuidance lists what to watch; `dlexpert diagnose` reads the logs",
        ),
        WorkflowStep(
            step=6,
            name="Model compression and deployment optimization",
            status="planned",
            note="engineeringPractice; `dlexpert compress/export/bench` measure each variant",
        ),
        WorkflowStep(
            step=7,
            name="Performance validation and documentation",
            status="planned",
            note="`dlexpert evaluate` and `dlexpert card`",
        ),
    ]
