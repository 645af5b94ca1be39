"""The compute budget behind the accuracy/compute trade-off: stated, or read from the hardware when it is not."""

from __future__ import annotations

from dlexpert.advisor import advise
from dlexpert.schema import parse_task


def _segmenter(budget: str | None) -> str:
    # spec batch 25 (tune): cracks in pressed sheet metal, trained in a data centre, served from a GPU per line
    constraints = {"computeResources": "train on 4x A100 in the data centre; inference on one NVIDIA L4 per line"}
    if budget is not None:
        constraints["budget"] = budget
    spec = parse_task({"task": {"type": "semantic segmentation", "domain": "CV",
                                "specificTask": "mark the pixels of hairline cracks in images of pressed parts"},
                       "data": {"size": "~60,000 images with crack pixels marked"},
                       "constraints": constraints})  # fmt: skip
    plan = advise(spec)
    assert plan.decisions is not None
    return plan.decisions.model.name + " | " + plan.modelDesign.rationale


def test_four_data_centre_gpus_and_no_stated_budget_buy_a_server_segmenter() -> None:
    """Without a stated budget, 4 A100s to train on are a high one: a ResNet DeepLab, not the 2-GMAC mobile head
    that wins the medium trade-off on torchvision's 20-label COCO subset. A stated low budget still gets the head."""
    unstated = _segmenter(None)
    assert "lraspp" not in unstated.split(" | ")[0] and "a high budget: none stated" in unstated
    assert "lraspp" in _segmenter("low").split(" | ")[0]
