"""Carry the plan out: profile the data, plan, train the planned model, evaluate it beside baselines, into one run dir.

`train()` is seed Step 4 for the planned model; `run()` is the whole job (DESIGN.md: "run(task, data) = all of the
above, in order, into one run dir"). Both write the run directory DESIGN.md lays out:

    RUN_DIR/task.yaml plan.json decisions.json config.yaml metrics.jsonl tb/ checkpoints/{last.pt,best.safetensors}
    RUN_DIR/profile.json evaluation.json figures/ MODEL_CARD.md report.html

Example:
    >>> from dlexpert.pipeline import run  # doctest: +SKIP
    >>> result = run(load_task("examples/mnist1d.yaml"), data="mnist1d", out_dir="runs/mnist1d")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .advisor import advise_with_decisions
from .errors import DlexpertError, InvalidInputError
from .rundir import RunDir
from .schema import Decisions, Plan, TaskSpec, TrainingChoice, load_task, parse_task, read_decisions
from .schema.run_config import MonitorSettings, RunData, RunRecord
from .tracking import tracked

if TYPE_CHECKING:
    from .tracking import Tracking

# The plan's optimizer names, as the engine spells them. A name the engine lacks is refused, never replaced.
_OPTIMIZERS = {"SGD": "sgd", "AdamW": "adamw", "Adam": "adam"}


@dataclass
class RunResult:
    out_dir: Path
    plan: Plan
    decisions: Decisions
    metrics: dict[str, float]
    baseline_metrics: dict[str, float] | None
    wall_time_s: float
    peak_rss_mb: float | None
    warnings: list[str] = field(default_factory=list)

    @property
    def model_name(self) -> str:
        return self.decisions.model.name


@dataclass
class Trained:
    """What `train` leaves for `run`: the fit's result, the plan and decisions it trained, and the loaded data."""

    result: Any  # engine.FitResult
    plan: Plan
    decisions: Decisions
    splits: Any
    sets: Any
    warnings: list[str]
    tracker: Any = None  # tracking.MLflowRun, left open for `run` to add the evaluation


def fill_from_profile(spec: TaskSpec, profile: Any) -> TaskSpec:
    """`plan --data`: the spec's empty data fields come from the measured profile."""
    filled = spec.model_dump(exclude_none=True)
    data = filled.setdefault("data", {})
    for key, value in profile.task_data().items():
        if value is not None and key not in data:
            data[key] = value
    return parse_task(filled, source="task (filled from the data profile)")


def load_plan_or_task(path: str) -> TaskSpec | Plan:
    """`dlexpert train TASK|PLAN|DECISIONS`: a plan (JSON with `decisions`, as `dlexpert plan --format json` and `run`
    write it) is trained as it is; a run's decisions.json is trained with the plan.json beside it; anything else is
    read as a task spec and planned."""
    p = Path(path)
    if path != "-" and p.suffix == ".json" and p.is_file():
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
            data = None
        if isinstance(data, dict) and {"model", "training"} <= set(data) and "modelDesign" not in data:
            beside = RunDir(p.parent)
            if not beside.has(RunDir.PLAN):
                raise InvalidInputError(f"{p}: decisions without the {RunDir.PLAN} beside them; pass the plan.json")
            decisions = RunDir(p.parent).decisions() if p.name == RunDir.DECISIONS else read_decisions(p)
            return beside.plan().model_copy(update={"decisions": decisions})
        if isinstance(data, dict) and "modelDesign" in data:
            try:
                plan = Plan.model_validate(data)
            except ValidationError as e:
                err = e.errors()[0]
                where = ".".join(str(x) for x in err["loc"])
                raise InvalidInputError(f"{p}: `{where}` {err['msg']}; expected a dlexpert plan") from None
            if plan.decisions is None:
                raise InvalidInputError(
                    f"{p}: a plan without `decisions` (written by an older dlexpert); plan again with `dlexpert plan`"
                )
            return plan
    return load_task(path)


