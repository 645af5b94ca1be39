from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from dlexpert.engine import ConfigChange, TrainConfig, parse_train_config
from dlexpert.errors import InvalidInputError


def test_defaults_are_valid_and_frozen() -> None:
    cfg = TrainConfig()
    assert (cfg.optimizer, cfg.scheduler, cfg.accumulation, cfg.mixed_precision) == ("adamw", "cosine", 1, "none")
    with pytest.raises(Exception, match="frozen"):
        cfg.lr = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(("ema", "decay"), [(False, None), (True, 0.999), (0.9, 0.9)])
def test_ema_decay(ema: bool | float, decay: float | None) -> None:
    assert TrainConfig(ema=ema).ema_decay == decay


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"lr": -1}, "`lr` Input should be greater than 0; got -1"),
        ({"optimizer": "lion"}, "`optimizer` Input should be 'sgd', 'adamw' or 'adam'; got 'lion'"),
        ({"learning_rate": 0.1}, "`learning_rate` unknown setting"),
        ({"scheduler": "plateau", "warmup_epochs": 1}, "not supported with scheduler 'plateau'"),
        ({"task": "regression", "mixup_alpha": 0.2}, "`mixup_alpha` only apply to task 'classification'"),
        ({"nesterov": True}, "needs optimizer 'sgd'"),
        ({"ema": 1.5}, "decay between 0 and 1"),
        ({"epochs": 2, "warmup_epochs": 2}, "must be below `epochs`"),
    ],
)
def test_invalid_settings_give_one_line_errors(data: dict, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_train_config(data)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_a_config_change_sets_changeable_settings_to_valid_values() -> None:
    with pytest.raises(ValidationError, match="only grad_clip, lr can change during a run; got batch_size"):
        ConfigChange(settings={"batch_size": 8}, reason="r", by="me")
    with pytest.raises(InvalidInputError, match="change by me: `grad_clip` Input should be greater than 0; got -1"):
        ConfigChange(settings={"grad_clip": -1}, reason="r", by="me").apply(TrainConfig())
    change = ConfigChange(settings={"lr": 1e-4}, reason="r", by="me")
    once = change.apply(TrainConfig(lr=1e-2))
    assert once.lr == 1e-4 and change.apply(once) == once  # absolute values: applying again changes nothing


def test_import_dlexpert_does_not_import_torch() -> None:
    code = "import sys, dlexpert; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
