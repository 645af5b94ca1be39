"""The training loop: `fit()` and `evaluate()`. Read it top to bottom; everything optional lives in callbacks.

Shape of a run (see `show_training_loop()` for the events and which callbacks run at each):
set up model, optimizer, schedule, precision, EMA -> maybe restore last.pt -> for each epoch: train on a seeded
data order, validate, track the best metric, checkpoint -> return a FitResult.
"""

from __future__ import annotations

import contextlib
import json
import math
import resource
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.lr_scheduler import ReduceLROnPlateau
from torch.utils.data import DataLoader, Dataset

from ..data.dense import IGNORE_INDEX
from ..errors import InvalidInputError
from ..rundir import RunDir
from .callbacks import default_callbacks
from .checkpoint import capture_state, check_run_dir, load_checkpoint, restore_state, save_checkpoint
from .config import ConfigChange, TrainConfig, planned_settings, recorded_changes, write_config
from .distributed import (
    all_reduce_sum,
    broadcast_from_main,
    full_norm,
    gradient_sync,
    shutdown_distributed,
    start_distributed,
    wrap_model,
)
from .ema import ModelEma
from .events import CallbackRunner, CancelEpochException, CancelFitException, TrainingInterrupted, describe_loop
from .mix import Mixer, create_mixer
from .optim import create_optimizer, create_scheduler
from .precision import create_precision
from .sampling import (
    balanced_weights,
    dataset_labels,
    make_train_loader,
    n_train_batches,
    rank_batch_size,
    seed_everything,
)
from .state import FitResult, FitState

__all__ = ["evaluate", "fit", "select_device", "show_training_loop"]

# Settings that may change when a run is resumed; anything else would make the continuation a different run.
RESUMABLE_CHANGES = {
    "epochs", "early_stopping_patience", "log_every_steps", "checkpoint_every_epochs", "num_workers", "strategy"
}  # fmt: skip
VAL_NAMES = {"loss": "val_loss", "accuracy": "val_acc", "mse": "val_mse", "mae": "val_mae"}


