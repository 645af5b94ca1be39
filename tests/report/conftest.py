"""A trained MNIST-1D run shared by the evaluation tests: the 1-D CNN after a few epochs (~20 s on one core)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from ..conftest import EXAMPLES  # noqa: E402

torch.set_num_threads(1)  # the dev machine has 2 cores; tests must not fight over them (as tests/deploy does)

# Enough for the CNN to pass 95% on MNIST-1D's 1,000 test signals: measured 0.976 after 6 epochs (~18 s on one core;
# 0.973 after 4, 0.982 after 8, ~23 s). The linear baseline stays at the published ~32%, far below either.
EPOCHS = 6


def copy_run(src: Path, dst: Path) -> Path:
    """A copy of a run directory, without its TensorBoard logs and deploy variants (nothing here reads them)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("tb", "variants", "bench.json"))
    return dst


@pytest.fixture(scope="session")
def mnist1d_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained run directory. Read-only: tests that write (evaluate does) take a copy (`copy_run`)."""
    from dlexpert.pipeline import train
    from dlexpert.schema import load_task

    out = tmp_path_factory.mktemp("report") / "mnist1d"
    train(load_task(EXAMPLES / "mnist1d.yaml"), data="mnist1d", out_dir=out, epochs=EPOCHS, progress=False,
          monitor=False)  # fmt: skip
    return out


@pytest.fixture(scope="session")
def evaluated_run(mnist1d_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A copy of the run evaluated once (with latency): (run dir, the returned `Evaluation`). Read-only."""
    from dlexpert.report.evaluate import evaluate_run

    run_dir = copy_run(mnist1d_run, tmp_path_factory.mktemp("evaluated") / "run")
    return run_dir, evaluate_run(run_dir, latency=True)
