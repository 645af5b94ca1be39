"""Seeding and a resumable training data order: epoch e of a run with seed s always visits the same indices."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

from ..errors import InvalidInputError
from .config import TrainConfig

__all__ = [
    "dataset_labels", "epoch_order", "make_train_loader", "n_train_batches", "rank_batch_size", "seed_everything"
]  # fmt: skip


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def dataset_labels(dataset: Dataset) -> torch.Tensor:
    """Class index of every sample: from `targets`/`labels`/`y`, a TensorDataset's last tensor, or by indexing."""
    if isinstance(dataset, Subset):
        return dataset_labels(dataset.dataset)[torch.as_tensor(dataset.indices, dtype=torch.long)]
    if isinstance(dataset, TensorDataset):
        return dataset.tensors[-1].long()
    n = len(dataset)  # type: ignore[arg-type]
    for attr in ("targets", "labels", "y"):
        values = getattr(dataset, attr, None)
        if values is not None and len(values) == n:
            return torch.as_tensor(np.asarray(values)).long()
    return torch.as_tensor([int(dataset[i][1]) for i in range(n)], dtype=torch.long)


def n_train_batches(n_samples: int, batch_size: int) -> int:
    """Batches per epoch: a last partial batch is dropped (a batch of 1 breaks batch norm) unless it is the only one."""
    return max(1, n_samples // batch_size)


def epoch_order(
    n_samples: int, *, seed: int, epoch: int, class_weights_of_samples: torch.Tensor | None = None
) -> torch.Tensor:
    """The sample indices of one epoch, from a generator seeded by (seed, epoch) alone, so a resumed run replays them.

    With per-sample weights, indices are drawn with replacement in proportion to them (what WeightedRandomSampler
    does), which is how class-balanced sampling shows every class equally often on average.
    """
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    if class_weights_of_samples is None:
        return torch.randperm(n_samples, generator=g)
    return torch.multinomial(class_weights_of_samples, n_samples, replacement=True, generator=g)


def balanced_weights(labels: torch.Tensor) -> torch.Tensor:
    """Per-sample weights 1 / (count of its class): each class gets the same total weight."""
    if labels.numel() == 0 or labels.min() < 0:
        raise InvalidInputError("train_set: balanced sampling needs class indices 0..K-1 as labels")
    counts = torch.bincount(labels)
    return 1.0 / counts[labels].double()


def make_train_loader(
    dataset: Dataset,
    cfg: TrainConfig,
    *,
    epoch: int,
    sample_weights: torch.Tensor | None = None,
    skip_batches: int = 0,
    pin_memory: bool = False,
    rank: int = 0,
    world_size: int = 1,
) -> DataLoader:
    """A DataLoader over `epoch_order(...)`, starting after `skip_batches` batches (to resume mid-epoch).

    With `world_size` > 1, rank r takes every world_size-th index of the same order (what DistributedSampler does)
    in batches of `batch_size // world_size`, so the ranks together see one global batch of `batch_size` per step.
    """
    n = len(dataset)  # type: ignore[arg-type]
    order = epoch_order(n, seed=cfg.seed, epoch=epoch, class_weights_of_samples=sample_weights)
    batch_size = rank_batch_size(cfg.batch_size, world_size)
    if world_size > 1:  # equal shards: every rank must run the same number of steps, or the all-reduce hangs
        n = n // world_size
        order = order[rank : n * world_size : world_size]
    order = order[skip_batches * batch_size :]
    # Worker seeds come from `g`, not from the global RNG: creating a loader must not shift the model's random stream.
    g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch + 7919)
    kw: dict[str, Any] = {"num_workers": cfg.num_workers, "pin_memory": pin_memory, "generator": g}
    if cfg.task == "detection":  # images and box lists of their own sizes: lists, as torchvision's detectors take
        from ..data.dense._torch import detection_collate

        kw["collate_fn"] = detection_collate
    return DataLoader(dataset, batch_size=batch_size, sampler=order.tolist(), drop_last=n >= batch_size, **kw)


def rank_batch_size(batch_size: int, world_size: int) -> int:
    """Each rank's share of the global batch."""
    if batch_size < world_size:
        raise InvalidInputError(f"batch_size: {batch_size} is smaller than the {world_size} processes; raise it")
    return batch_size // world_size
