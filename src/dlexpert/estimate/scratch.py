"""Parameters and MACs of dlexpert's own from-scratch networks for the data they will train on, without torch.

The catalog (models_scratch.yaml) quotes each family's *reference* configuration from its paper (the MNIST-1D CNN
has 6k parameters); dlexpert builds its own sizes for the data's shape (`cnn1d` defaults to 24/48/96 channels, ~91k
parameters). A plan's numbers describe the model that is built: these counts follow `models/cnn1d.py`, `mlp.py` and
`small_resnet.py` layer by layer, and tests/test_estimate_scratch.py checks them against the built modules (their
parameter count, and MACs counted by torch's FlopCounterMode). Bias and BatchNorm parameters count as parameters;
MACs are the convolutions' and linear layers' multiply-accumulates (what FlopCounterMode counts, halved).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ScratchSize", "scratch_size"]


@dataclass(frozen=True)
class ScratchSize:
    params: int
    macs: int  # per sample, forward

    @property
    def params_m(self) -> float:
        return self.params / 1e6

    @property
    def gmacs(self) -> float:
        return self.macs / 1e9


def scratch_size(
    name: str, input_shape: Sequence[int], n_classes: int, *, width: int | None = None, depth: int | None = None,
    options: dict[str, Any] | None = None,
) -> ScratchSize | None:  # fmt: skip
    """The size of dlexpert's `name` network for one sample of `input_shape`; None for a family not counted here.

    Example:
        >>> scratch_size("cnn1d", (1, 40), 10).params
        91042
    """
    count = _FAMILIES.get(name)
    return count(tuple(input_shape), n_classes, width, depth, options or {}) if count else None


def _cnn1d(shape: tuple[int, ...], n_classes: int, width: int | None, depth: int | None, opts: dict) -> ScratchSize:
    c_in, length = (1, shape[0]) if len(shape) == 1 else (shape[0], shape[-1])
    if opts.get("per_sample_norm"):
        c_in *= 3  # ScaleAwareNorm: z-normalised channels plus level and scale
    k, per_block = int(opts.get("kernel_size", 5)), int(opts.get("convs_per_block", 2))
    width, depth = width or 24, depth or 3
    params = macs = 0
    n_in, cur = c_in, length
    for i in range(depth):
        n_out = min(width * 2**i, 256)
        for j in range(per_block):
            fan_in = n_in if j == 0 else n_out
            params += fan_in * n_out * k + 2 * n_out  # conv (no bias) + BatchNorm
            macs += fan_in * n_out * k * cur  # 'same' padding: the output keeps the length
        if i < depth - 1 and cur >= 8:
            cur //= 2
        n_in = n_out
    return ScratchSize(params + n_in * n_classes + n_classes, macs + n_in * n_classes)


def _mlp(shape: tuple[int, ...], n_classes: int, width: int | None, depth: int | None, opts: dict) -> ScratchSize:
    n_in, width, depth = math.prod(shape), width or 100, depth or 2
    batch_norm = bool(opts.get("batch_norm"))
    params = macs = 0
    for _ in range(depth):
        params += n_in * width + (2 * width if batch_norm else width)
        macs += n_in * width
        n_in = width
    return ScratchSize(params + n_in * n_classes + n_classes, macs + n_in * n_classes)


def _small_resnet(
    shape: tuple[int, ...], n_classes: int, width: int | None, depth: int | None, opts: dict
) -> ScratchSize:
    tiny = len(shape) == 3 and min(shape[-2:]) <= 16  # models/small_resnet.py default_size
    width, blocks = width or (2 if tiny else 1), depth or (2 if tiny else 3)
    h, w = shape[-2], shape[-1]
    channels = (16 * width, 32 * width, 64 * width)
    params = 9 * shape[0] * channels[0] + 2 * channels[0]
    macs = 9 * shape[0] * channels[0] * h * w
    n_in = channels[0]
    for i, n_out in enumerate(channels):
        for b in range(blocks):
            stride = 2 if i > 0 and b == 0 else 1
            if stride == 2:
                h, w = (h + 1) // 2, (w + 1) // 2  # 3x3, padding 1, stride 2
            fan_in = n_in if b == 0 else n_out
            params += 9 * fan_in * n_out + 9 * n_out * n_out + 4 * n_out
            macs += (9 * fan_in * n_out + 9 * n_out * n_out) * h * w
            if b == 0 and (stride != 1 or fan_in != n_out):  # 1x1 projection shortcut with BatchNorm
                params += fan_in * n_out + 2 * n_out
                macs += fan_in * n_out * h * w
        n_in = n_out
    return ScratchSize(params + n_in * n_classes + n_classes, macs + n_in * n_classes)


def _unet(shape: tuple[int, ...], n_classes: int, width: int | None, depth: int | None, opts: dict) -> ScratchSize:
    # models/unet.py DEFAULT_WIDTH, DEFAULT_DEPTH and DEFAULT_STEM_STRIDE (tests compare this count with the module)
    width, depth, stride = width or 16, depth or 4, int(opts.get("stem_stride", 2))
    residual = bool(opts.get("residual", True))
    side = min(shape[-2:]) // stride
    while depth > 1 and side >> depth < 2:  # models/unet.py fitted_depth: the bottom level keeps >= 2 px
        depth -= 1
    widths = [width * 2**i for i in range(depth + 1)]
    h, w = shape[-2], shape[-1]
    params = macs = 0
    c_in = shape[0]
    if stride > 1:  # 3x3 strided conv + GroupNorm
        h, w = -(-h // stride), -(-w // stride)
        params += 9 * c_in * widths[0] + 2 * widths[0]
        macs += 9 * c_in * widths[0] * h * w
        c_in = widths[0]

    def block(n_in: int, n_out: int, pixels: int) -> tuple[int, int]:
        """Two 3x3 conv + GroupNorm; a residual block adds a 1x1 conv + GroupNorm shortcut when n_in != n_out."""
        p, m = 9 * (n_in * n_out + n_out * n_out) + 4 * n_out, 9 * (n_in * n_out + n_out * n_out) * pixels
        if residual and n_in != n_out:
            p, m = p + n_in * n_out + 2 * n_out, m + n_in * n_out * pixels
        return p, m

    sizes = []
    for i, c_out in enumerate(widths):  # a block per level, max-pool between levels
        if i > 0:
            h, w = h // 2, w // 2
        p, m = block(c_in, c_out, h * w)
        params, macs = params + p, macs + m
        sizes.append((h, w))
        c_in = c_out
    for i in reversed(range(depth)):  # 2x2 transposed conv up, then a block on [skip, up]
        params += 4 * widths[i + 1] * widths[i] + widths[i]
        macs += 4 * widths[i + 1] * widths[i] * sizes[i + 1][0] * sizes[i + 1][1]
        p, m = block(2 * widths[i], widths[i], sizes[i][0] * sizes[i][1])
        params, macs = params + p, macs + m
    h0, w0 = sizes[0]
    return ScratchSize(params + widths[0] * n_classes + n_classes, macs + widths[0] * n_classes * h0 * w0)


_FAMILIES: dict[str, Callable[..., ScratchSize]] = {
    "cnn1d": _cnn1d,
    "mlp": _mlp,
    "small_resnet": _small_resnet,
    "unet": _unet,
}
