"""`RunDir`: the run directory of DESIGN.md, with its file names in one place and typed readers and writers.

Every stage reads and writes a run through this class, so a file's name and its type are written once:

    RUN_DIR/task.yaml plan.json decisions.json config.yaml profile.json metrics.jsonl tb/
            checkpoints/{last.pt,best.safetensors} diagnosis.json evaluation.json bench.json figures/ variants/
            MODEL_CARD.md report.html

Readers return the pydantic models (`Plan`, `Decisions`, `Evaluation`, `Diagnosis`, `DataProfile`) and raise
`InvalidInputError` naming the file when it is missing or not what it should be. Writers are atomic.

Example:
    >>> run = RunDir("runs/demo-mnist1d")  # doctest: +SKIP
    >>> run.decisions().model.name  # doctest: +SKIP
    'cnn1d'
"""

from __future__ import annotations

import fcntl
import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ._input import load_yaml, read_user_text
from ._io import atomic_write_text
from .errors import InvalidInputError
from .schema import Diagnosis, Evaluation, Plan, TaskSpec, parse_task
from .schema.decisions import DECISIONS_VERSION, Decisions
from .schema.run_config import RunConfig

if TYPE_CHECKING:
    from .data import DataProfile
    from .data.dense import DenseProfile
    from .data.forecast.profile import ForecastProfile

__all__ = ["RunDir", "best_epoch"]

M = TypeVar("M", bound=BaseModel)

MAX_RUN_FILE_BYTES = 256 << 20  # metrics.jsonl of a long run stays far below; a larger file is not one of ours


