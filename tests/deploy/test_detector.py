"""A detector exported with its post-processing: box-by-box parity, images where nothing is found, and the matcher
itself on hand-made detections (issue 15)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from dlexpert.deploy import onnx_session  # noqa: E402
from dlexpert.deploy.detector import box_parity, detector_onnx_runner, is_detector_graph  # noqa: E402
from dlexpert.deploy.export import export_detector_onnx  # noqa: E402
from dlexpert.models import create_model  # noqa: E402


def detections(boxes: list[list[float]], scores: list[float], labels: list[int]) -> dict[str, torch.Tensor]:
    return {
        "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        "scores": torch.tensor(scores, dtype=torch.float32),
        "labels": torch.tensor(labels, dtype=torch.int64),
    }


def test_box_parity_matches_boxes_in_any_order_and_names_what_differs() -> None:
    eager = detections([[0, 0, 10, 10], [20, 20, 40, 40]], [0.9, 0.5], [1, 2])
    same_reordered = detections([[20, 20, 40, 40.001], [0, 0, 10, 10]], [0.50001, 0.9], [2, 1])
    p = box_parity([(eager, same_reordered)])
    assert p.passed and p.matched == 2 and p.max_score_diff < 1e-4 and p.min_iou > 0.99
    relabelled = detections([[0, 0, 10, 10], [20, 20, 40, 40]], [0.9, 0.5], [1, 3])
    moved = detections([[0, 0, 10, 10], [22, 20, 42, 40]], [0.9, 0.5], [1, 2])
    extra = detections([[0, 0, 10, 10], [20, 20, 40, 40], [50, 50, 60, 60]], [0.9, 0.5, 0.06], [1, 2, 1])
    for other in (relabelled, moved, extra):
        p = box_parity([(eager, other)])
        assert not p.passed and "differs" in p.describe()
    assert not box_parity([(eager, detections([[0, 0, 10, 10], [20, 20, 40, 40]], [0.9, 0.6], [1, 2]))]).passed
    assert box_parity([(detections([], [], []), detections([], [], []))]).passed  # nothing found by either


@pytest.fixture(scope="module")
def detector() -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model("fcos", input_shape=(3, 64, 64), n_classes=3, min_stride=4).eval()


def test_exported_detector_matches_eager_box_by_box(detector: torch.nn.Module, tmp_path: Path) -> None:
    images = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    res = export_detector_onnx(detector, images[:1], tmp_path / "det.onnx", parity_inputs=[images[:2], images[2:]])
    assert res.parity is not None and res.parity.passed, res.parity.describe()
    assert res.parity.boxes is not None and res.parity.boxes.eager_boxes > 0 and res.batch_size == 1
    session = onnx_session(tmp_path / "det.onnx")
    assert is_detector_graph(session)
    out = detector_onnx_runner(session)(images)  # a batch runs image by image
    assert len(out) == 4 and set(out[0]) == {"boxes", "scores", "labels"}


def test_int8_detector_graph_runs_where_a_pyramid_level_keeps_no_box(detector: torch.nn.Module, tmp_path: Path) -> None:
    """Quantized as `compress --method int8` does (static QDQ, convolutions only), the graph meets images where no
    score passes the threshold; with torchvision's own box clipping, ONNX Runtime then fails to reshape (0, 2, 2)
    to [0, -1] (the export swaps in `onnx_safe_clipping`'s)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    shy = copy.deepcopy(detector)
    with torch.no_grad():  # every score near sigmoid(-8): under the 0.05 threshold at every level
        shy.head.classification_head.cls_logits.bias.fill_(-8.0)
    images = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(2)).numpy()
    export_detector_onnx(shy, torch.from_numpy(images[:1]), tmp_path / "det.onnx")

    class Images(CalibrationDataReader):
        def __init__(self) -> None:
            self.feeds = iter([{"input": images[i : i + 1]} for i in range(4)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.feeds, None)

    quantize_static(str(tmp_path / "det.onnx"), str(tmp_path / "int8.onnx"), Images(), quant_format=QuantFormat.QDQ,
                    per_channel=True, op_types_to_quantize=["Conv"])  # fmt: skip
    run = detector_onnx_runner(onnx_session(tmp_path / "int8.onnx"))
    blank_and_noise = torch.cat([torch.zeros(1, 3, 64, 64), torch.rand(2, 3, 64, 64)])
    assert [len(d["boxes"]) for d in run(blank_and_noise)] == [0, 0, 0]
