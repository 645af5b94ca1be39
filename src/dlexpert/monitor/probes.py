"""The measuring monitors: gradient norms, update/weight ratio, dead and saturated units, predictions, throughput and
data wait, and the learning rate against its planned schedule.

Each writes canonical series (see `dlexpert.diagnose.history`) into the step's metrics row on sampled steps:
`grad_norm/<layer>`, `update_ratio`, `update_ratio/<layer>`, `dead_fraction(/<layer>)`,
`saturated_fraction(/<layer>)`, `pred_entropy` and `pred_majority_fraction` (of the predicted-class histogram),
`data_time`, `batch_time`, `data_wait_fraction`. `<layer>` is the module that owns the parameters or activation
("features.0").
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import torch
from torch import nn

from ._base import Monitor, is_sampled, strategy
from ._registry import register_monitor
from .doctor import monitor_finding

__all__ = [
    "ActivationMonitor",
    "GradNormMonitor",
    "LRScheduleMonitor",
    "PredictionMonitor",
    "ThroughputMonitor",
    "UpdateRatioMonitor",
]

# A unit is dead when it is active (> 0) on less than 1% of the batch: SageMaker Debugger's DeadRelu rule default
# (threshold_inactivity 1.0%; https://docs.aws.amazon.com/sagemaker/latest/dg/debugger-built-in-rules.html).
DEAD_ACTIVE_BELOW = 0.01
# Sigmoid/tanh outputs this close to their bounds pass gradients below ~1% of the maximum (sigmoid'(x) < 0.0099,
# tanh'(x) < 0.02): the saturated regime of Glorot & Bengio 2010, "Understanding the difficulty of training deep
# feedforward neural networks", section 3.
SATURATION_MARGIN = 0.01
# A learning rate read from the optimizer that has not moved while the planned schedule moved by more than this
# (relative) means the scheduler is not being stepped (knowledge/problems.yaml, lr_not_decaying).
LR_PLANNED_CHANGE = 0.02


@register_monitor("grad_norm")
class GradNormMonitor(Monitor):
    """Per-layer gradient L2 norms (`grad_norm/<layer>`) before clipping, on sampled steps. The whole-model
    `grad_norm` is the Recorder's."""

    def before_fit(self, s: Any) -> None:
        self.enabled = strategy(s) != "fsdp"  # sharded gradients: the per-layer norms would be a shard's

    def after_backward(self, s: Any) -> None:
        if not (self.enabled and self.sampling(s)):
            return
        norms = grad_norms(s, self.doctor)
        if norms is not None:
            s.step_extra.update({f"grad_norm/{k}": v for k, v in norms[0].items()})


