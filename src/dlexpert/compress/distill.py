"""Knowledge distillation: a smaller student of the plan's family trained against the run's model as teacher.

Loss (Hinton, Vinyals & Dean 2015, arXiv 1503.02531, Sec. 2): the KL divergence between the softened teacher and
student distributions, scaled by T^2 so its gradients keep their size as the temperature T changes, mixed with the
ordinary cross-entropy on the labels:

    loss = alpha * T^2 * KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) * CE(s, y)

T = 4 and alpha = 0.9 are the common defaults (the paper's MNIST runs used T in 2-20 and weighted the soft term
most). The student is trained from scratch with the run's own recipe (optimizer, learning rate, schedule, batch
size, from `dlexpert.engine`), for the run's number of epochs unless told otherwise; the epoch with the best
validation accuracy is kept. Teacher logits are computed once: the training split is read without augmentation,
so they do not change between epochs.

Student size. The same family at half the width (then three quarters, when half drops too much); for
`small_resnet`, whose width is an integer channel multiplier, half the width or fewer blocks per stage, smallest
first. A pretrained teacher (timm, torchvision) gets the from-scratch family the pipeline falls back to for its
modality.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset

from ..errors import InvalidInputError
from ._loop import Built, Candidate
from ._measure import Subject, count_params, safetensors_size, torch_predict

__all__ = ["DEFAULT_ALPHA", "DEFAULT_TEMPERATURE", "distill_track", "kd_loss", "student_configs", "train_student"]

DEFAULT_TEMPERATURE = 4.0
DEFAULT_ALPHA = 0.9
# Family defaults (width, depth), as each builder documents them in dlexpert.models; a student is sized from these
# (small_resnet's depends on the image size: see `family_size`).
FAMILY_DEFAULTS = {"mlp": (100, 2), "cnn1d": (24, 3), "gru": (64, 1), "lstm": (64, 1),
                   "transformer_encoder": (64, 2), "small_resnet": (1, 3)}  # fmt: skip
WIDTH_STEPS = (0.5, 0.75)  # student width / teacher width, the second when the first drops too much
# From-scratch family for a pretrained teacher, by modality (the same table as dlexpert.pipeline's fallback).
STUDENT_BY_MODALITY = {"image": "small_resnet", "sequence": "cnn1d", "tabular": "mlp"}


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, target: torch.Tensor, *, temperature: float,
            alpha: float) -> torch.Tensor:  # fmt: skip
    """Hinton et al. 2015: alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE(student, target).

    Example:
        >>> s, t = torch.randn(4, 3), torch.randn(4, 3)
        >>> float(kd_loss(t, t, torch.tensor([0, 1, 2, 0]), temperature=4.0, alpha=1.0))
        0.0
    """
    t = temperature
    soft = F.kl_div(F.log_softmax(student_logits / t, dim=1), F.log_softmax(teacher_logits / t, dim=1),
                    reduction="batchmean", log_target=True) * (t * t)  # fmt: skip
    if alpha >= 1.0:
        return alpha * soft
    return alpha * soft + (1.0 - alpha) * F.cross_entropy(student_logits, target)


def student_configs(subject: Subject, *, width: int | None = None, depth: int | None = None) -> list[dict[str, Any]]:
    """The students to try, smallest first, as `create_model` keyword arguments (name included)."""
    mc = subject.model_config
    name = str(mc.get("name") or "")
    shape = [int(v) for v in (mc.get("input_shape") or _shape_of(subject))]
    base: dict[str, Any] = {"input_shape": shape, "n_classes": int(mc.get("n_classes") or _n_classes(subject))}
    if name == "linear":
        raise InvalidInputError(f"{subject.name}: a linear model has no smaller student to distil into")
    if name not in FAMILY_DEFAULTS:  # a pretrained (or unknown) architecture: the modality's from-scratch family
        family = STUDENT_BY_MODALITY.get(subject.modality)
        if family is None:
            raise InvalidInputError(f"{subject.name}: no from-scratch student family for {subject.modality} data")
        w, d = family_size(family, shape)
        if width or depth:
            return [{"name": family, **base, "width": width or w, "depth": depth or d}]
        bigger = {"width": 2 if family == "small_resnet" else w * 2, "depth": d}
        return [{"name": family, **base, "width": w, "depth": d}, {"name": family, **base, **bigger}]
    dw, dd = family_size(name, shape)
    tw, td = int(mc.get("width") or dw), int(mc.get("depth") or dd)
    keep = {k: v for k, v in mc.items() if k not in {"name", "width", "depth", "input_shape", "n_classes"}}
    if width or depth:
        return [{"name": name, **base, **keep, "width": width or tw, "depth": depth or td}]
    if name == "small_resnet":  # width is an integer channel multiplier: halve it, or drop blocks per stage
        sizes = {(max(1, tw // 2), td), (tw, td - 1), (tw, 1)} - {(tw, td)}
        sizes = {(w, d) for w, d in sizes if d >= 1}
        if not sizes:
            raise InvalidInputError(f"{subject.name}: small_resnet(width=1, depth=1) is already the smallest; pass "
                                    "--student-width/--student-depth")  # fmt: skip
        ordered = sorted(sizes, key=lambda s: s[0] ** 2 * s[1])  # smallest first: parameters ~ width^2 x blocks
        return [{"name": name, **base, **keep, "width": w, "depth": d} for w, d in ordered]
    return [{"name": name, **base, **keep, "width": max(2, round(tw * s)), "depth": td} for s in WIDTH_STEPS]


def family_size(name: str, input_shape: list[int]) -> tuple[int, int]:
    """The family's default (width, depth) for this input, as its builder resolves `None`."""
    if name == "small_resnet":
        try:  # the default depends on the image size in newer versions of the builder
            from ..models.small_resnet import default_size

            return default_size(tuple(input_shape))
        except ImportError:
            pass
    return FAMILY_DEFAULTS[name]