def train(
    source: TaskSpec | Plan,
    *,
    data: str,
    out_dir: str | Path,
    target: str | None = None,
    test: str | None = None,
    dropna: bool = False,
    epochs: int | None = None,
    seed: int = 0,
    resume: bool = False,
    hardware: str | None = None,
    progress: bool | None = None,
    monitor: bool = True,
    auto_remedy: bool = False,
    tracking: Tracking | None = None,
    keep_tracking_open: bool = False,
) -> Trained:
    """Train into `out_dir` what is decided: a task is profiled and planned first (for this machine: a model that
    cannot load here is replaced by a planned fallback); a plan is trained exactly as it says; `resume` continues
    the run with its own decisions and config, never a fresh plan.

    `monitor`: live monitors and online diagnosis (RUN_DIR/diagnosis.json); `auto_remedy`: let them roll back on
    NaN/Inf and stop on clear overfitting (see `dlexpert.monitor`); `tracking`: log to MLflow too (the MLflow run
    ends with the training unless `keep_tracking_open`, which `run` uses to add the evaluation).
    """
    if auto_remedy and not monitor:
        raise InvalidInputError("--auto-remedy acts on what the live monitors see; it cannot be used with --no-monitor")
    run_dir = RunDir(out_dir)
    run_dir.path.mkdir(parents=True, exist_ok=True)
    if resume:
        check_resumable(run_dir)
    else:
        from .engine.checkpoint import check_run_dir

        check_run_dir(run_dir.path, resume=False)  # before the plan files are written: a refusal writes nothing
    warnings: list[str] = []
    regression = regresses(run_dir.decisions() if resume else source)
    splits = load_splits(data, target=target, test=test, seed=seed, dropna=dropna, regression=regression)
    warnings += splits.warnings
    if resume:
        plan, decisions = run_dir.plan(), run_dir.decisions()
        if isinstance(source, TaskSpec) and run_dir.has(RunDir.TASK) and source.task != run_dir.task().task:
            warnings.append(f"--resume: the task given ({source.task.type}, {source.task.domain}) is not the run's "
                            f"{RunDir.TASK}; the run goes on with its own plan, and its files stay as they "
                            "were")  # fmt: skip
    else:
        plan, decisions = _decide(source, splits, run_dir, hardware=hardware)
    from .engine import fit, seed_everything

    seed_everything(seed)  # the model's initial weights too: the same seed gives the same run in every process
    model, plan, decisions = _build_planned(source, decisions, plan, splits, run_dir, hardware=hardware, resume=resume)
    if decisions.fallback is not None:
        warnings.append(plan.warnings[0] if plan.warnings[0].startswith("fallback:") else decisions.fallback.reason)
    sets = _datasets(splits, decisions.training.augmentation, warnings, model)
    cfg = (
        _resumed_config(run_dir, epochs=epochs)
        if resume
        else train_config(decisions.training, epochs=epochs, seed=seed, task=decisions.model.task)
    )
    from .monitor import DEFAULT_EVERY, create_monitors

    callbacks = create_monitors("default", every=DEFAULT_EVERY, auto_remedy=auto_remedy) if monitor else []
    shape = list(splits.input_shape) if splits.input_shape else None
    data_read = RunData(source=_absolute(str(splits.source)) or str(splits.source), version=splits.version,
                        modality=splits.modality, classes=list(splits.classes), split=splits.split, target=target,
                        test=_absolute(test), dropna=dropna, input_shape=shape)  # fmt: skip
    record = RunRecord(model=decisions.model.name, model_record=decisions.model,
                       catalog_model=decisions.training.catalog_name, recipe=decisions.training.recipe,
                       adaptation=decisions.model.adaptation, data=data_read,
                       monitors=MonitorSettings(on=monitor, every=DEFAULT_EVERY, auto_remedy=auto_remedy))  # fmt: skip
    extra = record.model_dump(mode="json")
    tracker = _start_tracking(tracking, run_dir, resume=resume)
    callbacks += [tracker.callback()] if tracker is not None else []
    with tracked(tracker, keep_open=keep_tracking_open):
        result = fit(model, train_set=sets.train, val_set=sets.val, cfg=cfg, out_dir=run_dir.path, resume=resume,
                     progress=progress, extra_config=extra, callbacks=callbacks)  # fmt: skip
        if tracker is not None:
            tracker.log_training()
    return Trained(result=result, plan=plan, decisions=decisions, splits=splits, sets=sets, warnings=warnings,
                   tracker=tracker)  # fmt: skip


