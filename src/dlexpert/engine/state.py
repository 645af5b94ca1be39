"""`FitState`, what callbacks see and may read (and, sparingly, extend), and `FitResult`, what `fit()` returns."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import CheckpointWriter
from .config import ConfigChange, TrainConfig, write_config
from .distributed import DistInfo
from .ema import ModelEma
from .optim import scale_lr
from .precision import Precision

__all__ = ["FitResult", "FitState"]


@dataclass
class FitState:
    """Everything the loop knows, passed to every callback handler.

    Callbacks read it; the supported writes are adding entries to `epoch_metrics` in `after_validate` (they go to
    metrics.jsonl, TensorBoard and the history), changing settings with `request_change` (never by assigning
    `cfg`), and raising the Cancel* exceptions. Tensors like `loss` are not synchronised to Python floats by the
    loop; call `.item()` only when you need the number (it costs a GPU sync).
    """

    cfg: TrainConfig  # the settings in effect: the planned ones with the `ConfigChange`s applied so far
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any  # LRScheduler | ReduceLROnPlateau
    precision: Precision
    ema: ModelEma | None
    device: torch.device
    out_dir: Path
    config: dict[str, Any]  # the resolved config, as written to config.yaml and every checkpoint
    n_batches: int  # batches per epoch
    resumed: bool = False
    train_model: nn.Module | None = None  # what forward runs on: `model`, or its DDP wrapper (set by fit)
    dist: DistInfo = field(default_factory=DistInfo)  # rank and world size; one process by default
    # --- position; `epoch` is 0-based, `step` counts optimizer steps over the whole run
    epoch: int = 0
    step: int = 0
    batch_idx: int = 0
    batches_done: int = 0  # batches of this epoch already folded into an optimizer step
    epoch_complete: bool = False
    # --- current batch (set in the batch loop)
    x: Any = None
    y: Any = None
    pred: Any = None
    loss: Any = None
    grad_norm: torch.Tensor | None = None  # pre-clip global L2 norm; only computed when clipping is on
    step_row: dict[str, Any] | None = None  # the metrics row the Recorder logged at this step, else None
    # Values for this step's metrics row from callbacks that run before the Recorder (order < 10) in after_step,
    # e.g. the live monitors (dlexpert.monitor): the Recorder logs a row when it is non-empty, then clears it.
    step_extra: dict[str, float] = field(default_factory=dict)
    # --- running sums for this epoch (tensors: adding them costs no sync)
    loss_sum: torch.Tensor = field(default_factory=lambda: torch.zeros(()))
    loss_parts: dict[str, torch.Tensor] = field(default_factory=dict)  # detection: each loss term's sum this epoch
    n_loss: int = 0
    n_seen: int = 0
    epoch_t0: float = 0.0
    # --- results
    val_metrics: dict[str, float] = field(default_factory=dict)
    epoch_metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    best_metric: float | None = None
    best_epoch: int | None = None
    best_val_loss: float | None = None  # breaks ties of the monitored accuracy (see loop._track_best)
    improved: bool = False
    stop_reason: str | None = None
    writer: CheckpointWriter = field(default_factory=CheckpointWriter)
    # --- time: `elapsed()` includes the time of earlier sessions of a resumed run
    t0: float = field(default_factory=time.perf_counter)
    elapsed_before: float = 0.0

    @property
    def eval_model(self) -> nn.Module:
        """The weights that are validated and saved as best: the EMA copy when EMA is on."""
        return self.ema.module if self.ema is not None else self.model

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def elapsed(self) -> float:
        return self.elapsed_before + time.perf_counter() - self.t0

    def request_change(self, change: ConfigChange) -> ConfigChange:
        """Change training settings from now on, and record the change so that it survives `--resume`.

        A new `lr` rescales the optimizer's rates and the rest of the schedule by new/old (the schedule keeps its
        shape); a new `grad_clip` applies from the next optimizer step. The change, stamped with the epoch, step and
        the values it replaced, is appended to `config["changes"]`, `config["train"]` becomes the settings in effect,
        and config.yaml is rewritten (by rank 0); the next checkpoint holds both. With several processes every rank
        must make the same request (a callback with `all_ranks = True`), or the ranks would train differently.

        Example:
            >>> change = ConfigChange(settings={"grad_clip": 1.0}, reason="the loss became NaN", by="MyMonitor")
            >>> s.request_change(change).before  # doctest: +SKIP
            {'grad_clip': None}
        """
        cfg = change.apply(self.cfg)
        before = {k: getattr(self.cfg, k) for k in change.settings}
        done = change.model_copy(update={"epoch": self.epoch, "step": self.step, "before": before})
        if cfg.lr != self.cfg.lr:
            scale_lr(self.optimizer, self.scheduler, cfg.lr / self.cfg.lr)
        self.cfg = cfg
        self.config["train"] = cfg.model_dump(mode="json")
        self.config["changes"] = [*self.config.get("changes", []), done.model_dump(mode="json")]
        if self.dist.is_main:
            write_config(self.out_dir, self.config)
        return done


@dataclass(frozen=True)
class FitResult:
    """What `fit()` returns. `history` holds one dict per epoch, the same rows as metrics.jsonl's epoch rows."""

    best_val_metric: float | None
    monitor: str  # e.g. "val_acc" (higher is better) or "val_loss" (lower is better)
    best_epoch: int | None  # 0-based
    final_metrics: dict[str, Any]
    epochs_run: int  # epochs trained by this call (a resumed run counts only its own)
    epochs_completed: int  # epochs in the run so far, earlier sessions included
    wall_time_s: float
    peak_rss_mb: float  # the process's max resident set size (resource.getrusage)
    peak_cuda_mb: float | None  # torch.cuda.max_memory_allocated during this call, on CUDA
    best_checkpoint: Path | None
    last_checkpoint: Path
    history: list[dict[str, Any]]
    stop_reason: str | None  # why training ended before `epochs` (early stopping, a callback), else None
    device: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("best_checkpoint", "last_checkpoint"):
            d[k] = str(d[k]) if d[k] is not None else None
        return d
