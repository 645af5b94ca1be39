"""Training engine: `fit()` and `evaluate()`, the event loop with plain callbacks, checkpoints, and factories.

Importing this package imports torch; `import dlexpert` alone does not.

Example:
    >>> from dlexpert.engine import TrainConfig, fit  # doctest: +SKIP
    >>> cfg = TrainConfig(epochs=10)
    >>> result = fit(model, train_set=train, val_set=val, cfg=cfg, out_dir="runs/a")  # doctest: +SKIP
"""

from __future__ import annotations

from .callbacks import Checkpointer, EarlyStopping, ProgressBar, Recorder, TensorBoardLogger, default_callbacks
from .checkpoint import load_checkpoint, load_weights, save_checkpoint, save_weights
from .config import ConfigChange, TrainConfig, parse_train_config
from .ema import ModelEma
from .events import EVENTS, Callback, CancelEpochException, CancelFitException, TrainingInterrupted
from .loop import create_criterion, evaluate, fit, select_device, show_training_loop
from .mix import Mixer, create_mixer
from .optim import create_optimizer, create_scheduler, param_groups, scale_lr
from .precision import Precision, create_precision
from .sampling import dataset_labels, epoch_order, seed_everything
from .state import FitResult, FitState

__all__ = [
    "EVENTS",
    "Callback",
    "CancelEpochException",
    "CancelFitException",
    "Checkpointer",
    "ConfigChange",
    "EarlyStopping",
    "FitResult",
    "FitState",
    "Mixer",
    "ModelEma",
    "Precision",
    "ProgressBar",
    "Recorder",
    "TensorBoardLogger",
    "TrainConfig",
    "TrainingInterrupted",
    "create_criterion",
    "create_mixer",
    "create_optimizer",
    "create_precision",
    "create_scheduler",
    "dataset_labels",
    "default_callbacks",
    "epoch_order",
    "evaluate",
    "fit",
    "load_checkpoint",
    "load_weights",
    "param_groups",
    "parse_train_config",
    "save_checkpoint",
    "save_weights",
    "scale_lr",
    "seed_everything",
    "select_device",
    "show_training_loop",
]
