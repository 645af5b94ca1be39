"""Fault injection for `bench_diagnose.py`: small models trained for real with one known fault each, and their logs
rewritten in every format `dlexpert.diagnose` reads.

Data: scikit-learn's `load_digits` (1,797 8x8 images, 10 classes; bundled, no network), pixels scaled to 0..1,
a seeded split of 1,200 train / 597 val. Architectures: `mlp` (64-64-64-10 ReLU) and `cnn` (two 3x3 conv layers,
max-pool, linear head); the faults that need another shape (deep sigmoid nets, a tiny train subset) change them the
way the fault does in practice. Every run goes through `dlexpert.engine.fit` with the default live monitors
(`create_monitors("default", every=5)`; the step rows are logged every 5 optimizer steps, so these runs of a few
hundred steps are sampled as densely, relative to their length, as a 10k-step run at the default of 50).

A fault is a function `(arch, seed) -> Plan`: the model, data, `TrainConfig` and injection callbacks of one run.
The injections are what the bugs are in real code (a forgotten `scheduler.step()`, a corrupted batch, a layer that
overflows, a `__getitem__` that blocks), not curves drawn to look like them.

Formats (`write_format`): each is what that logger records, so a format loses what its logger does not carry.

- dlexpert: the run directory itself (metrics.jsonl with the monitors' series, config.yaml, diagnosis.json).
- tensorboard: torch `SummaryWriter` as its docs use it: every scalar of the step rows (`Loss/train`,
  `learning_rate`, `grad_norm`, the monitors' whole-model and per-layer values) and the validation metrics, all
  against the global step; no run metadata.
- keras_csv: `CSVLogger`, one row per epoch: `epoch,accuracy,learning_rate,loss,val_accuracy,val_loss`.
- lightning_csv: `CSVLogger` + `LearningRateMonitor` + the `grad_norm()` utility: sparse rows with
  `train_loss_step`, `lr-<Optimizer>`, `grad_2.0_norm_total` and per layer, `train_loss_epoch`, `train_acc_epoch`,
  `val_loss`, `val_acc`.
- hf_trainer_state: `trainer_state.json` (`log_history`: loss, learning_rate, grad_norm every logging step, eval_*
  per epoch; `num_train_epochs`, `max_steps`) and the model's `config.json` (`id2label`) beside it, as a checkpoint
  folder holds them.
- jsonl: a hand-written JSON-lines logger: `{step, epoch, loss, lr, grad_norm}` and
  `{step, epoch, val_loss, val_acc, train_acc}` rows.

A run the NaN sentinel stopped has no row for its last, broken epoch; the epoch-level formats get one with a NaN
loss, as Keras and Lightning (which train on through a NaN unless told not to) would log it.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from dlexpert.diagnose import RunHistory
from dlexpert.engine import TrainConfig, fit
from dlexpert.monitor import create_monitors

N_CLASSES = 10
CLASSES = [str(i) for i in range(N_CLASSES)]
N_TRAIN = 1200
LOG_EVERY = 5  # optimizer steps between metrics rows and monitor samples
ARCHS = ("mlp", "cnn")
FORMATS = ("dlexpert", "tensorboard", "keras_csv", "lightning_csv", "hf_trainer_state", "jsonl")


# ------------------------------------------------------------------------------------------------------- data


@functools.cache
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """(X (1797, 64) in 0..1, y (1797,)) from scikit-learn's bundled copy of the UCI digits."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y, dtype=torch.long)