def _start_tracking(tracking: Tracking | None, run_dir: RunDir, *, resume: bool) -> Any:
    """The MLflow run for this run folder, in the main process only (torchrun's other ranks log nothing)."""
    import os

    if tracking is None or os.environ.get("RANK", "0") != "0":
        return None
    from .tracking import MLflowRun

    return MLflowRun(tracking, run_dir, resume=resume)


def regresses(source: TaskSpec | Plan | Decisions) -> bool:
    """Does the plan predict a number per sample? A plan or decisions say so; a task does when its family regresses
    (tabular-regression), so the data is read with a numeric target before the plan is made."""
    if isinstance(source, TaskSpec):
        from .knowledge import get_task_family

        return source.task.family is not None and get_task_family(source.task.family).regression
    decisions = source.decisions if isinstance(source, Plan) else source
    return decisions is not None and decisions.model.task == "regression"


def load_splits(
    data: str, *, target: str | None, test: str | None, seed: int, dropna: bool, regression: bool = False
) -> Any:
    """The data to train on: `DataSplits` (classification, or `regression` on a table's numeric target), or
    `DenseData` for a detection or segmentation folder or built-in. Broken annotations are refused with one line."""
    from .data import load_data
    from .data.dense import is_dense_source, load_dense

    if not is_dense_source(data):
        return load_data(data, target=target, test=test, seed=seed, dropna=dropna, regression=regression)
    if target is not None:
        raise InvalidInputError(f"--target names a table's label column; {data} is an image folder with annotations")
    dense = load_dense(data, test=test, seed=seed)
    dense.require_clean()
    return dense


def check_resumable(run_dir: RunDir) -> None:
    """A run to resume has its checkpoint and its decisions; nothing is rewritten before this holds."""
    from .engine.checkpoint import check_run_dir

    check_run_dir(run_dir.path, resume=True)
    if not run_dir.has(RunDir.DECISIONS):
        raise InvalidInputError(
            f"{run_dir.path}: has no {RunDir.DECISIONS} (the run predates it); it cannot be resumed by this version"
        )


def _decide(source: TaskSpec | Plan, splits: Any, run_dir: RunDir, *, hardware: str | None) -> tuple[Plan, Decisions]:
    """Plan with the data's profile (a task), or take the plan's decisions (a plan); complete the model record from
    the data; write task.yaml (a task), profile.json, plan.json and decisions.json."""
    from .data import profile_dataset
    from .data.dense import DenseData, profile_dense

    profile = profile_dense(splits) if isinstance(splits, DenseData) else profile_dataset(splits)
    spec = None
    if isinstance(source, Plan):
        plan, decisions = source, source.decisions
        assert decisions is not None  # load_plan_or_task refuses a plan without decisions
    else:
        spec = fill_from_profile(source, profile)
        plan, decisions = advise_with_decisions(
            spec, profile=profile, hardware=hardware, assume_defaults=True, runnable_here=True
        )
    run_dir.write_model(RunDir.PROFILE, profile)
    if spec is not None:
        run_dir.write_task(spec)
    return _record_for_data(run_dir, plan, decisions, splits)


def _record_for_data(run_dir: RunDir, plan: Plan, decisions: Decisions, splits: Any) -> tuple[Plan, Decisions]:
    """The decisions sized for the data (`_fit_to_data`), written as decisions.json and inside plan.json."""
    decisions = _fit_to_data(decisions, splits)
    plan = plan.model_copy(update={"decisions": decisions})
    run_dir.write_plan(plan)
    run_dir.write_decisions(decisions)
    return plan, decisions


