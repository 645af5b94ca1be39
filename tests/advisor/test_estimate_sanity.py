"""Training-time estimates that survive a sanity check: resolution, data loading and per-step floors count."""

from __future__ import annotations

from dlexpert.advisor import advise
from dlexpert.schema import parse_task


def _hours(specific: str, size: str, compute: str = "1x A100 40GB") -> float:
    spec = parse_task({"task": {"type": "classification", "domain": "CV", "specificTask": specific},
                       "data": {"size": size}, "constraints": {"computeResources": compute}})  # fmt: skip
    plan = advise(spec)
    assert plan.decisions is not None and plan.decisions.estimates.training_hours is not None
    return plan.decisions.estimates.training_hours.high


def test_larger_stated_resolution_costs_more_and_video_clips_cost_more_than_images() -> None:
    small, large = (
        _hours("crop types, 10 classes", "20k tiles of 224x224"),
        _hours("crop types", "20k tiles of 1024x1024"),
    )
    assert large > 4 * small
    assert _hours("action recognition in videos, 50 actions", "100k clips", "8x A100 80GB") >= 0.4  # decoding bound


def test_data_loading_bounds_a_fast_gpu_run() -> None:
    # 54k images x 30 epochs cannot go faster than the loader cores decode them, whatever the GPU.
    assert _hours("plant disease, 38 classes", "54k images", "1x H100") * 3600 >= 54_000 * 30 / (450 * 8) * 0.99
