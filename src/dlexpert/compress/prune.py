"""Pruning: structured channel pruning (torch-pruning) that really shrinks the network, and global unstructured
magnitude pruning (`torch.nn.utils.prune`) that zeroes weights. Both are followed by a short fine-tune.

Structured. `torch_pruning.pruner.MetaPruner` with L2 magnitude importance removes `ratio` of the channels of every
layer except the classifier head (its outputs are the classes). Its dependency graph keeps coupled layers
consistent (a conv's output channels, the BatchNorm after it, the next layer's input channels, residual sums), so
the result is a smaller dense network: fewer parameters, fewer FLOPs, a smaller file and faster dense kernels.

Unstructured. The smallest-magnitude `sparsity` fraction of all Conv/Linear weights, ranked globally
(`prune.global_unstructured` with L1), is masked to zero, fine-tuned with the masks in place, then made permanent
(`prune.remove`). The tensors stay dense: the file is as large as before and dense kernels are not faster. Only a
sparse format or sparse kernels turn the zeros into savings (at 50% sparsity CSR with int32 indices is as large as
the dense tensor); the report gives the zlib-compressed size as what a compressing store would save.

Fine-tuning (both): `dlexpert.engine.fit` on the training split, without augmentation, for a few epochs at a
fraction of the run's learning rate with a cosine decay: a tenth after unstructured pruning (a low rate keeps the
surviving weights near their trained values: Han et al. 2015, arXiv 1506.02626, Sec. 3.3), three tenths after
structured pruning (measured: see STRUCTURED_LR_SCALE).
"""

from __future__ import annotations

import copy
import tempfile
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from torch import nn
from torch.nn.utils import prune

from ..errors import InvalidInputError
from ._loop import Built, Candidate
from ._measure import Subject, count_params, safetensors_size, state_for_saving, torch_predict

__all__ = ["SHAPE_ATTRIBUTES", "check_structured", "finetune", "prune_structured", "prune_track", "prune_unstructured"]

PRUNABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
# Gentler settings when accuracy drops too far: two thirds, then one third of the requested ratio.
RATIO_STEPS = (1.0, 2 / 3, 1 / 3)
# Fine-tuning learning rate as a fraction of the run's. Unstructured: a tenth keeps the surviving weights near their
# trained values (Han et al. 2015). Structured: whole channels are gone and the rest must re-learn more; measured on
# MNIST-1D's cnn1d with 50% of channels removed, test accuracy after 1 epoch was 0.874 at 0.1x and 0.964 at 0.3x
# (3 epochs: 0.967 and 0.978; unpruned 0.979).
UNSTRUCTURED_LR_SCALE = 0.1
STRUCTURED_LR_SCALE = 0.3
# Module attributes that describe a layer's shape; structured pruning changes them, and `load_variant` sets them
# back from rebuild.json so the rebuilt module prints and behaves like the pruned one.
SHAPE_ATTRIBUTES = ("in_channels", "out_channels", "in_features", "out_features", "num_features", "groups")


def finetune(model: nn.Module, subject: Subject, *, epochs: int, lr_scale: float = UNSTRUCTURED_LR_SCALE) -> None:
    """A few epochs of the run's recipe at `lr_scale` of its learning rate, cosine decay, on the CPU, in place."""
    if epochs <= 0:
        return
    from ..engine import TrainConfig, fit

    base = subject.train_cfg.model_dump()
    base.update(epochs=epochs, lr=base["lr"] * lr_scale, scheduler="cosine", warmup_epochs=0.0, ema=False,
                early_stopping_patience=None, checkpoint_every_epochs=None, mixup_alpha=0.0, cutmix_alpha=0.0,
                step_epochs=None, strategy="auto")  # fmt: skip
    cfg = TrainConfig(**base)
    with tempfile.TemporaryDirectory(prefix="dlexpert-finetune-") as tmp:
        fit(model, train_set=subject.train_set, val_set=subject.val_set, cfg=cfg, out_dir=tmp, progress=False,
            device="cpu")  # fmt: skip
    model.eval()


