from __future__ import annotations

import io
import itertools
import math
import typing

import pytest
import torch

from dlexpert.engine import TrainConfig, create_optimizer, create_scheduler, parse_train_config
from dlexpert.errors import InvalidInputError

OPTIMIZERS = typing.get_args(TrainConfig.model_fields["optimizer"].annotation)
SCHEDULERS = typing.get_args(TrainConfig.model_fields["scheduler"].annotation)


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv1d(2, 4, 3)
        self.norm = torch.nn.BatchNorm1d(4)
        self.head = torch.nn.Linear(4, 3)
        self.frozen = torch.nn.Linear(3, 3)
        self.frozen.requires_grad_(False)


def test_weight_decay_skips_biases_and_norms() -> None:
    net = Net()
    opt = create_optimizer(net, TrainConfig(optimizer="adamw", weight_decay=0.05))
    by_id = {id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
    assert by_id[id(net.conv.weight)] == by_id[id(net.head.weight)] == 0.05
    for p in (net.conv.bias, net.norm.weight, net.norm.bias, net.head.bias):
        assert by_id[id(p)] == 0.0
    assert id(net.frozen.weight) not in by_id  # frozen parameters are not optimised at all
    assert isinstance(opt, torch.optim.AdamW)


def test_sgd_gets_momentum_and_nesterov() -> None:
    opt = create_optimizer(Net(), TrainConfig(optimizer="sgd", lr=0.1, momentum=0.8, nesterov=True))
    assert isinstance(opt, torch.optim.SGD)
    assert opt.param_groups[0]["momentum"] == 0.8 and opt.param_groups[0]["nesterov"] is True


def test_adam_is_adam_with_l2_weight_decay() -> None:
    net = Net()
    opt = create_optimizer(net, TrainConfig(optimizer="adam", lr=0.01, weight_decay=0.1))
    assert type(opt) is torch.optim.Adam  # not AdamW, which subclasses Adam
    assert {g["weight_decay"] for g in opt.param_groups} == {0.1, 0.0}  # biases and norms still excluded
    # L2 decay goes through Adam's normalisation: with a zero loss gradient the first step moves every decayed
    # weight by ~lr (decoupled decay, AdamW, would move it by lr * weight_decay * |w| only).
    before = net.head.weight.detach().clone()
    (0.0 * net.head(torch.ones(1, 4)).sum()).backward()
    opt.step()
    assert torch.allclose((before - net.head.weight).abs(), torch.full_like(before, 0.01), rtol=1e-3)


@pytest.mark.parametrize(("field", "value"), [("optimizer", "Adam"), ("optimizer", "lion"), ("scheduler", "exp")])
def test_an_unknown_name_is_refused_listing_the_valid_ones(field: str, value: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_train_config({field: value})
    message = str(err.value)
    assert "\n" not in message and f"`{field}`" in message and repr(value) in message
    names = OPTIMIZERS if field == "optimizer" else SCHEDULERS
    assert all(repr(name) in message for name in names)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_name_builds_that_optimizer(optimizer: str) -> None:
    opt = create_optimizer(torch.nn.Linear(2, 2), TrainConfig(optimizer=optimizer))
    assert type(opt).__name__.lower() == optimizer  # no name stands in for another


def test_every_scheduler_name_gives_its_own_schedule() -> None:
    """No name falls back to another schedule: the learning-rate curves of all the names differ."""
    curves = {name: lrs(TrainConfig(epochs=6, lr=0.1, scheduler=name)) for name in SCHEDULERS}
    assert len({tuple(round(v, 9) for v in c) for c in curves.values()}) == len(SCHEDULERS)


def lrs(cfg: TrainConfig, steps_per_epoch: int = 10) -> list[float]:
    """The LR used at each optimizer step of the whole run (plateau: per epoch, with a flat val_loss)."""
    opt = create_optimizer(torch.nn.Linear(2, 2), cfg)
    sched = create_scheduler(opt, cfg, steps_per_epoch)
    out = []
    for _ in range(cfg.epochs * (1 if cfg.scheduler == "plateau" else steps_per_epoch)):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step(1.0) if cfg.scheduler == "plateau" else sched.step()  # type: ignore[call-arg]
    return out


def test_cosine_warms_up_then_decays_to_zero() -> None:
    lr = lrs(TrainConfig(epochs=5, lr=0.1, scheduler="cosine", warmup_epochs=1))
    warm = lr[:10]
    assert warm == sorted(warm) and warm[0] == pytest.approx(0.01) and warm[-1] == pytest.approx(0.1)
    decay = lr[10:]
    assert all(a >= b for a, b in itertools.pairwise(decay))
    assert decay[-1] < 0.002  # ~0 at the end
    assert lr[30] == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi * 20 / 40)))


def test_linear_warms_up_then_falls_in_a_straight_line_to_zero() -> None:
    lr = lrs(TrainConfig(epochs=5, lr=0.1, scheduler="linear", warmup_epochs=1))
    assert lr[:10] == sorted(lr[:10]) and lr[9] == pytest.approx(0.1)
    decay = lr[10:]
    assert all(a > b for a, b in itertools.pairwise(decay))
    assert all(a - b == pytest.approx(0.1 / 40) for a, b in itertools.pairwise(decay))  # a straight line
    assert lr[30] == pytest.approx(0.05)  # half-way through the 40 decay steps
    assert decay[-1] == pytest.approx(0.1 / 40)  # the last step; 0 right after it (as Hugging Face's schedule)