def _fit_to_data(decisions: Decisions, splits: Any) -> Decisions:
    """The model record sized for the data: its class count and sample shape. A plan made for other data (another
    class count, or raw text for a model that reads tensors) is refused with the reason."""
    record = decisions.model
    if record.task == "regression":  # the data was read with a numeric target for it (`regresses`)
        return decisions.model_copy(update={"model": _regressor_for(record, splits)})
    n_out = splits.n_classes
    if record.n_classes is not None and record.n_classes != n_out:
        raise InvalidInputError(
            f"plan: its model has {record.n_classes} outputs but the data has {n_out} classes; plan for this data"
        )
    if (record.library == "text") != (splits.modality == "text"):
        what = "text" if splits.modality == "text" else f"{splits.modality} data"
        raise InvalidInputError(f"plan: its model {record.name} ({record.library}) does not read {what}; plan again")
    shape = list(splits.input_shape) if splits.input_shape and record.library != "text" else None
    record = record.model_copy(update={"n_classes": n_out, "input_shape": shape})
    notes = list(decisions.notes)
    if record.task == "detection" and record.library == "dlexpert" and "mean" not in record.options:
        # a plan already fitted (a resumed run) stays; torchvision's pretrained detectors keep ImageNet statistics
        record, note = _fit_detector(record, splits)
        notes += [note] if note else []
    if record.task == "segmentation" and len(splits.image_sizes()) > 1:
        notes += [note for note in [_resize_note(splits)] if note not in notes]  # a resumed run has it already
    return _normalise_per_series(decisions.model_copy(update={"model": record, "notes": notes}), splits)


def _regressor_for(record: Any, splits: Any) -> Any:
    """The model record of a regression on these splits: one output, in the target's units (the network learns the
    standardised target: `models.mlp.MLP`), and the input shape. A family without that output scaling is refused."""
    import numpy as np

    from .models import model_options

    if record.library != "dlexpert" or "target_mean" not in model_options(record.name):
        raise InvalidInputError(
            f"plan: its model {record.name} ({record.library}) does not regress a table's target in this version; "
            "plan again (a table regression plans the mlp challenger)"
        )
    y = np.asarray(splits.y_train, dtype=np.float64)
    scale = {"target_mean": float(y.mean()), "target_std": float(y.std()) or 1.0}
    options = {**record.options, **({} if "target_mean" in record.options else scale)}  # a resumed run keeps its own
    return record.model_copy(update={"n_classes": 1, "input_shape": list(splits.input_shape), "options": options})


# Most boxes under COCO's "small" area (32 x 32 px): the detector gets a stride-4 level (P2) for them. FPN puts its
# smallest anchors (32 px) on P2 (Lin et al. 2017, arXiv 1612.03144, Sec. 4.1); on shapes-det (76% small boxes) P2
# raised validation mAP50 from 0.55 to 0.71 at epoch 25 of 40, for 1.7x the time per epoch.
SMALL_BOX_SHARE = 0.5


def _fit_detector(record: Any, splits: Any) -> tuple[Any, str | None]:
    """The detector's input normalisation from the training images (it normalises inside the model), and a P2 level
    when most training boxes are small; the note says why."""
    import numpy as np

    from .data.dense._torch import channel_stats
    from .data.dense.profile import SMALL_AREA

    mean, std = channel_stats(splits.train)
    options = {**record.options, "mean": mean, "std": std}
    boxes = np.concatenate([s.boxes for s in splits.train]) if splits.train else np.zeros((0, 4))
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    small = float((area < SMALL_AREA).mean()) if len(area) else 0.0
    note = None
    if small >= SMALL_BOX_SHARE and record.name == "fcos" and "min_stride" not in options:
        options["min_stride"] = 4
        note = (f"{small:.0%} of the training boxes are under 32x32 px (COCO small): the detector adds a stride-4 "
                f"pyramid level (P2) for them (Lin et al. 2017, FPN, arXiv 1612.03144)")  # fmt: skip
    return record.model_copy(update={"options": options}), note


def _resize_note(splits: Any) -> str:
    """Why a segmentation folder of several image sizes trains at one: the sizes seen and the one chosen."""
    sizes = splits.image_sizes()
    heights, widths = [h for h, _ in sizes], [w for _, w in sizes]
    _, h, w = splits.input_shape
    return (f"segmentation images come in {len(sizes)} sizes ({min(heights)}-{max(heights)} x {min(widths)}-"
            f"{max(widths)} px): they train at the median {h}x{w} (masks resized "
            "with nearest-neighbour sampling), and the test metrics score each prediction resized back to its "
            "image's own size against the original mask")  # fmt: skip


