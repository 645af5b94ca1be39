"""The advisor: the specification's Steps 1-3 and the planning halves of Steps 4-7, as one pure function.

Example:
    >>> from dlexpert import advise, parse_task
    >>> spec = parse_task({"task": {"type": "classification", "domain": "CV", "specificTask": "CIFAR-10"},
    ...                    "constraints": {"computeResources": "single-GPU 24GB"}})
    >>> plan = advise(spec)  # doctest: +SKIP
    >>> plan.modelDesign.pretrainedModel.name  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError
from ..knowledge import get_family, get_regimes
from ..schema import Alternative, Evidence, Plan, TaskSpec, WorkflowStep
from ..schema.plan import ModelDesign, PretrainedModel
from ._analyze import Context, analyse, detect_hardware
from ._practice import debugging_guidance, engineering_practice, expected_performance
from ._recipe import design_training
from ._select import Candidate, Selection, benchmark_key, select

__all__ = ["Context", "TrainingChoice", "advise", "advise_with_choice", "analyse", "detect_hardware"]


@dataclass(frozen=True)
class TrainingChoice:
    """The plan's decisions as values, for the stages that carry the plan out (train, run).

    The Plan holds the same decisions as text for people; this holds them as numbers for code.
    """

    catalog_name: str
    library: str
    hub_id: str
    family: str
    architecture: str
    scratch: bool
    adaptation: str
    input_size: int | None
    recipe: str
    optimizer: str
    lr: float
    momentum: float | None
    nesterov: bool
    weight_decay: float
    scheduler: str
    warmup_epochs: float
    epochs: int
    label_smoothing: float
    gradient_clipping: float | None
    ema: bool
    mixed_precision: str
    micro_batch: int
    accumulation: int
    augmentation: tuple[str, ...]
    balanced_sampling: bool
    strategy: str = "auto"  # several processes: "fsdp" when the plan shards the model, else "auto" (DDP)


_ADAPTATION_TEXT = {
    "full": "full fine-tuning of all layers (lower learning rate than from scratch, new task head)",
    "partial": "partial freezing: freeze the stem and early stages, fine-tune the last stage and a new head",
    "linear-probe": "frozen backbone + linear probe: train only a new head on cached features",
    "lora": "LoRA adapters (r=16) on the attention and MLP projections; base weights frozen in bf16",
    "qlora": "QLoRA: LoRA adapters over a 4-bit NF4-quantized frozen base, paged optimizer",
    "scratch": "none (trained from scratch)",
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
    """Turn a task spec into a grounded plan (see `advise_with_choice` for the decisions as values)."""
    return advise_with_choice(spec, profile=profile, hardware=hardware, assume_defaults=assume_defaults)[0]


def advise_with_choice(
    spec: TaskSpec, *, profile: Any = None, hardware: str | None = None, assume_defaults: bool = False
) -> tuple[Plan, TrainingChoice]:
    """Turn a task spec into a grounded plan and the decisions as values. Pure: reads the knowledge base only.

    Args:
        spec: the task spec (seed Input).
        hardware: a hardware profile name or alias, or "auto" to detect this machine; overrides computeResources.
        assume_defaults: proceed on stated assumptions when critical facts are missing (else they become questions).
        profile: a `DataProfile` of the user's data (input shape, modality), from `dlexpert.data.profile_dataset`.

    Returns:
        The plan and the training choice. When `plan.questions` is non-empty, the plan is partial (the CLI exits 3).
    """
    ctx = analyse(spec, hardware=hardware, assume_defaults=assume_defaults, profile=profile)
    try:
        sel = select(ctx)
    except LookupError as exc:
        raise InvalidInputError(f"task: {exc}; try another task.type/domain pair (see `dlexpert catalog`)") from None
    c = sel.chosen
    rc, ev_recipe = design_training(ctx, c)
    guidance, guide_warnings = debugging_guidance(ctx, c, rc)
    practice, ev_practice = engineering_practice(ctx, c, rc)
    expected, ev_expected = expected_performance(ctx, c, rc)

    warnings = list(ctx.warnings) + guide_warnings
    if not sel.all_feasible:
        warnings.insert(
            0,
            f"no candidate meets every constraint ({sel.n_candidates} checked); the closest is "
            f"{c.entry.name}: {'; '.join(c.failures)}. To get a plan that meets them: "
            f"{'; '.join(sel.relax) or 'relax the failing constraint'}",
        )
    if ctx.dataset is not None and not c.scratch:
        key = benchmark_key("", ctx.dataset.name)[1]
        if any(key and key in benchmark_key(m.name, m.dataset)[1] for m in c.entry.metrics):
            warnings.append(
                f"{c.entry.hub_id} was already trained and evaluated on {ctx.dataset.name}: evaluate the "
                "published weights before training; fine-tune only if your label set or data differ"
            )
    evidence = [*ctx.evidence, *_model_evidence(c), *ev_recipe, *ev_practice, *ev_expected]
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
        workflow=_workflow(ctx, sel),
    )
    r = rc.recipe
    tt = rc.strategy.trainingTechniques
    clip = float(tt.gradientClipping.split("=")[1].rstrip(")")) if tt.gradientClipping else None
    dist = practice.distributedTraining
    choice = TrainingChoice(
        catalog_name=c.entry.name,
        library=c.entry.library,
        hub_id=c.entry.hub_id,
        family=c.entry.family,
        architecture=c.entry.architecture,
        scratch=c.scratch,
        adaptation=c.adaptation,
        input_size=c.entry.input_size,
        recipe=r.name,
        optimizer=r.optimizer,
        lr=rc.lr,
        momentum=r.momentum,
        nesterov=r.nesterov,
        weight_decay=r.weight_decay,
        scheduler=r.scheduler,
        warmup_epochs=r.warmup_epochs,
        epochs=rc.epochs,
        label_smoothing=r.label_smoothing,
        gradient_clipping=clip,
        ema=bool(r.ema),
        mixed_precision=rc.mixed,
        micro_batch=rc.micro_batch,
        accumulation=tt.gradientAccumulation or 1,
        augmentation=tuple(rc.strategy.dataProcessing.augmentation or ()),
        balanced_sampling=ctx.long_tail,
        strategy="fsdp" if dist and dist.strategy.startswith("FSDP") else "auto",
    )
    return plan, choice


def _model_evidence(c: Candidate) -> list[Evidence]:
    e = c.entry
    out = [Evidence(claim=f"{e.name} parameters", value=f"{e.params_m:g}M", source=e.source)]
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


def _model_design(ctx: Context, sel: Selection) -> ModelDesign:
    c = sel.chosen
    e = c.entry
    fam = get_family(e.family)
    parts = [
        f"{fam.display_name} ({fam.architecture}): {fam.inductive_bias}",
        f"Chosen from {sel.n_candidates} catalog candidates for {ctx.task_type} in {ctx.domain}, "
        f"{sel.n_feasible} of which meet every constraint; {sel.why}.",
        f"{e.params_m:g}M parameters"
        + (f", {e.gmacs:g} GMACs at {e.input_size}px" if e.gmacs and e.input_size else "")
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
            name=e.hub_id, source=_SOURCE_NAMES.get(e.library, e.library), adaptation=_ADAPTATION_TEXT[c.adaptation]
        )
    n_text = f"{n:,} samples" if n is not None else "an unknown number of samples"
    if c.scratch:
        tradeoff = (
            f"Training from scratch: {n_text} is enough for {fam.display_name} (it needs >= "
            f"{fam.min_samples_scratch:,} to train from scratch), and no pretrained weights cover this input. "
            f"Step 2 for {ctx.band} data: {band['strategy']} ({band['source']})."
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
            + f" Adaptation: {_ADAPTATION_TEXT[c.adaptation]}."
        )
        if c.adaptation in {"lora", "qlora"}:
            tradeoff += (
                f" Full fine-tuning would need ~16 bytes/param (~{e.params_m * 16 / 1e3:.0f} GB) for weights, "
                f"gradients and Adam state; {c.adaptation.upper()} fits in ~{c.train_memory_gb:.0f} GB."
            )
    framework = "PyTorch"
    setup = ctx.spec.existingSetup
    if setup and setup.framework and setup.framework != "PyTorch":
        framework = f"PyTorch (your existing setup is {setup.framework}; the same recipe applies with its own APIs)"
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


def _workflow(ctx: Context, sel: Selection) -> list[WorkflowStep]:
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
            note=f"{sel.chosen.entry.name}; {len(sel.alternatives)} alternatives; "
            f"{sel.n_feasible}/{sel.n_candidates} candidates feasible",
        ),
        WorkflowStep(step=3, name="Training strategy design", status="done", note="recipe, batch and LR fitted"),
        WorkflowStep(
            step=4,
            name="Experiment execution and monitoring",
            status="planned",
            note="baseline first, then the planned model: `dlexpert train` / `dlexpert run`",
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