@pytest.mark.parametrize("power", [0.9, 2.0])
def test_poly_falls_as_a_power_of_the_remaining_fraction(power: float) -> None:
    lr = lrs(TrainConfig(epochs=5, lr=0.1, scheduler="poly", warmup_epochs=1, poly_power=power))
    assert lr[:10] == sorted(lr[:10]) and lr[9] == pytest.approx(0.1)
    decay = lr[10:]
    assert all(a > b for a, b in itertools.pairwise(decay))
    assert lr[30] == pytest.approx(0.1 * 0.5**power)
    assert decay[-1] == pytest.approx(0.1 * (1 / 40) ** power) and decay[-1] < 0.004


def test_onecycle_peaks_at_lr_after_warmup_fraction() -> None:
    lr = lrs(TrainConfig(epochs=10, lr=0.1, scheduler="onecycle", warmup_epochs=3))
    peak = max(range(len(lr)), key=lr.__getitem__)
    assert lr[peak] == pytest.approx(0.1, rel=1e-3)
    assert 28 <= peak <= 30
    assert lr[0] == pytest.approx(0.1 / 25)  # div_factor 25
    assert lr[-1] < 1e-4


@pytest.mark.parametrize(("epochs", "warmup", "steps_per_epoch"), [(4, 1.0, 1), (2, 1.0, 1), (1, 0.5, 1), (3, 1.0, 1)])
def test_onecycle_on_a_few_steps_still_rises_and_falls(epochs: int, warmup: float, steps_per_epoch: int) -> None:
    """A 4-step run with a quarter of warmup put OneCycleLR's first phase at 0 steps (a ZeroDivisionError, seen with
    `run --epochs 4` on 17 training images): the rise keeps 2 steps and the fall 1."""
    lr = lrs(TrainConfig(epochs=epochs, lr=0.1, scheduler="onecycle", warmup_epochs=warmup), steps_per_epoch)
    assert len(lr) == epochs * steps_per_epoch and all(0 < v <= 0.1 + 1e-9 for v in lr)


def test_step_multiplies_by_gamma_every_step_epochs() -> None:
    lr = lrs(TrainConfig(epochs=6, lr=0.1, scheduler="step", step_epochs=2, gamma=0.5))
    assert lr[0] == lr[19] == pytest.approx(0.1)
    assert lr[20] == lr[39] == pytest.approx(0.05)
    assert lr[59] == pytest.approx(0.025)


def test_step_with_warmup() -> None:
    lr = lrs(TrainConfig(epochs=6, lr=0.1, scheduler="step", step_epochs=3, warmup_epochs=1))
    assert lr[0] == pytest.approx(0.01) and lr[9] == pytest.approx(0.1)
    assert lr[40] == pytest.approx(0.01)  # warmup steps + 3 epochs later


def test_plateau_decays_when_val_loss_stalls() -> None:
    lr = lrs(TrainConfig(epochs=8, lr=0.1, scheduler="plateau", plateau_patience=2, gamma=0.1))
    assert lr[:4] == [0.1] * 4  # best at epoch 0, then patience 2
    assert lr[4] == pytest.approx(0.01)


def test_constant_stays_put() -> None:
    assert set(lrs(TrainConfig(epochs=3, lr=0.05, scheduler="constant"))) == {0.05}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_state_loads_with_weights_only(name: str) -> None:
    cfg = TrainConfig(epochs=4, scheduler=name, warmup_epochs=1 if name != "plateau" else 0)
    opt = create_optimizer(torch.nn.Linear(2, 2), cfg)
    sched = create_scheduler(opt, cfg, 5)
    for _ in range(3):
        opt.step()
        sched.step(0.5) if name == "plateau" else sched.step()  # type: ignore[call-arg]
    buf = io.BytesIO()
    torch.save({"s": sched.state_dict(), "o": opt.state_dict()}, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=True)
    opt2 = create_optimizer(torch.nn.Linear(2, 2), cfg)
    sched2 = create_scheduler(opt2, cfg, 5)
    sched2.load_state_dict(loaded["s"])
    opt2.load_state_dict(loaded["o"])
    assert sched2.last_epoch == sched.last_epoch
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_step_milestones_decay_at_the_start_of_those_epochs() -> None:
    """A recipe's step schedule (WRN: x0.2 at epochs 60/120/160 of 200) runs as planned, not as a substitute."""
    model = torch.nn.Linear(2, 2)
    cfg = TrainConfig(epochs=10, lr=1.0, scheduler="step", lr_milestones=[3, 6], gamma=0.2, warmup_epochs=1)
    opt = create_optimizer(model, cfg)
    sched = create_scheduler(opt, cfg, steps_per_epoch=4)
    lrs = []
    for _ in range(40):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[3] == pytest.approx(1.0) and lrs[4] == pytest.approx(1.0)  # warmed up by the end of epoch 0
    assert lrs[11] == pytest.approx(1.0) and lrs[12] == pytest.approx(0.2)  # epoch 3 starts at step 12
    assert lrs[23] == pytest.approx(0.2) and lrs[24] == pytest.approx(0.04) and lrs[39] == pytest.approx(0.04)


def test_step_milestones_outside_the_run_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="lr_milestones"):
        parse_train_config({"epochs": 10, "scheduler": "step", "lr_milestones": [12]})
