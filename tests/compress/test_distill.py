"""Distillation: the KD loss (Hinton et al. 2015), and a student that is smaller than its teacher and learns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from dlexpert.compress import compress, kd_loss, load_variant  # noqa: E402


def test_kd_loss_is_the_weighted_sum_of_soft_and_hard_terms() -> None:
    torch.manual_seed(0)
    s, t, y = torch.randn(8, 5), torch.randn(8, 5), torch.randint(0, 5, (8,))
    ce = torch.nn.functional.cross_entropy(s, y)
    assert kd_loss(s, t, y, temperature=3.0, alpha=0.0) == pytest.approx(float(ce))
    assert float(kd_loss(t, t, y, temperature=3.0, alpha=1.0)) == pytest.approx(0.0, abs=1e-6)
    p_t = torch.softmax(t / 2.0, dim=1)
    kl = (p_t * (p_t.log() - torch.log_softmax(s / 2.0, dim=1))).sum(dim=1).mean() * 4.0  # T^2 = 4
    assert kd_loss(s, t, y, temperature=2.0, alpha=0.7) == pytest.approx(float(0.7 * kl + 0.3 * ce), rel=1e-5)


def test_distilled_student_is_smaller_and_beats_chance(mlp_run: Path, fast: Any) -> None:
    report = compress(mlp_run, method="distill", epochs=3, settings=fast)
    assert report.name == "distilled" and report.format == "torch"
    assert report.n_params < report.baseline_n_params and report.size_bytes < report.baseline_size_bytes
    assert report.accuracy > 0.3  # 10 balanced classes: chance is 0.1
    student = report.reference["student"]
    assert student["name"] == "mlp" and student["width"] < 100
    assert len(report.reference["student_history"]) == 3
    rebuild = json.loads((mlp_run / "variants" / "distilled" / "rebuild.json").read_text())
    assert rebuild["rebuild"]["model_record"]["width"] == student["width"]
    model = load_variant(mlp_run / "variants" / "distilled")
    assert sum(p.numel() for p in model.parameters()) == report.n_params


def _subject(model_config: dict[str, Any], modality: str = "sequence") -> Any:
    from dlexpert.compress import Subject

    return Subject(
        model=torch.nn.Identity(),
        train_set=[],
        val_set=[],
        test_set=[],
        rebuild={"model_config": model_config},
        train_cfg=None,
        baseline_size_bytes=0,
        modality=modality,
    )


def test_students_are_the_same_family_made_smaller() -> None:
    from dlexpert.compress import student_configs
    from dlexpert.compress.distill import family_size

    cnn = student_configs(_subject({"name": "cnn1d", "input_shape": [1, 40], "n_classes": 10, "width": None}))
    assert [(s["name"], s["width"], s["depth"]) for s in cnn] == [("cnn1d", 12, 3), ("cnn1d", 18, 3)]
    w, d = family_size("small_resnet", [1, 8, 8])
    res = student_configs(_subject({"name": "small_resnet", "input_shape": [1, 8, 8], "n_classes": 10}, "image"))
    sizes = [(s["width"], s["depth"]) for s in res]
    assert sizes and (w, d) not in sizes and all(sw <= w and sd <= d for sw, sd in sizes)
    assert [sw * sw * sd for sw, sd in sizes] == sorted(sw * sw * sd for sw, sd in sizes)  # smallest first
    tv = {"name": "pretrained", "library": "torchvision", "hub_id": "resnet18", "n_classes": 4,
          "input_shape": [3, 32, 32]}  # fmt: skip
    assert {s["name"] for s in student_configs(_subject(tv, "image"))} == {"small_resnet"}
    assert student_configs(_subject(tv, "image"), width=3)[0]["width"] == 3
