"""config.yaml read back as `RunConfig`: typed fields, the file's own order, legacy runs, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dlexpert.errors import InvalidInputError
from dlexpert.rundir import RunDir
from dlexpert.schema import ModelRecord, RunConfig

WRITTEN = {
    "train": {"epochs": 3, "lr": 0.01, "seed": 7, "task": "classification"},
    "model": "cnn1d",
    "model_record": {"library": "dlexpert", "name": "cnn1d", "n_classes": 10, "input_shape": [1, 40]},
    "recipe": "cnn1d-scratch-sequence",
    "data": {"source": "mnist1d", "modality": "sequence", "classes": ["0", "1"], "dropna": True},
    "monitors": {"on": True, "every": 50, "auto_remedy": False},
    "changes": [],
    "added_by_a_later_version": {"x": 1},
}


def _write(tmp_path: Path, config: dict) -> RunDir:
    (tmp_path / RunDir.CONFIG).write_text(yaml.safe_dump(config, sort_keys=False))
    return RunDir(tmp_path)


def test_a_run_config_reads_back_typed_and_keeps_what_it_does_not_know(tmp_path: Path) -> None:
    config = _write(tmp_path, WRITTEN).config()
    assert config.seed == 7 and config.task == "classification"
    assert config.data.dropna is True and config.data.modality == "sequence"
    assert config.record() == ModelRecord(library="dlexpert", name="cnn1d", n_classes=10, input_shape=[1, 40])
    assert config.input_shape() == (1, 40)
    dumped = config.model_dump(mode="json", exclude_unset=True)
    assert next(iter(dumped)) == "train" and dumped["added_by_a_later_version"] == {"x": 1}


def test_a_run_from_before_model_records_is_rebuilt_from_its_model_config_block() -> None:
    legacy = {"train": {"seed": 0}, "model_config": {"name": "mlp", "input_shape": [13], "n_classes": 3}}
    record = RunConfig.model_validate(legacy).record()
    assert (record.name, record.input_shape, record.n_classes) == ("mlp", [13], 3)
    with pytest.raises(InvalidInputError, match="has no `model_record`"):
        RunConfig.model_validate({"train": {}}).record()


def test_a_bad_field_is_one_line_naming_the_file_and_the_field(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"config\.yaml: `data.dropna`"):
        _write(tmp_path, {**WRITTEN, "data": {"dropna": "sometimes"}}).config()
    with pytest.raises(InvalidInputError, match="no `train` section"):
        _write(tmp_path, {"model": "cnn1d"}).config()
