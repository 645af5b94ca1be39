"""`RunHistory`: every training log, whatever wrote it, read into one shape that the rules understand.

A history holds `Series` keyed by canonical name and axis. Canonical names (the readers' mapping table turns
`Loss/train`, `train/loss`, `eval_loss`, `lr-AdamW`, ... into these):

    train_loss  val_loss  train_acc  val_acc  lr  grad_norm  grad_norm/<layer>  update_ratio  update_ratio/<layer>
    dead_fraction  dead_fraction/<layer>  saturated_fraction  data_time  batch_time  data_wait_fraction
    samples_per_sec  nonfinite (1.0 where loss/gradients were NaN/Inf)  pred_entropy  pred_majority_fraction
    reward  frac_reward_zero_std (a policy-gradient fine-tune's mean reward and share of groups whose completions all
    scored alike, as TRL's GRPOTrainer logs them)

Anything else is kept under its own name with `known=False` and reported, never dropped. `axis` is "step"
(optimizer steps) or "epoch"; `x` ascends; `y` may hold NaN/Inf (that is evidence, not an error).

`meta` carries what the log says about the run, when it says it: `n_classes`, `task` ("classification" or
"regression"), `scheduler` (the planned schedule name, e.g. "cosine"), `epochs` (planned), `steps_per_epoch`,
`lr` (planned peak), `monitored` (True when live monitors wrote the per-layer series).

Example:
    >>> h = RunHistory(source="metrics.jsonl")
    >>> h.add("train_loss", "epoch", [0, 1, 2], [2.3, 1.1, 0.7])
    >>> h.get("train_loss").last
    0.7
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Axis = Literal["step", "epoch"]

KNOWN_SERIES = (
    "train_loss",
    "val_loss",
    "train_acc",
    "val_acc",
    "lr",
    "grad_norm",
    "update_ratio",
    "dead_fraction",
    "saturated_fraction",
    "data_time",
    "batch_time",
    "data_wait_fraction",
    "samples_per_sec",
    "nonfinite",
    "pred_entropy",
    "pred_majority_fraction",
    "reward",
    "frac_reward_zero_std",
)
# A policy-gradient fine-tune's surrogate loss, kept aside from the loss rules (`readers._policy_loss_aside`).
POLICY_LOSS = "policy_loss"
# Per-layer variants: "<base>/<layer name>".
LAYERED_SERIES = ("grad_norm", "update_ratio", "dead_fraction", "saturated_fraction")


def is_known(name: str) -> bool:
    base, _, layer = name.partition("/")
    return name in KNOWN_SERIES or (bool(layer) and base in LAYERED_SERIES)


def steady_steps_per_epoch(ratios: Iterable[float]) -> int | None:
    """Steps per epoch from per-point estimates of it (steps between two epoch ends over the epochs between them, or a
    step over its fractional epoch): their median, when 80% of them are within 5% of it (the last epoch may be cut
    short, so a few odd ones are allowed), else None."""
    per = sorted(ratios)
    if not per:
        return None
    mid = len(per) // 2
    est = per[mid] if len(per) % 2 else (per[mid - 1] + per[mid]) / 2
    close = sum(abs(p - est) <= 0.05 * est for p in per)
    return round(est) if est >= 1 and close >= 0.8 * len(per) else None


@dataclass
class Series:
    """One metric over time. `x` is the step or epoch number of each value; values may be non-finite."""

    name: str
    axis: Axis
    x: list[float]
    y: list[float]
    source_name: str | None = None  # the name in the original log, when it differed

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise ValueError(f"series {self.name}: {len(self.x)} x values but {len(self.y)} y values")

    def __len__(self) -> int:
        return len(self.y)

    @property
    def known(self) -> bool:
        return is_known(self.name)

    @property
    def last(self) -> float:
        return self.y[-1]

    def finite(self) -> tuple[np.ndarray, np.ndarray]:
        """The points whose value is finite, as float arrays (one vectorised pass: logs run to millions of points)."""
        x, y = np.asarray(self.x, dtype=float), np.asarray(self.y, dtype=float)
        keep = np.isfinite(y)
        return x[keep], y[keep]

    def first_nonfinite(self) -> float | None:
        """x of the first NaN/Inf value, or None."""
        return next((a for a, b in zip(self.x, self.y, strict=True) if not math.isfinite(b)), None)


@dataclass
class RunHistory:
    """All series read from one run, plus what the log says about the run (`meta`) and what went wrong reading."""

    source: str
    series: dict[tuple[str, Axis], Series] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)  # readers that contributed, e.g. ["tensorboard"]

    def add(
        self, name: str, axis: Axis, x: Iterable[float], y: Iterable[float], *, source_name: str | None = None
    ) -> None:
        """Add (or extend) a series; points are kept sorted by x, and a repeated x keeps the later value."""
        new = Series(name, axis, [float(v) for v in x], [float(v) for v in y], source_name)
        old = self.series.get((name, axis))
        if old is not None:
            merged = dict(zip(old.x, old.y, strict=True))
            merged.update(zip(new.x, new.y, strict=True))
            xs = sorted(merged)
            new = Series(name, axis, xs, [merged[v] for v in xs], old.source_name or source_name)
        elif sorted(new.x) != new.x:
            order = sorted(range(len(new.x)), key=new.x.__getitem__)
            new = Series(name, axis, [new.x[i] for i in order], [new.y[i] for i in order], source_name)
        self.series[(name, axis)] = new

    def get(self, name: str, axis: Axis | None = None) -> Series | None:
        """The series `name` on `axis`; with no axis, the epoch series when there is one, else the step series."""
        if axis is not None:
            return self.series.get((name, axis))
        return self.series.get((name, "epoch")) or self.series.get((name, "step"))

    def has(self, name: str, axis: Axis | None = None) -> bool:
        s = self.get(name, axis)
        return s is not None and len(s) > 0

    def layers(self, base: str, axis: Axis = "step") -> dict[str, Series]:
        """Per-layer series of `base` ("grad_norm", "dead_fraction", ...), by layer name."""
        prefix = f"{base}/"
        return {n[len(prefix) :]: s for (n, a), s in self.series.items() if a == axis and n.startswith(prefix)}

    def __iter__(self) -> Iterator[Series]:
        return iter(self.series.values())

    @property
    def names(self) -> list[str]:
        """Every series as `name@axis`, known ones first."""
        keys = sorted(self.series, key=lambda k: (not is_known(k[0]), k[0], k[1]))
        return [f"{n}@{a}" for n, a in keys]

    @property
    def unknown(self) -> list[str]:
        return [f"{n}@{a}" for (n, a) in sorted(self.series) if not is_known(n)]

    @property
    def policy_gradient(self) -> bool:
        """A policy-gradient fine-tune (GRPO, RLOO): its reward is the objective, its loss a surrogate."""
        return any(name == POLICY_LOSS for name, _ in self.series)

    def is_empty(self) -> bool:
        return not any(len(s) for s in self.series.values())