def split(seed: int, n_train: int = N_TRAIN) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A seeded split: the first `n_train` of a permutation for training, the last 597 for validation."""
    x, y = digits()
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(1000 + seed))
    tr, va = perm[:n_train], perm[N_TRAIN:]
    return x[tr], y[tr], x[va], y[va]


def datasets(seed: int, n_train: int = N_TRAIN) -> tuple[TensorDataset, TensorDataset]:
    xt, yt, xv, yv = split(seed, n_train)
    return TensorDataset(xt, yt), TensorDataset(xv, yv)


class SlowDataset(Dataset):
    """A dataset whose `__getitem__` blocks for `delay` seconds per sample: the decode-from-slow-storage loader."""

    def __init__(self, base: TensorDataset, delay: float) -> None:
        self.base, self.delay = base, delay

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        time.sleep(self.delay)
        return self.base[i]


# ----------------------------------------------------------------------------------------------------- models


def mlp(
    *, width: int = 64, depth: int = 2, act: type[nn.Module] = nn.ReLU, head: nn.Module | None = None
) -> nn.Sequential:
    """64 -> `depth` x (Linear(width), act) -> Linear(10) [-> head]."""
    layers: list[nn.Module] = []
    d = 64
    for _ in range(depth):
        layers += [nn.Linear(d, width), act()]
        d = width
    layers.append(nn.Linear(d, N_CLASSES))
    if head is not None:
        layers.append(head)
    return nn.Sequential(*layers)


def cnn(
    *, ch: int = 16, depth: int = 2, act: type[nn.Module] = nn.ReLU, head: nn.Module | None = None
) -> nn.Sequential:
    """(B, 64) -> (B, 1, 8, 8) -> `depth` x (3x3 conv, act) -> max-pool 2 -> Linear(10) [-> head]."""
    layers: list[nn.Module] = [nn.Unflatten(1, (1, 8, 8))]
    c = 1
    for i in range(depth):
        out = ch if i < depth // 2 else 2 * ch
        layers += [nn.Conv2d(c, out, 3, padding=1), act()]
        c = out
    layers += [nn.MaxPool2d(2), nn.Flatten(), nn.Linear(c * 16, N_CLASSES)]
    if head is not None:
        layers.append(head)
    return nn.Sequential(*layers)


def build(arch: str, **kw: Any) -> nn.Sequential:
    if arch == "mlp":
        return mlp(**kw)
    if arch == "cnn":
        return cnn(**{("ch" if k == "width" else k): (v // 4 if k == "width" else v) for k, v in kw.items()})
    raise ValueError(f"unknown arch {arch!r}; valid: {', '.join(ARCHS)}")


def hidden_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))][:-1]


def last_layer(model: nn.Module) -> nn.Module:
    return [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))][-1]


class Tripwire(nn.Module):
    """Identity, except on the forward pass it is armed for: then its output overflows to +Inf (a custom layer
    computing exp() of an activation that an outlier batch made large)."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(x * 1e4) if self.armed else x


