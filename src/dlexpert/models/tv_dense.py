"""torchvision's detection and segmentation models, pretrained or not, with heads for the user's classes.

The detectors (FCOS, RetinaNet, Faster/Mask R-CNN, SSD, SSDlite) and segmenters (DeepLabV3, FCN, LR-ASPP) come from
`torchvision.models.get_model`. With pretrained weights (COCO, or COCO's 20 VOC classes for the segmenters) the
class-dependent layers are replaced the way torchvision's fine-tuning tutorial does it, and everything else keeps its
weights:

- FCOS / RetinaNet: the last conv of the classification head (`cls_logits`), initialised as the papers do (weights
  N(0, 0.01), bias for a prior of 0.01), so the focal loss starts calm;
- Faster / Mask R-CNN: the box predictor (`FastRCNNPredictor`) and, for Mask R-CNN, the mask predictor;
- SSD / SSDlite: the last conv of each level's classification branch;
- segmenters: each 1x1 conv that scores the pretrained classes; the auxiliary classifier is dropped (dlexpert trains
  the main output only).

Without weights (`pretrained=False`: rebuilding a trained run before loading its checkpoint) the same architecture is
built directly for the class count, with no backbone download either. Detectors count the background as class 0, so
they get `n_classes + 1` outputs; segmentation classes already include it. A detector is told the image size
(`min_size`/`max_size`, or SSD's fixed size), so it works at the data's resolution instead of resizing to COCO's
800 px; a segmenter returns its `out` logits only (torchvision returns a dict).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from ..errors import InvalidInputError

__all__ = ["SegmentationLogits", "adapt_pretrained_dense", "dense_architecture", "dense_task"]

PRIOR_PROBABILITY = 0.01  # RetinaNet (Lin et al. 2017, Sec. 4.1) and FCOS initialise the class logits to this


def dense_task(builder: str) -> str | None:
    """'detection' or 'segmentation' for a torchvision dense builder, None for any other (a classifier)."""
    import torchvision.models as tvm

    if builder in tvm.list_models(module=tvm.detection):
        return "detection"
    if builder in tvm.list_models(module=tvm.segmentation):
        return "segmentation"
    return None


class SegmentationLogits(nn.Module):
    """A torchvision segmenter's `out` logits (N, K, H, W): what the engine's segmentation loss reads."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)["out"]

    def get_classifier(self) -> nn.Module:
        """The segmentation head (timm's accessor, which `models.find_head` reads first)."""
        return self.model.get_submodule("classifier")


def dense_architecture(builder: str, *, n_classes: int, input_shape: Sequence[int] | None) -> nn.Module:
    """`builder` with random weights, built for `n_classes` (no download, not even the backbone's): the
    architecture `adapt_pretrained_dense` gives, for a trained run's weights to be loaded into."""
    import torchvision.models as tvm

    task = _check(builder)
    outputs = n_classes + 1 if task == "detection" else n_classes
    extra: dict[str, Any] = {"aux_loss": False} if builder.startswith(("deeplabv3", "fcn")) else {}
    model = tvm.get_model(builder, weights=None, weights_backbone=None, num_classes=outputs, **extra)
    return _finish(task, model, input_shape)


def adapt_pretrained_dense(
    builder: str, model: nn.Module, *, n_pretrained: int, n_classes: int, input_shape: Sequence[int] | None
) -> nn.Module:
    """A pretrained `builder` (scoring `n_pretrained` classes) with class layers for `n_classes`, for images of
    `input_shape` (C, H, W)."""
    task = _check(builder)
    if task == "detection":
        _replace_detection_classes(model, n_classes + 1)
    else:
        _replace_segmentation_classes(model, n_classes, n_pretrained)
    return _finish(task, model, input_shape)


def _check(builder: str) -> str:
    task = dense_task(builder)
    if task is None:
        raise InvalidInputError(f"torchvision model {builder!r} is neither a detector nor a segmenter")
    if builder.startswith("keypointrcnn"):
        raise InvalidInputError(
            f"torchvision model {builder!r} predicts human keypoints and trains on keypoint annotations; for boxes "
            "choose a detector such as fasterrcnn_resnet50_fpn or fcos_resnet50_fpn"
        )
    return task


def _finish(task: str, model: Any, input_shape: Sequence[int] | None) -> nn.Module:
    if task == "detection":
        _fit_image_size(model, input_shape)
        return model
    if getattr(model, "aux_classifier", None) is not None:
        model.aux_classifier = None
    return SegmentationLogits(model)


def _replace_detection_classes(model: Any, outputs: int) -> None:
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
    from torchvision.models.detection.mask_rcnn import MaskRCNNPredictor

    roi_heads = getattr(model, "roi_heads", None)
    if roi_heads is not None:  # Faster / Mask R-CNN
        box = roi_heads.box_predictor
        roi_heads.box_predictor = FastRCNNPredictor(box.cls_score.in_features, outputs)
        if getattr(roi_heads, "mask_predictor", None) is not None:
            mask = roi_heads.mask_predictor
            roi_heads.mask_predictor = MaskRCNNPredictor(mask.conv5_mask.in_channels, mask.conv5_mask.out_channels,
                                                         outputs)  # fmt: skip
        return
    head = model.head.classification_head
    if hasattr(head, "cls_logits"):  # FCOS, RetinaNet: one conv scores every anchor of every level
        old = head.cls_logits
        head.cls_logits = _class_conv(old, old.out_channels // head.num_classes * outputs, prior=True)
        head.num_classes = outputs
        return
    for i, branch in enumerate(head.module_list):  # SSD / SSDlite: a branch per level, its last conv scores
        last = branch if isinstance(branch, nn.Conv2d) else branch[-1]
        new = _class_conv(last, last.out_channels // head.num_columns * outputs, prior=False)
        if isinstance(branch, nn.Conv2d):
            head.module_list[i] = new
        else:
            branch[-1] = new
    head.num_columns = outputs


def _class_conv(old: Any, out_channels: int, *, prior: bool) -> nn.Conv2d:
    new = nn.Conv2d(old.in_channels, out_channels, old.kernel_size, stride=old.stride, padding=old.padding)
    bias = new.bias
    assert bias is not None
    if prior:
        nn.init.normal_(new.weight, std=0.01)
        nn.init.constant_(bias, -math.log((1 - PRIOR_PROBABILITY) / PRIOR_PROBABILITY))
    else:  # SSD's own initialisation of its heads
        nn.init.xavier_uniform_(new.weight)
        nn.init.constant_(bias, 0.0)
    return new


def _replace_segmentation_classes(model: nn.Module, outputs: int, n_pretrained: int) -> None:
    """Every 1x1 conv that scores the `n_pretrained` classes (main and auxiliary classifiers; LR-ASPP's low and high
    branches) gets `outputs` channels."""
    for name, module in list(model.named_modules()):
        if isinstance(module, nn.Conv2d) and module.out_channels == n_pretrained and module.kernel_size == (1, 1):
            parent_name, _, attr = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, attr, nn.Conv2d(module.in_channels, outputs, 1))


def _fit_image_size(model: Any, input_shape: Sequence[int] | None) -> None:
    """The detector keeps the data's image size instead of resizing to COCO's (800 px; SSD's fixed 300/320)."""
    if not input_shape or len(input_shape) != 3:
        return
    height, width = int(input_shape[1]), int(input_shape[2])
    transform = model.transform
    transform.min_size = (min(height, width),)
    transform.max_size = max(height, width)
    if getattr(transform, "fixed_size", None) is not None:
        transform.fixed_size = (height, width)
