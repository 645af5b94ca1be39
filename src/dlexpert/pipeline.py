"""Carry the plan out: profile the data, plan, train a baseline and the planned model, evaluate, into one run dir.

`train()` is seed Step 4 for the planned model; `run()` is the whole job (DESIGN.md: "run(task, data) = all of the
above, in order, into one run dir"). Both write the run directory DESIGN.md lays out:

    RUN_DIR/task.yaml plan.json config.yaml metrics.jsonl tb/ checkpoints/{last.pt,best.safetensors}
    RUN_DIR/profile.json evaluation.json baseline/

Example:
    >>> from dlexpert.pipeline import run  # doctest: +SKIP
    >>> result = run(load_task("examples/mnist1d.yaml"), data="mnist1d", out_dir="runs/mnist1d")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._io import atomic_write_text
from .advisor import TrainingChoice, advise_with_choice
from .errors import InvalidInputError
from .schema import Plan, TaskSpec, parse_task

# From-scratch family to build when the plan's pretrained weights cannot be loaded offline, by data modality.
FALLBACK_BY_MODALITY = {"image": "small_resnet", "sequence": "cnn1d", "tabular": "mlp"}
# The plan's optimizer and scheduler names, mapped onto the engine's.
_OPTIMIZERS = {"SGD": "sgd", "AdamW": "adamw", "Adam": "adamw", "Lion": "adamw", "LAMB": "adamw"}
# Step decay runs as cosine over the same epochs: the small-image recipe names SGDR's cosine an equal drop-in
# (Loshchilov & Hutter, arXiv 1608.03983), and it needs no milestones.
_SCHEDULERS = {"cosine": "cosine", "onecycle": "onecycle", "step": "cosine", "plateau": "plateau",
               "constant": "constant", "linear": "cosine", "poly": "cosine"}  # fmt: skip
# Step 4's baseline: a linear/logistic model on flattened inputs, trained briefly with a standard recipe.
BASELINE_EPOCHS = 20


@dataclass
class RunResult:
    out_dir: Path
    plan: Plan
    choice: TrainingChoice
    model_name: str
    metrics: dict[str, float]
    baseline_metrics: dict[str, float] | None
    wall_time_s: float
    peak_rss_mb: float | None
    warnings: list[str] = field(default_factory=list)


def fill_from_profile(spec: TaskSpec, profile: Any) -> TaskSpec:
    """`plan --data`: the spec's empty data fields come from the measured profile."""
    filled = spec.model_dump(exclude_none=True)
    data = filled.setdefault("data", {})
    for key, value in profile.task_data().items():
        if value is not None and key not in data:
            data[key] = value
    return parse_task(filled, source="task (filled from the data profile)")


def _build_model(choice: TrainingChoice, splits: Any, warnings: list[str]) -> tuple[Any, str]:
    from .models import WeightsUnavailableError, apply_adaptation, create_model, create_pretrained

    shape = tuple(splits.input_shape)
    n_classes = splits.n_classes
    if splits.modality == "text":
        raise InvalidInputError("text data: training text models from `dlexpert run` is not supported yet; "
                                "use an image, sequence or tabular source")  # fmt: skip
    if choice.library == "dlexpert":
        return create_model(choice.hub_id, input_shape=shape, n_classes=n_classes), choice.hub_id
    try:
        model = create_pretrained(library=choice.library, hub_id=choice.hub_id, n_classes=n_classes)
    except (WeightsUnavailableError, InvalidInputError) as exc:
        fallback = FALLBACK_BY_MODALITY.get(splits.modality, "mlp")
        warnings.append(f"{exc} -> training the from-scratch {fallback} instead")
        return create_model(fallback, input_shape=shape, n_classes=n_classes), fallback
    method = {"scratch": "full", "lora": "lora", "qlora": "lora"}.get(choice.adaptation, choice.adaptation)
    model, _ = apply_adaptation(model, method=method)
    return model, choice.hub_id


def _train_config(choice: TrainingChoice, *, epochs: int | None, seed: int) -> Any:
    from .engine import TrainConfig

    return TrainConfig(
        epochs=epochs or choice.epochs,
        batch_size=choice.micro_batch,
        accumulation=choice.accumulation,
        optimizer=_OPTIMIZERS.get(choice.optimizer, "adamw"),
        lr=choice.lr,
        momentum=choice.momentum or 0.9,
        nesterov=choice.nesterov,
        weight_decay=choice.weight_decay,
        scheduler=_SCHEDULERS.get(choice.scheduler, "cosine"),
        warmup_epochs=choice.warmup_epochs,
        label_smoothing=choice.label_smoothing,
        grad_clip=choice.gradient_clipping,
        ema=choice.ema,
        mixed_precision=choice.mixed_precision if choice.mixed_precision in {"bf16", "fp16"} else "none",
        balanced_sampling=choice.balanced_sampling,
        seed=seed,
    )