class UnsafeLogSoftmax(nn.Module):
    """log(softmax(x)) written out: -Inf where a probability underflows to 0 (log_softmax would not)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(torch.softmax(x, dim=1))


# -------------------------------------------------------------------------------------------------- callbacks


class TrainAccuracy:
    """Adds `train_acc` (accuracy on the training batches of the epoch) to the epoch row, as Keras and Lightning log
    it. Counts on the tensors; one sync per epoch."""

    order = 1

    def before_epoch(self, s: Any) -> None:
        self.hits, self.n = torch.zeros(()), 0

    def after_loss(self, s: Any) -> None:
        self.hits = self.hits + (s.pred.detach().argmax(dim=1) == s.y).sum()
        self.n += len(s.y)

    def after_validate(self, s: Any) -> None:
        s.epoch_metrics["train_acc"] = float(self.hits) / max(1, self.n)


class LossTape:
    """The loss of every batch, by the optimizer step it belongs to: ground truth for NaN onset, independent of the
    monitors (it runs before them)."""

    order = 0

    def __init__(self) -> None:
        self.losses: dict[int, float] = {}

    def after_loss(self, s: Any) -> None:
        self.losses[s.step + 1] = float(s.loss.detach())

    def first_nonfinite(self) -> int | None:
        return next((k for k, v in sorted(self.losses.items()) if not math.isfinite(v)), None)


class AtStep:
    """Runs `act(s)` in `before_batch` of the batch that makes optimizer step `step` (the injection point)."""

    order = 0

    def __init__(self, step: int, act: Callable[[Any], None], after: Callable[[Any], None] | None = None) -> None:
        self.step, self.act, self.after = step, act, after

    def before_batch(self, s: Any) -> None:
        if s.step + 1 == self.step:
            self.act(s)

    def after_loss(self, s: Any) -> None:
        if self.after is not None and s.step + 1 == self.step:
            self.after(s)


class PinLR:
    """A forgotten `scheduler.step()`: the learning rate is put back to its planned peak after every step, so the
    optimizer trains at the initial lr whatever the schedule says (runs before the Recorder logs the lr)."""

    order = 1

    def after_step(self, s: Any) -> None:
        for g in s.optimizer.param_groups:
            g["lr"] = g.get("initial_lr", s.cfg.lr)


# ------------------------------------------------------------------------------------------------------ plans


@dataclass
class Plan:
    """One run to train: what, on what, how, and what goes wrong (`callbacks`); `onset` is the step at which the
    injected NaN/Inf appears, where it is known in advance."""

    model: nn.Module
    train_set: Dataset
    val_set: Dataset
    cfg: TrainConfig
    callbacks: list[Any] = field(default_factory=list)
    onset: int | None = None
    note: str = ""


def base_cfg(seed: int, **kw: Any) -> TrainConfig:
    """The healthy recipe: AdamW 3e-3, cosine, weight decay 0.01, batch 32, 6 epochs."""
    settings: dict[str, Any] = {
        "epochs": 6, "batch_size": 32, "lr": 3e-3, "optimizer": "adamw", "scheduler": "cosine", "weight_decay": 0.01,
        "seed": seed, "log_every_steps": LOG_EVERY,
    }  # fmt: skip
    settings.update(kw)
    return TrainConfig(**settings)


def seeded_model(seed: int, arch: str, **kw: Any) -> nn.Sequential:
    torch.manual_seed(seed)
    return build(arch, **kw)


# --- the faults, one per issue of the vocabulary


def f_nan_inf(arch: str, seed: int) -> Plan:
    """A NaN/Inf appears at a known step, by one of three mechanisms (by seed): a corrupted record (NaN pixel) in a
    batch; a custom layer whose exp() overflows on that batch; a hand-written log(softmax()) that hits log(0) on
    a batch of un-normalised raw pixels."""
    tr, va = datasets(seed)
    onset = 45 + 7 * seed
    how = seed % 3
    cbs: list[Any]
    if how == 0:
        model = seeded_model(seed, arch)

        def nan_pixel(s: Any) -> None:
            s.x = s.x.clone()
            s.x[3, 17] = float("nan")

        cbs, note = [AtStep(onset, nan_pixel)], "NaN pixel in one batch"
    elif how == 1:
        model = seeded_model(seed, arch)
        wire = Tripwire()
        model.insert(2 if arch == "mlp" else 3, wire)

        def arm(s: Any) -> None:
            wire.armed = True

        def disarm(s: Any) -> None:
            wire.armed = False

        cbs, note = [AtStep(onset, arm, disarm)], "a layer's exp() overflows to Inf"
    else:
        model = seeded_model(seed, arch, head=UnsafeLogSoftmax())

        def raw_pixels(s: Any) -> None:
            s.x = s.x * 1000.0

        cbs, note = [AtStep(onset, raw_pixels)], "log(softmax) hits log(0) on an un-normalised batch"
    return Plan(model, tr, va, base_cfg(seed, epochs=4), cbs, onset=onset, note=note)


def f_exploding_gradients(arch: str, seed: int) -> Plan:
    """A plain tanh network (4 hidden layers, no normalisation, no clipping) trained with SGD + momentum at a peak
    learning rate 10x too high: the weights grow, the gradient norm surges and the loss climbs."""
    tr, va = datasets(seed)
    model = seeded_model(seed, arch, depth=4, act=nn.Tanh)
    cfg = base_cfg(seed, optimizer="sgd", lr=0.5, momentum=0.9, weight_decay=0.0, warmup_epochs=1)
    return Plan(model, tr, va, cfg, note="tanh, SGD peak lr 0.5, momentum 0.9, no clipping")


def f_vanishing_gradients(arch: str, seed: int) -> Plan:
    """A deep plain sigmoid network (8 hidden layers) with default initialisation, trained with SGD: the classic
    Glorot & Bengio (2010) setting where the backpropagated signal shrinks layer by layer."""
    tr, va = datasets(seed)
    model = seeded_model(seed, arch, depth=8, act=nn.Sigmoid, width=32)
    cfg = base_cfg(seed, optimizer="sgd", lr=0.05, momentum=0.9, weight_decay=0.0)
    return Plan(model, tr, va, cfg, note="8 sigmoid layers, SGD 0.05")


def f_dead_relu(arch: str, seed: int) -> Plan:
    """Hidden biases initialised negative (-0.1) and an AdamW learning rate ~20x too high (0.05): large early updates
    push most ReLU units of the first layer into the negative region, where they get no gradient and stay; the model
    still learns with the units left, so nothing else looks wrong."""
    tr, va = datasets(seed)
    model = seeded_model(seed, arch, width=128)
    with torch.no_grad():
        for m in hidden_layers(model):
            m.bias.fill_(-0.1)
    return Plan(model, tr, va, base_cfg(seed, lr=5e-2), note="hidden biases -0.1, AdamW lr 0.05")


def f_overfitting(arch: str, seed: int) -> Plan:
    """A small, noisily labelled training set (200 samples, 20% of the labels wrong), a wide network, no weight decay,
    a constant learning rate and 40 epochs: the model memorises the training set, wrong labels included."""
    xt, yt, xv, yv = split(seed, n_train=200)
    gen = torch.Generator().manual_seed(seed)
    yt = yt.clone()
    flip = torch.randperm(len(yt), generator=gen)[: len(yt) // 5]
    yt[flip] = torch.randint(0, N_CLASSES, (len(flip),), generator=gen)
    model = seeded_model(seed, arch, width=512 if arch == "mlp" else 128)
    cfg = base_cfg(seed, epochs=40, weight_decay=0.0, batch_size=25, scheduler="constant")
    note = "200 samples with 20% wrong labels, wide, no weight decay, constant lr, 40 epochs"
    return Plan(model, TensorDataset(xt, yt), TensorDataset(xv, yv), cfg, note=note)


def f_underfitting(arch: str, seed: int) -> Plan:
    """A learning rate typed three orders of magnitude too small (3e-6 for 3e-3): the model cannot fit its own
    training set in the run's budget."""
    tr, va = datasets(seed)
    model = seeded_model(seed, arch)
    return Plan(model, tr, va, base_cfg(seed, lr=3e-6), note="AdamW lr 3e-6")


