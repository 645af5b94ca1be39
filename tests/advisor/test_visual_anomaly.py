"""Visual anomaly detection: a one-class model trained on normal images (EfficientAD), not a defect classifier."""

from __future__ import annotations

import pytest

from dlexpert.advisor import advise
from dlexpert.schema import parse_task


@pytest.mark.parametrize(
    ("specific", "size", "compute"),
    [
        # spec batch 5 (tune): a webcam over a small line, few good images, an industrial PC without a GPU
        ("spot scratches and dents on stamped parts; only good parts to train on", "3 hundred good images",
         "fit on my laptop (RTX 3060 6GB); inference on an Intel fanless industrial PC, CPU only, OpenVINO"),
        # spec batch 20 (tune): wind-turbine blades filmed from a drone, inference on the drone's Jetson
        ("flag frames of spinning blades that show surface damage; mostly healthy-blade data",
         "~150,000 frames; ~400 with confirmed damage", "train on 2x A100; inference on a Jetson Orin NX"),
    ],
)  # fmt: skip
def test_anomaly_detection_trains_a_one_class_model(specific: str, size: str, compute: str) -> None:
    spec = parse_task({"task": {"type": "anomaly detection", "domain": "CV", "specificTask": specific},
                       "data": {"size": size}, "constraints": {"computeResources": compute},
                       "challenges": ["very few defect examples"]})  # fmt: skip
    plan = advise(spec)
    d = plan.decisions
    assert d is not None and d.task is not None and d.task.family == "visual-anomaly-detection"
    assert d.training.family == "efficientad" and d.training.recipe == "visual-anomaly-efficientad"
    assert d.training.lr == pytest.approx(1e-4) and d.training.micro_batch == 1  # anomalib trains at batch 1
    # The teacher stays pretrained: the plan says so instead of "no pretrained weights cover this input".
    tradeoff = plan.modelDesign.tradeoff
    assert "frozen" in tradeoff and "no pretrained" not in tradeoff
    # Normal images are what it learns: no strong policy or label mixing, and no softmax check.
    augmentation = " ".join(plan.trainingStrategy.dataProcessing.augmentation or [])
    assert "TrivialAugment" not in augmentation and "Mixup" not in augmentation
    checks = " ".join(plan.debuggingGuidance.checkpoints)
    assert "no defective sample among the training images" in checks and "ln(" not in checks
    assert "PatchCore" in " ".join(plan.warnings)  # the training-free baseline comes first
