"""`dlexpert train` with the monitors: on by default, `--auto-remedy` recorded, `--no-monitor --auto-remedy` refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ..cli.test_cli import run
from ..conftest import EXAMPLES


@pytest.mark.slow  # a whole `dlexpert train` in a subprocess: ~30 s on 2 cores
def test_train_writes_a_live_diagnosis_and_records_the_monitor_settings(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = run("train", str(EXAMPLES / "digits.yaml"), "--data", "digits", "--out", str(out), "--epochs", "1",
            "--auto-remedy")  # fmt: skip
    assert r.returncode == 0, r.stderr
    d = json.loads((out / "diagnosis.json").read_text())
    assert d["actions"] == [] and "train_loss@step" in d["series"] and any("grad_norm/" in s for s in d["series"])
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["monitors"] == {"on": True, "every": 50, "auto_remedy": True}


def test_auto_remedy_needs_the_monitors(tmp_path: Path) -> None:
    r = run("train", str(EXAMPLES / "digits.yaml"), "--data", "digits", "--out", str(tmp_path / "o"),
            "--no-monitor", "--auto-remedy")  # fmt: skip
    assert r.returncode == 2 and "cannot be used with --no-monitor" in r.stderr and "Traceback" not in r.stderr
