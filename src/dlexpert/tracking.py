"""`--track mlflow[:URI]` on `train` and `run`: the run in MLflow beside a team's other experiments, with no server
to run (the default store is SQLite, `sqlite:///mlflow.db` in the working folder, MLflow's default since 3.7).

Logged: the spec, plan and decisions as artifacts, the resolved config as params; the train metrics of every logged
step and the epoch metrics as they come (an engine callback, rank 0 only); then the evaluation's metrics, the card,
report.html, evaluation.json and the figures; and the best model as an ONNX model with its signature (MLflow's
`onnx` flavour: no pickle). RUN/tracking.json keeps the MLflow run id, so `--resume` logs into the same MLflow run.
TensorBoard and metrics.jsonl are written as always: MLflow is a copy, never the record. MLflow is the `track`
extra; without it `--track` says how to install it."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._input import clip
from ._io import atomic_write_text
from .errors import InvalidInputError
from .rundir import RunDir

RECORD = "tracking.json"
EXPERIMENT = "dlexpert"
MAX_PARAM_CHARS = 6000  # MLflow's limit on a param value
ARTIFACTS = (RunDir.TASK, RunDir.PLAN, RunDir.DECISIONS, RunDir.CONFIG, RunDir.DIAGNOSIS)
REPORTS = (RunDir.EVALUATION, RunDir.CARD, RunDir.REPORT, RunDir.BENCH, "forecasts.csv")


@dataclass(frozen=True)
class Tracking:
    """Where to track: an MLflow tracking URI."""

    uri: str


def parse_track(value: str | None) -> Tracking | None:
    """`--track`'s value: `mlflow` (SQLite in ./mlflow.db) or `mlflow:URI`; a one-line error when MLflow is missing."""
    if value is None:
        return None
    kind, _, uri = value.partition(":")
    if kind != "mlflow":
        raise InvalidInputError(f"--track: expected 'mlflow' or 'mlflow:URI' (e.g. mlflow:sqlite:///mlflow.db); got "
                                f"{clip(value)}")  # fmt: skip
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise InvalidInputError("--track mlflow needs MLflow: pip install 'dlexpert[track]' (or: pip install "
                                "'mlflow>=3.7')") from None  # fmt: skip
    return Tracking(uri or f"sqlite:///{Path('mlflow.db').resolve()}")