def grad_norms(s: Any, doctor: Any) -> tuple[dict[str, float], float] | None:
    """Per-layer and global gradient norms of the batch in progress, computed once per step for every monitor that
    asks (pre-clip, and divided by the fp16 loss scale)."""
    key = (s.epoch, s.step + 1, s.batch_idx)  # a rolled-back run repeats step numbers, never epochs
    cached = getattr(doctor, "_grad_cache", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    scaler = s.precision.scaler
    scale = float(scaler.get_scale()) if scaler.is_enabled() else 1.0
    out = doctor.layers(s).grad_norms(scale)
    doctor._grad_cache = (key, out)
    return out


@register_monitor("update_ratio")
class UpdateRatioMonitor(Monitor):
    """How far one optimizer step moves the weights: ||w_after - w_before|| / ||w_after||, per layer and for the
    whole model, on sampled steps (Karpathy's ~1e-3 rule of thumb: CS231n notes, "ratio of weights:updates").
    Costs one copy of the weights on sampled steps."""

    def before_fit(self, s: Any) -> None:
        self.enabled = strategy(s) != "fsdp"
        self.saved: list[torch.Tensor] | None = None

    def after_backward(self, s: Any) -> None:
        if self.enabled and self.sampling(s):
            with torch.no_grad():
                self.saved = list(torch._foreach_mul(self.doctor.layers(s).params, 1.0))  # a copy, one fused call

    def after_step(self, s: Any) -> None:
        if self.saved is None:
            return
        saved, self.saved = self.saved, None
        layers = self.doctor.layers(s)
        with torch.no_grad():
            torch._foreach_sub_(saved, layers.params)  # saved := w_before - w_after, in place
            delta = layers.per_layer(list(torch._foreach_norm(saved)))
            weight = layers.per_layer(list(torch._foreach_norm(layers.params)))
            whole = delta.square().sum().sqrt() / weight.square().sum().sqrt().clamp_min(1e-12)
            values = torch.cat([delta / weight.clamp_min(1e-12), whole[None]]).tolist()
        s.step_extra.update({f"update_ratio/{n}": v for n, v in zip(layers.names, values, strict=False)})
        s.step_extra["update_ratio"] = values[-1]


def _activation_kind(m: nn.Module) -> str | None:
    if isinstance(m, (nn.ReLU, nn.ReLU6)):  # ReLU6 is a Hardtanh, but its failure mode is the dead one
        return "dead"
    if isinstance(m, (nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardsigmoid)):
        return "saturated"
    return None


@register_monitor("activations")
class ActivationMonitor(Monitor):
    """Dead ReLU units (`dead_fraction`: units active on less than 1% of the batch) and saturated sigmoid/tanh
    outputs (`saturated_fraction`), per activation module and for the model, through forward hooks that exist
    only during the forward pass of sampled steps. Activations written as functions (F.relu) are not seen."""

    def before_fit(self, s: Any) -> None:
        self.modules = [(n, m, k) for n, m in s.model.named_modules() if (k := _activation_kind(m)) is not None]
        self.handles: list[Any] = []
        # name -> (count, [total]), summed over the calls (a module, e.g. a shared ReLU, may run several times)
        self.stats: dict[str, tuple[torch.Tensor, list[int]]] = {}
        self.kinds = {n: k for n, _, k in self.modules}

    def before_batch(self, s: Any) -> None:
        self._remove()
        if self.modules and self.sampling(s):
            self.handles = [m.register_forward_hook(self._hook(n, k)) for n, m, k in self.modules]

    def _hook(self, name: str, kind: str) -> Any:
        def hook(module: nn.Module, inputs: Any, out: Any) -> None:
            if not isinstance(out, torch.Tensor) or out.numel() == 0:
                return
            y = out.detach()
            if kind == "dead":
                # Units: features of (B, F), channels of (B, C, ...) (PyTorch's NC... layout); no copy is made.
                dims = [d for d in range(y.ndim) if d != 1] if y.ndim > 1 else [0]
                per_unit = y.numel() // (y.shape[1] if y.ndim > 1 else 1)
                active = (y > 0).sum(dim=dims)  # (units,) how many positions each unit fired on
                count, total = (active < DEAD_ACTIVE_BELOW * per_unit).sum(), active.numel()
            else:
                lo, hi = _bounds(module)
                m = SATURATION_MARGIN * (hi - lo) / 2
                count, total = ((y <= lo + m) | (y >= hi - m)).sum(), y.numel()
            acc = self.stats.setdefault(name, (torch.zeros((), device=y.device), [0]))
            acc[0].add_(count)
            acc[1][0] += total

        return hook

    def after_loss(self, s: Any) -> None:
        self._remove()

    def after_step(self, s: Any) -> None:
        if not self.stats:
            return
        stats, self.stats = self.stats, {}
        names = list(stats)
        counts = torch.stack([stats[n][0].float() for n in names]).tolist()
        for kind, series in (("dead", "dead_fraction"), ("saturated", "saturated_fraction")):
            picked = [(n, c, stats[n][1][0]) for n, c in zip(names, counts, strict=True) if self.kinds[n] == kind]
            if not picked:
                continue
            s.step_extra.update({f"{series}/{n}": c / t for n, c, t in picked})
            s.step_extra[series] = sum(c for _, c, _ in picked) / max(1, sum(t for _, _, t in picked))

    def after_fit(self, s: Any) -> None:
        self._remove()

    def _remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []


def _bounds(m: nn.Module) -> tuple[float, float]:
    if isinstance(m, nn.Tanh):
        return -1.0, 1.0
    if isinstance(m, nn.Hardtanh):
        return float(m.min_val), float(m.max_val)
    return 0.0, 1.0  # Sigmoid, Hardsigmoid


@register_monitor("predictions")
class PredictionMonitor(Monitor):
    """What the model predicts on the training batch of sampled steps (classification): `pred_entropy`, the entropy
    (nats) of the histogram of predicted classes (ln(n_classes) when every class is predicted equally often, 0 when
    one class is predicted for everything), and `pred_majority_fraction`, the share of the batch given the most
    frequent class. The `constant_prediction` rule reads both."""

    def before_fit(self, s: Any) -> None:
        self.enabled = s.cfg.task == "classification"
        self.values: torch.Tensor | None = None

    def after_loss(self, s: Any) -> None:
        pred = s.pred
        if not (self.enabled and self.sampling(s)) or not isinstance(pred, torch.Tensor) or pred.ndim != 2:
            return
        with torch.no_grad():
            counts = torch.bincount(pred.detach().argmax(dim=1), minlength=pred.shape[1])  # (C,)
            share = counts.float() / pred.shape[0]
            entropy = -(share * share.clamp_min(1e-12).log()).sum()
            self.values = torch.stack([entropy, share.max()])

    def after_step(self, s: Any) -> None:
        if self.values is not None:
            entropy, majority = self.values.tolist()
            self.values = None
            s.step_extra.update(pred_entropy=entropy, pred_majority_fraction=majority)


@register_monitor("throughput")
class ThroughputMonitor(Monitor):
    """Time per batch (`batch_time`), the part of it spent waiting for the data loader (`data_time`), and their
    ratio (`data_wait_fraction`), averaged over the batches since the previous sample. Two clock reads per batch.
    Waiting for data is the time from the end of one batch to the start of the next. The first batch of each epoch
    counts its compute only: the loop builds the epoch's DataLoader and starts its iterator (and worker processes)
    after `before_epoch`, a once-per-epoch set-up that is not the steady-state wait the ratio stands for (and in a
    short epoch of a few batches it would dominate it). On a GPU the clock sees the host side only."""

    def before_fit(self, s: Any) -> None:
        self.mark: float | None = time.perf_counter()
        self.data = self.total = 0.0
        self.n = 0

    def before_epoch(self, s: Any) -> None:
        self.mark = None  # the epoch's first wait (loader construction, iterator and worker start-up) is not counted

    def before_batch(self, s: Any) -> None:
        now = time.perf_counter()
        if self.mark is None:
            self.mark = now
        else:
            self.data += now - self.mark

    def after_batch(self, s: Any) -> None:
        now = time.perf_counter()
        self.total += now - (self.mark if self.mark is not None else now)
        self.mark = now
        self.n += 1

    def after_step(self, s: Any) -> None:
        if not is_sampled(s.step, self.every) or self.mark is None:
            return
        current = time.perf_counter() - self.mark  # the batch in progress, its data wait included, counts in full
        total, n = self.total + current, self.n + 1
        s.step_extra.update(data_time=self.data / n, batch_time=total / n, data_wait_fraction=self.data / total)
        # Start the next window now: after_batch adds this batch's remaining tail, which the next window keeps.
        self.data, self.total, self.n = 0.0, -current, -1


@register_monitor("lr_schedule")
class LRScheduleMonitor(Monitor):
    """The learning rate read from the optimizer against the planned schedule (`cfg.scheduler`), replayed on a
    one-parameter optimizer: when the plan says the rate should have moved by more than 2% but the optimizer's has
    not moved at all, the scheduler is not being stepped (a forgotten `scheduler.step()`): finding
    `lr_not_decaying`. Not run for "plateau", whose changes depend on the validation loss."""

    def before_fit(self, s: Any) -> None:
        from ..engine.optim import create_scheduler

        self.shadow: Any = None
        self.flagged = False
        if s.cfg.scheduler == "plateau":
            return
        steps_per_epoch = math.ceil(s.n_batches / s.cfg.accumulation)
        self.total = s.cfg.epochs * steps_per_epoch
        self.opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=s.cfg.lr, momentum=0.9)
        self.opt.step()  # no gradients: a no-op that keeps PyTorch from warning about the order of step() calls
        self.shadow = create_scheduler(self.opt, s.cfg, steps_per_epoch=steps_per_epoch)
        self.shadow_step = 0
        self.planned: list[float] = []
        self.actual: list[float] = []

    def after_step(self, s: Any) -> None:
        if self.shadow is None or self.flagged or not is_sampled(s.step, self.every) or s.step > self.total:
            return
        self._advance(s.step)
        planned, actual = self.opt.param_groups[0]["lr"], s.lr
        self.planned.append(planned)
        self.actual.append(actual)
        moved = max(self.planned) / max(min(self.planned), 1e-30) - 1
        if moved > LR_PLANNED_CHANGE and max(self.actual) == min(self.actual):
            self.flagged = True
            name = s.cfg.scheduler
            self.doctor.report(s, monitor_finding(
                "lr_not_decaying", severity="warning", step=s.step, rule="monitor.lr_schedule",
                diagnosis=(
                    f"the learning rate has stayed at {actual:.3g} for {s.step} steps although the planned "
                    f"'{name}' schedule should have moved it by {100 * moved:.0f}% by now (planned {planned:.3g}): "
                    "the scheduler is not being stepped"
                ),
                evidence={"planned_scheduler": name, "lr": actual, "planned_lr": planned, "step": s.step,
                          "planned_steps": self.total, "samples": len(self.actual)},
            ))  # fmt: skip

    def _advance(self, step: int) -> None:
        """Bring the replayed schedule to `step` optimizer steps. Closed-form schedules jump there directly."""
        from torch.optim.lr_scheduler import LambdaLR, OneCycleLR

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if isinstance(self.shadow, (LambdaLR, OneCycleLR)):
                self.shadow.last_epoch = step - 1
                self.shadow.step()
            else:
                while self.shadow_step < step:
                    self.shadow.step()
                    self.shadow_step += 1
        self.shadow_step = step
