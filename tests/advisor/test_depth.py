"""Depth estimation: a dense-prediction Transformer pretrained for depth, fine-tuned with the recipe written for it."""

from __future__ import annotations

import pytest

from dlexpert.advisor import advise
from dlexpert.schema import parse_task


@pytest.mark.parametrize(
    ("kind", "specific", "compute"),
    [
        # spec batch 25 (tune): a car maker's surround cameras, metric depth on the in-car computer
        ("monocular depth estimation", "predict metric per-pixel depth from each of six surround cameras",
         "train on 8x A100; inference on the vehicle's NVIDIA DRIVE AGX Orin"),
        # more_vision (tune): an AGV's single RGB camera with stereo depth as labels
        ("dense regression (monocular depth)", "metric depth from a single RGB camera on warehouse AGVs",
         "training on 2x L40S; runs on the AGV's Jetson AGX Orin 32GB"),
    ],
)  # fmt: skip
def test_depth_gets_a_depth_model_not_a_segmenter(kind: str, specific: str, compute: str) -> None:
    spec = parse_task({"task": {"type": kind, "domain": "CV", "specificTask": specific},
                       "data": {"size": "40k RGB frames with aligned depth"},
                       "constraints": {"computeResources": compute}})  # fmt: skip
    plan = advise(spec)
    d = plan.decisions
    assert d is not None and d.task is not None and d.task.family == "depth-estimation"
    assert "depth-anything" in d.model.name and d.training.family == "dpt"
    assert d.training.recipe == "depth-estimation-finetune-dpt" and d.training.scheduler == "poly"
    assert "delta1" in plan.modelDesign.rationale and "KITTI" in plan.modelDesign.rationale
