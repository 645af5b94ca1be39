from __future__ import annotations

import io
import itertools
import math

import pytest
import torch

from dlexpert.engine import TrainConfig, create_optimizer, create_scheduler


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


def test_onecycle_peaks_at_lr_after_warmup_fraction() -> None:
    lr = lrs(TrainConfig(epochs=10, lr=0.1, scheduler="onecycle", warmup_epochs=3))
    peak = max(range(len(lr)), key=lr.__getitem__)
    assert lr[peak] == pytest.approx(0.1, rel=1e-3)
    assert 28 <= peak <= 30
    assert lr[0] == pytest.approx(0.1 / 25)  # div_factor 25
    assert lr[-1] < 1e-4


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


@pytest.mark.parametrize("name", ["cosine", "onecycle", "step", "plateau", "constant"])
def test_scheduler_state_loads_with_weights_only(name: str) -> None:
    cfg = TrainConfig(epochs=4, scheduler=name, warmup_epochs=1 if name in ("cosine", "step") else 0)
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
