"""Checkpoints: exact resume, Ctrl-C, crash-safe writes, and loading that never unpickles code."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from dlexpert.engine import (
    CancelFitException,
    ConfigChange,
    TrainingInterrupted,
    evaluate,
    load_checkpoint,
    load_weights,
    save_checkpoint,
    save_weights,
)
from dlexpert.errors import DlexpertError, InvalidInputError

from .conftest import mlp

# Everything that carries state across epochs is on: dropout and mixup (RNG), AdamW moments, EMA, label smoothing,
# the balanced sampler, warmup. Exact equality then means every piece of state was saved and restored.
STATEFUL = {
    "batch_size": 16,
    "lr": 3e-3,
    "ema": 0.9,
    "mixup_alpha": 0.4,
    "label_smoothing": 0.1,
    "balanced_sampling": True,
    "warmup_epochs": 1,
}
VOLATILE = {"time", "samples_per_sec"}  # wall-clock figures differ between runs


def same_numbers(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in h.items() if k not in VOLATILE} for h in history]


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run_dir / "checkpoints" / "last.pt")["model"]


def assert_same_run(a: Path, b: Path, ra, rb) -> None:
    assert same_numbers(ra.history) == same_numbers(rb.history)
    wa, wb = weights(a), weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    sa, sb = load_file(a / "checkpoints" / "best.safetensors"), load_file(b / "checkpoints" / "best.safetensors")
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_resume_after_two_epochs_equals_an_uninterrupted_run(run, tmp_path: Path) -> None:
    full = run("full", epochs=4, scheduler="constant", model=mlp(dropout=0.2), **STATEFUL)
    run("split", epochs=2, scheduler="constant", model=mlp(dropout=0.2), **STATEFUL)
    # a fresh process would build a fresh model: different init, the checkpoint must override it all
    resumed = run("split", epochs=4, scheduler="constant", model=mlp(dropout=0.2, seed=99), resume=True, **STATEFUL)
    assert resumed.epochs_run == 2 and resumed.epochs_completed == 4
    assert_same_run(tmp_path / "full", tmp_path / "split", full, resumed)
    epoch_rows = [r for r in map(json.loads, (tmp_path / "split" / "metrics.jsonl").read_text().splitlines())]
    assert [r["epoch"] for r in epoch_rows if r["kind"] == "epoch"] == [0, 1, 2, 3]


class CtrlC:
    """Raises KeyboardInterrupt once, at the given event and step/epoch: what Ctrl-C does at that moment."""

    order = 100  # after the loggers and the Checkpointer

    def __init__(self, event: str, **at: int) -> None:
        self.at = at
        setattr(self, event, self._maybe_interrupt)

    def _maybe_interrupt(self, s) -> None:
        if all(getattr(s, k) == v for k, v in self.at.items()):
            raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("event", "at", "resume_point"),
    [
        ("after_epoch", {"epoch": 1}, (2, 0)),  # killed after epoch 2 of 4
        ("after_step", {"step": 15}, (1, 3)),  # killed in epoch 2, after its third batch (12 batches per epoch)
    ],
    ids=["after-epoch", "mid-epoch"],
)
def test_ctrl_c_leaves_a_resumable_last_pt(run, tmp_path: Path, event: str, at: dict, resume_point: tuple) -> None:
    kw = {"epochs": 4, "scheduler": "cosine", **STATEFUL}
    full = run("full", model=mlp(dropout=0.2), **kw)
    with pytest.raises(TrainingInterrupted, match="continue with --resume"):
        run("killed", model=mlp(dropout=0.2), callbacks=[CtrlC(event, **at)], **kw)
    raw = torch.load(tmp_path / "killed" / "checkpoints" / "last.pt", weights_only=True)
    assert (raw["progress"]["epoch"], raw["progress"]["batches_done"]) == resume_point
    resumed = run("killed", model=mlp(dropout=0.2, seed=5), resume=True, **kw)
    assert_same_run(tmp_path / "full", tmp_path / "killed", full, resumed)
    logged = [json.loads(line) for line in (tmp_path / "killed" / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in logged if r["kind"] == "step"]
    assert steps == sorted(set(steps)) and steps[-1] == 48  # no duplicated rows after the resume
    assert [r["epoch"] for r in logged if r["kind"] == "epoch"] == [0, 1, 2, 3]


class ClipAfterEpoch0:
    """At the end of epoch 0 turns clipping on and cuts the learning rate 10x, as a live monitor would; records the
    settings every optimizer step ran with."""

    def __init__(self) -> None:
        self.seen: list[tuple[float | None, float]] = []

    def after_epoch(self, s) -> None:
        if s.epoch == 0:
            settings = {"grad_clip": 0.01, "lr": s.cfg.lr / 10}  # 0.01: far below the gradient norms here
            s.request_change(ConfigChange(settings=settings, reason="gradient spikes", by="ClipAfterEpoch0"))

    def after_step(self, s) -> None:
        self.seen.append((s.cfg.grad_clip, s.cfg.lr))


class StopAfterEpoch:
    """Ends the run after `epoch`, once last.pt holds it: what a kill between two epochs leaves behind."""

    order = 100  # after the Checkpointer

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def after_epoch(self, s) -> None:
        if s.epoch == self.epoch:
            raise CancelFitException("killed")


def test_a_change_made_during_a_run_is_recorded_and_survives_resume(run, tmp_path: Path) -> None:
    kw = {"epochs": 3, **STATEFUL}
    full = run("full", model=mlp(dropout=0.2), callbacks=[ClipAfterEpoch0()], **kw)
    run("killed", model=mlp(dropout=0.2), callbacks=[ClipAfterEpoch0(), StopAfterEpoch(1)], **kw)
    config = yaml.safe_load((tmp_path / "killed" / "config.yaml").read_text())
    (change,) = config["changes"]
    assert change["settings"] == {"grad_clip": 0.01, "lr": pytest.approx(3e-4)}
    assert change["before"] == {"grad_clip": None, "lr": 3e-3}  # the planned values
    assert (change["by"], change["reason"], change["epoch"], change["step"]) == (
        "ClipAfterEpoch0",
        "gradient spikes",
        0,
        12,
    )
    assert config["train"]["grad_clip"] == 0.01 and config["train"]["lr"] == pytest.approx(3e-4)  # now in effect
    saved = load_checkpoint(tmp_path / "killed" / "checkpoints" / "last.pt")["config"]
    assert saved["changes"] == config["changes"] and saved["train"] == config["train"]

    # Resumed with the settings the run was planned with (no clipping, lr 3e-3): the change is applied again, and
    # the run ends exactly where the uninterrupted one did.
    probe = ClipAfterEpoch0()
    resumed = run("killed", model=mlp(dropout=0.2, seed=5), callbacks=[probe], resume=True, **kw)
    assert len(probe.seen) == 12 and all(c == 0.01 and lr == pytest.approx(3e-4) for c, lr in probe.seen)
    assert_same_run(tmp_path / "full", tmp_path / "killed", full, resumed)
    assert yaml.safe_load((tmp_path / "killed" / "config.yaml").read_text())["changes"] == [change]  # once

    # The settings in effect are accepted too (they are what config.yaml's `train` shows); other values are not.
    now = {**kw, "grad_clip": 0.01, "lr": config["train"]["lr"]}
    assert run("killed", resume=True, **now).epochs_completed == 3
    with pytest.raises(InvalidInputError, match=r"`grad_clip` is 2\.0 but the checkpoint was trained with None"):
        run("killed", resume=True, **{**kw, "grad_clip": 2.0})


def test_a_crash_while_writing_last_pt_keeps_the_previous_one(run, tmp_path: Path, monkeypatch) -> None:
    run("a", epochs=1)
    last = tmp_path / "a" / "checkpoints" / "last.pt"
    before = last.read_bytes()

    def disk_full(obj, f, *args, **kwargs) -> None:
        f.write(b"\x80\x02half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(
        DlexpertError, match=r"cannot be written \(No space left on device\); the previous file is unchanged"
    ):
        run("a", epochs=2, resume=True)
    monkeypatch.undo()
    assert last.read_bytes() == before
    assert load_checkpoint(last)["progress"]["epoch"] == 1
    assert sorted(p.name for p in last.parent.iterdir()) == ["best.safetensors", "last.pt"]  # no temp files left
    assert run("a", epochs=2, resume=True).epochs_completed == 2  # and the run goes on from there


def test_last_pt_loads_with_weights_only_and_holds_the_full_state(run, tmp_path: Path) -> None:
    run("a", epochs=2, ema=True, mixed_precision="bf16")
    ckpt = torch.load(tmp_path / "a" / "checkpoints" / "last.pt", weights_only=True)
    assert set(ckpt) == {"format", "config", "model", "ema", "optimizer", "scheduler", "scaler", "rng", "progress"}
    assert ckpt["config"]["train"]["epochs"] == 2 and ckpt["config"]["train"]["mixed_precision"] == "bf16"
    assert ckpt["progress"]["epoch"] == 2 and ckpt["progress"]["step"] == 12
    assert len(ckpt["progress"]["history"]) == 2
    assert isinstance(ckpt["rng"]["torch"], torch.Tensor) and len(ckpt["rng"]["python"][1]) == 625


def test_best_safetensors_holds_the_best_weights(run, tmp_path: Path, data) -> None:
    result = run("a", epochs=3)
    state = load_file(tmp_path / "a" / "checkpoints" / "best.safetensors")
    model = mlp()
    model.load_state_dict(state)
    _, val_set = data
    assert evaluate(model, val_set, batch_size=32)["accuracy"] == result.best_val_metric
    assert load_weights(result.best_checkpoint).keys() == load_weights(result.last_checkpoint).keys()


def test_tied_weights_are_saved_as_separate_tensors(tmp_path: Path) -> None:
    emb = torch.nn.Embedding(5, 4)
    head = torch.nn.Linear(4, 5, bias=False)
    head.weight = emb.weight  # tied, as in language models
    model = torch.nn.ModuleDict({"emb": emb, "head": head})
    path = save_weights(tmp_path / "w.safetensors", model.state_dict())
    loaded = load_file(path)
    assert torch.equal(loaded["emb.weight"], loaded["head.weight"])


class Payload:
    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_pickle_with_code_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = Payload()
    payload.marker = str(marker)
    evil = tmp_path / "evil.pt"
    with evil.open("wb") as f:
        pickle.dump({"model": payload}, f)
    evil_torch = tmp_path / "evil_torch.pt"
    torch.save({"model": payload}, evil_torch)
    for path in (evil, evil_torch):
        with pytest.raises(DlexpertError, match="refused: the checkpoint asks to run code") as info:
            load_checkpoint(path)
        assert "weights_only" not in str(info.value)  # never the advice to turn the guard off
    assert not marker.exists()


def test_save_checkpoint_is_atomic_under_interrupts(tmp_path: Path, monkeypatch) -> None:
    path = save_checkpoint(tmp_path / "c.pt", {"a": torch.ones(3)})

    def interrupted(obj, f, *args, **kwargs) -> None:
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"a": torch.zeros(3)})
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["a"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]
