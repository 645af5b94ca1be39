"""Pretrained loading through the libraries' caches: offline misses fail fast with one line, hits load the weights."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from dlexpert.errors import DlexpertError
from dlexpert.models import WeightsUnavailableError, create_pretrained, create_text_classifier, tokenize


@pytest.mark.parametrize(
    ("library", "hub_id", "command"),
    [
        ("timm", "resnet18.a1_in1k", "import timm; timm.create_model('resnet18.a1_in1k', pretrained=True)"),
        ("torchvision", "resnet18.IMAGENET1K_V1", "torchvision.models.get_model('resnet18'"),
    ],
)
def test_missing_weights_fail_fast_with_the_fetch_command(
    isolated_caches: Path, library: str, hub_id: str, command: str
) -> None:
    __import__(library)  # time the lookup, not the library's first import
    start = time.perf_counter()
    with pytest.raises(WeightsUnavailableError) as info:
        create_pretrained(library=library, hub_id=hub_id, n_classes=3)
    elapsed = time.perf_counter() - start
    message = str(info.value)
    assert elapsed < 5, f"took {elapsed:.1f}s"
    assert "\n" not in message and hub_id in message and command in message
    assert isinstance(info.value, DlexpertError) and info.value.exit_code == 2
    assert (info.value.library, info.value.hub_id) == (library, hub_id)


def test_torchvision_loads_cached_weights_and_replaces_the_head(isolated_caches: Path) -> None:
    import torchvision

    weights = torchvision.models.MobileNet_V3_Small_Weights.IMAGENET1K_V1
    reference = torchvision.models.mobilenet_v3_small()
    checkpoint = isolated_caches / "torch_hub" / "checkpoints" / Path(weights.url).name
    checkpoint.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), checkpoint)
    model = create_pretrained(library="torchvision", hub_id="mobilenet_v3_small.IMAGENET1K_V1", n_classes=3)
    assert torch.equal(model.features[0][0].weight, reference.features[0][0].weight)
    assert model.classifier[3].out_features == 3
    assert model.eval()(torch.randn(1, 3, 64, 64)).shape == (1, 3)


def _cache_timm_weights(caches: Path, hub_id: str) -> torch.nn.Module:
    """A timm model's weights written into the isolated Hugging Face cache as the hub would; the model is returned."""
    import safetensors.torch
    import timm

    reference = timm.create_model(hub_id)
    snapshot = caches / "hf_hub" / f"models--timm--{hub_id}" / "snapshots" / "0123abc"
    snapshot.mkdir(parents=True)
    safetensors.torch.save_file(reference.state_dict(), snapshot / "model.safetensors")
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0123abc")
    return reference


def test_timm_loads_cached_hub_weights(isolated_caches: Path) -> None:
    hub_id = "mobilenetv3_small_050.lamb_in1k"
    reference = _cache_timm_weights(isolated_caches, hub_id)
    model = create_pretrained(library="timm", hub_id=hub_id, n_classes=3)
    assert torch.equal(model.conv_stem.weight, reference.conv_stem.weight)
    assert model.get_classifier().out_features == 3


def test_timm_adapts_the_pretrained_stem_to_extra_bands(isolated_caches: Path) -> None:
    hub_id = "mobilenetv3_small_050.lamb_in1k"
    reference = _cache_timm_weights(isolated_caches, hub_id)
    model = create_pretrained(library="timm", hub_id=hub_id, n_classes=3, in_chans=4)
    rgb = reference.conv_stem.weight
    assert model.conv_stem.weight.shape[1] == 4  # RGB filters repeated over 4 bands, scaled by 3/4
    assert torch.allclose(model.conv_stem.weight[:, :3], rgb * 0.75) and torch.allclose(
        model.conv_stem.weight[:, 3], rgb[:, 0] * 0.75
    )
    assert model(torch.randn(1, 4, 64, 64)).shape == (1, 3)
    with pytest.raises(DlexpertError, match="RGB input only"):
        create_pretrained(library="torchvision", hub_id="resnet18.IMAGENET1K_V1", n_classes=3, in_chans=4)


def test_transformers_offline_miss_is_one_line(isolated_caches: Path) -> None:
    with pytest.raises(WeightsUnavailableError, match=r"AutoModel.from_pretrained\('bert-base-uncased'\)") as info:
        create_pretrained(library="transformers", hub_id="bert-base-uncased", n_classes=2)
    assert "\n" not in str(info.value)


@pytest.fixture(scope="module")
def frozen_text_model() -> torch.nn.Module:
    return create_text_classifier(n_classes=3, freeze=True).eval()


SENTENCES = ["The film was wonderful.", "Terrible service, never again.", "It arrived on Tuesday."]


def test_minilm_classifier_gives_logits_offline(frozen_text_model: torch.nn.Module) -> None:
    logits = frozen_text_model(SENTENCES)
    assert logits.shape == (3, 3) and torch.isfinite(logits).all()
    # A tokenized batch gives the same logits as the strings.
    assert torch.allclose(frozen_text_model(tokenize(SENTENCES)), logits, atol=1e-5)
    assert frozen_text_model.head.in_features == 384  # MiniLM-L6's hidden size


def test_minilm_freeze_trains_only_the_head(frozen_text_model: torch.nn.Module) -> None:
    trainable = [n for n, p in frozen_text_model.named_parameters() if p.requires_grad]
    assert trainable == ["head.weight", "head.bias"]
    frozen_text_model.train()
    assert not frozen_text_model.encoder.training and frozen_text_model.head.training
    frozen_text_model.eval()


def test_minilm_embeddings_are_pretrained(frozen_text_model: torch.nn.Module) -> None:
    from dlexpert.models.text import mean_pool

    batch = tokenize(["A cat sat on the mat.", "A kitten rested on the rug.", "Quarterly revenue rose 4%."])
    with torch.no_grad():
        hidden = frozen_text_model.encoder(**batch).last_hidden_state
    emb = torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]), dim=-1)
    # Paraphrases are closer than unrelated text: only true for trained weights, not a random init.
    assert emb[0] @ emb[1] > emb[0] @ emb[2] + 0.2
