"""In-memory torch datasets with train-split normalisation and batched, modality-matched augmentation.

Augmentations (names accepted by `to_torch_datasets(augment=...)`, joined with "+"):
    sequences (N, C, L): "shift" (random circular shift), "translate" (random shift with zero fill), "noise"
    images (N, C, H, W): "crop" (random crop after zero padding, as in the CIFAR ResNet recipe, He et al. 2015,
        arXiv 1512.03385 section 4.2: pad 4 on 32x32), "flip" (random horizontal flip), "noise"
    tables (N, F): "noise" (Gaussian noise of `noise_std` in normalised units)
"auto" picks the source's default (MNIST-1D: shift; digits: crop, no flip; image folders: crop+flip). Plan-style names
("RandomCrop(32, padding=4)", "RandomHorizontalFlip") map onto these; batch-level methods (mixup, cutmix) belong
to the engine and are reported in `ignored`.

Text is never augmented. `to_torch_datasets(..., tokenizer=...)` tokenizes every text once, in the dataset, so the
engine's DataLoader collates `{"input_ids", "attention_mask"}` tensors; `embed=...` (a frozen encoder's sentence
embeddings) caches one vector per text instead, for a linear probe.

Randomness comes from torch's global generator unless a dataset's `generator` is set, so an engine that saves and
restores torch's RNG state resumes the same augmentation stream.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset, WeightedRandomSampler

from ..errors import InvalidInputError
from ._types import DataSplits

__all__ = [
    "AUGMENTATIONS",
    "EMBEDDING_KEY",
    "ArrayDataset",
    "Augment",
    "EmbeddingDataset",
    "TextDataset",
    "TorchDatasets",
    "make_balanced_sampler",
    "parse_augment",
    "to_torch_datasets",
]

AUGMENTATIONS: dict[str, tuple[str, ...]] = {
    "sequence": ("shift", "translate", "noise"),
    "image": ("crop", "flip", "noise"),
    "tabular": ("noise",),
    "text": (),
}
_ENGINE_LEVEL = ("mixup", "cutmix", "repeated")  # augmentations that mix samples: the training loop does them
# The batch key of cached sentence embeddings; `dlexpert.models.text.TextClassifier` reads the same key.
EMBEDDING_KEY = "sentence_embedding"
# Only these tokenizer outputs are kept: token_type_ids are all zero for single texts, and the model fills them in.
_TOKEN_KEYS = ("input_ids", "attention_mask")


class Augment:
    """A batched augmentation: `aug(x)` with x (B, ...) returns a new tensor of the same shape.

    Example:
        >>> aug = Augment(("shift",), max_shift=3)
        >>> aug(torch.arange(8.0).view(1, 1, 8)).shape
        torch.Size([1, 1, 8])
    """

    def __init__(
        self,
        ops: Sequence[str],
        *,
        max_shift: int = 4,
        pad: int = 4,
        noise_std: float = 0.05,
        generator: torch.Generator | None = None,
    ) -> None:
        self.ops = tuple(ops)
        self.max_shift, self.pad, self.noise_std = max_shift, pad, noise_std
        self.generator = generator

    def __repr__(self) -> str:
        return f"Augment({'+'.join(self.ops)}, max_shift={self.max_shift}, pad={self.pad})"

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for op in self.ops:
            x = getattr(self, f"_{op}")(x)
        return x

    def _randint(self, low: int, high: int, n: int, device: torch.device) -> torch.Tensor:
        return torch.randint(low, high, (n,), generator=self.generator).to(device)

    def _shift(self, x: torch.Tensor) -> torch.Tensor:
        # Circular shift of each sequence by its own offset in [-max_shift, max_shift]: index (t - s) mod L.
        b, length = x.shape[0], x.shape[-1]
        s = self._randint(-self.max_shift, self.max_shift + 1, b, x.device)
        idx = (torch.arange(length, device=x.device)[None, :] - s[:, None]) % length  # (B, L)
        return torch.gather(x, -1, idx[:, None, :].expand_as(x))

    def _translate(self, x: torch.Tensor) -> torch.Tensor:
        # Shift with zero fill: pad both ends by max_shift, then take a random window of the original length.
        p, length = self.max_shift, x.shape[-1]
        padded = torch.nn.functional.pad(x, (p, p))
        start = self._randint(0, 2 * p + 1, x.shape[0], x.device)
        idx = start[:, None] + torch.arange(length, device=x.device)[None, :]  # (B, L)
        return torch.gather(padded, -1, idx[:, None, :].expand(x.shape[0], x.shape[1], length))

    def _crop(self, x: torch.Tensor) -> torch.Tensor:
        # Zero-pad by `pad` (0 is the training mean after normalisation) and crop back at a random offset per image.
        b, c, h, w = x.shape
        p = self.pad
        padded = torch.nn.functional.pad(x, (p, p, p, p))
        dy = self._randint(0, 2 * p + 1, b, x.device)
        dx = self._randint(0, 2 * p + 1, b, x.device)
        rows = (dy[:, None] + torch.arange(h, device=x.device)[None, :])[:, None, :, None]  # (B, 1, H, 1)
        cols = (dx[:, None] + torch.arange(w, device=x.device)[None, :])[:, None, None, :]  # (B, 1, 1, W)
        bi = torch.arange(b, device=x.device)[:, None, None, None]
        ci = torch.arange(c, device=x.device)[None, :, None, None]
        return padded[bi, ci, rows, cols]

    def _flip(self, x: torch.Tensor) -> torch.Tensor:
        flip = self._randint(0, 2, x.shape[0], x.device).bool()
        return torch.where(flip.view(-1, *([1] * (x.ndim - 1))), x.flip(-1), x)

    def _noise(self, x: torch.Tensor) -> torch.Tensor:
        noise = torch.randn(x.shape, generator=self.generator).to(x.device, x.dtype)
        return x + self.noise_std * noise


class ArrayDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Normalised inputs and labels held as tensors, like `TensorDataset`, with an optional augmentation.

    `dataset[i]` augments one sample; `dataset.batch(indices)` augments a whole batch at once (much faster: index
    the tensors directly instead of going through a DataLoader's per-sample collate).

    Example:
        >>> ds = ArrayDataset(torch.zeros(4, 1, 8), torch.tensor([0, 1, 0, 1]))
        >>> ds[1][1].item(), len(ds)
        (1, 4)
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, *, transform: Augment | None = None) -> None:
        self.x, self.y, self.transform = x, y, transform
        self.tensors = (x, y)  # TensorDataset's attribute

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.x[i]
        if self.transform is not None:
            x = self.transform(x[None])[0]
        return x, self.y[i]

    def batch(self, indices: torch.Tensor | Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs (augmented if this is the training set) and labels for a batch of indices."""
        idx = torch.as_tensor(indices, dtype=torch.long)
        x = self.x[idx]
        return (self.transform(x) if self.transform is not None else x), self.y[idx]