def f_slow_convergence(arch: str, seed: int) -> Plan:
    """Plain SGD (no momentum) at a learning rate far too low but not zero (3e-3, where the healthy SGD recipe uses
    0.05 with momentum 0.9): the loss goes down, steadily and slowly, for all 12 epochs."""
    tr, va = datasets(seed)
    model = seeded_model(seed, arch)
    cfg = base_cfg(seed, optimizer="sgd", lr=3e-3, momentum=0.0, scheduler="constant", epochs=12)
    return Plan(model, tr, va, cfg, note="SGD lr 3e-3 without momentum, 12 epochs")


def f_loss_oscillation(arch: str, seed: int) -> Plan:
    """SGD with momentum 0.9 at a constant learning rate too high for it (0.3 for the MLP, 0.2 for the CNN, which
    collapses at 0.3; 0.05 trains both well): the loss goes up and down instead of down."""
    tr, va = datasets(seed)
    model = seeded_model(seed, arch)
    lr = 0.3 if arch == "mlp" else 0.2
    cfg = base_cfg(seed, optimizer="sgd", lr=lr, momentum=0.9, scheduler="constant", weight_decay=0.0, epochs=12)
    return Plan(model, tr, va, cfg, note=f"SGD lr {lr}, momentum 0.9, constant, 12 epochs")


def f_lr_not_decaying(arch: str, seed: int) -> Plan:
    """A cosine schedule is planned, but the scheduler is never stepped (`PinLR`)."""
    tr, va = datasets(seed)
    model = seeded_model(seed, arch)
    return Plan(model, tr, va, base_cfg(seed), [PinLR()], note="cosine planned, scheduler.step() forgotten")


def f_data_bottleneck(arch: str, seed: int) -> Plan:
    """A dataset whose `__getitem__` blocks ~0.6 ms per sample (decoding from slow storage), no loader workers."""
    tr, va = datasets(seed, n_train=600)
    model = seeded_model(seed, arch)
    return Plan(model, SlowDataset(tr, 6e-4), va, base_cfg(seed, epochs=4), note="0.6 ms sleep per sample")


def f_loss_spike(arch: str, seed: int) -> Plan:
    """One corrupted batch mid-run (a shard written out of order): its pixels are raw values (scaled 100x) and its
    labels belong to other images. Training goes on normally before and after it."""
    tr, va = datasets(seed)
    model = seeded_model(seed, arch)
    step = 100 + 9 * seed

    def corrupt(s: Any) -> None:
        s.x = s.x * 100.0
        s.y = s.y[torch.randperm(len(s.y), generator=torch.Generator().manual_seed(seed))]

    return Plan(model, tr, va, base_cfg(seed), [AtStep(step, corrupt)], note=f"batch of step {step} corrupted")


def f_poor_initialization(arch: str, seed: int) -> Plan:
    """The final layer's weights initialised 50x too large: confident, wrong logits at step 0."""
    tr, va = datasets(seed)
    model = seeded_model(seed, arch)
    with torch.no_grad():
        last_layer(model).weight.mul_(50.0)
    return Plan(model, tr, va, base_cfg(seed), note="last layer x50")


def f_constant_prediction(arch: str, seed: int) -> Plan:
    """A preprocessing bug blanks every input (a normalisation dividing by the wrong constant): the inputs carry no
    signal, so the model can only learn the class prior and predicts one class for everything."""
    xt, yt, xv, yv = split(seed)
    model = seeded_model(seed, arch)
    tr, va = TensorDataset(xt * 0.0, yt), TensorDataset(xv * 0.0, yv)
    return Plan(model, tr, va, base_cfg(seed), note="inputs multiplied by 0")


