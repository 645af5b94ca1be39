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
import math
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
# Step 4's baseline: a linear/logistic model on flattened inputs, trained briefly with a standard recipe.
BASELINE_EPOCHS = 20
# Text trains a sentence encoder (the bundled MiniLM unless the plan's transformers model is cached). When the plan
# picked a model that does not read text (a from-scratch sequence network), its recipe is for that model, so the
# encoder is fine-tuned with the knowledge base's BERT recipe instead (recipes.yaml; Devlin et al., arXiv 1810.04805).
TEXT_FINETUNE_RECIPE = "bert-encoder-finetune-nlp"
TEXT_CATALOG_NAME = "hf/sentence-transformers/all-MiniLM-L6-v2"
# The text baseline: TF-IDF of word 1-2 grams + L2 logistic regression, its C picked on the validation split.
TEXT_BASELINE_C = (0.1, 1.0, 10.0, 100.0)


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


def _baseline(splits: Any, *, out_dir: Path, seed: int) -> tuple[str, dict[str, float]]:
    """Step 4's simplest viable model on the same splits: TF-IDF + logistic regression for text, else a linear model
    on flattened inputs. Returns its description and test metrics (accuracy, and cross-entropy as `loss`)."""
    if splits.modality == "text":
        return _text_baseline(splits, out_dir=out_dir, seed=seed)
    from .data import to_torch_datasets
    from .engine import TrainConfig, evaluate, fit
    from .models import create_model

    base_model = create_model("linear", input_shape=tuple(splits.input_shape), n_classes=splits.n_classes)
    base_cfg = TrainConfig(epochs=BASELINE_EPOCHS, batch_size=128, optimizer="adamw", lr=1e-2, weight_decay=1e-4,
                           scheduler="cosine", seed=seed)  # fmt: skip
    plain = to_torch_datasets(splits, augment=None)
    fit(base_model, train_set=plain.train, val_set=plain.val, cfg=base_cfg, out_dir=out_dir,
        progress=False, extra_config={"model": "linear", "role": "baseline"})  # fmt: skip
    return "linear (logistic regression on flattened inputs)", evaluate(base_model, plain.test, batch_size=256)


def _text_baseline(splits: Any, *, out_dir: Path, seed: int) -> tuple[str, dict[str, float]]:
    """TF-IDF (word 1-2 grams, sublinear tf) + L2 logistic regression, the standard strong linear text baseline
    (scikit-learn's text classification example; Wang & Manning 2012, ACL, "Baselines and Bigrams"). C is picked on
    the validation split; the choice and the vocabulary size go to `out_dir/config.yaml`."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    x_train = vectorizer.fit_transform(list(splits.x_train))
    x_val, x_test = vectorizer.transform(list(splits.x_val)), vectorizer.transform(list(splits.x_test))
    y_train, y_val = np.asarray(splits.y_train), np.asarray(splits.y_val)
    scores: dict[float, float] = {}
    fitted: dict[float, Any] = {}
    for c in TEXT_BASELINE_C:
        fitted[c] = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x_train, y_train)
        scores[c] = float((fitted[c].predict(x_val) == y_val).mean()) if len(y_val) else 0.0
    best_c = max(TEXT_BASELINE_C, key=lambda c: (scores[c], -abs(math.log10(c))))  # ties: the C nearest 1
    clf = fitted[best_c]
    metrics = _proba_metrics(clf.predict_proba(x_test), clf.classes_, np.asarray(splits.y_test), splits.n_classes)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = {"model": "tfidf_logreg", "role": "baseline", "ngram_range": [1, 2], "sublinear_tf": True,
              "n_features": len(vectorizer.vocabulary_), "C": best_c,
              "val_accuracy_by_C": {str(c): v for c, v in scores.items()}}  # fmt: skip
    atomic_write_text(out_dir / "config.yaml", yaml.safe_dump(config, sort_keys=False))
    return "TF-IDF (word 1-2 grams) + logistic regression", metrics


def _proba_metrics(proba: Any, seen: Any, y: Any, n_classes: int) -> dict[str, float]:
    """Accuracy and mean cross-entropy (the engine's `loss`) from predicted probabilities over the classes seen in
    training (`seen`); a test class never seen in training gets probability ~0 (loss capped at -log(1e-12))."""
    import numpy as np

    full = np.full((len(y), n_classes), 1e-12)
    full[:, np.asarray(seen, dtype=np.int64)] = np.maximum(proba, 1e-12)
    picked = full[np.arange(len(y)), np.asarray(y, dtype=np.int64)]
    return {"loss": float(-np.log(picked).mean()), "accuracy": float((full.argmax(axis=1) == y).mean())}


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

    from .engine import fit

    choice = _choice_for_data(choice, splits, warnings)
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
) -> RunResult:
    """The whole job: profile, plan, baseline, train, evaluate on the test split; `evaluation.json` holds both."""
    from .engine import evaluate

    t0 = time.perf_counter()
    out = Path(out_dir)
    if (out / "checkpoints" / "last.pt").exists():
        raise InvalidInputError(f"{out}: already holds a run; choose a new --out folder (or `dlexpert train --resume`)")
    result, plan, choice, (model, sets, splits), model_name, warnings = train(
        spec, data=data, out_dir=out, target=target, test=test, epochs=epochs, seed=seed, hardware=hardware,
        progress=progress, monitor=monitor, auto_remedy=auto_remedy,
    )  # fmt: skip
    if result.best_checkpoint is None:  # e.g. the NaN sentinel stopped the run before its first epoch ended
        raise DlexpertError(f"training produced no usable model: {result.stop_reason}; see {out / 'diagnosis.json'}")

    # Step 4: the simplest viable model on the same splits, reported beside the planned one.
    base_name, base_metrics = _baseline(splits, out_dir=out / "baseline", seed=seed)

    from .engine import load_weights

    model.load_state_dict(load_weights(result.best_checkpoint))
    metrics = evaluate(model, sets.test, batch_size=256)
    evaluation = {
        "split": "test",
        "n_samples": len(sets.test),
        "model": model_name,
        "metrics": metrics,
        "baseline": {"model": base_name, "metrics": base_metrics},
        "plan_expected_accuracy": plan.expectedPerformance.accuracy if plan.expectedPerformance else None,
        "data_version": splits.version,
        "warnings": warnings,
    }
    atomic_write_text(out / "evaluation.json", json.dumps(evaluation, indent=2) + "\n")
    return RunResult(out_dir=out, plan=plan, choice=choice, model_name=model_name, metrics=metrics,
                     baseline_metrics=base_metrics, wall_time_s=time.perf_counter() - t0,
                     peak_rss_mb=result.peak_rss_mb, warnings=warnings)  # fmt: skip
