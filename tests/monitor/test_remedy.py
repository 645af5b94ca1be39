"""--auto-remedy: roll back on NaN/Inf (lr / 10, clipping on) and finish with a usable model; stop on overfitting."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from torch import nn
from torch.optim.lr_scheduler import LambdaLR, OneCycleLR
from torch.utils.data import TensorDataset

from dlexpert.engine import (
    CancelFitException,
    TrainConfig,
    create_optimizer,
    create_scheduler,
    evaluate,
    load_checkpoint,
    load_weights,
)
from dlexpert.monitor import scale_lr

from .conftest import ArmAt, NaNFrom, blobs, diagnosis, mlp, rows


def test_auto_remedy_recovers_from_a_diverging_learning_rate(train, tmp_path: Path) -> None:
    settings = {"epochs": 6, "optimizer": "sgd", "lr": 20.0, "val_set": blobs(256, seed=1)}  # SGD at 20: blows up
    plain = train("plain", **settings)
    assert plain.stop_reason is not None and "diverged" in plain.stop_reason  # without the remedy: stopped

    model = mlp()
    result = train("fixed", model=model, auto_remedy=True, **settings)
    assert result.stop_reason is None and result.epochs_completed == 6
    assert math.isfinite(result.final_metrics["train_loss"])
    actions = diagnosis(tmp_path / "fixed")["actions"]
    assert [a["action"] for a in actions] == ["rollback"]
    assert actions[0]["lr_after"] == pytest.approx(0.1 * actions[0]["lr_before"]) and actions[0]["lr_before"] > 15
    assert actions[0]["grad_clip"] == 1.0 and actions[0]["restored"] == "the initial weights"
    assert [r["action"] for r in rows(tmp_path / "fixed", "action")] == ["rollback"]
    # A usable model: clearly better than chance (1/3) on held-out data, from the saved best weights too.
    assert evaluate(model, blobs(256, seed=5))["accuracy"] > 0.7
    best = mlp()
    best.load_state_dict(load_weights(tmp_path / "fixed" / "checkpoints" / "best.safetensors"))
    assert evaluate(best, blobs(256, seed=5))["accuracy"] > 0.7


class PoisonInput:
    """Puts a NaN into the input of optimizer step `step` in epoch 1; records the clipping and LR of every step."""

    def __init__(self, step: int) -> None:
        self.step = step
        self.clip_after: list[float | None] = []
        self.lr_after: list[float] = []

    def before_batch(self, s: Any) -> None:
        if s.step + 1 == self.step and s.epoch == 1:
            s.x[0, 0] = float("nan")

    def after_step(self, s: Any) -> None:
        self.clip_after.append(s.cfg.grad_clip)
        self.lr_after.append(s.lr)


class StopAfterEpoch:
    """Ends the run after `epoch`, once last.pt holds it: what a kill between two epochs leaves behind."""

    order = 100  # after the Checkpointer and AutoRemedy

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def after_epoch(self, s: Any) -> None:
        if s.epoch == self.epoch:
            raise CancelFitException("killed")


def test_the_remedy_s_clipping_and_lr_cut_survive_a_resume(train, tmp_path: Path) -> None:
    settings = {"epochs": 4, "auto_remedy": True, "scheduler": "constant"}
    train("a", callbacks=[PoisonInput(step=9), StopAfterEpoch(1)], **settings)  # rollback in epoch 1, then killed
    config = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())
    (change,) = config["changes"]
    assert change["by"] == "AutoRemedy" and change["reason"].startswith("rolled back after")
    assert change["before"] == {"lr": 1e-2, "grad_clip": None} and (change["epoch"], change["step"]) == (1, 8)
    assert change["settings"] == {"lr": pytest.approx(1e-3), "grad_clip": 1.0}
    assert config["train"]["grad_clip"] == 1.0 and config["train"]["lr"] == pytest.approx(1e-3)
    saved = load_checkpoint(tmp_path / "a" / "checkpoints" / "last.pt")["config"]
    assert saved["changes"] == config["changes"] and saved["train"] == config["train"]

    # Resumed with the planned settings (lr 1e-2, no clipping): it goes on with clipping and the cut rate.
    probe = PoisonInput(step=0)  # poisons nothing; records
    result = train("a", callbacks=[probe], resume=True, **settings)
    assert result.stop_reason is None and result.epochs_completed == 4
    assert set(probe.clip_after) == {1.0} and probe.lr_after == pytest.approx([1e-3] * 12)
    assert yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())["changes"] == [change]


def test_a_transient_nan_rolls_back_to_the_last_epoch_and_turns_clipping_on(train, tmp_path: Path) -> None:
    poison = PoisonInput(step=9)
    result = train("a", epochs=3, auto_remedy=True, callbacks=[poison])
    assert result.stop_reason is None and result.epochs_completed == 3
    (action,) = diagnosis(tmp_path / "a")["actions"]
    assert action["restored"] == "the end of epoch 1 (step 6)" and action["step"] == 8
    assert action["lr_after"] == pytest.approx(action["lr_before"] * 0.1)
    assert poison.clip_after[:8] == [None] * 8 and set(poison.clip_after[8:]) == {1.0}  # on from the next epoch
    # The rolled-back epoch ended early (2 of its 6 steps), the last one ran in full.
    assert [h["step"] for h in result.history] == [6, 8, 14]
    nan = {f["issue"]: f for f in diagnosis(tmp_path / "a")["findings"]}["nan_inf"]
    assert nan["began_at"] == 9 and nan["evidence"]["where"] == "input"


def test_auto_remedy_gives_up_after_max_rollbacks(train, tmp_path: Path) -> None:
    torch.manual_seed(0)
    bad = NaNFrom()
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), bad, nn.Linear(16, 3))
    result = train("a", model=model, epochs=6, auto_remedy=True, callbacks=[ArmAt(bad, step=3)])
    actions = [a["action"] for a in diagnosis(tmp_path / "a")["actions"]]
    assert actions == ["rollback", "rollback", "rollback", "stop"]
    assert result.stop_reason is not None and result.stop_reason.startswith("auto-remedy: still non-finite")
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())


def _noisy(n: int, *, seed: int, flip: float) -> TensorDataset:
    x, y = blobs(n, seed=seed).tensors
    g = torch.Generator().manual_seed(seed + 7)
    flipped = torch.rand(n, generator=g) < flip
    return TensorDataset(x, torch.where(flipped, torch.randint(0, 3, (n,), generator=g), y))


def test_auto_remedy_stops_early_on_clear_overfitting(train, tmp_path: Path) -> None:
    pytest.importorskip("dlexpert.diagnose.rules")
    torch.manual_seed(0)
    big = nn.Sequential(nn.Linear(8, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 3))
    # 64 samples with 30% random labels, one step per epoch: the big model memorises the noise after ~6 epochs.
    settings = {"epochs": 30, "batch_size": 64, "lr": 3e-3, "weight_decay": 0.0, "scheduler": "constant"}
    result = train("a", model=big, auto_remedy=True, every=1, train_set=_noisy(64, seed=0, flip=0.3),
                   val_set=blobs(256, seed=1), **settings)  # fmt: skip
    assert result.stop_reason is not None and "overfitting" in result.stop_reason
    assert result.epochs_completed < 20
    d = diagnosis(tmp_path / "a")
    over = {f["issue"]: f for f in d["findings"]}["overfitting"]
    assert over["severity"] == "warning"
    (action,) = d["actions"]
    assert action["action"] == "early_stop" and action["best_epoch"] == result.best_epoch
    assert (tmp_path / "a" / "checkpoints" / "best.safetensors").is_file()
    assert [r["action"] for r in rows(tmp_path / "a", "action")] == ["early_stop"]


@pytest.mark.parametrize("scheduler", ["cosine", "onecycle"])
def test_scale_lr_cuts_the_rate_for_the_rest_of_the_schedule(scheduler: str) -> None:
    cfg = TrainConfig(epochs=4, lr=0.1, scheduler=scheduler)
    twins = []
    for _ in range(2):
        opt = create_optimizer(mlp(), cfg)
        sched = create_scheduler(opt, cfg, steps_per_epoch=10)
        for _ in range(7):
            opt.step()
            sched.step()
        twins.append((opt, sched))
    (opt, sched), (ref_opt, ref_sched) = twins
    assert isinstance(sched, (LambdaLR, OneCycleLR))
    scale_lr(opt, sched, 0.1)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * ref_opt.param_groups[0]["lr"])
    for _ in range(20):  # later steps of the schedule stay 10x lower
        opt.step(), sched.step(), ref_opt.step(), ref_sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * ref_opt.param_groups[0]["lr"], rel=1e-6)