class TextDataset(Dataset[tuple[Any, torch.Tensor]]):
    """Texts and labels. With a `tokenizer` (the model's own: strings -> {"input_ids", "attention_mask"} of shape
    (N, T), padded to the longest), all texts are tokenized once here and `dataset[i]` is
    `({"input_ids": (T,), "attention_mask": (T,)}, label)`, which a DataLoader's default collate stacks into a
    batch the model takes as it is. Without one, items are `(str, label)`.

    Example:
        >>> ds = TextDataset(["a b", "c"], torch.tensor([0, 1]), tokenizer=model.tokenize)  # doctest: +SKIP
        >>> ds[1][0]["attention_mask"]  # doctest: +SKIP
        tensor([1, 1, 1, 0])
    """

    def __init__(
        self,
        texts: list[str],
        y: torch.Tensor,
        *,
        tokenizer: Callable[[list[str]], Mapping[str, torch.Tensor]] | None = None,
    ) -> None:
        self.texts, self.y = texts, y
        self.tokens: dict[str, torch.Tensor] | None = None
        if tokenizer is not None:
            out = tokenizer(list(texts)) if texts else {}
            self.tokens = {k: torch.as_tensor(out[k]) for k in _TOKEN_KEYS if k in out}

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[Any, torch.Tensor]:
        if self.tokens is not None:
            return {k: v[i] for k, v in self.tokens.items()}, self.y[i]
        return self.texts[i], self.y[i]

    def batch(self, indices: torch.Tensor | Sequence[int]) -> tuple[Any, torch.Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.long)
        if self.tokens is not None:
            return {k: v[idx] for k, v in self.tokens.items()}, self.y[idx]
        return [self.texts[i] for i in idx.tolist()], self.y[idx]


