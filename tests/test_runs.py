"""`load_run`: a run directory read back gives the same model and test split that training left behind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from dlexpert.errors import InvalidInputError  # noqa: E402
from dlexpert.runs import load_run  # noqa: E402

from .conftest import EXAMPLES  # noqa: E402


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dlexpert.pipeline import run
    from dlexpert.schema import load_task

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("runs") / "digits"
    run(load_task(EXAMPLES / "digits.yaml"), data="digits", out_dir=out, epochs=2, progress=False, monitor=False)
    return out


def test_the_reloaded_model_scores_what_the_run_reported(digits_run: Path) -> None:
    from dlexpert.engine import evaluate

    run = load_run(digits_run)
    assert run.input_shape == (1, 8, 8) and len(run.classes) == 10 and run.task == "classification"
    reported = json.loads((digits_run / "evaluation.json").read_text())["metrics"]["accuracy"]
    assert evaluate(run.model, run.datasets().test)["accuracy"] == pytest.approx(reported, abs=1e-6)
    assert run.example_input(3).shape == (3, 1, 8, 8)


def test_what_is_missing_is_said_in_one_line(tmp_path: Path, digits_run: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such run directory"):
        load_run(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="not a dlexpert run directory"):
        load_run(tmp_path / "empty")
    partial = tmp_path / "partial"
    shutil.copytree(digits_run, partial)
    (partial / "checkpoints" / "best.safetensors").unlink()
    with pytest.raises(InvalidInputError, match="no trained model"):
        load_run(partial)
