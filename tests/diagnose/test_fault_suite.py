"""A smoke version of benchmarks/bench_diagnose.py: faults injected for real into small digits runs are found by
`diagnose` in the run directory, a NaN is caught live at the step it appears (and read from every log format),
and a healthy run raises no warning."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

from dlexpert.diagnose import diagnose, read_history

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def faults() -> ModuleType:
    torch.set_num_threads(1)
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module("_faults")
    finally:
        sys.path.remove(str(BENCHMARKS))


def alarms(source: Path) -> list[str]:
    return [f.issue for f in diagnose(source).findings if f.severity in ("warning", "error")]


def test_nan_is_caught_live_at_its_step_and_read_from_every_format(faults: ModuleType, tmp_path: Path) -> None:
    plan = faults.FAULTS["nan_inf"]("mlp", 0)
    run = faults.train(plan, tmp_path / "run")
    assert run.tape.first_nonfinite() == plan.onset  # the injection happened where it was planned
    live = json.loads((run.run_dir / "diagnosis.json").read_text())["findings"]
    nan = next(f for f in live if f["issue"] == "nan_inf")
    assert nan["evidence"]["step"] == plan.onset  # caught on the batch it appeared in, not later
    assert max(run.tape.losses) == plan.onset  # and the run stopped there
    layered: dict[str, bool] = {}
    for fmt in faults.FORMATS:
        source = faults.write_format(fmt, run.run_dir, tmp_path / fmt)
        assert "nan_inf" in alarms(source), f"{fmt}: {read_history(source).names}"
        layered[fmt] = faults.NEEDS["vanishing_gradients"][1](read_history(source))
    # each format keeps what its logger records: per-layer gradient norms only where the logger writes them
    assert layered == {"dlexpert": True, "tensorboard": True, "keras_csv": False, "lightning_csv": True,
                       "hf_trainer_state": False, "jsonl": False}  # fmt: skip


@pytest.mark.parametrize("issue", ["overfitting", "lr_not_decaying", "data_bottleneck"])
def test_injected_fault_is_diagnosed_from_the_run_dir(faults: ModuleType, issue: str, tmp_path: Path) -> None:
    run = faults.train(faults.FAULTS[issue]("mlp", 0), tmp_path / "run")
    found = diagnose(run.run_dir).findings
    assert issue in [f.issue for f in found if f.severity != "info"], [(f.issue, f.severity) for f in found]


def test_healthy_run_raises_no_warning(faults: ModuleType, tmp_path: Path) -> None:
    run = faults.train(faults.healthy_plan(faults.HEALTHY[0]), tmp_path / "run")
    assert alarms(run.run_dir) == []
    assert json.loads((run.run_dir / "diagnosis.json").read_text())["healthy"] is True