class EmbeddingDataset(Dataset[tuple[dict[str, torch.Tensor], torch.Tensor]]):
    """Cached sentence embeddings (N, H) of texts and their labels: `dataset[i]` is
    `({"sentence_embedding": (H,)}, label)`. A frozen encoder maps each text to the same vector in every epoch, so a
    linear probe computes them once (Kornblith et al. 2019, arXiv 1805.08974, train linear classifiers on features
    extracted once) and trains the head on them; `texts` are kept for reports.
    """

    def __init__(self, embeddings: torch.Tensor, y: torch.Tensor, *, texts: list[str] | None = None) -> None:
        if len(embeddings) != len(y):
            raise InvalidInputError(f"{len(embeddings)} embeddings for {len(y)} labels; expected one per text")
        self.embeddings, self.y, self.texts = embeddings, y, texts

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        return {EMBEDDING_KEY: self.embeddings[i]}, self.y[i]

    def batch(self, indices: torch.Tensor | Sequence[int]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.long)
        return {EMBEDDING_KEY: self.embeddings[idx]}, self.y[idx]


class TorchDatasets(NamedTuple):
    """`train`, `val`, `test` datasets, plus the augmentation in use and the requested names that were ignored."""

    train: ArrayDataset | TextDataset | EmbeddingDataset
    val: ArrayDataset | TextDataset | EmbeddingDataset
    test: ArrayDataset | TextDataset | EmbeddingDataset
    augment: Augment | None
    ignored: list[str]


def parse_augment(
    augment: str | Sequence[str] | None, *, modality: str, default: str | None
) -> tuple[list[str], list[str]]:
    """Augmentation names -> (ops for this modality, ignored names).

    Accepts "+"-joined names ("crop+flip"), "auto" (the source's default), None/"none", or a plan's list of
    torchvision-style names ("RandomCrop(32, padding=4)", "RandomHorizontalFlip", "Mixup(alpha=0.8)").

    Raises:
        InvalidInputError: a name this module knows that does not fit the modality (e.g. "crop" for sequences).

    Example:
        >>> parse_augment(["RandomCrop(32, padding=4)", "RandomHorizontalFlip", "Mixup(0.2)"], modality="image",
        ...               default=None)
        (['crop', 'flip'], ['Mixup(0.2)'])
    """
    if augment is None:
        return [], []
    items = augment.split("+") if isinstance(augment, str) else list(augment)
    ops: list[str] = []
    ignored: list[str] = []
    allowed = AUGMENTATIONS.get(modality, ())
    for raw in items:
        name = raw.strip()
        low = re.sub(r"[^a-z]", "", name.lower())
        if low in ("", "none", "off", "false"):
            continue
        if low == "auto":
            sub, _ = parse_augment(default, modality=modality, default=None)
            ops += [o for o in sub if o not in ops]
            continue
        if any(k in low for k in _ENGINE_LEVEL):
            ignored.append(name)
            continue
        op = _op_name(low)
        if op is None:
            ignored.append(name)  # e.g. RandAugment, ColorJitter, PCA lighting: not implemented here
            continue
        if op not in allowed:
            raise InvalidInputError(
                f"augment {name!r} does not apply to {modality} data; expected one of: "
                f"{', '.join(allowed) or 'none (no augmentation for ' + modality + ')'}"
            )
        if op not in ops:
            ops.append(op)
    return ops, ignored


def _op_name(low: str) -> str | None:
    """A lower-case, letters-only augmentation name -> one of ours, or None."""
    if "vertical" in low:
        return None
    if "crop" in low:
        return "crop"
    if "flip" in low:
        return "flip"
    if "shift" in low or "roll" in low:
        return "shift"
    if "translat" in low:
        return "translate"
    if low in ("noise", "gaussiannoise") or low.startswith(("gaussiannoise", "noise")):
        return "noise"
    return None


def _normalised(x: np.ndarray, mean: list[float], std: list[float]) -> torch.Tensor:
    t = torch.from_numpy(np.array(x, dtype=np.float32))  # a copy: the splits' arrays stay untouched
    if not mean:
        return t
    shape = (1, -1) + (1,) * (t.ndim - 2)  # per channel (dim 1) for (N, C, ...) and per feature for (N, F)
    m = torch.tensor(mean, dtype=torch.float32).view(shape)
    s = torch.tensor(std, dtype=torch.float32).view(shape)
    return (t - m) / s