def prune_structured(subject: Subject, ratio: float, *, epochs: int) -> Built:
    """Remove `ratio` of each layer's channels (head excluded) with torch-pruning, then fine-tune."""
    import torch_pruning as tp

    model = copy.deepcopy(subject.model).eval()
    head_name, head = check_structured(model, subject.name)
    n_before = count_params(model)
    try:
        pruner = tp.pruner.MetaPruner(model, subject.inputs(2), importance=tp.importance.MagnitudeImportance(p=2),
                                      pruning_ratio=ratio, ignored_layers=[head])  # fmt: skip
        pruner.step()
    except Exception as e:
        raise InvalidInputError(
            f"{subject.name}: torch-pruning cannot trace this model ({_first_line(e)}); use --prune-kind unstructured"
        ) from None
    n_after = count_params(model)
    if n_after >= n_before:
        raise InvalidInputError(
            f"{subject.name}: torch-pruning found no channel it could remove (layers coupled to the head `{head_name}` "
            "or not traceable); use --prune-kind unstructured"
        )
    finetune(model, subject, epochs=epochs, lr_scale=STRUCTURED_LR_SCALE)
    shapes = {n: {a: int(getattr(m, a)) for a in SHAPE_ATTRIBUTES if isinstance(getattr(m, a, None), int)}
              for n, m in model.named_modules()}  # fmt: skip
    return Built(predict=torch_predict(model), size_bytes=safetensors_size(model), artifact=model,
                 n_params=n_after, extra={"modules": {k: v for k, v in shapes.items() if v},
                                          "params_removed": round(1 - n_after / n_before, 4)})  # fmt: skip


def check_structured(model: nn.Module, name: str) -> tuple[str, nn.Module]:
    """The classifier head (kept whole); a model with no other weighted layer cannot be pruned by channels."""
    from ..models import find_head

    try:
        head_name, head = find_head(model)
    except ValueError:
        raise InvalidInputError(
            "structured pruning needs a Linear classifier head to keep; this model has none"
        ) from None
    if not any(isinstance(m, PRUNABLE) and m is not head for m in model.modules()):
        raise InvalidInputError(
            f"{name}: structured pruning has nothing to prune: its only weighted layer is the classifier head "
            f"`{head_name}` ({type(head).__name__}), whose outputs are the classes; use --prune-kind unstructured, "
            "--method int8 or --method distill"
        )
    return head_name, head


def prune_unstructured(subject: Subject, sparsity: float, *, epochs: int) -> Built:
    """Zero the `sparsity` fraction of smallest Conv/Linear weights (global L1 ranking), fine-tune, make permanent."""
    model = copy.deepcopy(subject.model).eval()
    targets = [(m, "weight") for m in model.modules() if isinstance(m, PRUNABLE)]
    if not targets:
        raise InvalidInputError(f"{subject.name}: has no Conv or Linear layer for magnitude pruning")
    skipped = [f"{n} ({type(m).__name__})" for n, m in model.named_modules()
               if not isinstance(m, PRUNABLE) and any(p.dim() >= 2 for p in m.parameters(recurse=False))]  # fmt: skip
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=sparsity)
    # the masks stay applied while fine-tuning, so pruned weights stay zero
    finetune(model, subject, epochs=epochs, lr_scale=UNSTRUCTURED_LR_SCALE)
    for m, name in targets:
        prune.remove(m, name)
    zeros = sum(int((m.weight == 0).sum()) for m, _ in targets)
    total = sum(m.weight.numel() for m, _ in targets)
    from safetensors.torch import save

    packed = len(zlib.compress(save(state_for_saving(model)), 6))
    extra: dict[str, Any] = {"sparsity": round(zeros / total, 4), "zlib_size_bytes": packed}
    if skipped:
        extra["not_pruned"] = skipped
    return Built(predict=torch_predict(model), size_bytes=safetensors_size(model), artifact=model,
                 n_params=count_params(model), extra=extra)  # fmt: skip


def prune_track(subject: Subject, *, kind: str, target: float, epochs: int) -> Iterator[Candidate]:
    """The requested ratio first, then gentler ones (RATIO_STEPS); each pruned model is fine-tuned."""
    if kind == "structured":
        check_structured(subject.model, subject.name)  # before any work: the model, not the setting, is the problem
    seen: set[float] = set()
    for step in RATIO_STEPS:
        r = round(target * step, 3)
        if r <= 0 or r in seen:
            continue
        seen.add(r)
        if kind == "structured":
            setting = f"torch-pruning MetaPruner, L2 magnitude, {r:.0%} of channels per layer (head kept)"
            build: Callable[[], Built] = _bind(prune_structured, subject, r, epochs)
        else:
            setting = f"global unstructured L1 magnitude pruning, {r:.0%} of Conv/Linear weights"
            build = _bind(prune_unstructured, subject, r, epochs)
        setting += f", then {epochs} fine-tuning epoch(s)" if epochs else ", no fine-tuning"
        yield Candidate(setting, {"kind": kind, "ratio": r, "finetune_epochs": epochs}, build)


def _bind(fn: Callable[..., Built], subject: Subject, r: float, epochs: int) -> Callable[[], Built]:
    return lambda: fn(subject, r, epochs=epochs)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:200]
