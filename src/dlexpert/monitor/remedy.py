"""`AutoRemedy` (`--auto-remedy`): act on what the monitors find, and record every action in the run.

- NaN/Inf (from the sentinel): restore the model, its EMA copy and the optimizer state from the last good state,
  cut the learning rate 10x (parameter groups and the schedule's base rates), turn gradient clipping on (max-norm
  1.0), and go on with the next epoch. These are the first two remedies of knowledge/problems.yaml's nan_inf
  entry, in its order. Both settings change through `FitState.request_change`, so the run records them
  (config.yaml `changes`, last.pt) and a `--resume` goes on with them. The last good state is an in-memory copy
  taken at the start and at every epoch end whose validation loss is finite and no higher than the loss the run
  started from (its first batch): an epoch that is finite but already blown up (loss 4000 where it began at 1.1)
  is no place to restart from. After `max_rollbacks` rollbacks the run stops instead.
- Clear overfitting (the `overfitting` rule at severity warning or above): stop early; best.safetensors keeps the
  best epoch.

Each action goes to diagnosis.json `actions`, to metrics.jsonl as a row `{"kind": "action", ...}`, and to the
console.
"""

from __future__ import annotations

import math
from typing import Any

from ..engine.checkpoint import snapshot
from ..engine.config import ConfigChange
from ..engine.events import Callback, CancelEpochException, CancelFitException
from ..engine.optim import scale_lr  # moved to the engine; still exported here
from ..schema.diagnosis import SEVERITY_RANK, Finding
from ._base import is_main, strategy

__all__ = ["AutoRemedy", "scale_lr"]

# knowledge/problems.yaml, nan_inf, its first two solutions: "Reduce learning rate (10x smaller)",
# "Enable gradient clipping (clip_grad_norm=1.0)".
LR_FACTOR = 0.1
CLIP_MAX_NORM = 1.0


def _agree(s: Any, flag: bool) -> bool:
    """Rank 0's decision on every rank (only rank 0 runs the diagnosis); a lone rank that stopped would hang."""
    dist = getattr(s, "dist", None)
    if dist is None or not dist.enabled:
        return flag
    import torch.distributed as tdist

    box = [flag]
    tdist.broadcast_object_list(box, src=0)
    return bool(box[0])


class AutoRemedy(Callback):
    """Rolls back on NaN/Inf (learning rate / 10, gradient clipping on) and stops early on clear overfitting;
    records each action. See the module docstring.

    Example:
        >>> cbs = create_monitors("default", auto_remedy=True)  # the usual way to get one  # doctest: +SKIP
    """

    order = 85  # after the Checkpointer (40) has saved the epoch, before EarlyStopping (90)
    all_ranks = True  # every rank must roll back and stop together

    def __init__(self, doctor: Any, *, max_rollbacks: int = 3, lr_factor: float = LR_FACTOR,
                 clip: float = CLIP_MAX_NORM, stop_on_overfitting: bool = True) -> None:  # fmt: skip
        self.doctor = doctor
        self.max_rollbacks = max_rollbacks
        self.lr_factor = lr_factor
        self.clip = clip
        self.stop_on_overfitting = stop_on_overfitting
        self.n_rollbacks = 0
        self.good: dict[str, Any] | None = None
        self.first_loss: float | None = None  # the run's first finite batch loss (set by the sentinel)

    def __repr__(self) -> str:
        return f"AutoRemedy(max_rollbacks={self.max_rollbacks})"

    def before_fit(self, s: Any) -> None:
        self.supported = strategy(s) != "fsdp"  # sharded states cannot be copied and put back by one rank
        self.n_rollbacks = 0
        if self.supported:
            label = f"the resumed checkpoint (step {s.step})" if s.resumed else "the initial weights"
            self._keep(s, label)

    def after_epoch(self, s: Any) -> None:
        val = s.val_metrics.get("loss", math.nan)
        if self.supported and math.isfinite(val) and (self.first_loss is None or val <= self.first_loss):
            self._keep(s, f"the end of epoch {s.epoch + 1} (step {s.step})")
        if not self.stop_on_overfitting:
            return
        found = self.doctor.finding("overfitting") if is_main(s) else None
        clear = found is not None and SEVERITY_RANK[found.severity] >= SEVERITY_RANK["warning"]
        if not _agree(s, clear):
            return
        best = f"epoch {s.best_epoch + 1} ({s.cfg.monitor[0]} {s.best_metric:.4g})" if s.best_epoch is not None else "-"
        message = f"stopped early on overfitting at epoch {s.epoch + 1}; best.safetensors keeps {best}"
        self.doctor.record_action(s, "early_stop", message=message, reason=found.diagnosis if found else "",
                                  best_epoch=s.best_epoch, best_metric=s.best_metric)  # fmt: skip
        raise CancelFitException(f"auto-remedy: {message}")

    def on_nonfinite(self, s: Any, finding: Finding, *, in_epoch: bool) -> bool:
        """Called by the sentinel. Rolls back and raises CancelEpochException, or returns True when `in_epoch` is
        False (the epoch is over; its checkpoint will hold the restored state). Raises CancelFitException when out
        of rollbacks. Returns False without acting when it cannot (FSDP): the sentinel then stops the run."""
        if not self.supported or self.good is None:
            return False
        if self.n_rollbacks >= self.max_rollbacks:
            message = f"still non-finite after {self.n_rollbacks} rollbacks; stopping the run"
            self.doctor.record_action(s, "stop", message=message, trigger=finding.diagnosis)
            raise CancelFitException(f"auto-remedy: {message} ({finding.diagnosis})")
        good = self.good
        lr_before = s.lr
        s.model.load_state_dict(good["model"])
        if s.ema is not None and good["ema"] is not None:
            s.ema.load_state_dict(good["ema"])
        hyper = [{k: v for k, v in g.items() if k != "params"} for g in s.optimizer.param_groups]
        s.optimizer.load_state_dict(snapshot(good["optimizer"]))  # a copy: the optimizer updates its state in place
        for group, h in zip(s.optimizer.param_groups, hyper, strict=True):
            group.update(h)  # keep the schedule's current position; only the moments and step counts go back
        s.optimizer.zero_grad(set_to_none=True)
        clip = min(s.cfg.grad_clip or self.clip, self.clip)
        # The rates of the optimizer and of the rest of the schedule drop by lr_factor (the loop rescales both).
        settings = {"lr": s.cfg.lr * self.lr_factor, "grad_clip": clip}
        reason = f"rolled back after {finding.diagnosis}"
        s.request_change(ConfigChange(settings=settings, reason=reason, by=type(self).__name__))
        self.n_rollbacks += 1
        message = (f"rolled back to {good['label']} after {finding.diagnosis}; learning rate {lr_before:.3g} -> "
                   f"{s.lr:.3g}; gradient clipping max-norm {clip:g} (rollback {self.n_rollbacks} of "
                   f"{self.max_rollbacks})")  # fmt: skip
        self.doctor.record_action(
            s, "rollback", message=message, trigger=finding.diagnosis, restored=good["label"],
            restored_step=good["step"], lr_before=lr_before, lr_after=s.lr, grad_clip=clip,
        )  # fmt: skip
        if in_epoch:
            raise CancelEpochException(f"auto-remedy: {message}")
        return True

    def _keep(self, s: Any, label: str) -> None:
        state = {"model": s.model.state_dict(), "ema": s.ema.state_dict() if s.ema is not None else None,
                 "optimizer": s.optimizer.state_dict()}  # fmt: skip
        self.good = {**snapshot(state), "label": label, "step": s.step, "epoch": s.epoch}
