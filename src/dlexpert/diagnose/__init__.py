"""The training doctor (seed Step 5): read any training log into a `RunHistory`, run the rules, report findings.

    read_history(source) -> RunHistory        # diagnose/readers: TensorBoard, CSV (Keras, Lightning, generic),
                                              # JSONL, Hugging Face trainer_state.json, dlexpert run directories
    diagnose_history(history) -> Diagnosis    # diagnose/rules: pure functions of the history
    diagnose(source) -> Diagnosis             # both

This package never imports torch: `dlexpert diagnose` on a log runs on a machine without it.

Example:
    >>> d = diagnose("runs/demo-mnist1d")  # doctest: +SKIP
    >>> [f.issue for f in d.findings]  # doctest: +SKIP
    []
"""

from __future__ import annotations

from pathlib import Path

from ..schema.diagnosis import SEVERITY_RANK, Diagnosis
from . import rules  # noqa: F401  (importing registers the built-in rules)
from ._registry import Rule, get_rule, list_rules, register_rule, run_rules
from .history import KNOWN_SERIES, RunHistory, Series
from .readers import read_history

__all__ = [
    "KNOWN_SERIES",
    "Rule",
    "RunHistory",
    "Series",
    "diagnose",
    "diagnose_history",
    "get_rule",
    "list_rules",
    "read_history",
    "register_rule",
    "run_rules",
]


# The series a verdict rests on: without one of them no rule can call the run healthy or not.
# A GRPO run's share of zero-spread groups is one: the `stuck` rule reads it with its reward (a reward alone, as a plain
# RL log has it, is not judged by any rule).
JUDGED_SERIES = ("train_loss", "val_loss", "train_acc", "val_acc", "frac_reward_zero_std")


def diagnose_history(history: RunHistory, *, online: bool = False) -> Diagnosis:
    """Run the rules over a history already read. `online=True` runs only the rules safe on a partial run."""
    findings = run_rules(history, online=online)
    warnings = list(history.warnings)
    judged = online or any(name in JUDGED_SERIES for name, _axis in history.series)
    if not judged:  # issue 13: a GAN's `Gen Loss`/`Disc Loss` or an RL reward is not a verdict of "healthy"
        found = ", ".join([*history.names, *history.unknown][:12]) or "none"
        warnings.insert(0, f"nothing to judge: no training loss, validation loss or accuracy among the series found "
                           f"({found}); this run is not known to be healthy")  # fmt: skip
    return Diagnosis(
        source=history.source,
        healthy=judged and all(SEVERITY_RANK[f.severity] < SEVERITY_RANK["warning"] for f in findings),
        findings=findings,
        series=history.names,
        unknown_series=history.unknown,
        warnings=warnings,
        actions=list(history.meta.get("actions", [])),
    )


def diagnose(source: str | Path) -> Diagnosis:
    """Read `source` (a run directory, a log file, or a folder holding one) and diagnose it.

    Raises `InvalidInputError` (exit 2 on the CLI) when nothing in `source` can be read as a training log.
    """
    return diagnose_history(read_history(source))
