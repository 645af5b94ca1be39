"""`--track mlflow`: a run in MLflow's SQLite store, read back with MLflow's own client: the config as params,
every epoch's metrics, the plan files, the evaluation and the model as ONNX with its signature; `--resume` logs into
the same MLflow run; a bad `--track` or a missing MLflow is one line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mlflow", reason="MLflow is the `track` extra")

from mlflow.tracking import MlflowClient

from ..conftest import EXAMPLES


def dlexpert(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dlexpert", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)  # fmt: skip


@pytest.mark.slow  # ~26 s: two `train` processes importing torch and mlflow; kept out of `make test` for its 15-minute
# budget (`make test-all` runs it). Logging a run to MLflow is checked in process below; resuming, in test_pipeline.
def test_train_then_resume_log_into_one_mlflow_run(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = tmp_path / "run"
    first = dlexpert("train", str(EXAMPLES / "digits.yaml"), "--data", "digits", "--out", str(out), "--epochs", "1",
                     "--track", f"mlflow:{uri}", cwd=tmp_path)  # fmt: skip
    assert first.returncode == 0, first.stderr
    run_id = json.loads((out / "tracking.json").read_text())["run_id"]
    client = MlflowClient(uri)
    assert client.get_run(run_id).info.status == "FINISHED"
    resumed = dlexpert("train", str(EXAMPLES / "digits.yaml"), "--data", "digits", "--out", str(out), "--resume",
                       "--epochs", "2", "--track", f"mlflow:{uri}", cwd=tmp_path)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((out / "tracking.json").read_text())["run_id"] == run_id
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    assert run.data.params["train.epochs"] == "1" and run.data.params["model"]  # the first config's params stay
    assert [m.step > 0 for m in client.get_metric_history(run_id, "val_loss")] == [True, True]  # epochs 0 and 1
    assert len(client.get_metric_history(run_id, "train_loss")) >= 2
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"task.yaml", "plan.json", "decisions.json", "config.yaml"} <= artifacts
    assert len(client.search_experiments(filter_string="name = 'dlexpert'")) == 1


def test_an_evaluated_run_logs_its_metrics_reports_and_onnx_model(
    evaluated_run: tuple[Path, Any], tmp_path: Path
) -> None:
    import mlflow

    from dlexpert.report.card import write_model_card
    from dlexpert.rundir import RunDir
    from dlexpert.tracking import MLflowRun, Tracking

    run_dir = RunDir(shutil.copytree(evaluated_run[0], tmp_path / "run"))
    write_model_card(run_dir.path)
    tracking = Tracking(f"sqlite:///{tmp_path / 'mlflow.db'}")
    tracked = MLflowRun(tracking, run_dir, resume=False)
    tracked.log_training()
    assert tracked.log_evaluation() == []  # the CNN exports: no warning
    tracked.finish()
    client = MlflowClient(tracking.uri)
    run = client.get_run(tracked.run_id)
    evaluation = run_dir.evaluation()
    assert run.data.metrics["test_accuracy"] == pytest.approx(evaluation.metrics["accuracy"])
    assert run.data.metrics["baseline_linear_accuracy"] < run.data.metrics["test_accuracy"]
    assert {"MODEL_CARD.md", "report.html", "evaluation.json", "figures"} <= {
        a.path for a in client.list_artifacts(run.info.run_id)
    }
    mlflow.set_tracking_uri(tracking.uri)
    (model,) = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id], output_format="list")
    assert model.source_run_id == tracked.run_id
    signature = mlflow.pyfunc.load_model(f"models:/{model.model_id}").metadata.signature
    assert signature.inputs.to_dict()[0]["tensor-spec"]["shape"] == (-1, 1, 40)  # MNIST-1D's 40 points, any batch
    assert signature.outputs.to_dict()[0]["tensor-spec"]["shape"] == (-1, 10)


def test_a_bad_track_value_and_a_missing_mlflow_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dlexpert.errors import InvalidInputError
    from dlexpert.tracking import parse_track

    r = dlexpert("train", str(EXAMPLES / "digits.yaml"), "--data", "digits", "--out", str(tmp_path / "o"),
                 "--track", "wandb", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 2 and "--track: expected 'mlflow' or 'mlflow:URI'" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
    assert parse_track("mlflow") == parse_track(f"mlflow:sqlite:///{Path('mlflow.db').resolve()}")
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if the extra were not installed
    with pytest.raises(InvalidInputError, match=r"pip install 'dlexpert\[track\]'"):
        parse_track("mlflow")