def f_train_val_gap(arch: str, seed: int) -> Plan:
    """Validation data from a shifted distribution: the val pipeline crops the images offset to the right (by 1 pixel
    for the MLP; by 2 for the CNN, whose convolutions tolerate a 1-pixel shift), with the training recipe otherwise
    sound (label smoothing 0.1)."""
    xt, yt, xv, yv = split(seed)
    k = 1 if arch == "mlp" else 2
    img = xv.reshape(-1, 8, 8)
    shifted = torch.zeros_like(img)
    shifted[:, :, k:] = img[:, :, :-k]
    model = seeded_model(seed, arch)
    tr, va = TensorDataset(xt, yt), TensorDataset(shifted.reshape(-1, 64), yv)
    return Plan(model, tr, va, base_cfg(seed, label_smoothing=0.1), note=f"val crop shifted {k} px")


FAULTS: dict[str, Callable[[str, int], Plan]] = {
    "nan_inf": f_nan_inf,
    "exploding_gradients": f_exploding_gradients,
    "vanishing_gradients": f_vanishing_gradients,
    "dead_relu": f_dead_relu,
    "overfitting": f_overfitting,
    "underfitting": f_underfitting,
    "slow_convergence": f_slow_convergence,
    "loss_oscillation": f_loss_oscillation,
    "lr_not_decaying": f_lr_not_decaying,
    "data_bottleneck": f_data_bottleneck,
    "loss_spike": f_loss_spike,
    "poor_initialization": f_poor_initialization,
    "constant_prediction": f_constant_prediction,
    "train_val_gap": f_train_val_gap,
}


# --- healthy runs: varied length, learning rate, batch size, optimizer, schedule, architecture and seed


@dataclass(frozen=True)
class Healthy:
    arch: str
    seed: int
    epochs: int
    lr: float
    batch_size: int
    optimizer: str = "adamw"
    scheduler: str = "cosine"
    n_train: int = N_TRAIN
    weight_decay: float = 0.01
    label_smoothing: float = 0.0
    noise: float = 0.0  # std of Gaussian noise added to the training inputs (a noisier loss curve)

    @property
    def name(self) -> str:
        return (f"{self.arch} e{self.epochs} {self.optimizer} lr{self.lr:g} b{self.batch_size} {self.scheduler}"
                f" n{self.n_train}" + (f" noise{self.noise:g}" if self.noise else ""))  # fmt: skip


HEALTHY: tuple[Healthy, ...] = (
    Healthy("mlp", 0, 3, 3e-3, 32),
    Healthy("cnn", 1, 3, 3e-3, 64),
    Healthy("mlp", 2, 5, 1e-3, 16),
    Healthy("cnn", 0, 5, 5e-3, 32, scheduler="onecycle"),
    Healthy("mlp", 1, 8, 0.05, 32, optimizer="sgd"),
    Healthy("cnn", 2, 8, 0.05, 64, optimizer="sgd", scheduler="step"),
    Healthy("mlp", 3, 10, 2e-3, 64, noise=0.1),
    Healthy("cnn", 3, 10, 3e-3, 128),
    Healthy("mlp", 4, 12, 1e-3, 128, scheduler="constant"),
    Healthy("cnn", 4, 6, 2e-3, 16, noise=0.1),
    Healthy("mlp", 5, 15, 3e-3, 64, n_train=600, weight_decay=0.05, label_smoothing=0.1),
    Healthy("cnn", 5, 15, 1e-3, 32, n_train=600),
    Healthy("mlp", 6, 20, 0.02, 64, optimizer="sgd", n_train=600, label_smoothing=0.1),
    Healthy("cnn", 6, 20, 2e-3, 64, n_train=600, weight_decay=0.05),
    Healthy("mlp", 7, 30, 1e-3, 100, n_train=600, weight_decay=0.05, label_smoothing=0.1),
    Healthy("cnn", 7, 30, 1e-3, 100, n_train=600, weight_decay=0.05, label_smoothing=0.1),
    Healthy("mlp", 8, 40, 3e-3, 128, n_train=1200, weight_decay=0.05, label_smoothing=0.1, noise=0.05),
    Healthy("cnn", 8, 40, 2e-3, 128, n_train=1200, weight_decay=0.05, label_smoothing=0.1),
    Healthy("mlp", 9, 60, 1e-3, 200, n_train=1200, weight_decay=0.05, label_smoothing=0.1),
    Healthy("cnn", 9, 60, 1e-3, 200, n_train=1200, weight_decay=0.05, label_smoothing=0.1),
    Healthy("mlp", 10, 4, 0.1, 32, optimizer="sgd", scheduler="onecycle"),
    Healthy("cnn", 10, 4, 3e-3, 8),
)