def _datasets(splits: Any, augment: tuple[str, ...], warnings: list[str]) -> Any:
    from .data import to_torch_datasets

    try:
        return to_torch_datasets(splits, augment=list(augment) or "auto")
    except InvalidInputError as exc:
        warnings.append(f"plan augmentation not applicable here ({exc}); using the data's default")
        return to_torch_datasets(splits, augment="auto")


def train(
    spec: TaskSpec,
    *,
    data: str,
    out_dir: str | Path,
    target: str | None = None,
    test: str | None = None,
    epochs: int | None = None,
    seed: int = 0,
    resume: bool = False,
    hardware: str | None = None,
    progress: bool | None = None,
) -> tuple[Any, Plan, TrainingChoice, Any, str, list[str]]:
    """Plan (with the data's profile) and train the planned model into `out_dir`. Returns the fit result and context."""
    from .data import load_data, profile_dataset

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    splits = load_data(data, target=target, test=test, seed=seed)
    warnings += splits.warnings
    profile = profile_dataset(splits)
    atomic_write_text(out / "profile.json", profile.model_dump_json(indent=2) + "\n")
    spec = fill_from_profile(spec, profile)
    plan, choice = advise_with_choice(spec, profile=profile, hardware=hardware, assume_defaults=True)
    atomic_write_text(out / "task.yaml", yaml.safe_dump(spec.model_dump(exclude_none=True), sort_keys=False))
    atomic_write_text(out / "plan.json", plan.model_dump_json(indent=2, exclude_none=True) + "\n")

    from .engine import fit

    model, model_name = _build_model(choice, splits, warnings)
    sets = _datasets(splits, choice.augmentation, warnings)
    cfg = _train_config(choice, epochs=epochs, seed=seed)
    extra = {"model": model_name, "catalog_model": choice.catalog_name, "recipe": choice.recipe,
             "data": {"source": str(splits.source), "version": splits.version, "modality": splits.modality,
                      "classes": list(splits.classes), "split": splits.split}}  # fmt: skip
    result = fit(model, train_set=sets.train, val_set=sets.val, cfg=cfg, out_dir=out, resume=resume,
                 progress=progress, extra_config=extra)  # fmt: skip
    return result, plan, choice, (model, sets, splits), model_name, warnings


def run(
    spec: TaskSpec,
    *,
    data: str,
    out_dir: str | Path,
    target: str | None = None,
    test: str | None = None,
    epochs: int | None = None,
    seed: int = 0,
    hardware: str | None = None,
    progress: bool | None = None,
) -> RunResult:
    """The whole job: profile, plan, baseline, train, evaluate on the test split; `evaluation.json` holds both."""
    from .engine import TrainConfig, evaluate, fit
    from .models import create_model

    t0 = time.perf_counter()
    out = Path(out_dir)
    if (out / "checkpoints" / "last.pt").exists():
        raise InvalidInputError(f"{out}: already holds a run; choose a new --out folder (or `dlexpert train --resume`)")
    result, plan, choice, (model, sets, splits), model_name, warnings = train(
        spec, data=data, out_dir=out, target=target, test=test, epochs=epochs, seed=seed, hardware=hardware,
        progress=progress,
    )  # fmt: skip

    # Step 4: the simplest viable model on the same splits, reported beside the planned one.
    base_model = create_model("linear", input_shape=tuple(splits.input_shape), n_classes=splits.n_classes)
    base_cfg = TrainConfig(epochs=BASELINE_EPOCHS, batch_size=128, optimizer="adamw", lr=1e-2, weight_decay=1e-4,
                           scheduler="cosine", seed=seed)  # fmt: skip
    from .data import to_torch_datasets

    plain = to_torch_datasets(splits, augment=None)
    fit(base_model, train_set=plain.train, val_set=plain.val, cfg=base_cfg, out_dir=out / "baseline",
        progress=False, extra_config={"model": "linear", "role": "baseline"})  # fmt: skip

    from .engine import load_weights

    model.load_state_dict(load_weights(result.best_checkpoint))
    metrics = evaluate(model, sets.test, batch_size=256)
    base_metrics = evaluate(base_model, plain.test, batch_size=256)
    evaluation = {
        "split": "test",
        "n_samples": len(sets.test),
        "model": model_name,
        "metrics": metrics,
        "baseline": {"model": "linear (logistic regression on flattened inputs)", "metrics": base_metrics},
        "plan_expected_accuracy": plan.expectedPerformance.accuracy if plan.expectedPerformance else None,
        "data_version": splits.version,
        "warnings": warnings,
    }
    atomic_write_text(out / "evaluation.json", json.dumps(evaluation, indent=2) + "\n")
    return RunResult(out_dir=out, plan=plan, choice=choice, model_name=model_name, metrics=metrics,
                     baseline_metrics=base_metrics, wall_time_s=time.perf_counter() - t0,
                     peak_rss_mb=result.peak_rss_mb, warnings=warnings)  # fmt: skip
