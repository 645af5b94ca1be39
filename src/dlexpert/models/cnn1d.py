"""`cnn1d`: a 1-D CNN with batch norm for signals and sequences (C, L).

Design: `depth` blocks of two Conv1d(k=5) -> BatchNorm -> ReLU layers, channels doubling from `width`
(24, 48, 96 by default), max-pooling by 2 between blocks, then global average pooling and a linear head.
Global pooling makes the features shift-invariant, which suits MNIST-1D's randomly translated digits; batch
norm and the second conv per block lift it from the paper's 94% (Greydanus 2020, arXiv 2011.14439, plain
3x25-channel CNN) to 99%. Measured here (4000 train / 1000 test, AdamW + OneCycle max_lr 1e-2, batch 128,
random circular shift of +-4 steps, 40 epochs): 98.9 / 99.4 / 99.3% test accuracy over seeds 0-2, against
98.8 / 98.4% for one conv per block at 32/64/128 channels.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._registry import register_model


def _conv_block(n_in: int, n_out: int, kernel_size: int) -> nn.Sequential:
    # bias=False: BatchNorm's shift makes the conv bias redundant.
    return nn.Sequential(
        nn.Conv1d(n_in, n_out, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm1d(n_out),
        nn.ReLU(inplace=True),
    )


class ScaleAwareNorm(nn.Module):
    """Each series and channel to zero mean and unit variance, plus its level and scale as two constant channels.

    (B, C, L) -> (B, 3C, L): the z-normalised channels, asinh(mean) and log(std) per channel. When amplitudes differ
    by orders of magnitude one global normalisation leaves most series near zero; normalising each series alone (as
    1-NN and ROCKET do for the UCR archive) would discard the amplitude, which can be the class (resting vs running
    in BasicMotions). No parameters, so checkpoints without it load unchanged; ONNX exports it as plain ops.
    """

    eps = 1e-8

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(dim=-1, keepdim=True)
        std = x.std(dim=-1, keepdim=True, unbiased=False)
        z = (x - mean) / (std + self.eps)
        scale = torch.cat([torch.asinh(mean), torch.log(std + self.eps)], dim=1).expand(-1, -1, x.shape[-1])
        return torch.cat([z, scale], dim=1)


class CNN1d(nn.Module):
    """Conv blocks with doubling channels and pooling, global average pool, dropout, linear head."""

    def __init__(
        self,
        *,
        in_channels: int,
        length: int,
        n_classes: int,
        width: int,
        depth: int,
        dropout: float,
        kernel_size: int = 5,
        convs_per_block: int = 2,
        max_channels: int = 256,
        per_sample_norm: bool = False,
    ) -> None:
        super().__init__()
        self.input_norm: nn.Module = ScaleAwareNorm() if per_sample_norm else nn.Identity()
        blocks: list[nn.Module] = []
        n_in, cur_len = in_channels * (3 if per_sample_norm else 1), length
        for i in range(depth):
            n_out = min(width * 2**i, max_channels)
            blocks.append(_conv_block(n_in, n_out, kernel_size))
            blocks.extend(_conv_block(n_out, n_out, kernel_size) for _ in range(convs_per_block - 1))
            # Halve the length between blocks while it stays >= 4 steps (40 -> 20 -> 10 for MNIST-1D).
            if i < depth - 1 and cur_len >= 8:
                blocks.append(nn.MaxPool1d(2))
                cur_len //= 2
            n_in = n_out
        self.features = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(n_in, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:  # tabular (B, D) read as a one-channel signal (B, 1, D)
            x = x.unsqueeze(1)
        # x: (B, C, L) -> features (B, C', L') -> pooled (B, C') -> logits (B, n_classes)
        z = self.pool(self.features(self.input_norm(x))).flatten(1)
        return self.head(self.drop(z))


@register_model("cnn1d", modalities=("sequence", "tabular"))
def cnn1d(
    *,
    input_shape: tuple[int, ...],
    n_classes: int,
    width: int | None = None,
    depth: int | None = None,
    dropout: float = 0.0,
    kernel_size: int = 5,
    convs_per_block: int = 2,
    per_sample_norm: bool = False,
) -> nn.Module:
    """1-D CNN with batch norm; `width` is the first block's channels (24), `depth` the number of blocks (3).

    The default (24, 48, 96 channels, 2 convs per block, ~91k parameters) reaches ~99% on MNIST-1D with
    OneCycle and random-shift augmentation. A tabular (D,) input is read as one channel of length D.
    `per_sample_norm` normalises each series on its own and keeps its scale as input (`ScaleAwareNorm`).

    Example:
        >>> cnn1d(input_shape=(1, 40), n_classes=10)  # doctest: +SKIP
    """
    in_channels, length = (1, input_shape[0]) if len(input_shape) == 1 else input_shape
    return CNN1d(
        in_channels=in_channels,
        length=length,
        n_classes=n_classes,
        width=width or 24,
        depth=depth or 3,
        dropout=dropout,
        kernel_size=kernel_size,
        convs_per_block=convs_per_block,
        per_sample_norm=per_sample_norm,
    )
