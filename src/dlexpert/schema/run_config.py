"""`RunConfig`: a run's resolved config (RUN_DIR/config.yaml) as a typed value.

The engine writes `train` (the settings in effect) and `changes` (what live monitors changed, and why); the pipeline
adds what later stages need to rebuild the run: the model record, the recipe, the data source and the monitors.
Every stage after training reads it through `RunDir.config()`, so a key is named once, here.

`train` stays a plain mapping: its fields are `dlexpert.engine.TrainConfig`'s, validated by the engine, which imports
torch; this module must not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .decisions import ModelRecord, record_from_config

__all__ = ["MonitorSettings", "RunConfig", "RunData", "RunRecord"]


class RunData(BaseModel):
    """Where the run's data came from and how it was read, so evaluate, compress and card re-read it the same way."""

    model_config = ConfigDict(extra="allow")

    source: str | None = None  # a path or a built-in name
    version: str | None = None  # sha256 of the source's bytes (or of a generator's arguments)
    modality: str = "tabular"
    classes: list[Any] = Field(default_factory=list)  # index i is output unit i
    split: dict[str, Any] = Field(default_factory=dict)  # seed and fractions, or "predefined"
    target: str | None = None
    test: str | None = None  # an absolute path to the test set given with --test
    dropna: bool = False
    input_shape: list[int] | None = None  # one sample, no batch dimension


class MonitorSettings(BaseModel):
    """The live monitors the run was trained with (`dlexpert.monitor`)."""

    on: bool = True
    every: int = Field(50, ge=1)  # steps between checks
    auto_remedy: bool = False


class RunRecord(BaseModel):
    """What the pipeline adds to the engine's settings in config.yaml: what later stages need to rebuild the run."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None  # the record's name, for people reading the file
    model_record: ModelRecord | None = None
    catalog_model: str | None = None
    recipe: str | None = None
    adaptation: str | None = None
    data: RunData = Field(default_factory=RunData)
    monitors: MonitorSettings | None = None


class EngineSettings(BaseModel):
    """What the engine writes in config.yaml (`dlexpert.engine.fit`)."""

    model_config = ConfigDict(extra="allow")

    train: dict[str, Any]  # engine.TrainConfig's fields, as trained (changes applied)
    changes: list[dict[str, Any]] = Field(default_factory=list)  # engine.ConfigChange entries, oldest first
    distributed: dict[str, Any] | None = None  # world size and strategy of a multi-process run


class RunConfig(RunRecord, EngineSettings):
    """config.yaml: the engine's settings and the pipeline's `RunRecord`, in the file's order. Unknown keys are kept
    (a later dlexpert may add some), and runs written before model records existed are read through their
    `model_config` block."""

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, value: Any) -> Any:
        """Runs from before records: keep their `model_config` block under a name pydantic allows."""
        if isinstance(value, Mapping) and "model_config" in value:
            value = {("legacy_model_config" if k == "model_config" else k): v for k, v in value.items()}
        return value

    @property
    def seed(self) -> int:
        return int(self.train.get("seed", 0))

    @property
    def task(self) -> str:
        return str(self.train.get("task", "classification"))

    def record(self, *, source: str = "the run config") -> ModelRecord:
        """The model record that rebuilds the run's architecture (`dlexpert.models.build`)."""
        if self.model_record is not None:
            return self.model_record
        legacy = (self.model_extra or {}).get("legacy_model_config")
        return record_from_config({"model_config": legacy, "adaptation": self.adaptation}, source=source)

    def input_shape(self) -> tuple[int, ...] | None:
        """One sample's shape from the model record, else from the data; None for text (inputs are strings)."""
        shape = (self.model_record.input_shape if self.model_record else None) or self.data.input_shape
        return tuple(int(v) for v in shape) if shape else None
