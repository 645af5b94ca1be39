"""Live monitors: probes written as engine callbacks that watch a run while it trains, and act on what they see.

    create_monitors("default", every=50)      # -> callbacks for fit(): the LiveDoctor hub and the monitors
    create_monitors(..., auto_remedy=True)    # plus AutoRemedy: roll back on NaN/Inf, stop on clear overfitting

Monitors measure on sampled optimizer steps (step 1 and every `every`-th), writing canonical series into the step
rows of metrics.jsonl: per-layer gradient norms, update/weight ratio, dead-ReLU and saturated fractions, prediction
entropy, data-wait fraction; the NaN/Inf sentinel checks the loss of every batch. The `LiveDoctor` feeds what they
and the Recorder logged to the online rules of `dlexpert.diagnose`, prints new findings once, and keeps
RUN_DIR/diagnosis.json current. `dlexpert train` and `dlexpert run` turn the default set on (`--no-monitor` turns
it off, `--auto-remedy` adds AutoRemedy).

Example:
    >>> from dlexpert.monitor import create_monitors, list_monitors
    >>> list_monitors()  # doctest: +SKIP
    ['grad_norm', 'update_ratio', 'activations', 'predictions', 'throughput', 'lr_schedule', 'nonfinite']
    >>> fit(model, train_set=tr, val_set=va, cfg=cfg, out_dir="runs/a", callbacks=create_monitors())  # doctest: +SKIP
"""

from __future__ import annotations

from ._base import DEFAULT_EVERY, LayerIndex, Monitor
from ._registry import MonitorEntry, create_monitors, get_monitor, list_monitors, register_monitor
from .doctor import LiveDoctor, monitor_finding
from .probes import (
    ActivationMonitor,
    GradNormMonitor,
    LRScheduleMonitor,
    PredictionMonitor,
    ThroughputMonitor,
    UpdateRatioMonitor,
)
from .remedy import AutoRemedy, scale_lr
from .sentinel import NonFiniteSentinel, locate_nonfinite

__all__ = [
    "DEFAULT_EVERY",
    "ActivationMonitor",
    "AutoRemedy",
    "GradNormMonitor",
    "LRScheduleMonitor",
    "LayerIndex",
    "LiveDoctor",
    "Monitor",
    "MonitorEntry",
    "NonFiniteSentinel",
    "PredictionMonitor",
    "ThroughputMonitor",
    "UpdateRatioMonitor",
    "create_monitors",
    "get_monitor",
    "list_monitors",
    "locate_nonfinite",
    "monitor_finding",
    "register_monitor",
    "scale_lr",
]
