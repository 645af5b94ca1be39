"""fit() end to end on tiny synthetic data: logging, accumulation, clipping, precision, control flow, stopping."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch
import yaml
from torch.utils.data import TensorDataset

from dlexpert.engine import (
    CancelEpochException,
    CancelFitException,
    TrainConfig,
    evaluate,
    fit,
    load_checkpoint,
    show_training_loop,
)
from dlexpert.errors import InvalidInputError

from .conftest import mlp

STEP_KEYS = {"kind", "epoch", "step", "train_loss", "lr", "grad_norm", "time", "samples_per_sec"}
EPOCH_KEYS = STEP_KEYS | {"val_loss", "val_acc"}


def rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_metrics_jsonl_has_one_row_per_epoch_with_the_right_keys(run, tmp_path: Path) -> None:
    result = run("a", epochs=3, log_every_steps=2)
    logged = rows(tmp_path / "a")
    epochs = [r for r in logged if r["kind"] == "epoch"]
    steps = [r for r in logged if r["kind"] == "step"]
    assert [r["epoch"] for r in epochs] == [0, 1, 2]
    assert all(set(r) == EPOCH_KEYS for r in epochs)
    assert all(set(r) == STEP_KEYS for r in steps)
    assert [r["step"] for r in steps] == [1, *range(2, 19, 2)]  # 6 steps per epoch, 3 epochs
    assert [{k: v for k, v in r.items() if k != "kind"} for r in epochs] == result.history
    assert 0.0 < epochs[-1]["val_acc"] <= 1.0 and epochs[-1]["grad_norm"] > 0


def test_tensorboard_events_and_config_yaml(run, tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run("a", epochs=2)
    events = list((tmp_path / "a" / "tb").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    acc = EventAccumulator(str(tmp_path / "a" / "tb"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("epoch/val_acc")] == [6, 12]
    assert "step/train_loss" in acc.Tags()["scalars"]
    config = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())
    assert TrainConfig(**config["train"]) == TrainConfig(epochs=2, batch_size=32, lr=1e-2, log_every_steps=2)


class GrabGrads:
    """Keeps a copy of the gradients of the first optimizer step."""

    def __init__(self) -> None:
        self.grads: list[torch.Tensor] | None = None

    def after_step(self, s) -> None:
        if self.grads is None:
            self.grads = [p.grad.clone() for p in s.model.parameters()]


def test_accumulation_equals_a_k_times_larger_batch(run) -> None:
    small, big, plain = GrabGrads(), GrabGrads(), GrabGrads()
    r_small = run("small", batch_size=8, accumulation=4, epochs=1, callbacks=[small])
    r_big = run("big", batch_size=32, accumulation=1, epochs=1, callbacks=[big])
    run("plain", batch_size=8, accumulation=1, epochs=1, callbacks=[plain])
    assert r_small.final_metrics["step"] == r_big.final_metrics["step"] == 6
    for a, b in zip(small.grads, big.grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    assert not torch.allclose(plain.grads[0], big.grads[0])  # without accumulation the gradient differs
    assert r_small.final_metrics["val_loss"] == pytest.approx(r_big.final_metrics["val_loss"], rel=1e-4)


def test_clipping_caps_the_global_norm(run) -> None:
    seen: list[tuple[float, float]] = []

    class Probe:
        def after_step(self, s) -> None:
            after = torch.nn.utils.get_total_norm([p.grad for p in s.model.parameters()])
            seen.append((float(s.grad_norm), float(after)))

    run("a", grad_clip=0.05, callbacks=[Probe()])
    assert all(after <= 0.05 * (1 + 1e-4) for _, after in seen)
    assert max(before for before, _ in seen) > 0.05  # clipping had work to do


def test_bf16_autocast_on_cpu(run, monkeypatch: pytest.MonkeyPatch) -> None:
    dtypes = set()

    class Probe:
        def after_loss(self, s) -> None:
            dtypes.add(s.pred.dtype)

    monkeypatch.setattr("dlexpert.engine.precision.cpu_has_bf16", lambda: True)
    result = run("a", mixed_precision="bf16", callbacks=[Probe()])
    assert dtypes == {torch.bfloat16}
    assert torch.isfinite(torch.tensor(result.final_metrics["val_loss"]))


def test_bf16_on_a_cpu_without_bf16_instructions_trains_in_fp32_and_says_so(run, monkeypatch) -> None:
    """Emulated bf16 made a digits CNN train at 100 s an epoch on an AVX2-only CPU (about 1 s in fp32)."""
    dtypes = set()

    class Probe:
        def after_loss(self, s) -> None:
            dtypes.add(s.pred.dtype)

    monkeypatch.setattr("dlexpert.engine.precision.cpu_has_bf16", lambda: False)
    with pytest.warns(UserWarning, match="no bf16 instructions"):
        run("a", epochs=1, mixed_precision="bf16", callbacks=[Probe()])
    assert dtypes == {torch.float32}


def test_fp16_without_cuda_falls_back_to_bf16(run) -> None:
    with pytest.warns(UserWarning, match="using 'bf16'"):
        run("a", epochs=1, mixed_precision="fp16")


def test_early_stopping_stops_after_patience(run, tmp_path: Path) -> None:
    result = run("a", epochs=10, lr=1e-9, early_stopping_patience=2)  # nothing can improve at this LR
    assert result.epochs_run == 3 and result.best_epoch == 0
    assert result.stop_reason is not None and "early stopping" in result.stop_reason
    assert load_checkpoint(tmp_path / "a" / "checkpoints" / "last.pt")["progress"]["epoch"] == 3


def test_cancel_epoch_skips_the_rest_of_the_epoch_but_validates(run) -> None:
    class TwoStepsPerEpoch:
        def before_batch(self, s) -> None:
            if s.batch_idx == 2:
                raise CancelEpochException

    result = run("a", epochs=2, callbacks=[TwoStepsPerEpoch()])
    assert [h["step"] for h in result.history] == [2, 4]
    assert all("val_acc" in h for h in result.history)


def test_cancel_fit_ends_cleanly_with_a_reason(run) -> None:
    class StopAtStep3:
        def after_step(self, s) -> None:
            if s.step == 3:
                raise CancelFitException("enough")

    result = run("a", epochs=5, callbacks=[StopAtStep3()])
    assert result.stop_reason == "enough" and result.epochs_run == 0


def test_ema_weights_differ_from_raw_and_are_validated(run, tmp_path: Path, data) -> None:
    _, val_set = data
    result = run("a", epochs=2, ema=0.9)
    ckpt = load_checkpoint(tmp_path / "a" / "checkpoints" / "last.pt")
    raw, ema = ckpt["model"], ckpt["ema"]["module"]
    assert raw.keys() == ema.keys()
    assert any(not torch.equal(raw[k], ema[k]) for k in raw)
    model = mlp()
    model.load_state_dict(ema)
    # validation used the EMA weights, not the raw ones
    assert result.history[-1]["val_loss"] == pytest.approx(evaluate(model, val_set, batch_size=32)["loss"], rel=1e-6)
    model.load_state_dict(raw)
    assert result.history[-1]["val_loss"] != pytest.approx(evaluate(model, val_set, batch_size=32)["loss"], rel=1e-6)


def test_regression_reports_mse_and_mae(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 4, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0]) + 0.1
    train, val = TensorDataset(x[:192], y[:192]), TensorDataset(x[192:], y[192:])
    cfg = TrainConfig(task="regression", epochs=4, batch_size=32, lr=3e-2)
    result = fit(mlp(4, 1), train_set=train, val_set=val, cfg=cfg, out_dir=tmp_path / "r", progress=False, device="cpu")
    first, last = result.history[0], result.history[-1]
    assert {"val_loss", "val_mse", "val_mae"} <= set(last) and "val_acc" not in last
    assert last["val_mse"] < first["val_mse"] / 2 and result.monitor == "val_loss"


def test_balanced_sampling_draws_classes_equally(tmp_path: Path) -> None:
    x = torch.randn(200, 8)
    y = torch.cat([torch.zeros(180, dtype=torch.long), torch.ones(20, dtype=torch.long)])
    seen: list[torch.Tensor] = []

    class Probe:
        def before_batch(self, s) -> None:
            seen.append(s.y)

    cfg = TrainConfig(epochs=2, batch_size=20, balanced_sampling=True)
    ds = TensorDataset(x, y)
    fit(mlp(8, 2), train_set=ds, val_set=ds, cfg=cfg, out_dir=tmp_path, callbacks=[Probe()], progress=False)
    share = torch.cat(seen).float().mean().item()
    assert 0.4 < share < 0.6  # vs 0.1 without balancing


def test_evaluate_computes_loss_and_accuracy_exactly() -> None:
    class Fixed(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x  # the inputs are the logits

    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [0.0, 2.0]])
    y = torch.tensor([0, 1, 1, 1])
    out = evaluate(Fixed(), TensorDataset(logits, y), batch_size=3, device="cpu")
    assert out["accuracy"] == 0.75
    assert out["loss"] == pytest.approx(torch.nn.functional.cross_entropy(logits, y).item())


def test_bad_inputs_are_one_line_errors(run, tmp_path: Path, data) -> None:
    train, _ = data
    empty = TensorDataset(torch.zeros(0, 8), torch.zeros(0, dtype=torch.long))
    with pytest.raises(InvalidInputError, match="val_set: is empty"):
        fit(mlp(), train_set=train, val_set=empty, cfg=TrainConfig(), out_dir=tmp_path / "e", progress=False)
    with pytest.raises(InvalidInputError, match="no checkpoint to resume from"):
        run("fresh", resume=True)
    run("a", epochs=1)
    with pytest.raises(InvalidInputError, match="already holds a run"):
        run("a", epochs=1)
    with pytest.raises(InvalidInputError, match=r"`lr` is 0\.5 but the checkpoint was trained with 0\.01"):
        run("a", epochs=2, lr=0.5, resume=True)


def test_show_training_loop_places_callbacks_at_their_events(capsys) -> None:
    class Spy:
        order = 95

        def after_epoch(self, s) -> None: ...

    text = show_training_loop(TrainConfig(early_stopping_patience=3), [Spy()], progress=False)
    line = next(ln for ln in text.splitlines() if "after_epoch" in ln)
    assert line.split(maxsplit=2)[2] == "Recorder, TensorBoardLogger, Checkpointer, EarlyStopping, Spy"
    assert "ProgressBar" not in text and capsys.readouterr().out.strip() == text.strip()


def test_a_misspelt_event_is_rejected() -> None:
    class Typo:
        def after_bach(self, s) -> None: ...

    with pytest.raises(InvalidInputError, match="after_bach is not an event"):
        show_training_loop(callbacks=[Typo()])


def test_no_warnings_in_a_plain_run(run) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run("a", epochs=1, scheduler="onecycle")


def test_progress_bar_reports_each_epoch_on_stderr(run, capfd) -> None:
    from dlexpert.engine import ProgressBar

    run("a", epochs=2, callbacks=[ProgressBar()])
    captured = capfd.readouterr()
    assert captured.out == ""  # standard output stays clean for --format json
    assert "epoch 1/2" in captured.err and "epoch 2/2" in captured.err and "val_acc" in captured.err


def test_an_iterable_dataset_is_refused_with_a_reason(tmp_path: Path, data) -> None:
    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            yield torch.zeros(8), 0

    with pytest.raises(InvalidInputError, match="train_set: must be a map-style Dataset"):
        fit(mlp(), train_set=Stream(), val_set=data[1], cfg=TrainConfig(), out_dir=tmp_path, progress=False)