class RunDir:
    """One run directory. Paths are attributes; `task()`, `plan()`, ... read the files as typed values."""

    TASK = "task.yaml"
    PLAN = "plan.json"
    DECISIONS = "decisions.json"
    CONFIG = "config.yaml"
    PROFILE = "profile.json"
    METRICS = "metrics.jsonl"
    TENSORBOARD = "tb"
    CHECKPOINTS = "checkpoints"
    LAST = "checkpoints/last.pt"
    BEST = "checkpoints/best.safetensors"
    DIAGNOSIS = "diagnosis.json"
    EVALUATION = "evaluation.json"
    BENCH = "bench.json"
    FIGURES = "figures"
    LOCK = ".lock"
    VARIANTS = "variants"
    DELIVERABLE = "deliverable"  # the baseline shipped when it beats the network on validation (NAME.skops)
    CARD = "MODEL_CARD.md"
    REPORT = "report.html"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # --- paths
    @property
    def last_checkpoint(self) -> Path:
        return self.path / self.LAST

    @property
    def best_weights(self) -> Path:
        return self.path / self.BEST

    def has(self, name: str) -> bool:
        return (self.path / name).is_file()

    # --- typed readers
    def task(self) -> TaskSpec:
        return parse_task(self._yaml(self.TASK), source=str(self / self.TASK))

    def plan(self) -> Plan:
        return self._model(self.PLAN, Plan)

    def is_forecast(self) -> bool:
        """Whether this is an evaluated forecasting run (its decisions carry a `forecast` block)."""
        return (
            (self / self.DECISIONS).is_file()
            and (self / self.EVALUATION).is_file()
            and (self.decisions().forecast is not None)
        )

    def decisions(self) -> Decisions:
        data = self._json(self.DECISIONS)
        version = data.get("version") if isinstance(data, dict) else None
        if isinstance(version, int) and version > DECISIONS_VERSION:
            raise InvalidInputError(
                f"{self / self.DECISIONS}: written by a newer dlexpert (decisions version {version}, this one reads "
                f"up to {DECISIONS_VERSION}); upgrade dlexpert"
            )
        return self._validate(self.DECISIONS, Decisions, data)

    def config(self) -> RunConfig:
        """The resolved config (config.yaml): the train settings, the model record, the data, the monitors."""
        config = self._yaml(self.CONFIG)
        if not isinstance(config, dict) or "train" not in config:
            raise InvalidInputError(f"{self / self.CONFIG}: not a dlexpert run config (no `train` section)")
        return self._validate(self.CONFIG, RunConfig, config)

    def profile(self) -> DataProfile | DenseProfile | ForecastProfile:
        """profile.json: a `DenseProfile` for detection or segmentation data, a `ForecastProfile` for series to
        forecast (each names its task), else a `DataProfile`."""
        from .data import DataProfile
        from .data.dense import DenseProfile
        from .data.forecast.profile import ForecastProfile

        data = self._json(self.PROFILE)
        if isinstance(data, dict) and data.get("task") in ("detection", "segmentation"):
            return self._validate(self.PROFILE, DenseProfile, data)
        if isinstance(data, dict) and data.get("task") == "forecasting":
            return self._validate(self.PROFILE, ForecastProfile, data)
        return self._validate(self.PROFILE, DataProfile, data)

    def evaluation(self) -> Evaluation:
        return self._model(self.EVALUATION, Evaluation)

    def diagnosis(self) -> Diagnosis:
        return self._model(self.DIAGNOSIS, Diagnosis)

    def bench(self) -> dict[str, Any]:
        data = self._json(self.BENCH)
        if not isinstance(data, dict):
            raise InvalidInputError(f"{self / self.BENCH}: expected a JSON object")
        return data

    def variants(self) -> list[Path]:
        """The variant folders (variants/NAME/ with a report.json), sorted by name."""
        root = self.path / self.VARIANTS
        return sorted(p for p in root.iterdir() if (p / "report.json").is_file()) if root.is_dir() else []

    # --- atomic writers
    def metric_rows(self) -> list[dict[str, Any]]:
        """metrics.jsonl's rows (JSON objects) in file order; [] when there is no log. Unreadable lines are skipped
        (`diagnose` reports them)."""
        path = self.path / self.METRICS
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                rows.append(row)
        return rows

    def epochs(self) -> list[dict[str, Any]]:
        """The epoch rows of `metric_rows` in epoch order, the last row of an epoch logged twice (a resumed run)."""
        by_epoch = {
            r["epoch"]: r for r in self.metric_rows() if r.get("kind") == "epoch" and isinstance(r.get("epoch"), int)
        }
        return [by_epoch[k] for k in sorted(by_epoch)]

    def write_task(self, spec: TaskSpec) -> Path:
        return atomic_write_text(self / self.TASK, yaml.safe_dump(spec.model_dump(exclude_none=True), sort_keys=False))

    def write_plan(self, plan: Plan) -> Path:
        return atomic_write_text(self / self.PLAN, plan.model_dump_json(indent=2, exclude_none=True) + "\n")

    def write_decisions(self, decisions: Decisions) -> Path:
        return atomic_write_text(self / self.DECISIONS, decisions.model_dump_json(indent=2) + "\n")

    def write_model(self, name: str, value: BaseModel) -> Path:
        """Any typed artefact (profile.json, evaluation.json, diagnosis.json) as indented JSON."""
        return atomic_write_text(self / name, value.model_dump_json(indent=2) + "\n")

    @contextmanager
    def lock(self, *, create: bool = False) -> Iterator[None]:
        """Hold the run's advisory writer lock (`fcntl.flock` on RUN/.lock, which holds the holder's pid) while a
        command writes it: a second writer gets one line naming the process. The kernel drops the lock when its
        process dies, so a killed run leaves no stale lock. With `create` the folder is made if needed, and removed
        again when the command fails before writing anything else into it; without, a missing folder is left to the
        command to report."""
        created = not self.path.exists()
        if not created and not self.path.is_dir():
            raise InvalidInputError(f"{self.path}: is a file; a run is a folder (choose another path)")
        if created and not create:
            yield
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self / self.LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as e:
            raise InvalidInputError(f"{self.path}: cannot be used as a run folder ({e.strerror})") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                raise InvalidInputError(f"{self.path}: another dlexpert process (pid {holder}) is writing this run; "
                                        "wait for it to finish, or choose another --out") from None  # fmt: skip
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            try:
                yield
            except BaseException:
                if created and [p.name for p in self.path.iterdir()] == [self.LOCK]:
                    (self / self.LOCK).unlink(missing_ok=True)
                    self.path.rmdir()
                raise
        finally:
            os.close(fd)

    # --- helpers
    def text(self, name: str) -> str:
        """RUN/NAME read through the input boundary (a regular file, at most MAX_RUN_FILE_BYTES)."""
        path = self / name
        if not path.is_file():
            raise InvalidInputError(f"{self.path}: has no {name}; is it a dlexpert run directory?")
        return read_user_text(path, expected=f"the run's {name}", max_bytes=MAX_RUN_FILE_BYTES)

    def _yaml(self, name: str) -> Any:
        return load_yaml(self.text(name), source=str(self / name))

    def _json(self, name: str) -> Any:
        try:
            return json.loads(self.text(name))
        except json.JSONDecodeError as e:
            raise InvalidInputError(f"{self / name}: not valid JSON ({e.msg} at line {e.lineno})") from None
        except RecursionError:
            raise InvalidInputError(f"{self / name}: nested too deeply to be a dlexpert file") from None

    def _model(self, name: str, model: type[M]) -> M:
        return self._validate(name, model, self._json(name))

    def _validate(self, name: str, model: type[M], data: Any) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            raise InvalidInputError(f"{self / name}: `{where}` {err['msg']}") from None


def best_epoch(epochs: list[dict[str, Any]]) -> tuple[int, str] | None:
    """Index in `epochs` (`RunDir.epochs`) of the checkpoint the engine kept, and the metric it was kept on: the top
    validation mean IoU (segmentation) or accuracy, ties to the lower validation loss, or the lowest validation loss
    when neither is logged. None when no epoch has a finite one."""
    key = next((k for k in ("val_miou", "val_acc") if any(k in e for e in epochs)), "val_loss")
    scored = [i for i, e in enumerate(epochs) if isinstance(e.get(key), int | float) and math.isfinite(e[key])]
    if not scored:
        return None
    if key != "val_loss":
        return max(scored, key=lambda i: (epochs[i][key], -_finite(epochs[i].get("val_loss")))), key
    return min(scored, key=lambda i: epochs[i][key]), key


def _finite(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else math.inf
