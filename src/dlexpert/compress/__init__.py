"""Compression (seed Step 6): INT8, fp16/bf16, pruning and distillation, each measured against the baseline and run
through the feedback loop that falls back to gentler settings when accuracy drops too far.

Every variant is measured on this machine (test accuracy, file size, batch-1 latency p50/p95, throughput) beside
the run's eager fp32 model, and none is kept on faith: INT8 is not automatically faster on a CPU, and half
precision is usually slower on one; the report says what was measured.

    >>> from dlexpert.compress import compress, load_variant  # doctest: +SKIP
    >>> report = compress("runs/mnist1d", method="int8")  # doctest: +SKIP
    >>> report.size_ratio, report.accuracy_drop, [a.setting for a in report.tried]  # doctest: +SKIP
    >>> pruned = load_variant("runs/mnist1d/variants/pruned")  # after method="prune"  # doctest: +SKIP

This package imports torch; `import dlexpert` does not.
"""

from __future__ import annotations

from ._compress import (
    DEFAULT_FINETUNE_EPOCHS,
    DEFAULT_MAX_DROP,
    MAX_DROP_LIMIT,
    METHODS,
    compress,
    compress_subject,
    load_variant,
    subject_from_run,
    variant_name,
)
from ._measure import MeasureSettings, Subject
from .distill import DEFAULT_ALPHA, DEFAULT_TEMPERATURE, kd_loss, student_configs
from .report import Attempt, Measurement, VariantReport

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_FINETUNE_EPOCHS",
    "DEFAULT_MAX_DROP",
    "DEFAULT_TEMPERATURE",
    "MAX_DROP_LIMIT",
    "METHODS",
    "Attempt",
    "MeasureSettings",
    "Measurement",
    "Subject",
    "VariantReport",
    "compress",
    "compress_subject",
    "kd_loss",
    "load_variant",
    "student_configs",
    "subject_from_run",
    "variant_name",
]
