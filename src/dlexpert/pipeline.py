"""Carry the plan out: profile the data, plan, train the planned model, evaluate it beside baselines, into one run dir.

`train()` is seed Step 4 for the planned model; `run()` is the whole job (DESIGN.md: "run(task, data) = all of the
above, in order, into one run dir"). Both write the run directory DESIGN.md lays out:

    RUN_DIR/task.yaml plan.json config.yaml metrics.jsonl tb/ checkpoints/{last.pt,best.safetensors}
    RUN_DIR/profile.json evaluation.json figures/ MODEL_CARD.md report.html

Example:
    >>> from dlexpert.pipeline import run  # doctest: +SKIP
    >>> result = run(load_task("examples/mnist1d.yaml"), data="mnist1d", out_dir="runs/mnist1d")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ._io import atomic_write_text
from .advisor import TrainingChoice, advise_with_choice
from .errors import DlexpertError, InvalidInputError
from .schema import Plan, TaskSpec, parse_task

# From-scratch family to build when the plan's pretrained weights cannot be loaded offline, by data modality.
FALLBACK_BY_MODALITY = {"image": "small_resnet", "sequence": "cnn1d", "tabular": "mlp"}
# The plan's optimizer and scheduler names, mapped onto the engine's.
_OPTIMIZERS = {"SGD": "sgd", "AdamW": "adamw", "Adam": "adamw", "Lion": "adamw", "LAMB": "adamw"}
# Step decay runs as cosine over the same epochs: the small-image recipe names SGDR's cosine an equal drop-in
# (Loshchilov & Hutter, arXiv 1608.03983), and it needs no milestones.
_SCHEDULERS = {"cosine": "cosine", "onecycle": "onecycle", "step": "cosine", "plateau": "plateau",
               "constant": "constant", "linear": "cosine", "poly": "cosine"}  # fmt: skip
# Text trains a sentence encoder (the bundled MiniLM unless the plan's transformers model is cached). When the plan
# picked a model that does not read text (a from-scratch sequence network), its recipe is for that model, so the
# encoder is fine-tuned with the knowledge base's BERT recipe instead (recipes.yaml; Devlin et al., arXiv 1810.04805).
TEXT_FINETUNE_RECIPE = "bert-encoder-finetune-nlp"
TEXT_CATALOG_NAME = "hf/sentence-transformers/all-MiniLM-L6-v2"


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


def _choice_for_data(choice: TrainingChoice, splits: Any, warnings: list[str]) -> TrainingChoice:
    """The plan's choice, adapted to what the data can train. Text needs a text encoder: a plan whose model does not
    read text (e.g. a from-scratch GRU for a few thousand texts) fine-tunes the MiniLM encoder with the BERT recipe."""
    if splits.modality != "text" or choice.library == "transformers":
        return choice
    from .knowledge import list_recipes
    from .models import MINILM_HUB_ID

    r = next(r for r in list_recipes() if r.name == TEXT_FINETUNE_RECIPE)
    warnings.append(
        f"text data: the plan's {choice.hub_id} ({choice.library}) does not read raw text -> fine-tuning the "
        f"pretrained {MINILM_HUB_ID} encoder with recipe {r.name} (AdamW lr {r.lr:g}, {r.epochs} epochs) instead"
    )
    return replace(
        choice, catalog_name=TEXT_CATALOG_NAME, library="transformers", hub_id=MINILM_HUB_ID, family="minilm",
        architecture="Transformer", scratch=False, adaptation="full", input_size=None, recipe=r.name,
        optimizer=r.optimizer, lr=r.lr, momentum=r.momentum, nesterov=r.nesterov, weight_decay=r.weight_decay,
        scheduler=r.scheduler, warmup_epochs=round((r.warmup_steps_fraction or 0.0) * r.epochs, 3) or r.warmup_epochs,
        epochs=r.epochs, label_smoothing=r.label_smoothing, gradient_clipping=r.gradient_clipping, ema=r.ema,
        micro_batch=r.reference_batch_size, accumulation=1, augmentation=(),
    )  # fmt: skip


def _build_model(choice: TrainingChoice, splits: Any, warnings: list[str]) -> tuple[Any, str]:
    from .models import WeightsUnavailableError, apply_adaptation, create_model, create_pretrained

    shape = tuple(splits.input_shape)
    n_classes = splits.n_classes
    if splits.modality == "text":
        return _build_text_model(choice, n_classes, warnings)
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
    # What `runs.rebuild_model` needs to build this architecture again (the weights come from the run's checkpoint).
    rebuild = {"name": "pretrained", "library": choice.library, "hub_id": choice.hub_id, "n_classes": n_classes,
               "input_shape": list(shape)}  # fmt: skip
    model.dlexpert_config = rebuild  # type: ignore[assignment]
    return model, choice.hub_id


def _build_text_model(choice: TrainingChoice, n_classes: int, warnings: list[str]) -> tuple[Any, str]:
    """A sentence encoder with mean pooling and a linear head (`create_text_classifier`), adapted as the plan says:
    linear-probe freezes the encoder (its embeddings are then cached, see `_datasets`); full, partial and LoRA train
    it. The plan's transformers model is used when it is in the local cache, else the bundled MiniLM-L6."""
    from .models import MINILM_HUB_ID, WeightsUnavailableError, apply_adaptation, create_text_classifier

    method = {"scratch": "full", "qlora": "lora"}.get(choice.adaptation, choice.adaptation)
    if choice.adaptation == "qlora":
        warnings.append("adaptation qlora needs bitsandbytes and a CUDA GPU; training LoRA adapters in full precision")
    freeze = method == "linear-probe"
    model: Any
    try:
        model = create_text_classifier(n_classes=n_classes, freeze=freeze, hub_id=choice.hub_id)
        name = model.dlexpert_config["hub_id"]
    except WeightsUnavailableError as exc:
        warnings.append(f"{exc} -> training the bundled {MINILM_HUB_ID} encoder instead")
        model, name = create_text_classifier(n_classes=n_classes, freeze=freeze), MINILM_HUB_ID
    if method in ("partial", "lora"):
        model, _ = apply_adaptation(model, method=method)
    return model, name