def select_device() -> torch.device:
    """CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def fit(
    model: nn.Module,
    *,
    train_set: Dataset,
    val_set: Dataset,
    cfg: TrainConfig,
    out_dir: str | Path,
    callbacks: Iterable[Any] = (),
    resume: bool = False,
    progress: bool | None = None,
    device: str | torch.device | None = None,
    extra_config: Mapping[str, Any] | None = None,
) -> FitResult:
    """Train `model` on `train_set`, validating on `val_set` after every epoch; write the run into `out_dir`.

    The datasets return `(x, y)`: y holds class indices (classification) or targets (regression). `out_dir` gets
    config.yaml, metrics.jsonl, tb/ and checkpoints/{last.pt, best.safetensors}. `resume=True` continues from
    checkpoints/last.pt with the same data order and RNG streams, so it ends where an uninterrupted run would;
    pass the settings the run was planned with: the changes callbacks made during it (`FitState.request_change`,
    recorded in config.yaml under `changes`) are applied again.
    Ctrl-C writes last.pt and raises `TrainingInterrupted`. `extra_config` (plain values: model, data, plan) is
    stored next to the train settings in config.yaml and in every checkpoint. Launched by torchrun (see
    `distributed.py`), every rank calls `fit()`; the model is wrapped in DDP or sharded by FSDP2 (`cfg.strategy`).

    Example:
        >>> cfg = TrainConfig(epochs=5, lr=3e-3)
        >>> result = fit(model, train_set=train, val_set=val, cfg=cfg, out_dir="runs/a")  # doctest: +SKIP
        >>> result.best_val_metric  # doctest: +SKIP
    """
    out_dir = Path(out_dir)
    last_path = RunDir(out_dir).last_checkpoint
    _check_inputs(train_set, val_set, last_path, resume)
    last_path.parent.mkdir(parents=True, exist_ok=True)
    dev = torch.device(device) if device is not None else select_device()
    info, dev, joined = start_distributed(dev, cfg.strategy)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    seed_everything(cfg.seed)
    ckpt = load_checkpoint(last_path) if resume else None
    changes = _resume_changes(ckpt, cfg) if ckpt is not None else []
    for change in changes:  # the run goes on as its callbacks left it: clipping on, a cut learning rate
        cfg = change.apply(cfg)
    config = _resolved_config(cfg, extra_config, changes)
    if info.enabled:
        config["distributed"] = {"world_size": info.world_size, "strategy": info.strategy}

    model.to(dev)
    train_model = wrap_model(model, info, dev)  # before the optimizer: FSDP2 replaces the parameters with shards
    n_per_rank = len(train_set) // info.world_size  # type: ignore[arg-type]
    n_batches = n_train_batches(n_per_rank, rank_batch_size(cfg.batch_size, info.world_size))
    optimizer = create_optimizer(model, cfg)
    s = FitState(
        cfg=cfg,
        model=model,
        optimizer=optimizer,
        scheduler=create_scheduler(optimizer, cfg, steps_per_epoch=math.ceil(n_batches / cfg.accumulation)),
        precision=create_precision(cfg.mixed_precision, dev),
        ema=ModelEma(model, cfg.ema_decay) if cfg.ema_decay else None,
        device=dev,
        out_dir=out_dir,
        config=config,
        n_batches=n_batches,
        train_model=train_model,
        dist=info,
    )
    if ckpt is not None:
        _check_resume_world(ckpt, info.world_size)
        restore_state(s, ckpt)  # the optimizer and schedule state already hold any learning-rate cut
        del ckpt  # free the loaded checkpoint before training (on a GPU run, a CPU copy of every tensor)
    if info.is_main:
        write_config(out_dir, config)

    # Ranks other than 0 run only callbacks that declare `all_ranks = True` (one that stops the run must: a rank
    # left training alone would wait forever in the next all-reduce).
    extra = [c for c in callbacks if info.is_main or getattr(c, "all_ranks", False)]
    cbs = CallbackRunner([*default_callbacks(cfg, progress=progress, main=info.is_main), *extra])
    sample_weights = balanced_weights(dataset_labels(train_set)) if cfg.balanced_sampling else None
    criterion, mixer = create_criterion(cfg), create_mixer(cfg)
    epochs_run, finished = 0, False
    try:
        cbs("before_fit", s)
        for epoch in range(s.epoch, cfg.epochs):
            s.epoch, s.epoch_complete = epoch, False
            if s.batches_done == 0:  # else: resuming mid-epoch, the sums came from the checkpoint
                s.loss_sum, s.n_loss, s.n_seen = torch.zeros((), device=dev), 0, 0
            s.loss_parts = {}
            s.epoch_t0 = time.perf_counter()
            cbs("before_epoch", s)
            loader = make_train_loader(
                train_set, cfg, epoch=s.epoch, sample_weights=sample_weights,
                skip_batches=s.batches_done, pin_memory=dev.type == "cuda", rank=info.rank, world_size=info.world_size,
            )  # fmt: skip
            with contextlib.suppress(CancelEpochException):  # a callback ended the epoch early
                train_one_epoch(s, cbs, loader, criterion, mixer)
            train_time = time.perf_counter() - s.epoch_t0

            cbs("before_validate", s)
            s.val_metrics = broadcast_from_main(
                evaluate(
                    s.eval_model,
                    val_set,
                    batch_size=cfg.batch_size,
                    task=cfg.task,
                    device=dev,
                    mixed_precision=s.precision.mode,
                    num_workers=cfg.num_workers,
                ),
                info,
            )  # fmt: skip  (every rank validates; rank 0's numbers decide, so the ranks agree)
            train_loss_sum = all_reduce_sum(s.loss_sum, info)
            _track_best(s)
            if isinstance(s.scheduler, ReduceLROnPlateau):
                s.scheduler.step(s.val_metrics["loss"])
            s.epoch_metrics = {
                "epoch": s.epoch,
                "step": s.step,
                "train_loss": train_loss_sum.item() / max(1, s.n_loss * info.world_size),
                **{f"train_loss_{k}": v.item() / max(1, s.n_loss) for k, v in s.loss_parts.items()},
                **{VAL_NAMES.get(k, f"val_{k}"): v for k, v in s.val_metrics.items()},
                "lr": s.lr,
                "time": round(s.elapsed(), 3),
                "samples_per_sec": s.n_seen * info.world_size / max(train_time, 1e-9),
            }
            cbs("after_validate", s)  # callbacks may add entries to s.epoch_metrics here
            s.history.append(s.epoch_metrics)
            s.epoch_complete = True
            epochs_run += 1
            cbs("after_epoch", s)  # the Checkpointer writes last.pt here
            s.batches_done = 0
        finished = True
    except CancelFitException as e:
        s.stop_reason = str(e) or "stopped by a callback"
        finished = True
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):  # let an epoch-end write finish first, so this one lands last
            s.writer.wait()
        if info.strategy == "fsdp" or not info.is_main:  # gathering shards needs every rank; keep the epoch's last.pt
            raise TrainingInterrupted(f"training interrupted in epoch {s.epoch + 1}; continue from the last epoch's "
                                      f"{last_path} with --resume") from None  # fmt: skip
        save_checkpoint(last_path, capture_state(s))
        raise TrainingInterrupted(
            f"training interrupted in epoch {s.epoch + 1} after step {s.step}; state saved to {last_path}; "
            "continue with --resume"
        ) from None
    finally:
        try:
            cbs("after_fit", s)
        finally:
            s.writer.close()  # every checkpoint is on disk before fit() returns; a write error is raised here
            if joined:
                shutdown_distributed(finished=finished)
    return _result(s, epochs_run, last_path)


def train_one_epoch(
    s: FitState, cbs: CallbackRunner, loader: DataLoader, criterion: Callable[..., torch.Tensor], mixer: Mixer | None
) -> None:
    """One pass over `loader`: forward, loss, backward; an optimizer step every `cfg.accumulation` batches."""
    cfg, model, opt, scaler = s.cfg, s.train_model or s.model, s.optimizer, s.precision.scaler
    lr_per_step = not isinstance(s.scheduler, ReduceLROnPlateau)
    params = [p for p in s.model.parameters() if p.requires_grad]
    model.train()
    opt.zero_grad(set_to_none=True)
    for batch_idx, (x, y) in enumerate(loader, start=s.batches_done):
        s.batch_idx = batch_idx
        s.x, s.y = _to_device(x, s.device), _target_to_device(y, s.device, cfg.task)
        cbs("before_batch", s)
        x, y, y_mix, lam = mixer(s.x, s.y) if mixer is not None else (s.x, s.y, None, 1.0)
        steps_now = (s.batch_idx + 1) % cfg.accumulation == 0 or s.batch_idx + 1 == s.n_batches
        with gradient_sync(model, s.dist, sync=steps_now):  # several processes: all-reduce only when stepping
            with s.precision.autocast():
                if cfg.task == "detection":  # a torchvision detector returns its loss terms in training mode
                    s.pred = model(x, y)
                    s.loss = sum(s.pred.values())
                    for name, term in s.pred.items():
                        s.loss_parts[name] = s.loss_parts.get(name, 0.0) + term.detach()
                else:
                    s.pred = model(x)
                    s.loss = criterion(s.pred, y)
                if y_mix is not None:  # mixup/cutmix: the loss is mixed in the same proportion as the inputs
                    s.loss = lam * s.loss + (1.0 - lam) * criterion(s.pred, y_mix)
            cbs("after_loss", s)
            loss = s.loss / cfg.accumulation if cfg.accumulation > 1 else s.loss  # mean over the accumulated batches
            scaler.scale(loss).backward()
        cbs("after_backward", s)
        s.loss_sum += s.loss.detach()
        s.n_loss += 1
        s.n_seen += len(s.y)
        if steps_now:
            scaler.unscale_(opt)  # true gradients for clipping and monitors (a no-op without fp16)
            clip = s.cfg.grad_clip  # read at each step: a callback's `request_change` may turn clipping on mid-epoch
            s.grad_norm = nn.utils.clip_grad_norm_(params, clip) if clip else None
            if s.dist.strategy == "fsdp":  # a sharded norm is a collective: every rank computes it, not just the logger
                s.grad_norm = full_norm(params, clip, s.grad_norm)
            scaler.step(opt)
            scaler.update()
            if lr_per_step:
                s.scheduler.step()
            if s.ema is not None:
                s.ema.update(s.model)
            s.step += 1
            s.batches_done = s.batch_idx + 1
            cbs("after_step", s)  # gradients are still there for monitors
            opt.zero_grad(set_to_none=True)
        cbs("after_batch", s)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    dataset: Dataset,
    *,
    batch_size: int = 256,
    task: str = "classification",
    device: str | torch.device | None = None,
    mixed_precision: str = "none",
    num_workers: int = 0,
) -> dict[str, float]:
    """Loss and accuracy (classification: mean cross-entropy, no label smoothing), loss/mse/mae (regression), or
    per-pixel loss, pixel accuracy and mean IoU (segmentation; void pixels, 255, not scored).

    Example:
        >>> evaluate(model, test_set, batch_size=512)  # doctest: +SKIP
        {'loss': 0.21, 'accuracy': 0.94}
    """
    if task not in ("classification", "regression", "segmentation", "detection"):
        raise InvalidInputError(
            f"task: must be 'classification', 'regression', 'segmentation' or 'detection'; got {task!r}"
        )
    if len(dataset) == 0:  # type: ignore[arg-type]
        raise InvalidInputError("evaluate: the dataset is empty")
    first = next(iter(model.parameters()), None)
    dev = torch.device(device) if device is not None else (first.device if first is not None else torch.device("cpu"))
    if task == "detection":
        return _evaluate_detection(model, dataset, batch_size=batch_size, device=dev, num_workers=num_workers)
    precision = create_precision(mixed_precision, dev)
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
    hit_or_abs = torch.zeros((), dtype=torch.float64, device=dev)  # correct predictions, or sum of |error|
    n_samples = n_values = 0
    confusion = None
    for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers):
        x, y = _to_device(x, dev), _target_to_device(y, dev, task)
        with precision.autocast():
            pred = model(x)
        pred = pred.float()
        if task == "segmentation":
            valid = y != IGNORE_INDEX
            loss_sum += nn.functional.cross_entropy(pred, y, ignore_index=IGNORE_INDEX, reduction="sum")
            guess = pred.argmax(dim=1)
            hit_or_abs += (guess[valid] == y[valid]).sum()
            n_values += int(valid.sum())
            k = pred.shape[1]
            counts = torch.bincount(y[valid] * k + guess[valid], minlength=k * k).reshape(k, k)
            confusion = counts if confusion is None else confusion + counts
        elif task == "classification":
            loss_sum += nn.functional.cross_entropy(pred, y, reduction="sum")
            hit_or_abs += (pred.argmax(dim=1) == y).sum()
        else:
            err = pred.reshape(y.shape) - y
            loss_sum += (err * err).sum()
            hit_or_abs += err.abs().sum()
            n_values += err.numel()
        n_samples += len(y)
    model.train(was_training)
    if task == "segmentation":
        assert confusion is not None
        return {"loss": loss_sum.item() / max(1, n_values), "accuracy": hit_or_abs.item() / max(1, n_values),
                "miou": mean_iou(confusion)}  # fmt: skip
    if task == "classification":
        return {"loss": loss_sum.item() / n_samples, "accuracy": hit_or_abs.item() / n_samples}
    mse = loss_sum.item() / n_values
    return {"loss": mse, "mse": mse, "mae": hit_or_abs.item() / n_values}


@torch.no_grad()
def detect(
    model: nn.Module, dataset: Dataset, *, batch_size: int = 16, device: torch.device | None = None,
    num_workers: int = 0,
) -> tuple[list[dict[str, torch.Tensor]], list[dict[str, torch.Tensor]]]:  # fmt: skip
    """(predictions, targets) per image of a torchvision detector in eval mode over `dataset`'s (image, target)
    pairs, on the CPU; labels 1..K as the detector gives them (0 is the background)."""
    from ..data.dense._torch import detection_collate

    was_training = model.training
    model.eval()
    predictions: list[dict[str, torch.Tensor]] = []
    targets: list[dict[str, torch.Tensor]] = []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                        collate_fn=detection_collate)  # fmt: skip
    for images, batch_targets in loader:
        outputs = model(_to_device(images, device) if device is not None else images)
        predictions += [{k: v.cpu() for k, v in out.items()} for out in outputs]
        targets += batch_targets
    model.train(was_training)
    return predictions, targets


def _evaluate_detection(
    model: nn.Module, dataset: Dataset, *, batch_size: int, device: torch.device, num_workers: int
) -> dict[str, float]:
    """COCO mAP@[.5:.95], mAP50 and mAP75 of a torchvision detector's eval-mode boxes (report.dense_metrics; labels
    1..K against the targets' 1..K, class 0 being the background)."""
    predictions, targets = detect(model, dataset, batch_size=batch_size, device=device, num_workers=num_workers)
    return detection_map(predictions, targets)


