"""The monitor registry, a common check over every registered monitor, and the LiveDoctor's files and console."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from dlexpert.engine import TrainConfig, fit
from dlexpert.errors import InvalidInputError, RegistryError, UnknownNameError
from dlexpert.monitor import (
    AutoRemedy,
    GradNormMonitor,
    LiveDoctor,
    NonFiniteSentinel,
    create_monitors,
    get_monitor,
    list_monitors,
    register_monitor,
)

from .conftest import blobs, diagnosis, mlp, rows

BUILT_IN = {"grad_norm", "update_ratio", "activations", "predictions", "throughput", "lr_schedule", "nonfinite"}


def test_list_get_and_create() -> None:
    assert set(list_monitors()) == BUILT_IN == set(list_monitors(default=True))
    assert get_monitor("grad_norm").cls is GradNormMonitor and get_monitor("grad_norm").doc
    with pytest.raises(UnknownNameError, match="unknown monitor 'grad'; choose one of: activations, grad_norm"):
        get_monitor("grad")
    doctor, probe = create_monitors(["grad_norm"], every=7)
    assert isinstance(doctor, LiveDoctor) and isinstance(probe, GradNormMonitor) and probe.every == 7
    assert doctor.diagnose_every == 70
    cbs = create_monitors(["grad_norm"], auto_remedy=True)
    sentinel = next(cb for cb in cbs if isinstance(cb, NonFiniteSentinel))
    assert isinstance(cbs[-1], AutoRemedy) and sentinel.remedy is cbs[-1]
    with pytest.raises(InvalidInputError, match="positive number of steps; got 0"):
        create_monitors(every=0)
    with pytest.raises(RegistryError, match=r"'grad_norm' is already registered \(by dlexpert\.monitor\.probes"):
        register_monitor("grad_norm")(GradNormMonitor)


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_every_monitor_runs_alone_and_writes_a_diagnosis(train, tmp_path: Path, name: str) -> None:
    cbs = create_monitors([name], every=1, console=False)
    result = fit(mlp(), train_set=blobs(96, seed=0), val_set=blobs(32, seed=1), out_dir=tmp_path / name,
                 cfg=TrainConfig(epochs=1, batch_size=32), callbacks=cbs, progress=False, device="cpu")  # fmt: skip
    assert result.stop_reason is None
    d = diagnosis(tmp_path / name)
    assert d["healthy"] and d["actions"] == [] and "train_loss@step" in d["series"]


def test_a_healthy_run_has_a_healthy_diagnosis_with_the_monitor_series(train, tmp_path: Path) -> None:
    train("a", epochs=3)
    d = diagnosis(tmp_path / "a")
    assert d["healthy"] is True
    assert all(f["severity"] == "info" for f in d["findings"])
    for series in ("grad_norm/0@step", "update_ratio@step", "dead_fraction/1@step", "data_wait_fraction@step",
                   "pred_entropy@step", "val_loss@epoch"):  # fmt: skip
        assert series in d["series"]


def test_new_findings_are_printed_once(tmp_path: Path, capsys: Any) -> None:
    dead = mlp()
    with torch.no_grad():
        dead[0].bias.fill_(-20.0)
    fit(dead, train_set=blobs(192, seed=0), val_set=blobs(64, seed=1), out_dir=tmp_path / "a", progress=False,
        cfg=TrainConfig(epochs=3, batch_size=32), callbacks=create_monitors(every=2), device="cpu")  # fmt: skip
    err = capsys.readouterr().err
    if "dead_relu" not in json.dumps(diagnosis(tmp_path / "a")):
        pytest.skip("the dead_relu rule is not registered")
    assert err.count("dead_relu") == 1 and "monitor: error dead_relu" in err


def test_resume_keeps_the_history_and_the_actions(train, tmp_path: Path) -> None:
    class PoisonOnce:
        def before_batch(self, s: Any) -> None:
            if s.step + 1 == 9 and s.epoch == 1:
                s.x[0, 0] = float("nan")

    train("a", epochs=2, auto_remedy=True, callbacks=[PoisonOnce()])
    assert [a["action"] for a in diagnosis(tmp_path / "a")["actions"]] == ["rollback"]
    cbs = create_monitors(every=2, auto_remedy=True, console=False)
    cfg = TrainConfig(epochs=3, batch_size=32, lr=1e-2, log_every_steps=50)
    fit(mlp(), train_set=blobs(192, seed=0), val_set=blobs(64, seed=1), out_dir=tmp_path / "a", resume=True,
        progress=False, cfg=cfg, callbacks=cbs, device="cpu")  # fmt: skip
    d = diagnosis(tmp_path / "a")
    assert [a["action"] for a in d["actions"]] == ["rollback"]  # the first session's action is still there
    doctor = cbs[0]
    assert doctor.points[("train_loss", "epoch")].keys() == {0.0, 1.0, 2.0}  # rows of both sessions
    assert [r["epoch"] for r in rows(tmp_path / "a", "epoch")] == [0, 1, 2]
