"""FCOS (Tian et al. 2019, "FCOS: Fully Convolutional One-Stage Object Detection", arXiv 1904.01355) from scratch:
torchvision's detector with a small residual backbone dlexpert builds, so detection trains without any download.

The backbone is a ResNet-style stack of residual GroupNorm blocks (models/unet.py's block: GroupNorm, because
detection batches are small) at strides 4, 8, 16 and 32; torchvision's `FeaturePyramidNetwork` merges the last three
into P3-P5 (strides 8, 16, 32). FCOS is anchor-free: every location of P3-P5 classifies (sigmoid focal loss), regresses
the distances to the four box sides (GIoU loss) and scores its centerness; torchvision computes those losses in
training mode and decodes boxes with NMS in eval mode. The images are not resized (`min_size`/`max_size` are the input
size) and are normalised with the data's channel statistics.

Targets follow torchvision's detection convention: `labels` 1..K for the K object classes (0 is background), boxes
in absolute xyxy pixels.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from torch import Tensor, nn

from ._registry import register_model
from .unet import ResidualBlock, group_norm

__all__ = ["fcos"]

DEFAULT_WIDTH = 32  # channels at stride 4, doubling per stage: 32, 64, 128, 256
FPN_CHANNELS = 64  # P3-P5 channels; FCOS's head uses GroupNorm with 32 groups, so a multiple of 32
HEAD_CONVS = 2  # conv layers per head branch (the paper's 4 at 256 channels; 2 at 64 fit a CPU)
# One "anchor" per location of each level, of the level's stride: FCOS assigns a box to the level whose range holds
# its size (torchvision: 4x to 8x the anchor size), so P3 takes boxes up to 64 px, P4 64-128 px, P5 the rest; with
# `min_stride=4` a P2 level takes the boxes up to 32 px.
STAGE_STRIDES = (4, 8, 16, 32)
DEFAULT_MIN_STRIDE = 8


class _Backbone(nn.Module):
    """Residual GroupNorm stages at strides 4-32, and an FPN over those from `min_stride` on (P3-P5, or P2-P5), with
    `out_channels` channels each."""

    def __init__(self, in_channels: int, width: int, min_stride: int) -> None:
        super().__init__()
        from torchvision.ops import FeaturePyramidNetwork

        widths = [width * 2**i for i in range(4)]
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, stride=2, padding=1, bias=False), group_norm(widths[0]), nn.ReLU(True)
        )
        stages, c_in = [], widths[0]
        for c_out in widths:  # each stage halves the resolution first: strides 4, 8, 16, 32
            stages.append(nn.Sequential(nn.MaxPool2d(2), ResidualBlock(c_in, c_out)))
            c_in = c_out
        self.stages = nn.ModuleList(stages)
        self.first = STAGE_STRIDES.index(min_stride)
        self.fpn = FeaturePyramidNetwork(widths[self.first :], FPN_CHANNELS)
        self.out_channels = FPN_CHANNELS

    def forward(self, x: Tensor) -> OrderedDict[str, Tensor]:
        x = self.stem(x)
        feats = OrderedDict()
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i >= self.first:
                feats[f"p{i + 2}"] = x
        return self.fpn(feats)


@register_model("fcos", modalities=("image",), output="boxes", description="FCOS detector with a small backbone")
def fcos(
    *,
    input_shape: tuple[int, ...],
    n_classes: int,
    width: int | None = None,
    depth: int | None = None,
    dropout: float = 0.0,
    mean: Sequence[float] = (0.5, 0.5, 0.5),
    std: Sequence[float] = (0.25, 0.25, 0.25),
    score_thresh: float = 0.05,
    min_stride: int = DEFAULT_MIN_STRIDE,
) -> nn.Module:
    """torchvision FCOS for `n_classes` object classes on images of `input_shape` (C, H, W), not resized; `width` is
    the backbone's first stage's channels, `depth` the conv layers of each head branch, `min_stride` the finest
    pyramid level (8: P3-P5; 4 adds P2 for boxes under 32 px).

    In training mode `model(images, targets)` returns the loss terms {classification, bbox_regression,
    bbox_ctrness}; in eval mode `model(images)` returns one {boxes, scores, labels} per image (labels 1..K).
    `score_thresh` 0.05 keeps low-confidence boxes, as COCO mAP is measured (torchvision's default is 0.2).

    Example:
        >>> import torch
        >>> net = fcos(input_shape=(3, 64, 64), n_classes=3).eval()
        >>> sorted(net([torch.rand(3, 64, 64)])[0])
        ['boxes', 'labels', 'scores']
    """
    from torchvision.models.detection import FCOS
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.fcos import FCOSHead

    if min_stride not in STAGE_STRIDES[:2]:
        raise ValueError(f"fcos: min_stride must be 4 or 8; got {min_stride}")
    side = max(input_shape[-2:])
    strides = STAGE_STRIDES[STAGE_STRIDES.index(min_stride) :]
    anchors = AnchorGenerator(sizes=tuple((s,) for s in strides), aspect_ratios=((1.0,),) * len(strides))
    head = FCOSHead(FPN_CHANNELS, num_anchors=1, num_classes=n_classes + 1, num_convs=depth or HEAD_CONVS)
    return FCOS(
        _Backbone(input_shape[0], width or DEFAULT_WIDTH, min_stride), num_classes=n_classes + 1,
        min_size=min(input_shape[-2:]),
        max_size=side, image_mean=list(mean), image_std=list(std), anchor_generator=anchors, head=head,
        score_thresh=score_thresh,
    )  # fmt: skip
