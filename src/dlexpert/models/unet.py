"""U-Net (Ronneberger et al. 2015, arXiv 1505.04597) for semantic segmentation from scratch.

Four resolutions: two 3x3 conv + GroupNorm + ReLU blocks at each, max-pool down, transposed-conv up, and the
encoder's features concatenated at each decoder level (the skip connections that keep object boundaries sharp). The
output is (B, n_classes, H, W) logits at the input's resolution; H and W need not be multiples of 8 (the decoder
crops or pads to the skip's size). GroupNorm instead of BatchNorm: segmentation batches are small (Wu & He 2018,
"Group Normalization", arXiv 1803.08494, Fig. 1: BatchNorm degrades below ~8 samples per batch, GroupNorm does not).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._registry import register_model

__all__ = ["UNet", "unet"]

# Channels at the first level; each level down doubles them (the paper's 64 at full size; 16 fits a CPU).
DEFAULT_WIDTH = 16
DEFAULT_DEPTH = 3  # levels below the first: 4 resolutions in all, as the paper (x1/8 at the bottom)
GROUPS = 8  # GroupNorm groups (Wu & He 2018 use 32 with 64+ channels; 8 keeps >= 2 channels per group at width 16)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    groups = min(GROUPS, c_out)
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.GroupNorm(groups, c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.GroupNorm(groups, c_out),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    def __init__(self, in_channels: int, n_classes: int, *, width: int, depth: int, dropout: float = 0.0) -> None:
        super().__init__()
        widths = [width * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList([_block(in_channels, widths[0])])
        self.down.extend(_block(widths[i], widths[i + 1]) for i in range(depth))
        levels = list(reversed(range(depth)))
        self.up = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2) for i in levels)
        self.merge = nn.ModuleList(_block(2 * widths[i], widths[i]) for i in levels)
        self.drop = nn.Dropout2d(dropout) if dropout else nn.Identity()
        self.head = nn.Conv2d(widths[0], n_classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        # x: (B, C, H, W) -> skips at H, H/2, ..., bottom at H/2^depth -> back up to (B, K, H, W)
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        x = self.drop(skips.pop())
        for up, merge in zip(self.up, self.merge, strict=True):
            skip = skips.pop()
            x = up(x)
            x = F.pad(x, (0, skip.shape[-1] - x.shape[-1], 0, skip.shape[-2] - x.shape[-2]))  # odd sizes
            x = merge(torch.cat([skip, x], dim=1))
        return self.head(x)


@register_model("unet", modalities=("image",), output="pixel", description="U-Net: per-pixel logits (segmentation)")
def unet(
    *,
    input_shape: tuple[int, ...],
    n_classes: int,
    width: int | None = None,
    depth: int | None = None,
    dropout: float = 0.0,
) -> nn.Module:
    """U-Net with `width` channels at full resolution (doubling per level) and `depth` levels below it.

    Example:
        >>> net = unet(input_shape=(3, 64, 64), n_classes=5)
        >>> net(torch.zeros(2, 3, 64, 64)).shape
        torch.Size([2, 5, 64, 64])
    """
    return UNet(input_shape[0], n_classes, width=width or DEFAULT_WIDTH, depth=depth or DEFAULT_DEPTH, dropout=dropout)