def to_torch_datasets(
    splits: DataSplits,
    *,
    augment: str | Sequence[str] | None = "auto",
    max_shift: int | None = None,
    pad: int | None = None,
    noise_std: float = 0.05,
    tokenizer: Callable[[list[str]], Mapping[str, torch.Tensor]] | None = None,
    embed: Callable[[list[str]], torch.Tensor] | None = None,
) -> TorchDatasets:
    """Tensors for train / val / test, normalised with the training split's mean and std; train is augmented.

    Args:
        splits: from `load_data`.
        augment: "auto" (the source's default), None, "+"-joined names, or a plan's augmentation list.
        max_shift: sequence shift/translate range in steps; default L // 8 (5 for MNIST-1D's 40).
        pad: image crop padding in pixels; default H // 8 (4 for 32x32, the CIFAR recipe; 1 for 8x8 digits).
        noise_std: standard deviation of "noise" in normalised units.
        tokenizer: text only: the model's tokenizer; items become token tensors (see `TextDataset`).
        embed: text only: a frozen encoder's texts -> (N, H) sentence embeddings, computed once per split; items
            become `{"sentence_embedding": (H,)}` (see `EmbeddingDataset`). Takes precedence over `tokenizer`.

    Example:
        >>> ds = to_torch_datasets(load_data("digits"), augment="crop")  # doctest: +SKIP
        >>> x, y = ds.train.batch(range(32)); x.shape  # doctest: +SKIP
        torch.Size([32, 1, 8, 8])
    """
    ops, ignored = parse_augment(augment, modality=splits.modality, default=splits.default_augment)
    parts = [(splits.x_train, splits.y_train), (splits.x_val, splits.y_val), (splits.x_test, splits.y_test)]
    if splits.modality == "text":
        sets: list[Any] = []
        for x, y in parts:
            texts, labels = [str(t) for t in x], torch.as_tensor(np.asarray(y), dtype=torch.long)
            if embed is not None:
                sets.append(EmbeddingDataset(_embeddings(embed, texts), labels, texts=texts))
            else:
                sets.append(TextDataset(texts, labels, tokenizer=tokenizer))
        return TorchDatasets(sets[0], sets[1], sets[2], None, ignored)
    shape = splits.input_shape
    aug: Augment | None = None
    if ops:
        aug = Augment(
            ops,
            max_shift=max_shift if max_shift is not None else max(1, shape[-1] // 8),
            pad=pad if pad is not None else max(1, shape[-1] // 8),
            noise_std=noise_std,
        )
    out: list[Any] = []
    target_type = torch.float32 if splits.regression else torch.long  # values to regress, or class indices
    for i, (x, y) in enumerate(parts):
        xt = _normalised(np.asarray(x).reshape(-1, *shape), splits.mean, splits.std)
        yt = torch.as_tensor(np.asarray(y), dtype=target_type)
        out.append(ArrayDataset(xt, yt, transform=aug if i == 0 else None))
    return TorchDatasets(out[0], out[1], out[2], aug, ignored)


def _embeddings(embed: Callable[[list[str]], torch.Tensor], texts: list[str]) -> torch.Tensor:
    if not texts:
        return torch.zeros(0, 0)
    out = torch.as_tensor(embed(texts)).float()
    if out.ndim != 2 or len(out) != len(texts):
        raise InvalidInputError(f"embed: expected ({len(texts)}, H) sentence embeddings; got shape {tuple(out.shape)}")
    return out


def make_balanced_sampler(y: np.ndarray | torch.Tensor, *, seed: int | None = None) -> WeightedRandomSampler:
    """A sampler that draws every class equally often (weight 1 / class count per sample), with replacement.

    Example:
        >>> s = make_balanced_sampler(np.array([0, 0, 0, 1]), seed=0)
        >>> len(s)
        4
    """
    y_np = np.asarray(y, dtype=np.int64)
    counts = np.bincount(y_np)
    weights = 1.0 / counts[y_np]
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    return WeightedRandomSampler(weights.tolist(), len(y_np), generator=generator)
