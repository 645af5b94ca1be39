"""The callbacks every run has: metrics.jsonl, TensorBoard, a progress bar, checkpoints, and early stopping.

Each is a plain object with an `order` and handlers named after events (see `events.EVENTS`). They do no file
work in `__init__`, so `show_training_loop()` can build them without touching the disk.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from typing import Any

import torch

from .._io import atomic_write_text
from ..rundir import RunDir
from .checkpoint import capture_state, save_checkpoint, save_weights, snapshot
from .config import TrainConfig
from .events import Callback, CancelFitException
from .state import FitState

__all__ = ["Checkpointer", "EarlyStopping", "ProgressBar", "Recorder", "TensorBoardLogger", "default_callbacks"]

STEP_KEYS = ("train_loss", "lr", "grad_norm", "samples_per_sec")


def _grad_norm(model: torch.nn.Module) -> float:
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0


class Recorder(Callback):
    """Writes metrics.jsonl: a "step" row on step 1 and every `log_every_steps` optimizer steps, an "epoch" row per
    epoch. Rows are appended and flushed as they happen, so a killed run keeps what it logged.

    Step rows: kind, epoch, step, train_loss (mean since the previous row), lr, grad_norm, time, samples_per_sec,
    and whatever callbacks put in `s.step_extra` (the live monitors' values; a step with such values is logged too).
    Epoch rows add the validation metrics (val_loss and val_acc, or val_loss/val_mse/val_mae for regression) and
    grad_norm at the epoch's last step. The loop's `.item()` syncs happen only here, on logged steps.
    """

    order = 10

    def before_fit(self, s: FitState) -> None:
        path = s.out_dir / RunDir.METRICS
        if s.resumed and path.exists():  # drop rows from after the checkpoint: the resumed run writes them again
            keep = [ln for ln in path.read_text(encoding="utf-8").splitlines() if _row_step(ln) <= s.step]
            atomic_write_text(path, "".join(f"{ln}\n" for ln in keep))
        elif not s.resumed:
            atomic_write_text(path, "")
        self.file = path.open("a", encoding="utf-8")

    def before_epoch(self, s: FitState) -> None:
        self.mark = (float(s.loss_sum), s.n_loss, s.n_seen, time.perf_counter())
        self.last_norm: float | None = None

    def after_step(self, s: FitState) -> None:
        logged = s.step == 1 or s.step % s.cfg.log_every_steps == 0 or bool(s.step_extra)  # extra: monitor values
        if not logged and s.batch_idx + 1 < s.n_batches:
            s.step_row = None
            return
        norm = float(s.grad_norm) if s.grad_norm is not None else _grad_norm(s.model)
        self.last_norm = norm
        if not logged:  # the epoch's last step: measured for the epoch row only
            s.step_row = None
            return
        loss_sum, now = float(s.loss_sum), time.perf_counter()
        sum0, n0, seen0, t0 = self.mark
        self.mark = (loss_sum, s.n_loss, s.n_seen, now)
        s.step_row = {
            "kind": "step",
            "epoch": s.epoch,
            "step": s.step,
            "train_loss": (loss_sum - sum0) / max(1, s.n_loss - n0),
            "lr": s.lr,
            "grad_norm": norm,
            "time": round(s.elapsed(), 3),
            "samples_per_sec": (s.n_seen - seen0) / max(now - t0, 1e-9),
            **s.step_extra,
        }
        s.step_extra = {}
        self._write(s.step_row)

    def after_validate(self, s: FitState) -> None:
        s.epoch_metrics["grad_norm"] = self.last_norm

    def after_epoch(self, s: FitState) -> None:
        self._write({"kind": "epoch", **s.epoch_metrics})

    def after_fit(self, s: FitState) -> None:
        if hasattr(self, "file"):
            self.file.close()

    def _write(self, row: dict[str, Any]) -> None:
        self.file.write(json.dumps(row) + "\n")
        self.file.flush()


def _row_step(line: str) -> float:
    try:
        return float(json.loads(line).get("step", 0))
    except (ValueError, AttributeError):
        return float("inf")  # a torn last line from a crash: drop it


class TensorBoardLogger(Callback):
    """Scalars in `out_dir/tb/`: `step/*` on logged steps, `epoch/*` per epoch, all against the optimizer step."""

    order = 20

    def before_fit(self, s: FitState) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is in the `train` extra; without it the run goes on with metrics.jsonl
            warnings.warn("tensorboard is not installed; no tb/ event files (pip install tensorboard)", stacklevel=2)
            self.writer = None
            return
        # On resume, drop events written after the checkpoint's step (TensorBoard's own mechanism for restarts).
        purge = s.step + 1 if s.resumed else None
        self.writer = SummaryWriter(log_dir=str(s.out_dir / RunDir.TENSORBOARD), purge_step=purge)

    def after_step(self, s: FitState) -> None:
        if self.writer is not None and s.step_row is not None:
            for k in STEP_KEYS:
                self.writer.add_scalar(f"step/{k}", s.step_row[k], s.step)
            for k, v in s.step_row.items():  # whole-model values the live monitors added; per-layer ones ("a/b") not
                if k not in STEP_KEYS and k not in ("kind", "epoch", "step", "time") and "/" not in k:
                    self.writer.add_scalar(f"step/{k}", v, s.step)

    def after_epoch(self, s: FitState) -> None:
        if self.writer is None:
            return
        for k, v in s.epoch_metrics.items():
            if k not in ("epoch", "step") and isinstance(v, (int, float)):
                self.writer.add_scalar(f"epoch/{k}", v, s.step)
        self.writer.flush()

    def after_fit(self, s: FitState) -> None:
        writer = getattr(self, "writer", None)
        if writer is not None:
            writer.close()


class ProgressBar(Callback):
    """A rich progress bar on standard error: batches of this epoch, elapsed, ETA, and the latest loss/metrics."""

    order = 30

    def before_fit(self, s: FitState) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
            console=Console(stderr=True), transient=True,
        )  # fmt: skip
        self.progress.start()
        self.task = self.progress.add_task("", total=s.n_batches, info="")

    def before_epoch(self, s: FitState) -> None:
        desc = f"epoch {s.epoch + 1}/{s.cfg.epochs}"
        self.progress.reset(self.task, total=s.n_batches, completed=s.batches_done, description=desc)

    def after_batch(self, s: FitState) -> None:
        self.progress.advance(self.task)

    def after_step(self, s: FitState) -> None:
        if s.step_row is not None:
            self.progress.update(self.task, info=f"loss {s.step_row['train_loss']:.4f}")

    def after_epoch(self, s: FitState) -> None:
        m = s.epoch_metrics
        vals = "  ".join(f"{k} {v:.4g}" for k, v in m.items() if k.startswith(("train_", "val_")) and v is not None)
        self.progress.console.print(f"epoch {s.epoch + 1}/{s.cfg.epochs}  {vals}  ({m['time']:.1f} s)")

    def after_fit(self, s: FitState) -> None:
        if hasattr(self, "progress"):
            self.progress.stop()


class Checkpointer(Callback):
    """After every epoch: checkpoints/last.pt (full state), best.safetensors when the monitored metric improved
    (the validated weights: EMA when on), and epoch_NNN.pt every `checkpoint_every_epochs` epochs.

    The state is snapshotted to CPU memory here and written on the background `s.writer`; the previous epoch's
    writes are waited for first, so at most one epoch of checkpoints is in flight and a write error surfaces.
    """

    order = 40

    def after_epoch(self, s: FitState) -> None:
        from .distributed import model_state

        if not s.dist.is_main and s.dist.strategy != "fsdp":
            return  # rank 0 writes; under FSDP every rank takes part in gathering the full state first
        s.writer.wait()
        run = RunDir(s.out_dir)
        state = snapshot(capture_state(s))
        best = snapshot(model_state(s.eval_model, s.dist)) if s.improved else None
        if not s.dist.is_main:
            return
        s.writer.submit(save_checkpoint, run.last_checkpoint, state)
        if best is not None:
            meta = {"epoch": str(s.epoch), "step": str(s.step), s.cfg.monitor[0]: repr(s.best_metric)}
            s.writer.submit(save_weights, run.best_weights, best, meta)
        every = s.cfg.checkpoint_every_epochs
        if every and (s.epoch + 1) % every == 0:
            s.writer.submit(save_checkpoint, run / RunDir.CHECKPOINTS / f"epoch_{s.epoch + 1:03d}.pt", state)


class EarlyStopping(Callback):
    """Stop when the monitored validation metric has not improved for `patience` epochs.

    Stateless (it reads `best_epoch` from the state), so a resumed run stops exactly where the uninterrupted one would.
    """

    order = 90  # after the Checkpointer: the last epoch is saved before stopping

    def __init__(self, patience: int) -> None:
        self.patience = patience

    def after_epoch(self, s: FitState) -> None:
        if s.best_epoch is not None and s.epoch - s.best_epoch >= self.patience:
            name = s.cfg.monitor[0]
            raise CancelFitException(
                f"early stopping: {name} has not improved for {self.patience} epochs "
                f"(best {s.best_metric:.4g} at epoch {s.best_epoch + 1})"
            )


def default_callbacks(cfg: TrainConfig, *, progress: bool | None = None, main: bool = True) -> list[Any]:
    """The standard set. `progress=None` shows the bar only when standard error is a terminal. Ranks other than 0
    (`main=False`) log nothing; they keep the Checkpointer (FSDP gathers on every rank) and early stopping."""
    show = sys.stderr.isatty() if progress is None else progress
    cbs: list[Any] = [Recorder(), TensorBoardLogger(), Checkpointer()] if main else [Checkpointer()]
    if show and main:
        cbs.append(ProgressBar())
    if cfg.early_stopping_patience:
        cbs.append(EarlyStopping(cfg.early_stopping_patience))
    return cbs