def detection_map(
    predictions: list[dict[str, torch.Tensor]], targets: list[dict[str, torch.Tensor]]
) -> dict[str, float]:
    """{map, map50, map75} (report.dense_metrics) of a detector's per-image predictions, labels 1..K as the targets';
    nan for a figure with nothing to measure."""
    from ..report.dense_metrics import detection_metrics

    n_classes = 1 + max((int(t["labels"].max()) for t in targets if len(t["labels"])), default=0)
    m = detection_metrics(predictions, targets, [str(c) for c in range(n_classes)])
    return {k: float(v) if isinstance(v, float) else float("nan") for k, v in m.items() if k in DETECTION_LOGGED}


# The figures the engine logs for a detector each epoch (val_map, val_map50, val_map75); map decides the best epoch.
DETECTION_LOGGED = ("map", "map50", "map75")


def mean_iou(confusion: torch.Tensor) -> float:
    """Mean IoU over the classes present in the labels or the predictions, background included (Pascal VOC's
    definition: TP / (TP + FP + FN) per class); `confusion` is rows = true class, columns = predicted."""
    c = confusion.double()
    tp = c.diag()
    union = c.sum(0) + c.sum(1) - tp
    present = union > 0
    return float((tp[present] / union[present]).mean()) if bool(present.any()) else 0.0


