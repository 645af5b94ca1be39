"""Plans for detection and segmentation that run here: schedules measured in optimizer steps become epochs for the
data's size, and the augmentation is what the dense data sets can apply (issue 15)."""

from __future__ import annotations

import math

import pytest

from dlexpert.advisor import advise_with_decisions
from dlexpert.data.dense import load_dense, profile_dense
from dlexpert.knowledge import list_recipes
from dlexpert.pipeline import fill_from_profile
from dlexpert.schema import parse_task


def _plan(kind: str, data: str, words: str = "find the shapes in each image"):  # type: ignore[no-untyped-def]
    profile = profile_dense(load_dense(data, seed=0))
    spec = fill_from_profile(parse_task({"task": {"type": kind, "domain": "vision", "specificTask": words}}), profile)
    return advise_with_decisions(spec, profile=profile, assume_defaults=True, runnable_here=True, offline=True)


@pytest.mark.parametrize(
    ("kind", "data", "recipe"),
    # ~13 s for the detector's (profiling shapes-det): in `make test-all`; the segmenter's takes the same rule
    [pytest.param("object detection", "shapes-det", "detection-scratch-fcos", marks=pytest.mark.slow),
     ("semantic segmentation", "shapes-seg", "segmentation-scratch-unet")],
)  # fmt: skip
def test_scratch_dense_recipes_run_their_steps_whatever_the_data_size(kind: str, data: str, recipe: str) -> None:
    plan, decisions = _plan(kind, data)
    r = next(x for x in list_recipes() if x.name == recipe)
    t = decisions.training
    assert t.recipe == recipe and r.steps is not None
    n_train = len(load_dense(data, seed=0).train)
    steps_per_epoch = math.ceil(n_train / t.micro_batch)
    assert t.epochs == math.ceil(r.steps / steps_per_epoch) < r.epochs  # 2,400 images: fewer passes than the paper
    assert t.warmup_epochs == pytest.approx(r.warmup_epochs * t.epochs / r.epochs, abs=0.01)  # the same share
    assert any(e.claim == "epochs for the recipe's step schedule" and str(r.steps) in e.source for e in plan.evidence)


def test_overhead_imagery_gets_quarter_turns_the_data_sets_apply() -> None:
    from dlexpert.data.dense._torch import augmentation_steps

    _, decisions = _plan("semantic segmentation", "shapes-seg", "segment buildings in aerial drone tiles")
    augment = decisions.training.augmentation
    assert any(a.startswith("RandomRotate90") for a in augment)
    names = [type(step).__name__ for step in augmentation_steps(augment)]
    assert "RandomRotate90" in names and "RandomVerticalFlip" in names