def _shape_of(subject: Subject) -> list[int]:
    return list(subject.inputs(1).shape[1:])


def _n_classes(subject: Subject) -> int:
    with torch.inference_mode():
        return int(subject.model(subject.inputs(2)).shape[1])


class _Indexed(Dataset):
    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> tuple[Any, Any, int]:
        x, y = self.dataset[i]
        return x, y, i


@torch.no_grad()
def _teacher_logits(teacher: nn.Module, dataset: Dataset, batch_size: int = 256) -> torch.Tensor:
    teacher.eval()
    return torch.cat([teacher(x.float()).float() for x, _ in DataLoader(dataset, batch_size=batch_size)])


def train_student(
    student: nn.Module,
    subject: Subject,
    *,
    epochs: int,
    temperature: float = DEFAULT_TEMPERATURE,
    alpha: float = DEFAULT_ALPHA,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Train `student` against `subject.model` with `kd_loss`; keep the best validation epoch. Returns its history."""
    from ..engine import create_optimizer, create_scheduler, evaluate

    cfg = subject.train_cfg.model_copy(update={"epochs": epochs, "accumulation": 1, "warmup_epochs": 0.0})
    teacher_logits = _teacher_logits(subject.model, subject.train_set)
    g = torch.Generator().manual_seed(cfg.seed)
    loader = DataLoader(_Indexed(subject.train_set), batch_size=cfg.batch_size, shuffle=True, generator=g)
    optimizer = create_optimizer(student, cfg)
    scheduler = create_scheduler(optimizer, cfg, steps_per_epoch=math.ceil(len(loader)))
    per_step = not isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    best_acc, best_state, history = -1.0, None, []
    for epoch in range(epochs):
        student.train()
        total, n = 0.0, 0
        for x, y, idx in loader:
            loss = kd_loss(student(x.float()), teacher_logits[idx], torch.as_tensor(y).long(),
                           temperature=temperature, alpha=alpha)  # fmt: skip
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(student.parameters(), cfg.grad_clip)
            optimizer.step()
            if per_step:
                scheduler.step()
            total, n = total + float(loss.detach()) * len(y), n + len(y)
        val = evaluate(student, subject.val_set, batch_size=256, device="cpu")
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(val["loss"])
        history.append({"epoch": epoch, "kd_loss": round(total / max(1, n), 5), "val_acc": round(val["accuracy"], 5)})
        log(f"    epoch {epoch + 1}/{epochs}: kd loss {total / max(1, n):.4f}, val acc {val['accuracy']:.4f}")
        if val["accuracy"] > best_acc:
            best_acc, best_state = val["accuracy"], copy.deepcopy(student.state_dict())
    if best_state is not None:
        student.load_state_dict(best_state)
    student.eval()
    return {"history": history, "best_val_acc": best_acc}


def distill_track(subject: Subject, *, epochs: int, temperature: float, alpha: float, width: int | None,
                  depth: int | None, log: Callable[[str], None]) -> Iterator[Candidate]:  # fmt: skip
    """One setting per student size, smallest first; a student that is not smaller than the teacher is skipped."""
    from ..models import build as build_model
    from ..schema.decisions import record_from_config

    n_teacher = count_params(subject.model)
    for sc in student_configs(subject, width=width, depth=depth):

        def build(sc: dict[str, Any] = sc) -> Built:
            torch.manual_seed(subject.train_cfg.seed)
            student = build_model(record_from_config({"model_config": sc}))
            n = count_params(student)
            if n >= n_teacher:
                raise InvalidInputError(f"student {_describe(sc)} has {n:,} parameters, not fewer than the "
                                        f"teacher's {n_teacher:,}")  # fmt: skip
            info = train_student(student, subject, epochs=epochs, temperature=temperature, alpha=alpha, log=log)
            return Built(predict=torch_predict(student), size_bytes=safetensors_size(student), artifact=student,
                         n_params=n, extra={"student": sc, **info})  # fmt: skip

        setting = (f"student {_describe(sc)} trained {epochs} epochs with KD (T={temperature:g}, "
                   f"alpha={alpha:g}) against the run's model")  # fmt: skip
        yield Candidate(setting, {"student": sc, "epochs": epochs, "temperature": temperature, "alpha": alpha},
                        build)  # fmt: skip


def _describe(sc: dict[str, Any]) -> str:
    return f"{sc['name']}(width={sc.get('width')}, depth={sc.get('depth')})"
