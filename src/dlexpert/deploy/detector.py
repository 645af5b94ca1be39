"""A torchvision detector as one ONNX graph, post-processing included, and its parity checked box by box.

torchvision's detectors take a list of images and return one {boxes, scores, labels} dict per image; resizing,
normalisation, box decoding, the score threshold and NMS all run inside `forward`. `DetectorGraph` exposes that as
tensors for one image: (1, C, H, W) -> boxes (N, 4) xyxy pixels, scores (N,), labels (N,) with N decided by the
image. Only the TorchScript-based exporter writes it (torchvision registers ONNX symbolics for NMS and its other
ops); `torch.export`, under the dynamo exporter, stops at the data-dependent number of boxes. torchvision's own
ONNX tests export their detectors the same way, one image per call.

Elementwise parity means nothing for such outputs (a box found in another order, or one more box near the score
threshold, shifts every row), so `box_parity` matches boxes: every eager box must have an exported box of the same
label at IoU >= 0.99, and their scores must agree within 1e-4 (issue 15's bar).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

__all__ = [
    "BoxParity",
    "DetectorGraph",
    "box_parity",
    "detector_eager_runner",
    "detector_onnx_runner",
    "is_detector",
    "is_detector_graph",
    "onnx_safe_clipping",
]

MATCH_IOU = 0.99  # an exported box is "the same box" as an eager one above this IoU (issue 15)
SCORE_TOLERANCE = 1e-4  # and its score within this of the eager score
OUTPUT_NAMES = ["boxes", "scores", "labels"]

Detections = dict[str, Tensor]  # {boxes (N, 4), scores (N,), labels (N,)}: one image, as torchvision returns it


def is_detector(model: Any) -> bool:
    """A torchvision detection model (FCOS, RetinaNet, Faster R-CNN, SSD...): its `transform` is the detection
    resize-and-normalise step every one of them owns."""
    from torchvision.models.detection.transform import GeneralizedRCNNTransform

    return isinstance(getattr(model, "transform", None), GeneralizedRCNNTransform)


def is_detector_graph(session: Any) -> bool:
    """An ONNX Runtime session of a `DetectorGraph` export: its outputs are named boxes, scores, labels."""
    return [o.name for o in session.get_outputs()] == OUTPUT_NAMES


class DetectorGraph(nn.Module):
    """`detector` (eval mode) as a graph of tensors: images (1, C, H, W) -> (boxes, scores, labels) of image 0."""

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        out = self.detector([images[0]])[0]
        return out["boxes"], out["scores"], out["labels"]


@contextlib.contextmanager
def onnx_safe_clipping():  # type: ignore[no-untyped-def]
    """While a detector is traced for ONNX, torchvision's `clip_boxes_to_image` is one without a reshape.

    torchvision clips by stacking the (N, 2) x and y halves into (N, 2, 2) and reshaping back to (N, 4). In the
    INT8 (QDQ) graph ONNX Runtime runs that reshape with the target [0, -1] (ONNX's 0 copies the input dimension),
    which it cannot resolve when N is 0, i.e. when a pyramid level has no score above the threshold: the whole graph
    failed on such images (an INT8 FCOS on a blank image; the fp32 graph ran). The replacement clamps the four
    coordinates and stacks them, with no reshape.
    """
    import torchvision.ops.boxes as box_ops

    original = box_ops.clip_boxes_to_image
    box_ops.clip_boxes_to_image = _clip_boxes  # the detectors call it through this module (`box_ops.`)
    try:
        yield
    finally:
        box_ops.clip_boxes_to_image = original


def _clip_boxes(boxes: Tensor, size: tuple[int, int]) -> Tensor:
    height, width = size
    zero = torch.zeros((), dtype=boxes.dtype)
    w, h = torch.as_tensor(width, dtype=boxes.dtype), torch.as_tensor(height, dtype=boxes.dtype)
    x1, y1, x2, y2 = (torch.min(torch.max(boxes[..., i], zero), h if i % 2 else w) for i in range(4))
    return torch.stack((x1, y1, x2, y2), dim=-1)


def detector_eager_runner(model: Any) -> Callable[[Tensor], list[Detections]]:
    """`fn(images (B, C, H, W)) -> [detections per image]` for a torchvision detector in eval mode, under
    `torch.inference_mode`: what its ONNX graph is compared with and timed against."""

    def run(images: Tensor) -> list[Detections]:
        with torch.inference_mode():
            return list(model(list(images)))

    return run


def detector_onnx_runner(session: Any) -> Callable[[Tensor], list[Detections]]:
    """`fn(images (B, C, H, W)) -> [detections per image]` for an ORT session of a `DetectorGraph` export: the graph
    takes one image, so a batch runs image by image."""
    name = session.get_inputs()[0].name

    def run(images: Tensor) -> list[Detections]:
        out = []
        for image in images:
            boxes, scores, labels = session.run(OUTPUT_NAMES, {name: image[None].detach().cpu().numpy()})
            out.append({"boxes": torch.from_numpy(boxes), "scores": torch.from_numpy(scores),
                        "labels": torch.from_numpy(labels)})  # fmt: skip
        return out

    return run


@dataclass
class BoxParity:
    """Exported detections against eager ones on the same images, box by box."""

    n_images: int
    eager_boxes: int
    matched: int  # eager boxes with an exported box of the same label at IoU >= MATCH_IOU
    exported_boxes: int
    min_iou: float  # over the matched pairs (1.0 when there are none)
    max_score_diff: float  # over the matched pairs
    mean_score_diff: float
    iou_threshold: float = MATCH_IOU
    score_tolerance: float = SCORE_TOLERANCE

    @property
    def passed(self) -> bool:
        return self.matched == self.eager_boxes == self.exported_boxes and self.max_score_diff <= self.score_tolerance

    def describe(self) -> str:
        """One line: what matched, and where the exported graph differs when it does."""
        head = (
            f"{self.matched} of {self.eager_boxes} eager boxes matched at IoU >= {self.iou_threshold} with the same "
            f"label (exported graph: {self.exported_boxes} boxes) on {self.n_images} images; score difference "
            f"max {self.max_score_diff:.2g}, min IoU {self.min_iou:.6f}"
        )
        if self.passed:
            return head
        return head + (
            f"; the exported graph differs: {self.eager_boxes - self.matched} eager boxes unmatched, "
            f"{self.exported_boxes - self.matched} exported boxes extra"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def box_parity(pairs: Iterable[tuple[Detections, Detections]]) -> BoxParity:
    """Match each image's eager detections (first of the pair) to the exported ones (second): greedily by IoU, best
    first, one exported box per eager box, labels equal."""
    from torchvision.ops import box_iou

    n_images = eager_n = exported_n = matched = 0
    ious: list[float] = []
    diffs: list[float] = []
    for eager, exported in pairs:
        n_images += 1
        eager_n += len(eager["boxes"])
        exported_n += len(exported["boxes"])
        if not len(eager["boxes"]) or not len(exported["boxes"]):
            continue
        iou = box_iou(eager["boxes"].double(), exported["boxes"].double())
        iou[eager["labels"][:, None] != exported["labels"][None, :]] = 0.0
        while True:
            best = int(iou.argmax())
            i, j = divmod(best, iou.shape[1])
            if iou[i, j] < MATCH_IOU:
                break
            matched += 1
            ious.append(float(iou[i, j]))
            diffs.append(abs(float(eager["scores"][i]) - float(exported["scores"][j])))
            iou[i, :] = -1.0
            iou[:, j] = -1.0
    return BoxParity(
        n_images=n_images,
        eager_boxes=eager_n,
        matched=matched,
        exported_boxes=exported_n,
        min_iou=min(ious, default=1.0),
        max_score_diff=max(diffs, default=0.0),
        mean_score_diff=math.fsum(diffs) / len(diffs) if diffs else 0.0,
    )