def _absolute(path: str | None) -> str | None:
    """A data path as recorded in config.yaml: absolute, so later stages find it from any working directory."""
    return str(Path(path).resolve()) if path and Path(path).exists() else path


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
        # `--epochs` shortens the schedule: the warmup keeps its share of it.
        warmup_epochs=choice.warmup_epochs * (epochs / choice.epochs) if epochs else choice.warmup_epochs,
        label_smoothing=choice.label_smoothing,
        grad_clip=choice.gradient_clipping,
        ema=choice.ema and choice.strategy != "fsdp",  # an FSDP-sharded model has no single EMA copy
        mixed_precision=choice.mixed_precision if choice.mixed_precision in {"bf16", "fp16"} else "none",
        balanced_sampling=choice.balanced_sampling,
        strategy=choice.strategy if choice.strategy in {"auto", "ddp", "fsdp"} else "auto",
        seed=seed,
    )


def _datasets(splits: Any, augment: tuple[str, ...], warnings: list[str], model: Any = None) -> Any:
    from .data import to_torch_datasets

    if splits.modality == "text":
        return _text_datasets(splits, augment, warnings, model)
    try:
        return to_torch_datasets(splits, augment=list(augment) or "auto")
    except InvalidInputError as exc:
        warnings.append(f"plan augmentation not applicable here ({exc}); using the data's default")
        return to_torch_datasets(splits, augment="auto")


