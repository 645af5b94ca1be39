"""`small_resnet`: ResNet-20-style 2-D CNN for small images (He et al. 2016, arXiv 1512.03385, Sec. 4.2).

Three stages of basic blocks at 16/32/64 channels (times `width`), the second and third halving the
resolution, then adaptive average pooling. The CIFAR design keeps a 3x3 stem with no max-pool, so 8x8
digits (-> 8, 4, 2) and 32x32 images (-> 32, 16, 8) both work; adaptive pooling takes any H, W.

Tiny images (shorter side <= `TINY_IMAGE_PX`) get a wider, shallower default (see `default_size`).
"""

from __future__ import annotations

from torch import Tensor, nn

from ._registry import register_model

# At or below this side the default is WRN-style wide and shallow: width 2, 2 blocks per stage (`default_size`).
TINY_IMAGE_PX = 16
TINY_WIDTH, TINY_BLOCKS = 2, 2


def default_size(input_shape: tuple[int, ...]) -> tuple[int, int]:
    """(width, blocks per stage) when the caller gives none: ResNet-20's (1, 3), or (2, 2) for tiny images.

    Why tiny images differ: the receptive field of the 3x3 stem plus the first stage's three blocks is already 15 px,
    so on an 8-16 px image the later blocks add depth without adding context, while the third stage runs on 2x2-4x4
    maps at only 64 channels. Wide ResNets add capacity through width rather than depth and train better per unit
    of compute on small images (Zagoruyko & Komodakis 2016, arXiv 1605.07146, Sec. 3-4), so up to `TINY_IMAGE_PX`
    the default doubles the width and drops a block per stage: 0.70M parameters, 6.6 MMACs at 8x8 and 26 at 16x16,
    still below ResNet-20's 41 MMACs at 32x32. Measured on 8x8 digits with the tiny-image recipe, seeds 0-2: 2-3
    test errors of 360 against 4-6 for ResNet-20's (1, 3), at ~1.7x its CPU time per epoch (benchmarks/bench_digits.py
    runs the default).
    """
    if len(input_shape) == 3 and min(input_shape[-2:]) <= TINY_IMAGE_PX:
        return TINY_WIDTH, TINY_BLOCKS
    return 1, 3


class BasicBlock(nn.Module):
    """Two 3x3 convs with batch norm and an identity (or 1x1 projection) shortcut."""

    def __init__(self, n_in: int, n_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(n_out)
        self.conv2 = nn.Conv2d(n_out, n_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(n_out)
        self.relu = nn.ReLU(inplace=True)
        # Option B of the paper: a 1x1 projection where the shape changes.
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or n_in != n_out:
            self.shortcut = nn.Sequential(nn.Conv2d(n_in, n_out, 1, stride=stride, bias=False), nn.BatchNorm2d(n_out))

    def forward(self, x: Tensor) -> Tensor:
        # x: (B, n_in, H, W) -> (B, n_out, H / stride, W / stride)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class SmallResNet(nn.Module):
    """Stem, three stages of `blocks_per_stage` basic blocks, global average pool, dropout, linear head."""

    def __init__(self, *, in_channels: int, n_classes: int, width: int, blocks_per_stage: int, dropout: float) -> None:
        super().__init__()
        channels = (16 * width, 32 * width, 64 * width)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, channels[0], 3, padding=1, bias=False),
            nn.BatchNorm2d(channels[0]),
            nn.ReLU(inplace=True),
        )
        stages: list[nn.Module] = []
        n_in = channels[0]
        for i, n_out in enumerate(channels):
            stride = 1 if i == 0 else 2
            blocks = [BasicBlock(n_in, n_out, stride)]
            blocks += [BasicBlock(n_out, n_out, 1) for _ in range(blocks_per_stage - 1)]
            stages.append(nn.Sequential(*blocks))
            n_in = n_out
        self.layer1, self.layer2, self.layer3 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(n_in, n_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        # Zero-init the last BN of each block so every block starts as the identity (Goyal et al. 2017,
        # arXiv 1706.02677, Sec. 5.1): trains faster and more stably with large learning rates.
        for m in self.modules():
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def forward(self, x: Tensor) -> Tensor:
        # x: (B, C, H, W) -> (B, 16w, H, W) -> (B, 32w, H/2, W/2) -> (B, 64w, H/4, W/4) -> (B, 64w) -> (B, K)
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.head(self.drop(self.pool(x).flatten(1)))


@register_model("small_resnet", modalities=("image",))
def small_resnet(
    *,
    input_shape: tuple[int, ...],
    n_classes: int,
    width: int | None = None,
    depth: int | None = None,
    dropout: float = 0.0,
) -> nn.Module:
    """ResNet-20-style CNN; `width` multiplies 16/32/64 channels, `depth` is blocks per stage (3 = ResNet-20).

    Unset, they follow the input: (1, 3) = ResNet-20, or (2, 2) for images of 16 px or less (`default_size`).

    Example:
        >>> small_resnet(input_shape=(3, 32, 32), n_classes=10)  # ResNet-20, 0.27M parameters  # doctest: +SKIP
    """
    default_width, default_depth = default_size(input_shape)
    return SmallResNet(
        in_channels=input_shape[0],
        n_classes=n_classes,
        width=width or default_width,
        blocks_per_stage=depth or default_depth,
        dropout=dropout,
    )
