"""The NaN/Inf sentinel: caught at the step it begins, the layer named, the run stopped, the last good state kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import TensorDataset

from dlexpert.diagnose import diagnose
from dlexpert.engine import load_checkpoint, load_weights
from dlexpert.monitor import locate_nonfinite

from .conftest import ArmAt, NaNFrom, blobs, issues, mlp, rows


def _finite(state: dict[str, torch.Tensor]) -> bool:
    return all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point())


def test_nan_from_a_layer_is_caught_at_its_step_and_the_layer_named(train, tmp_path: Path) -> None:
    torch.manual_seed(0)
    bad = NaNFrom()
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), bad, nn.Linear(16, 3))
    result = train("a", model=model, epochs=3, callbacks=[ArmAt(bad, step=9)])  # step 9 = epoch 2, third batch

    assert result.stop_reason is not None and result.stop_reason.startswith("stopped: non-finite loss (NaN) at step 9")
    assert result.epochs_completed == 1
    nan = issues(tmp_path / "a")["nan_inf"]
    assert nan["severity"] == "error" and nan["began_at"] == 9 and nan["axis"] == "step"
    assert nan["evidence"]["layer"] == "2" and nan["evidence"]["where"] == "output"
    assert "layer '2' (NaNFrom)" in nan["diagnosis"]
    # Caught before backward: the NaN never reached the weights, and nothing was logged after it.
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
    logged = rows(tmp_path / "a", "step")
    assert logged[-1]["step"] == 9 and logged[-1]["nonfinite"] == 1.0
    assert all(r["step"] < 9 for r in logged[:-1])
    # The last good state is intact: last.pt (end of epoch 1, step 6) and best.safetensors load and are finite.
    last = load_checkpoint(tmp_path / "a" / "checkpoints" / "last.pt")
    assert last["progress"]["step"] == 6 and _finite(last["model"])
    assert _finite(load_weights(tmp_path / "a" / "checkpoints" / "best.safetensors"))
    # `dlexpert diagnose` on the run directory afterwards sees the same onset in metrics.jsonl.
    offline = {f.issue: f for f in diagnose(tmp_path / "a").findings}
    assert offline["nan_inf"].began_at == 9 and offline["nan_inf"].severity == "error"


class PoisonInput:
    """Writes a NaN into the input batch of one optimizer step."""

    def __init__(self, step: int) -> None:
        self.step = step

    def before_batch(self, s: Any) -> None:
        if s.step + 1 == self.step:
            s.x[0, 0] = float("nan")


def test_nan_in_the_input_batch_is_blamed_on_the_input(train, tmp_path: Path) -> None:
    result = train("a", callbacks=[PoisonInput(step=4)])
    assert result.epochs_completed == 0 and "step 4" in (result.stop_reason or "")
    nan = issues(tmp_path / "a")["nan_inf"]
    assert nan["began_at"] == 4 and nan["evidence"]["where"] == "input" and nan["evidence"]["layer"] is None
    assert not (tmp_path / "a" / "checkpoints" / "last.pt").exists()  # no epoch finished: nothing to keep


class _NaNGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return x.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad * float("nan")


class NaNGradFrom(NaNFrom):
    """Forward is the identity; once armed, the gradient it passes back is NaN (the loss stays finite)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _NaNGrad.apply(x) if self.armed else x


def test_nan_gradients_are_caught_on_a_sampled_step_before_the_update(train, tmp_path: Path) -> None:
    torch.manual_seed(0)
    bad = NaNGradFrom()
    model = nn.Sequential(nn.Linear(8, 16), bad, nn.ReLU(), nn.Linear(16, 3))
    result = train("a", model=model, every=2, callbacks=[ArmAt(bad, step=4)])  # step 4 is sampled (every 2)
    nan = issues(tmp_path / "a")["nan_inf"]
    assert nan["began_at"] == 4 and nan["evidence"]["source"] == "gradients"
    assert nan["evidence"]["layer"] == "0"  # the only layer upstream of the broken backward
    assert result.stop_reason is not None and "gradients" in result.stop_reason
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())  # the optimizer never applied them


class BreakWeightsAfterStep:
    """Puts a NaN into a weight right after optimizer step `step` (the last step of an epoch)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def after_step(self, s: Any) -> None:
        if s.step == self.step:
            with torch.no_grad():
                s.model[0].weight[0, 0] = float("nan")


def test_a_nan_state_at_epoch_end_is_never_checkpointed(train, tmp_path: Path) -> None:
    result = train("a", epochs=3, callbacks=[BreakWeightsAfterStep(step=12)])  # the last step of epoch 2
    assert result.epochs_completed == 1
    nan = issues(tmp_path / "a")["nan_inf"]
    assert nan["evidence"]["source"] == "validation loss" and nan["evidence"]["layer"] == "0"
    last = load_checkpoint(tmp_path / "a" / "checkpoints" / "last.pt")
    assert last["progress"]["step"] == 6 and _finite(last["model"])  # epoch 1's, not the broken epoch 2
    assert _finite(load_weights(tmp_path / "a" / "checkpoints" / "best.safetensors"))


def test_a_loss_that_blows_up_is_caught_as_diverged(train, tmp_path: Path) -> None:
    result = train("a", epochs=4, optimizer="sgd", lr=100.0, scheduler="constant")
    nan = issues(tmp_path / "a")["nan_inf"]
    assert nan["evidence"]["where"] == "diverged" and "diverged loss" in nan["diagnosis"]
    assert result.stop_reason is not None and result.epochs_completed == 0
    bad_row = rows(tmp_path / "a", "step")[-1]
    assert bad_row["nonfinite"] == 1.0 and bad_row["train_loss"] >= 1e5


def test_locate_nonfinite_tells_input_weights_output_and_loss_apart() -> None:
    model = mlp(8)
    x = torch.randn(4, 8)
    assert locate_nonfinite(model, x) == (None, "loss")  # every output finite
    x_bad = x.clone()
    x_bad[1, 2] = float("inf")
    assert locate_nonfinite(model, x_bad) == (None, "input")
    with torch.no_grad():
        model[2].bias[0] = float("nan")
    assert locate_nonfinite(model, x) == ("2", "weights")
    log0 = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), _Log(), nn.Linear(4, 3))
    with torch.no_grad():
        log0[0].bias.fill_(-100.0)  # every ReLU output is 0, so log gives -inf
    assert locate_nonfinite(log0, x) == ("2", "output")


class _Log(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.log()


def test_replaying_the_forward_pass_leaves_batchnorm_statistics_and_rng_alone() -> None:
    model = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 3)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(3)
    locate_nonfinite(model, torch.randn(16, 8) * float("nan") + 1)  # input NaN: returns before the replay
    locate_nonfinite(model, torch.randn(16, 8))
    after_rng = torch.rand(1)
    torch.manual_seed(3)
    torch.randn(16, 8), torch.randn(16, 8)
    assert torch.equal(after_rng, torch.rand(1))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_a_nan_in_the_validation_data_stops_the_run_and_says_where_to_look(train, tmp_path: Path) -> None:
    x, y = blobs(64, seed=1).tensors
    x = x.clone()
    x[5, 0] = float("nan")
    result = train("a", epochs=2, val_set=TensorDataset(x, y))
    nan = issues(tmp_path / "a")["nan_inf"]
    assert nan["evidence"]["source"] == "validation loss" and nan["evidence"]["where"] == "validation data"
    assert result.epochs_completed == 0 and not (tmp_path / "a" / "checkpoints" / "last.pt").exists()
