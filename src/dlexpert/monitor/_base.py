"""What every live monitor shares: the sampling schedule, the link to the run's `LiveDoctor`, parameter grouping.

Monitors measure only on *sampled* optimizer steps (step 1 and every `every`-th step), so their cost is paid once
per `every` steps; only the loss check of the NaN sentinel and two clock reads of the throughput monitor run on
every batch. Step numbers are the loop's: `s.step` counts finished optimizer steps, so the batch in progress
belongs to step `s.step + 1`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from ..engine.events import Callback
from ..errors import InvalidInputError

if TYPE_CHECKING:
    from .doctor import LiveDoctor

# Sample every 50th optimizer step: the engine's own logging interval (TrainConfig.log_every_steps), so the sampled
# values land in rows the Recorder writes anyway. benchmarks/bench_monitor.py measures the cost at this setting.
DEFAULT_EVERY = 50


def steps_now(s: Any) -> bool:
    """True when the batch in progress ends with an optimizer step (the loop's own condition)."""
    return (s.batch_idx + 1) % s.cfg.accumulation == 0 or s.batch_idx + 1 == s.n_batches


def is_sampled(step: int, every: int) -> bool:
    return step == 1 or step % every == 0


def strategy(s: Any) -> str:
    """The parallel strategy: "none", "ddp" or "fsdp" (the engine's `s.dist`, when it has one)."""
    dist = getattr(s, "dist", None)
    return getattr(dist, "strategy", "none") if dist is not None and dist.enabled else "none"


def is_main(s: Any) -> bool:
    dist = getattr(s, "dist", None)
    return dist is None or dist.is_main


class Monitor(Callback):
    """Base of the live probes. Subclasses put their sampled values into `s.step_extra` (canonical series names of
    `dlexpert.diagnose.history`) before the Recorder (order 10) writes the step's row."""

    order = 5
    name = "monitor"

    def __init__(self, doctor: LiveDoctor, *, every: int) -> None:
        if every < 1:
            raise InvalidInputError(f"monitor `every`: must be a positive number of steps; got {every}")
        self.doctor = doctor
        self.every = every

    def sampling(self, s: Any) -> bool:
        """The batch in progress ends an optimizer step that is sampled."""
        return steps_now(s) and is_sampled(s.step + 1, self.every)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(every={self.every})"


class LayerIndex:
    """A model's trainable floating-point parameters, grouped by the module that owns them ("features.0").

    `per_layer(norms)` turns per-parameter L2 norms into per-layer norms (sqrt of the sum of squares) in one
    `index_add_`, so that a sampled step costs one device-to-host copy, not one per layer.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        layers: dict[str, int] = {}
        self.params: list[torch.Tensor] = []
        owner: list[int] = []
        for pname, p in model.named_parameters():
            if not p.requires_grad or not p.dtype.is_floating_point:
                continue
            layer = pname.rsplit(".", 1)[0] if "." in pname else pname
            owner.append(layers.setdefault(layer, len(layers)))
            self.params.append(p)
        self.names = list(layers)
        self.owner = owner
        self._owner_t: torch.Tensor | None = None

    def owner_tensor(self, device: torch.device) -> torch.Tensor:
        if self._owner_t is None or self._owner_t.device != device:
            self._owner_t = torch.tensor(self.owner, dtype=torch.long, device=device)
        return self._owner_t

    def per_layer(self, norms: list[torch.Tensor], index: list[int] | None = None) -> torch.Tensor:
        """(n_layers,) L2 norm per layer from per-parameter norms (of `params`, or of `params[i] for i in index`)."""
        dev = norms[0].device
        sq = torch.stack([n.float() for n in norms]).square()
        own = self.owner_tensor(dev) if index is None else self.owner_tensor(dev)[torch.tensor(index, device=dev)]
        return torch.zeros(len(self.names), device=dev).index_add_(0, own, sq).sqrt()

    def grad_norms(self, scale: float = 1.0) -> tuple[dict[str, float], float] | None:
        """Per-layer and global L2 norms of the current gradients (divided by `scale`, the fp16 loss scale);
        layers without gradients are left out; None when no parameter has a gradient."""
        index = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not index:
            return None
        grads = [self.params[i].grad for i in index]
        norms = torch._foreach_norm(grads)  # type: ignore[arg-type]
        layer = self.per_layer(list(norms), index)
        present = sorted({self.owner[i] for i in index})
        values = torch.cat([layer[present], layer[present].square().sum().sqrt()[None]]) / scale
        out = values.tolist()  # the one sync of this probe
        return {self.names[j]: v for j, v in zip(present, out, strict=False)}, out[-1]