class InputNoise:
    """Gaussian noise on the training batch (augmentation done on the batch tensor, as it would be on the GPU)."""

    order = 0

    def __init__(self, std: float, seed: int) -> None:
        self.std, self.gen = std, torch.Generator().manual_seed(seed)

    def before_batch(self, s: Any) -> None:
        s.x = s.x + self.std * torch.randn(s.x.shape, generator=self.gen)


def healthy_plan(h: Healthy) -> Plan:
    tr, va = datasets(h.seed, n_train=h.n_train)
    model = seeded_model(h.seed, h.arch)
    cfg = base_cfg(
        h.seed, epochs=h.epochs, lr=h.lr, batch_size=h.batch_size, optimizer=h.optimizer, scheduler=h.scheduler,
        weight_decay=h.weight_decay, label_smoothing=h.label_smoothing,
    )  # fmt: skip
    return Plan(model, tr, va, cfg, [InputNoise(h.noise, h.seed)] if h.noise else [], note=h.name)


# -------------------------------------------------------------------------------------------------- training


@dataclass
class Trained:
    run_dir: Path
    plan: Plan
    tape: LossTape
    wall_s: float
    steps: int


def train(plan: Plan, run_dir: Path, *, every: int = LOG_EVERY) -> Trained:
    """Train `plan` into `run_dir` with the default live monitors, train accuracy and the loss tape."""
    tape = LossTape()
    cbs = [*create_monitors("default", every=every, console=False), TrainAccuracy(), tape, *plan.callbacks]
    t = time.perf_counter()
    result = fit(
        plan.model, train_set=plan.train_set, val_set=plan.val_set, cfg=plan.cfg, out_dir=run_dir, callbacks=cbs,
        progress=False, device="cpu", extra_config={"data": {"source": "digits", "classes": CLASSES}},
    )  # fmt: skip
    del result
    return Trained(run_dir, plan, tape, time.perf_counter() - t, max(tape.losses, default=0))


# --------------------------------------------------------------------------------------------------- formats