def _normalise_per_series(decisions: Decisions, splits: Any) -> Decisions:
    """Series whose amplitudes differ by more than `AMPLITUDE_SPREAD_LIMIT` are normalised one by one inside the
    network (keeping each one's scale as input), where the family can; the decision is a note with the figure."""
    from .data.profile import AMPLITUDE_SPREAD_LIMIT, amplitude_spread
    from .models import model_options

    record = decisions.model
    if splits.modality != "sequence" or record.library != "dlexpert" or "per_sample_norm" in record.options:
        return decisions  # a plan that already decided (a given plan, a resumed run) is kept as it is
    spread = amplitude_spread(splits.x_train)
    if spread is None or spread <= AMPLITUDE_SPREAD_LIMIT:
        return decisions
    if "per_sample_norm" not in model_options(record.name):
        note = (f"series amplitudes differ {spread:.3g}x (90th/10th percentile of per-series std); {record.name} "
                "has no per-series normalisation, so one global normalisation is used")  # fmt: skip
        return decisions.model_copy(update={"notes": [*decisions.notes, note]})
    note = (f"series amplitudes differ {spread:.3g}x (90th/10th percentile of per-series std, limit "
            f"{AMPLITUDE_SPREAD_LIMIT:g}x): {record.name} normalises each series on its own and reads its mean and "
            "scale as two extra channels")  # fmt: skip
    record = record.model_copy(update={"options": {**record.options, "per_sample_norm": True}})
    return decisions.model_copy(
        update={"model": record, "notes": [*decisions.notes, note], "estimates": _resized(decisions.estimates, record)}
    )


def _resized(estimates: Any, record: Any) -> Any:
    """The estimates' parameters and MACs for the record as it now stands (dlexpert's own families)."""
    from .estimate.scratch import scratch_size

    size = scratch_size(record.name, record.input_shape or (), record.n_classes or 1, width=record.width,
                        depth=record.depth, options=record.options)  # fmt: skip
    if size is None:
        return estimates
    return estimates.model_copy(update={"params_m": size.params_m, "gmacs": size.gmacs})


def _build_planned(
    source: TaskSpec | Plan, decisions: Decisions, plan: Plan, splits: Any, run_dir: RunDir, *, hardware: str | None,
    resume: bool,
) -> tuple[Any, Plan, Decisions]:  # fmt: skip
    """`models.build(decisions.model)`. When its weights cannot be had after all (online, but the download failed),
    a task is planned again for this machine offline, and the fallback is recorded like any other decision."""
    from .models import WeightsUnavailableError, build

    try:
        return build(decisions.model, pretrained=not resume), plan, decisions
    except WeightsUnavailableError:
        if resume or not isinstance(source, TaskSpec):
            raise  # a given plan is trained as it is, or not at all: the error says how to fetch the weights
    plan, decisions = advise_with_decisions(
        source, profile=run_dir.profile(), hardware=hardware, assume_defaults=True, runnable_here=True, offline=True
    )
    plan, decisions = _record_for_data(run_dir, plan, decisions, splits)
    return build(decisions.model), plan, decisions


def _resumed_config(run_dir: RunDir, *, epochs: int | None) -> Any:
    """The run's own train settings as planned (config.yaml; `fit` re-applies the changes monitors made), with only
    the length changed when `--epochs` asks: nothing is planned again, whatever machine this is."""
    from .engine.config import parse_train_config, planned_settings

    settings = planned_settings(run_dir.config().model_dump(mode="json"))
    if epochs:
        settings["epochs"] = epochs
    return parse_train_config(settings, source=str(run_dir / RunDir.CONFIG))


def _absolute(path: str | None) -> str | None:
    """A data path as recorded in config.yaml: absolute, so later stages find it from any working directory."""
    return str(Path(path).resolve()) if path and Path(path).exists() else path