class MLflowRun:
    """The MLflow run of one dlexpert run folder, written through `MlflowClient` (no global active run)."""

    def __init__(self, tracking: Tracking, run_dir: RunDir, *, resume: bool) -> None:
        from mlflow.tracking import MlflowClient

        self.tracking, self.run_dir = tracking, run_dir
        self.client = MlflowClient(tracking.uri)
        record = run_dir / RECORD
        previous = json.loads(record.read_text(encoding="utf-8")) if resume and record.is_file() else None
        if previous is not None and previous.get("uri") == tracking.uri:
            self.run_id = str(previous["run_id"])
            self.client.update_run(self.run_id, status="RUNNING")
            return
        experiment = self.client.get_experiment_by_name(EXPERIMENT)
        experiment_id = (
            experiment.experiment_id
            if experiment
            else self.client.create_experiment(EXPERIMENT, artifact_location=_artifacts_beside(tracking.uri))
        )
        run = self.client.create_run(experiment_id, run_name=run_dir.path.name,
                                     tags={"dlexpert.run_dir": str(run_dir.path.resolve())})  # fmt: skip
        self.run_id = run.info.run_id
        atomic_write_text(record, json.dumps({"uri": tracking.uri, "run_id": self.run_id}, indent=2) + "\n")

    def callback(self) -> MLflowLogger:
        return MLflowLogger(self)

    def log_metrics(self, metrics: dict[str, Any], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        rows = [Metric(metric_key(k), float(v), now, step) for k, v in metrics.items() if _number(v)]
        if rows:
            self.client.log_batch(self.run_id, metrics=rows, synchronous=True)

    def log_training(self) -> None:
        """After the fit: the config as params (once: MLflow params cannot change on resume) and the plan files."""
        from mlflow.entities import Param

        if self.run_dir.has(RunDir.CONFIG) and not self.client.get_run(self.run_id).data.params:
            config = self.run_dir.config().model_dump(mode="json", exclude_none=True)
            params = [Param(k, v) for k, v in _flatten(config).items()]
            for i in range(0, len(params), 100):  # MLflow takes up to 100 params a batch
                self.client.log_batch(self.run_id, params=params[i : i + 100], synchronous=True)
        self._log_files(ARTIFACTS)

    def log_evaluation(self, *, model: bool = True) -> list[str]:
        """After `evaluate` and `card`: the test metrics, the reports and figures, and (with `model`) the best model
        as ONNX. Returns warnings (a model that could not be exported is not logged, and says why)."""
        evaluation = self.run_dir.evaluation()
        self.log_metrics({f"test_{k}": v for k, v in evaluation.metrics.items()}, step=0)
        for name, baseline in (("linear", evaluation.baseline.linear), ("majority", evaluation.baseline.majority)):
            if baseline is not None:
                self.log_metrics({f"baseline_{name}_{k}": v for k, v in baseline.metrics.items()}, step=0)
        self._log_files(REPORTS)
        if evaluation.deliverable is not None:  # Step 4's baseline won: it is what the run ships
            self.client.log_artifact(self.run_id, str(self.run_dir / evaluation.deliverable.path), RunDir.DELIVERABLE)
            ships = f"{evaluation.deliverable.path}: {evaluation.deliverable.reason}"
            self.client.set_tag(self.run_id, "dlexpert.ships", ships[:MAX_PARAM_CHARS])
        if (self.run_dir / RunDir.FIGURES).is_dir():
            self.client.log_artifacts(self.run_id, str(self.run_dir / RunDir.FIGURES), RunDir.FIGURES)
        return self._log_onnx_model() if model else []

    def finish(self, status: str = "FINISHED") -> None:
        self.client.set_terminated(self.run_id, status=status)

    def _log_files(self, names: tuple[str, ...]) -> None:
        for name in names:
            if self.run_dir.has(name):
                self.client.log_artifact(self.run_id, str(self.run_dir / name))

    def _log_onnx_model(self) -> list[str]:
        """The best weights exported to ONNX (`dlexpert export`, parity checked), logged with MLflow's onnx flavour
        and a signature read off the graph and one forward pass."""
        import mlflow
        import onnx
        import onnxruntime
        from mlflow.models import infer_signature

        from .deploy._ort import onnx_session
        from .deploy.export import export_model

        try:
            exported = export_model(self.run_dir.path, to="onnx", dynamic_batch=True)
        except Exception as exc:  # an architecture the exporters cannot take: the run is tracked without its model
            reason = f"MLflow: the model was not logged ({type(exc).__name__}: {clip(str(exc))})"
            self.client.set_tag(self.run_id, "dlexpert.model", reason)
            return [reason]
        session = onnx_session(exported.path)
        feeds = {i.name: _example(i) for i in session.get_inputs()}
        outputs = session.run(None, feeds)
        signature = infer_signature(next(iter(feeds.values())) if len(feeds) == 1 else feeds, outputs[0])
        mlflow.set_tracking_uri(self.tracking.uri)
        with mlflow.start_run(run_id=self.run_id):
            mlflow.onnx.log_model(onnx.load(str(exported.path)), name="model", signature=signature,
                                  onnx_execution_providers=onnxruntime.get_available_providers(),
                                  save_as_external_data=False)  # fmt: skip
        self.client.update_run(self.run_id, status="RUNNING")  # start_run's exit ends it; `finish` says how it ended
        return []


@contextmanager
def tracked(run: MLflowRun | None, *, keep_open: bool = False) -> Iterator[None]:
    """End the MLflow run FAILED when the block raises (KILLED on Ctrl-C), FINISHED when it returns unless
    `keep_open`; nothing without a run."""
    try:
        yield
    except BaseException as exc:
        if run is not None:
            run.finish("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        raise
    if run is not None and not keep_open:
        run.finish()


def track_finished_run(tracking: Tracking, run_dir: RunDir) -> None:
    """A run made without the engine's callback (forecasting: many candidates, each its own small fit) logged once
    it is done: its plan files, its evaluation and every candidate's backtest and test MASE."""
    run = MLflowRun(tracking, run_dir, resume=False)
    with tracked(run):
        run.log_training()
        run.log_evaluation(model=False)
        forecast = run_dir.evaluation().forecast
        if forecast is not None:
            for c in forecast.candidates:
                run.log_metrics(
                    {f"backtest_mase.{c.model}": c.backtest["mase"], f"test_mase.{c.model}": c.test["mase"]}, 0
                )
            run.client.set_tag(run.run_id, "dlexpert.shipped", forecast.shipped)


class MLflowLogger:
    """An engine callback: each logged step's train metrics and each epoch's metrics into the MLflow run, against
    the optimizer step (as TensorBoard has them). Rank 0 only."""

    order = 21

    def __init__(self, run: MLflowRun) -> None:
        self.run = run

    def after_step(self, s: Any) -> None:
        if s.dist.is_main and s.step_row is not None:
            row = {k: v for k, v in s.step_row.items() if k not in ("kind", "epoch", "step", "time") and "/" not in k}
            self.run.log_metrics(row, step=s.step)

    def after_epoch(self, s: Any) -> None:
        if s.dist.is_main:
            metrics = {k: v for k, v in s.epoch_metrics.items() if k not in ("step", "time")}
            self.run.log_metrics(metrics, step=s.step)


def _artifacts_beside(uri: str) -> str | None:
    """For a SQLite store, artifacts in `mlartifacts/` beside the database (MLflow would use `./mlruns` of whatever
    folder the command runs in); other stores keep their own default."""
    if not uri.startswith("sqlite:///"):
        return None
    return (Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts").as_uri()


def metric_key(name: str) -> str:
    """`name` as MLflow accepts a metric key (letters, digits, `_ - . / :` and spaces): a detection run's
    `ap/<class>` or a forecasting candidate's `Ensemble(a, b)` keeps its readable parts."""
    return re.sub(r"[^\w./: -]+", "_", name).strip("_ ") or "_"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # NaN is not logged


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config keys joined with '.', values as text (lists as JSON), each within MLflow's limit."""
    out: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= _flatten(value, f"{name}.")
        elif value is not None:
            text = value if isinstance(value, str) else json.dumps(value)
            out[name] = text[:MAX_PARAM_CHARS]
    return out


def _example(node: Any) -> Any:
    """A zero input for an ONNX graph input: its dtype, each dynamic dimension 1."""
    import numpy as np

    from .deploy._ort import ORT_NUMPY_DTYPES

    shape = [d if isinstance(d, int) and d > 0 else 1 for d in node.shape]
    return np.zeros(shape, dtype=ORT_NUMPY_DTYPES.get(node.type, "float32"))