def show_training_loop(cfg: TrainConfig | None = None, callbacks: Iterable[Any] = (), *, progress: bool = True) -> str:
    """Print (and return) the loop's outline with the callbacks that run at each event, in order.

    Example:
        >>> _ = show_training_loop(TrainConfig(early_stopping_patience=3))  # doctest: +SKIP
    """
    cfg = cfg or TrainConfig()
    text = describe_loop(CallbackRunner([*default_callbacks(cfg, progress=progress), *callbacks]))
    print(text)
    return text


def create_criterion(cfg: TrainConfig) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Cross-entropy with `label_smoothing` (Szegedy et al. 2016), per pixel for segmentation (pixels labelled 255,
    Pascal VOC's "void", are not scored), or mean squared error for regression."""
    if cfg.task == "classification":
        return nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    if cfg.task == "segmentation":
        ce = nn.CrossEntropyLoss(ignore_index=IGNORE_INDEX, label_smoothing=cfg.label_smoothing)
        if not cfg.dice_weight:
            return ce
        return lambda logits, y: ce(logits, y) + cfg.dice_weight * soft_dice_loss(logits, y)

    def mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.mse_loss(pred.reshape(y.shape).float(), y)  # (B, 1) outputs against (B,) targets

    return mse


def soft_dice_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """1 - mean over classes of the soft Dice 2|P.Y| / (|P| + |Y|), summed over the batch's labelled pixels
    (nnU-Net's batch Dice; Milletari et al. 2016, V-Net, arXiv 1606.04797). Pixels labelled 255 count for nothing."""
    k = logits.shape[1]
    valid = (y != IGNORE_INDEX).unsqueeze(1)
    probs = logits.softmax(1) * valid
    onehot = nn.functional.one_hot(y.clamp(0, k - 1), k).permute(0, 3, 1, 2) * valid
    dims = (0, 2, 3)
    inter, total = (probs * onehot).sum(dims), probs.sum(dims) + onehot.sum(dims)
    return 1 - ((2 * inter + 1) / (total + 1)).mean()


# --- helpers


def _to_device(x: Any, device: torch.device) -> Any:
    if isinstance(x, torch.Tensor):
        return x.to(device, non_blocking=True)
    if isinstance(x, Mapping):  # e.g. tokenised text: {"input_ids": ..., "attention_mask": ...}
        return {k: _to_device(v, device) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_to_device(v, device) for v in x)
    return x


def _target_to_device(y: Any, device: torch.device, task: str) -> Any:
    if task == "detection":  # a list of {"boxes", "labels"} dicts
        return _to_device(y, device)
    y = torch.as_tensor(y).to(device, non_blocking=True)
    if task in ("classification", "segmentation"):
        return y if y.dtype == torch.long else y.long()
    return y if y.dtype == torch.float32 else y.float()


def _track_best(s: FitState) -> None:
    """Is this epoch the best so far? Accuracy on a small validation split ties often (a plateau of equal counts):
    a tie goes to the lower validation loss, so the best checkpoint is the most converged of the tied epochs rather
    than the first (digits, seed 0, epochs counted from 0: epoch 24 tied with epoch 47; test accuracy 98.6% vs 99.4%).
    """
    name, mode = s.cfg.monitor
    value = s.val_metrics[{"val_acc": "accuracy", "val_loss": "loss", "val_miou": "miou", "val_map": "map"}[name]]
    loss = s.val_metrics.get("loss")
    best = s.best_metric
    better = best is None or (value > best if mode == "max" else value < best)
    tie_won = (
        name != "val_loss"
        and value == best
        and loss is not None
        and math.isfinite(loss)
        and (s.best_val_loss is None or loss < s.best_val_loss)
    )
    s.improved = math.isfinite(value) and (better or tie_won)
    if s.improved:
        s.best_metric, s.best_epoch, s.best_val_loss = value, s.epoch, loss


def _resolved_config(
    cfg: TrainConfig, extra: Mapping[str, Any] | None, changes: Iterable[ConfigChange] = ()
) -> dict[str, Any]:
    """`train`: the settings in effect; `changes`: how and why they differ from the plan (see ConfigChange)."""
    reserved = sorted({"train", "changes"} & set(extra or {}))
    if reserved:
        raise InvalidInputError(f"extra_config: {', '.join(reserved)} are written by fit(); use other keys")
    config = {"train": cfg.model_dump(mode="json"), **dict(extra or {})}
    config["changes"] = [c.model_dump(mode="json") for c in changes]
    try:  # checkpoints hold plain values only (weights_only loading), and config.yaml must be plain YAML
        json.dumps(config)
    except TypeError as e:
        raise InvalidInputError(f"extra_config: must hold plain values (str, numbers, lists, dicts); {e}") from None
    return config


def _check_inputs(train_set: Dataset, val_set: Dataset, last_path: Path, resume: bool) -> None:
    for name, ds in (("train_set", train_set), ("val_set", val_set)):
        if ds is not None and not hasattr(ds, "__len__"):
            raise InvalidInputError(f"{name}: must be a map-style Dataset with __len__ (resuming indexes it)")
        if ds is None or len(ds) == 0:  # type: ignore[arg-type]
            raise InvalidInputError(f"{name}: is empty; training needs at least one sample in each split")
    check_run_dir(last_path.parent.parent, resume=resume)


def _resume_changes(ckpt: Mapping[str, Any], cfg: TrainConfig) -> list[ConfigChange]:
    """Check `cfg` against the checkpoint's settings; return the changes recorded during the run, to apply again."""
    saved = ckpt.get("config", {})
    _check_resume(planned_settings(saved), saved.get("train", {}), cfg)
    return recorded_changes(saved)


def _check_resume(planned: Mapping[str, Any], current: Mapping[str, Any], cfg: TrainConfig) -> None:
    """`cfg` must be the settings the run was planned with, except RESUMABLE_CHANGES. A setting that a recorded
    change replaced (say `grad_clip`, turned on by the auto-remedy) may also be given its changed value: either way
    the change is applied again, so the continuation is the same."""
    for key, value in cfg.model_dump(mode="json").items():
        if key in RESUMABLE_CHANGES or key not in planned or value in (planned[key], current.get(key, planned[key])):
            continue
        raise InvalidInputError(
            f"resume: `{key}` is {value!r} but the checkpoint was trained with {planned[key]!r}; "
            f"only {', '.join(sorted(RESUMABLE_CHANGES))} may change on resume"
        )
    if cfg.scheduler == "onecycle" and planned.get("epochs", cfg.epochs) != cfg.epochs:
        raise InvalidInputError("resume: `epochs` cannot change with scheduler 'onecycle' (its cycle is fixed)")


def _check_resume_world(ckpt: Mapping[str, Any], world_size: int) -> None:
    saved = ckpt.get("config", {}).get("distributed", {}).get("world_size", 1)
    if saved != world_size and ckpt.get("progress", {}).get("batches_done", 0):
        raise InvalidInputError(
            f"resume: last.pt was written mid-epoch by {saved} process(es); resume with --nproc {saved} "
            f"(any --nproc works from an epoch boundary)"
        )


def _peak_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB on Linux


def _result(s: FitState, epochs_run: int, last_path: Path) -> FitResult:
    best = RunDir(s.out_dir).best_weights
    cuda = s.device.type == "cuda"
    return FitResult(
        best_val_metric=s.best_metric,
        monitor=s.cfg.monitor[0],
        best_epoch=s.best_epoch,
        final_metrics=dict(s.history[-1]) if s.history else {},
        epochs_run=epochs_run,
        epochs_completed=len(s.history),
        wall_time_s=time.perf_counter() - s.t0,
        peak_rss_mb=_peak_rss_mb(),
        peak_cuda_mb=torch.cuda.max_memory_allocated(s.device) / 2**20 if cuda else None,
        best_checkpoint=best if best.is_file() else None,
        last_checkpoint=last_path,
        history=list(s.history),
        stop_reason=s.stop_reason,
        device=str(s.device),
    )
