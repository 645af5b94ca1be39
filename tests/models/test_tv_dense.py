"""torchvision's detectors and segmenters with heads for the user's classes: pretrained from the cache (here a cache
written by the test) and bare for a trained run's weights, the same architecture either way (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dlexpert.errors import InvalidInputError
from dlexpert.models import create_pretrained
from dlexpert.models.pretrained import create_pretrained_architecture

torch.set_num_threads(1)
SHAPE = (3, 64, 64)


def _targets() -> list[dict[str, torch.Tensor]]:
    return [{"boxes": torch.tensor([[4.0, 6.0, 30.0, 40.0]]), "labels": torch.tensor([label])} for label in (2, 3)]


@pytest.mark.parametrize(
    "builder", ["fcos_resnet50_fpn", "retinanet_resnet50_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn",
                "ssdlite320_mobilenet_v3_large"],
)  # fmt: skip
def test_bare_detectors_train_and_predict_the_users_classes_at_the_data_size(builder: str) -> None:
    torch.manual_seed(0)
    model = create_pretrained_architecture(library="torchvision", hub_id=f"{builder}.COCO_V1", n_classes=3,
                                           input_shape=SHAPE)  # fmt: skip
    assert model.transform.min_size == (64,) and model.transform.max_size == 64  # not resized to COCO's 800 px
    losses = model.train()([torch.rand(SHAPE), torch.rand(SHAPE)], _targets())  # SSDlite's BatchNorm needs 2
    assert losses and all(torch.isfinite(v) for v in losses.values())
    out = model.eval()([torch.rand(SHAPE)])[0]
    assert (
        set(out) >= {"boxes", "scores", "labels"} and max(out["labels"].tolist(), default=0) <= 3
    )  # 1..3, 0 = background


@pytest.mark.parametrize("builder", ["lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large", "fcn_resnet50"])
def test_bare_segmenters_return_logits_for_the_users_classes(builder: str) -> None:
    model = create_pretrained_architecture(library="torchvision", hub_id=builder, n_classes=4, input_shape=SHAPE)
    assert model.eval()(torch.rand(2, *SHAPE)).shape == (2, 4, 64, 64)  # a tensor, not torchvision's dict


def _cache(caches: Path, builder: str, n_pretrained: int) -> tuple[Path, dict[str, torch.Tensor]]:
    """Random weights of `builder` with its pretrained class count, written where torchvision finds its download."""
    import torchvision.models as tvm

    weights = tvm.get_model_weights(builder).DEFAULT
    reference = tvm.get_model(builder, weights=None, weights_backbone=None, num_classes=n_pretrained)
    checkpoint = caches / "torch_hub" / "checkpoints" / Path(weights.url).name
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    torch.save(reference.state_dict(), checkpoint)
    return checkpoint, reference.state_dict()


@pytest.mark.parametrize(("builder", "n_pretrained"), [("ssdlite320_mobilenet_v3_large", 91),
                                                      ("lraspp_mobilenet_v3_large", 21)])  # fmt: skip
def test_cached_weights_load_and_only_the_class_layers_change(
    isolated_caches: Path,
    builder: str,
    n_pretrained: int,
) -> None:
    _, cached = _cache(isolated_caches, builder, n_pretrained)
    model = create_pretrained(library="torchvision", hub_id=builder, n_classes=3, input_shape=SHAPE,
                              allow_download=False)  # fmt: skip
    bare = create_pretrained_architecture(library="torchvision", hub_id=builder, n_classes=3, input_shape=SHAPE)
    loaded, fresh = model.state_dict(), bare.state_dict()
    assert {k: v.shape for k, v in loaded.items()} == {k: v.shape for k, v in fresh.items()}  # a run reloads it
    prefix = "model." if builder.startswith("lraspp") else ""  # the segmenter is wrapped to return its logits
    kept = [k for k in cached if prefix + k in loaded and loaded[prefix + k].shape == cached[k].shape]
    changed = [k for k in cached if k not in {k2.removeprefix(prefix) for k2 in kept}]
    assert len(kept) > 0.9 * len(cached) and all(torch.equal(loaded[prefix + k], cached[k]) for k in kept)
    assert changed and all("classif" in k for k in changed)  # only the class-scoring layers were replaced


def test_keypoint_rcnn_is_refused_for_boxes() -> None:
    with pytest.raises(InvalidInputError, match="keypoint annotations"):
        create_pretrained_architecture(library="torchvision", hub_id="keypointrcnn_resnet50_fpn", n_classes=2)