def train_config(training: TrainingChoice, *, epochs: int | None, seed: int, task: str = "classification") -> Any:
    """The engine's `TrainConfig` for the decided recipe and the model's `task` (what its loss scores); `epochs`
    (`--epochs`) shortens or stretches it, the warmup and the step schedule's milestones keeping their share of it."""
    from .engine.config import parse_train_config

    if training.optimizer not in _OPTIMIZERS:
        raise InvalidInputError(
            f"plan: optimizer {training.optimizer!r} is not implemented by the training engine; "
            f"expected one of {', '.join(_OPTIMIZERS)}"
        )
    scale = epochs / training.epochs if epochs else 1.0
    n_epochs, warmup = epochs or training.epochs, training.warmup_epochs * scale
    milestones = sorted({m for e in training.lr_decay_epochs if warmup < (m := round(e * scale)) < n_epochs})
    settings = dict(
        epochs=n_epochs,
        batch_size=training.micro_batch,
        accumulation=training.accumulation,
        optimizer=_OPTIMIZERS[training.optimizer],
        lr=training.lr,
        momentum=training.momentum or 0.9,
        nesterov=training.nesterov,
        weight_decay=training.weight_decay,
        scheduler=training.scheduler,
        lr_milestones=milestones or None,
        gamma=training.lr_gamma or 0.1,
        warmup_epochs=warmup,
        label_smoothing=training.label_smoothing,
        grad_clip=training.gradient_clipping,
        ema=training.ema and training.strategy != "fsdp",  # an FSDP-sharded model has no single EMA copy
        mixed_precision=training.mixed_precision,
        balanced_sampling=training.balanced_sampling,
        early_stopping_patience=training.early_stopping_patience,
        strategy=training.strategy,
        seed=seed,
        task=task,
        dice_weight=training.dice_weight,
    )
    return parse_train_config(settings, source="plan decisions (training)")


def _datasets(splits: Any, augment: tuple[str, ...], warnings: list[str], model: Any = None) -> Any:
    from .data import to_torch_datasets
    from .data.dense import DenseData

    if isinstance(splits, DenseData):
        from .data.dense._torch import dense_sets

        return dense_sets(splits, augment=augment)
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


def run(
    spec: TaskSpec,
    *,
    data: str,
    out_dir: str | Path,
    target: str | None = None,
    test: str | None = None,
    dropna: bool = False,
    epochs: int | None = None,
    seed: int = 0,
    hardware: str | None = None,
    progress: bool | None = None,
    monitor: bool = True,
    auto_remedy: bool = False,
    latency: bool = True,
    tracking: Tracking | None = None,
) -> RunResult:
    """The whole job: profile, plan, train, then `evaluate` (metrics, baselines, failures, latency) and the model
    card; RUN_DIR ends with evaluation.json, MODEL_CARD.md and report.html."""
    from .report.card import write_model_card
    from .report.evaluate import evaluate_run

    t0 = time.perf_counter()
    out = Path(out_dir)
    if RunDir(out).last_checkpoint.exists():
        raise InvalidInputError(f"{out}: already holds a run; choose a new --out folder (or `dlexpert train --resume`)")
    trained = train(
        spec, data=data, out_dir=out, target=target, test=test, dropna=dropna, epochs=epochs, seed=seed,
        hardware=hardware, progress=progress, monitor=monitor, auto_remedy=auto_remedy, tracking=tracking,
        keep_tracking_open=True,
    )  # fmt: skip
    result = trained.result
    warnings = list(trained.warnings)
    with tracked(trained.tracker):
        if result.best_checkpoint is None:  # e.g. the NaN sentinel stopped the run before its first epoch ended
            raise DlexpertError(f"training produced no usable model: {result.stop_reason}; see "
                                f"{out / RunDir.DIAGNOSIS}")  # fmt: skip
        # Step 7 on the best weights: metrics, the Step 4 baselines on the same splits, failures, latency; the card.
        say = _say if progress is not False else None
        evaluation = evaluate_run(
            out, latency=latency, notes=trained.warnings, preloaded=(trained.splits, trained.sets), progress=say
        )
        write_model_card(out, progress=say)
        if trained.tracker is not None:
            warnings += trained.tracker.log_evaluation()
    if evaluation.deliverable is not None:  # said last, where it is seen; evaluation.json and the card say it too
        warnings.append(f"{evaluation.deliverable.reason}; the run ships it: {out / evaluation.deliverable.path}")
    baseline = evaluation.baseline.linear or evaluation.baseline.majority  # the floor where no linear one was fit
    return RunResult(out_dir=out, plan=trained.plan, decisions=trained.decisions, metrics=evaluation.metrics,
                     baseline_metrics=baseline.metrics if baseline else None, wall_time_s=time.perf_counter() - t0,
                     peak_rss_mb=result.peak_rss_mb, warnings=warnings)  # fmt: skip


def _say(msg: str) -> None:
    import sys

    print(msg, file=sys.stderr)