def _text_datasets(splits: Any, augment: tuple[str, ...], warnings: list[str], model: Any) -> Any:
    """Text for `model` (a `TextClassifier`, possibly LoRA-wrapped): a frozen encoder's sentence embeddings are
    computed once and cached, so the head trains on (N, 384) vectors (one encoder pass per text, not one per text and
    epoch); otherwise each split is tokenized once and the encoder runs in every step."""
    from .data import to_torch_datasets

    if augment:
        warnings.append(f"text is not augmented; the plan's augmentation ({', '.join(augment)}) was not applied")
    text_model = model.get_base_model() if hasattr(model, "get_base_model") else model
    if getattr(text_model, "encoder_is_frozen", False):
        sets = to_torch_datasets(splits, augment=None, embed=text_model.embed)
        text_model.standardize_features(sets.train.embeddings)  # train split only, like every input statistic
        return sets
    tokenizer = getattr(text_model, "tokenize", None)
    return to_torch_datasets(splits, augment=None, tokenizer=tokenizer)


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
    monitor: bool = True,
    auto_remedy: bool = False,
) -> tuple[Any, Plan, TrainingChoice, Any, str, list[str]]:
    """Plan (with the data's profile) and train the planned model into `out_dir`. Returns the fit result and context.

    `monitor`: live monitors and online diagnosis (RUN_DIR/diagnosis.json); `auto_remedy`: let them roll back on
    NaN/Inf and stop on clear overfitting (see `dlexpert.monitor`).
    """
    if auto_remedy and not monitor:
        raise InvalidInputError("--auto-remedy acts on what the live monitors see; it cannot be used with --no-monitor")
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

    from .engine import fit, seed_everything

    choice = _choice_for_data(choice, splits, warnings)
    seed_everything(seed)  # the model's initial weights too: the same seed gives the same run in every process
    model, model_name = _build_model(choice, splits, warnings)
    sets = _datasets(splits, choice.augmentation, warnings, model)
    cfg = _train_config(choice, epochs=epochs, seed=seed)
    extra = {"model": model_name, "model_config": getattr(model, "dlexpert_config", None),
             "catalog_model": choice.catalog_name, "recipe": choice.recipe, "adaptation": choice.adaptation,
             "data": {"source": str(splits.source), "version": splits.version, "modality": splits.modality,
                      "classes": list(splits.classes), "split": splits.split, "target": target, "test": _absolute(test),
                      "input_shape": list(splits.input_shape) if splits.input_shape else None}}  # fmt: skip
    from .monitor import DEFAULT_EVERY, create_monitors

    callbacks = create_monitors("default", every=DEFAULT_EVERY, auto_remedy=auto_remedy) if monitor else []
    extra["monitors"] = {"on": monitor, "every": DEFAULT_EVERY, "auto_remedy": auto_remedy}
    result = fit(model, train_set=sets.train, val_set=sets.val, cfg=cfg, out_dir=out, resume=resume,
                 progress=progress, extra_config=extra, callbacks=callbacks)  # fmt: skip
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
    monitor: bool = True,
    auto_remedy: bool = False,
    latency: bool = True,
) -> RunResult:
    """The whole job: profile, plan, train, then `evaluate` (metrics, baselines, failures, latency) and the model
    card; RUN_DIR ends with evaluation.json, MODEL_CARD.md and report.html."""
    from .report.card import write_model_card
    from .report.evaluate import evaluate_run

    t0 = time.perf_counter()
    out = Path(out_dir)
    if (out / "checkpoints" / "last.pt").exists():
        raise InvalidInputError(f"{out}: already holds a run; choose a new --out folder (or `dlexpert train --resume`)")
    result, plan, choice, (_model, sets, splits), model_name, warnings = train(
        spec, data=data, out_dir=out, target=target, test=test, epochs=epochs, seed=seed, hardware=hardware,
        progress=progress, monitor=monitor, auto_remedy=auto_remedy,
    )  # fmt: skip
    if result.best_checkpoint is None:  # e.g. the NaN sentinel stopped the run before its first epoch ended
        raise DlexpertError(f"training produced no usable model: {result.stop_reason}; see {out / 'diagnosis.json'}")

    # Step 7 on the best weights: metrics, the Step 4 baselines on the same splits, failures, latency; then the card.
    say = _say if progress is not False else None
    evaluation = evaluate_run(out, latency=latency, notes=warnings, preloaded=(splits, sets), progress=say)
    write_model_card(out, progress=say)
    linear = evaluation.baseline.linear
    return RunResult(out_dir=out, plan=plan, choice=choice, model_name=model_name, metrics=evaluation.metrics,
                     baseline_metrics=linear.metrics if linear else None, wall_time_s=time.perf_counter() - t0,
                     peak_rss_mb=result.peak_rss_mb, warnings=warnings)  # fmt: skip


def _say(msg: str) -> None:
    import sys

    print(msg, file=sys.stderr)