def read_rows(run_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(step rows, epoch rows) of a run's metrics.jsonl, with an epoch row added for an epoch a NaN cut short."""
    steps, epochs = [], []
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row.get("kind") == "step":
            steps.append(row)
        elif row.get("kind") == "epoch":
            epochs.append(row)
    steps.sort(key=lambda r: r["step"])
    bad = next((r for r in steps if not math.isfinite(r.get("train_loss", 0.0))), None)
    if bad is not None and not any(e["epoch"] == bad["epoch"] for e in epochs):
        lr = next((r["lr"] for r in reversed(steps) if "lr" in r), None)
        epochs.append({"epoch": bad["epoch"], "step": bad["step"], "train_loss": math.nan, "val_loss": math.nan,
                       "lr": lr})  # fmt: skip
    return steps, epochs


MONITOR_SKIP = {"kind", "epoch", "step", "time", "train_loss", "lr", "grad_norm", "samples_per_sec"}


def write_format(fmt: str, run_dir: Path, out: Path) -> Path:
    """Write the run's history as logger `fmt` writes it under `out`; return what to pass to `diagnose`."""
    if fmt == "dlexpert":
        return run_dir
    steps, epochs = read_rows(run_dir)
    cfg = json.loads(json.dumps(_config(run_dir)))
    out.mkdir(parents=True, exist_ok=True)
    return {
        "tensorboard": _tensorboard,
        "keras_csv": _keras,
        "lightning_csv": _lightning,
        "hf_trainer_state": _hf,
        "jsonl": _jsonl,
    }[fmt](steps, epochs, cfg, out)


def _config(run_dir: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load((run_dir / "config.yaml").read_text())


def _tensorboard(steps: list[dict], epochs: list[dict], cfg: dict, out: Path) -> Path:
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(log_dir=str(out))
    for r in steps:
        k = r["step"]
        if "train_loss" in r:
            w.add_scalar("Loss/train", r["train_loss"], k)
        if "lr" in r:
            w.add_scalar("learning_rate", r["lr"], k)
        if "grad_norm" in r:
            w.add_scalar("grad_norm", r["grad_norm"], k)
        for name, v in r.items():
            if name not in MONITOR_SKIP:
                w.add_scalar(name, v, k)
    for e in epochs:
        k = e["step"]
        for tag, key in (("Loss/val", "val_loss"), ("Accuracy/val", "val_acc"), ("Accuracy/train", "train_acc")):
            if key in e:
                w.add_scalar(tag, e[key], k)
    w.close()
    return out


def _csv(path: Path, header: list[str], rows: list[dict[str, Any]]) -> Path:
    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, float) and not math.isfinite(v):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return f"{v}" if isinstance(v, int) else f"{v:.8g}"

    lines = [",".join(header)] + [",".join(cell(r.get(h)) for h in header) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _keras(steps: list[dict], epochs: list[dict], cfg: dict, out: Path) -> Path:
    rows = [
        {"epoch": e["epoch"], "accuracy": e.get("train_acc"), "learning_rate": e.get("lr"), "loss": e.get("train_loss"),
         "val_accuracy": e.get("val_acc"), "val_loss": e.get("val_loss")}
        for e in epochs
    ]  # fmt: skip
    header = ["epoch", "accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"]
    return _csv(out / "training.log", header, rows)


def _lightning(steps: list[dict], epochs: list[dict], cfg: dict, out: Path) -> Path:
    opt = "AdamW" if cfg["train"]["optimizer"] == "adamw" else "SGD"
    lr_col = f"lr-{opt}"
    rows: list[dict[str, Any]] = []
    layers: list[str] = []
    for r in steps:
        k = r["step"] - 1  # Lightning's step column is the 0-based global step
        if "lr" in r:
            rows.append({"epoch": r["epoch"], "step": k, lr_col: r["lr"]})
        row = {"epoch": r["epoch"], "step": k, "train_loss_step": r.get("train_loss")}
        if "grad_norm" in r:
            row["grad_2.0_norm_total"] = r["grad_norm"]
        for name, v in r.items():
            if name.startswith("grad_norm/"):
                col = "grad_2.0_norm/" + name.split("/", 1)[1]
                row[col] = v
                if col not in layers:
                    layers.append(col)
        rows.append(row)
    for e in epochs:
        k = e["step"] - 1
        rows.append({"epoch": e["epoch"], "step": k, "val_acc": e.get("val_acc"), "val_loss": e.get("val_loss")})
        rows.append({"epoch": e["epoch"], "step": k, "train_acc_epoch": e.get("train_acc"),
                     "train_loss_epoch": e.get("train_loss")})  # fmt: skip
    rows.sort(key=lambda r: r["step"])  # stable: within a step, the order written above
    cols = {"epoch", "step", lr_col, "train_loss_step", "grad_2.0_norm_total", "val_acc", "val_loss", "train_acc_epoch",
            "train_loss_epoch", *layers}  # fmt: skip
    present = {c for r in rows for c, v in r.items() if v is not None}
    header = sorted(c for c in cols if c in present)  # Lightning sorts its columns
    return _csv(out / "metrics.csv", header, rows)


def _hf(steps: list[dict], epochs: list[dict], cfg: dict, out: Path) -> Path:
    train = cfg["train"]
    spe = max(1, round(epochs[0]["step"] / (epochs[0]["epoch"] + 1))) if epochs else 1
    log: list[dict[str, Any]] = []
    for r in steps:
        k = r["step"]
        bad = not math.isfinite(r.get("train_loss", 0.0))
        if k % LOG_EVERY and not bad:  # HF logs every `logging_steps`; a NaN shows in the window it falls in
            continue
        entry = {"epoch": round(k / spe, 4), "grad_norm": r.get("grad_norm"), "learning_rate": r.get("lr"),
                 "loss": round(r["train_loss"], 4) if not bad else r["train_loss"], "step": k}  # fmt: skip
        log.append({a: b for a, b in entry.items() if b is not None})
    for e in epochs:
        log.append({"epoch": float(e["epoch"] + 1), "eval_accuracy": e.get("val_acc"), "eval_loss": e.get("val_loss"),
                    "eval_runtime": 0.05, "eval_samples_per_second": 12000.0, "eval_steps_per_second": 40.0,
                    "step": e["step"]})  # fmt: skip
    log.sort(key=lambda r: (r["step"], "eval_loss" in r))
    last = max((r["step"] for r in log), default=0)
    log.append({"epoch": round(last / spe, 4), "step": last, "total_flos": 1.0e12, "train_loss": 1.0,
                "train_runtime": 10.0, "train_samples_per_second": 1000.0, "train_steps_per_second": 30.0})  # fmt: skip
    state = {
        "best_metric": None, "best_model_checkpoint": None, "epoch": round(last / spe, 4), "eval_steps": spe,
        "global_step": last, "is_hyper_param_search": False, "is_local_process_zero": True,
        "is_world_process_zero": True, "log_history": log, "logging_steps": LOG_EVERY,
        "max_steps": train["epochs"] * spe, "num_input_tokens_seen": 0, "num_train_epochs": train["epochs"],
        "save_steps": spe, "total_flos": 1.0e12, "train_batch_size": train["batch_size"], "trial_name": None,
        "trial_params": None,
    }  # fmt: skip
    ckpt = out / f"checkpoint-{last}"
    ckpt.mkdir(parents=True, exist_ok=True)
    (ckpt / "trainer_state.json").write_text(json.dumps(state, indent=2, sort_keys=True))
    config = {"architectures": ["DigitsNetForImageClassification"], "model_type": "digitsnet",
              "id2label": {str(i): c for i, c in enumerate(CLASSES)},
              "label2id": {c: i for i, c in enumerate(CLASSES)}}  # fmt: skip
    (ckpt / "config.json").write_text(json.dumps(config, indent=2))
    return out


def _jsonl(steps: list[dict], epochs: list[dict], cfg: dict, out: Path) -> Path:
    rows: list[dict[str, Any]] = []
    for r in steps:
        rows.append({"step": r["step"], "epoch": r["epoch"], "loss": r.get("train_loss"), "lr": r.get("lr"),
                     "grad_norm": r.get("grad_norm")})  # fmt: skip
    for e in epochs:
        rows.append({"step": e["step"], "epoch": e["epoch"], "val_loss": e.get("val_loss"), "val_acc": e.get("val_acc"),
                     "train_acc": e.get("train_acc")})  # fmt: skip
    rows.sort(key=lambda r: (r["step"], "val_loss" in r))
    path = out / "log.jsonl"
    path.write_text("".join(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n" for r in rows))
    return path


# ---------------------------------------------------------------------------------- what each issue needs


def _has_any(h: RunHistory, *names: str) -> bool:
    return any(h.has(n) or bool(h.layers(n)) or bool(h.layers(n, "epoch")) for n in names)


def _same_axis(h: RunHistory, a: str, b: str) -> bool:
    return any(h.has(a, ax) and h.has(b, ax) for ax in ("step", "epoch"))


def _epoch_loss(h: RunHistory) -> bool:
    return h.has("train_loss", "epoch") or (h.has("train_loss", "step") and bool(h.meta.get("steps_per_epoch")))


# issue -> (what the issue needs from a log to be seen, test on the history read from one format). The test is
# about the format, not the run: it asks whether the series (or metadata) the rule needs for this fault is there.
NEEDS: dict[str, tuple[str, Callable[[RunHistory], bool]]] = {
    "nan_inf": ("train_loss", lambda h: h.has("train_loss")),
    "exploding_gradients": ("grad_norm", lambda h: _has_any(h, "grad_norm")),
    "vanishing_gradients": ("grad_norm per layer", lambda h: len(h.layers("grad_norm")) >= 2),
    "dead_relu": ("dead_fraction", lambda h: _has_any(h, "dead_fraction")),
    "overfitting": ("train_loss and val_loss on one axis", lambda h: _same_axis(h, "train_loss", "val_loss")),
    "underfitting": ("train_loss and n_classes", lambda h: h.has("train_loss") and bool(h.meta.get("n_classes"))),
    "slow_convergence": (
        "epoch train_loss and n_classes, or epoch accuracy",
        lambda h: (
            (_epoch_loss(h) and bool(h.meta.get("n_classes")))
            or h.has("train_acc", "epoch")
            or h.has("val_acc", "epoch")
        ),
    ),
    "loss_oscillation": ("train_loss", lambda h: h.has("train_loss")),
    "lr_not_decaying": ("lr and the planned scheduler", lambda h: h.has("lr") and bool(h.meta.get("scheduler"))),
    "data_bottleneck": (
        "data_wait_fraction or data_time+batch_time",
        lambda h: h.has("data_wait_fraction") or (h.has("data_time") and h.has("batch_time")),
    ),
    "loss_spike": ("train_loss per step", lambda h: h.has("train_loss", "step")),
    "poor_initialization": (
        "train_loss and n_classes",
        lambda h: h.has("train_loss") and bool(h.meta.get("n_classes")),
    ),
    "constant_prediction": (
        "pred_majority_fraction or val_acc",
        lambda h: h.has("pred_majority_fraction") or h.has("pred_entropy") or h.has("val_acc"),
    ),
    "train_val_gap": ("train_loss and val_loss on one axis", lambda h: _same_axis(h, "train_loss", "val_loss")),
}
