"""The NaN/Inf sentinel: stop (or hand over to `AutoRemedy`) the moment training produces a non-finite number.

Checked: the loss of every batch (one scalar read), the gradients on sampled steps (before clipping and before the
optimizer applies them), and at every epoch end the validation loss and the weights, before the Checkpointer runs,
so a NaN state is never written over checkpoints/last.pt or best.safetensors. When the loss is bad, the batch's
forward pass is replayed once with hooks on every module, to name the first layer whose output is non-finite.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ..engine.events import CancelFitException
from ..rundir import RunDir
from ._base import Monitor, is_main, strategy
from ._registry import register_monitor
from .doctor import monitor_finding
from .probes import grad_norms

__all__ = ["NonFiniteSentinel", "locate_nonfinite"]

# A finite loss this large is treated like NaN: AUTOTRAINER (Zhang et al., ICSE 2021, AutoTrainer/utils/monitor.py
# `loss_issue`) calls a loss >= 1e5 diverged; the 1000x-the-first-loss condition (the nan_inf rule's heuristic too)
# keeps a regression on unscaled targets, whose loss starts large, from being called diverged.
DIVERGED_LOSS = 1e5
DIVERGED_FACTOR = 1e3


def _tensors(x: Any) -> list[torch.Tensor]:
    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, dict):
        return [t for v in x.values() for t in _tensors(v)]
    if isinstance(x, (list, tuple)):
        return [t for v in x for t in _tensors(v)]
    return []


def _finite(x: Any) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in _tensors(x) if t.is_floating_point() or t.is_complex())


def locate_nonfinite(model: nn.Module, x: Any, *, autocast: Any = None) -> tuple[str | None, str]:
    """Where a non-finite loss comes from: `(layer name or None, what)`, `what` being "input" (the batch itself),
    "weights" (the layer's parameters already hold NaN/Inf), "output" (the layer made a finite input non-finite),
    "input of" (its input was already non-finite: code between modules produced it) or "loss" (every module's
    output was finite: the loss function made it, e.g. log(0)).

    The forward pass is replayed under no_grad with this batch, the random streams forked (dropout draws do not
    shift the run's) and buffers (batch-norm statistics) put back afterwards.
    """
    if not _finite(x):
        return None, "input"
    for name, p in model.named_parameters():
        if not bool(torch.isfinite(p).all()):
            return name.rsplit(".", 1)[0] if "." in name else name, "weights"
    found: list[tuple[str, str]] = []

    def hook(name: str) -> Any:
        def check(module: nn.Module, inputs: Any, out: Any) -> None:
            if not found and not _finite(out):
                found.append((name, "output" if _finite(inputs) else "input of"))

        return check

    buffers = {k: v.clone() for k, v in model.named_buffers()}
    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if n]
    devices = [p.device.index for p in model.parameters() if p.device.type == "cuda"][:1]
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            if autocast is not None:
                with autocast():
                    model(x)
            else:
                model(x)
    finally:
        for h in handles:
            h.remove()
        with torch.no_grad():
            for k, v in model.named_buffers():
                v.copy_(buffers[k])
    return found[0] if found else (None, "loss")


@register_monitor("nonfinite")
class NonFiniteSentinel(Monitor):
    """NaN/Inf sentinel: the loss every batch, the gradients on sampled steps, the validation loss and the weights
    at every epoch end. On a non-finite value it raises a `nan_inf` finding (severity error, `began_at` the step)
    naming the first layer that produced it, then either hands over to `AutoRemedy` or stops the run cleanly
    (`CancelFitException`), leaving the last good checkpoint as it was.

    Runs on every process of a distributed run (`all_ranks`): the ranks agree on the loss check through one
    all-reduce of a flag, so they stop together.
    """

    order = 2  # first: nothing else should look at, log or save a NaN batch
    all_ranks = True

    def __init__(self, doctor: Any, *, every: int, remedy: Any = None) -> None:
        super().__init__(doctor, every=every)
        self.remedy = remedy

    def before_fit(self, s: Any) -> None:
        self.strategy = strategy(s)
        self.fp16 = s.precision.scaler.is_enabled()  # the GradScaler skips steps with Inf gradients by design
        self.first: float | None = None  # the run's first finite loss, the reference for "diverged"

    def after_loss(self, s: Any) -> None:
        loss = s.loss.detach()
        v = float(loss) if loss.numel() == 1 else float(loss.float().mean())  # the one read per batch
        if self.first is None and math.isfinite(v):
            self.first = abs(v)
            if self.remedy is not None:
                self.remedy.first_loss = self.first
        diverged = math.isfinite(v) and v >= DIVERGED_LOSS and v >= DIVERGED_FACTOR * (self.first or 0.0)
        bad = diverged or not math.isfinite(v)
        if self.strategy != "none":  # the ranks must agree, or one would wait forever in the next all-reduce
            import torch.distributed as dist

            flag = torch.tensor(float(bad), device=loss.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            bad = bool(flag)
        if not bad:
            return
        layer, what = None, "diverged" if diverged else "unknown"
        if not diverged and self.strategy != "fsdp":  # a sharded model cannot run forward on one rank alone
            layer, what = locate_nonfinite(s.model, s.x, autocast=s.precision.autocast)
        value = f"{v:.3g}, over {DIVERGED_FACTOR:g}x the first loss {self.first:.3g}" if diverged else _describe(v)
        self._trip(s, step=s.step + 1, source="loss", value=value, layer=layer, what=what, loss=v)

    def after_backward(self, s: Any) -> None:
        if self.fp16 or self.strategy == "fsdp" or not self.sampling(s):
            return
        norms = grad_norms(s, self.doctor)
        if norms is None or math.isfinite(norms[1]):
            return
        layer = next((n for n, v in norms[0].items() if not math.isfinite(v)), None)
        self._trip(s, step=s.step + 1, source="gradients", value=_describe(norms[1]), layer=layer, what="gradients")

    def after_validate(self, s: Any) -> None:
        val = s.val_metrics.get("loss", 0.0)
        if not math.isfinite(val):  # every rank has rank 0's validation numbers, so they all stop together
            layer, what = (None, "unknown") if self.strategy == "fsdp" else _nonfinite_weights(s.model)
            if what == "ok":  # finite weights: replay the last training batch to find the layer
                layer, what = locate_nonfinite(s.model, s.x, autocast=s.precision.autocast)
                what = "validation data" if what == "loss" else what
            self._trip(s, step=s.step, source="validation loss", value=_describe(val), layer=layer, what=what,
                       in_epoch=False)  # fmt: skip
            return
        if self.strategy == "fsdp":  # sharded weights: each rank would see only its shard and might decide alone
            return
        layer, what = _nonfinite_weights(s.model)
        if what == "weights":
            self._trip(s, step=s.step, source="weights", value="NaN/Inf", layer=layer, what=what, in_epoch=False)

    def _trip(
        self, s: Any, *, step: int, source: str, value: str, layer: str | None, what: str, in_epoch: bool = True,
        loss: float | None = None,
    ) -> None:  # fmt: skip
        where = {
            "input": "the input batch itself holds NaN/Inf",
            "weights": f"the weights of layer '{layer}' are already non-finite",
            "output": f"first produced by layer '{layer}' ({_kind(s.model, layer)}) from a finite input",
            "input of": f"first seen entering layer '{layer}' (made by code between modules)",
            "gradients": f"first in the gradients of layer '{layer}'",
            "loss": "every layer's output was finite: the loss computation produced it",
            "diverged": "the loss is still finite but has blown up (usually a learning rate too high)",
            "validation data": "the weights and the last training batch give finite outputs: check the validation data",
        }.get(what, "the layer could not be located")
        finding = monitor_finding(
            "nan_inf", severity="error", step=step, rule="monitor.nonfinite",
            diagnosis=f"{'diverged' if what == 'diverged' else 'non-finite'} {source} ({value}) at step {step} "
                      f"(epoch {s.epoch + 1}); {where}",
            evidence={"step": step, "epoch": s.epoch, "batch": s.batch_idx, "source": source, "value": value,
                      "layer": layer, "where": what, "lr": s.lr},
        )  # fmt: skip
        if is_main(s):
            row = {"nonfinite": 1.0} if loss is None else {"train_loss": loss, "nonfinite": 1.0}
            self.doctor.event_row(s, row, step=step)
            self.doctor.report(s, finding)
        s.step_extra.clear()  # values sampled for this step must not land in a later row
        if self.remedy is not None and self.remedy.on_nonfinite(s, finding, in_epoch=in_epoch):
            return  # rolled back at an epoch end: the Checkpointer will save the restored state
        last = RunDir(s.out_dir).last_checkpoint
        kept = f"{last} still holds the last good state" if last.exists() else "no checkpoint had been written yet"
        message = (
            f"stopped: {finding.diagnosis}; training on would only produce garbage. {kept}; see diagnosis.json, "
            "or rerun with --auto-remedy to roll back, cut the learning rate and clip gradients"
        )
        if is_main(s):
            self.doctor.say(message, style="bold red")
        raise CancelFitException(message)


def _describe(value: Any) -> str:
    v = float(value.float().sum()) if isinstance(value, torch.Tensor) else float(value)
    return "NaN" if math.isnan(v) else "+Inf" if v > 0 else "-Inf"


def _kind(model: nn.Module, layer: str | None) -> str:
    try:
        return type(model.get_submodule(layer)).__name__ if layer else "?"
    except AttributeError:
        return "?"


def _nonfinite_weights(model: nn.Module) -> tuple[str | None, str]:
    """The first layer whose parameters hold NaN/Inf (one sync for the whole model)."""
    params = [(n, p) for n, p in model.named_parameters() if p.dtype.is_floating_point]
    if not params:
        return None, "ok"
    with torch.no_grad():
        finite = torch.stack([torch.isfinite(p).all() for _, p in params])
    if bool(finite.all()):
        return None, "ok"
    name = params[int((~finite).nonzero()[0])][0]
    return (name.rsplit(".", 1)[0] if "." in name else name), "weights"
