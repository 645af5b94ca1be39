"""One tiny trained run shared by the deploy tests: MNIST-1D's 1-D CNN after one epoch (a few seconds on one core)."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from ..conftest import EXAMPLES  # noqa: E402

torch.set_num_threads(1)  # the dev machine has 2 cores; tests must not fight over them


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained run (task.yaml asks for <10ms, plan.json has the advisor's latency estimate). Read-only: tests
    that write variants copy it first (`fresh_run`)."""
    from dlexpert.pipeline import train
    from dlexpert.schema import load_task

    out = tmp_path_factory.mktemp("deploy") / "m1"
    train(load_task(EXAMPLES / "mnist1d.yaml"), data="mnist1d", out_dir=out, epochs=1, progress=False, monitor=False)
    return out


@pytest.fixture
def fresh_run(run_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the run, for tests that add variants or delete files."""
    import shutil

    dst = tmp_path / "run"
    shutil.copytree(run_dir, dst, ignore=shutil.ignore_patterns("variants", "bench.json"))
    return dst
