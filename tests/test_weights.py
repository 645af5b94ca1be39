"""Which pretrained weights can be used here, read from the libraries' caches before anything is planned."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlexpert.weights import fetch_command, weights_status


@pytest.fixture
def caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty Hugging Face and torch.hub caches, offline."""
    import huggingface_hub.constants as hub

    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


def _hf_snapshot(root: Path, repo: str, filename: str) -> None:
    """The layout `huggingface_hub` writes: refs/main names a snapshot folder holding the files."""
    folder = root / "hf" / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("abc123")
    (folder / "snapshots" / "abc123").mkdir(parents=True)
    (folder / "snapshots" / "abc123" / filename).write_bytes(b"weights")


def test_offline_and_not_cached_is_unavailable_with_the_fetch_command(caches: Path) -> None:
    status = weights_status("timm", "resnet18.a1_in1k")
    assert not status.available and "not in the local cache" in status.reason
    assert (
        status.fetch_command == fetch_command("timm", "resnet18.a1_in1k") and "pretrained=True" in status.fetch_command
    )


def test_cached_weights_are_found_without_torch(caches: Path) -> None:
    _hf_snapshot(caches, "timm/resnet18.a1_in1k", "model.safetensors")
    assert weights_status("timm", "resnet18.a1_in1k").available
    hub = caches / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / "resnet18-f37072fd.pth").write_bytes(b"weights")
    assert weights_status("torchvision", "resnet18.IMAGENET1K_V1").available
    assert not weights_status("torchvision", "resnet50.IMAGENET1K_V2").available
    # detection weights carry their training set in the file name; a v2 builder's file is not the v1 builder's
    (hub / "ssdlite320_mobilenet_v3_large_coco-a79551df.pth").write_bytes(b"weights")
    (hub / "fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth").write_bytes(b"weights")
    assert weights_status("torchvision", "ssdlite320_mobilenet_v3_large.COCO_V1").available
    assert weights_status("torchvision", "fasterrcnn_resnet50_fpn_v2.COCO_V1").available
    assert not weights_status("torchvision", "fasterrcnn_resnet50_fpn.COCO_V1").available


def test_online_downloads_count_and_from_scratch_needs_nothing(caches: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert weights_status("timm", "resnet18.a1_in1k").where == "download on first use"
    assert not weights_status("timm", "resnet18.a1_in1k", offline=True).available  # after a failed download
    assert weights_status("dlexpert", "cnn1d").available
    assert weights_status("transformers", "sentence-transformers/all-MiniLM-L6-v2").where.startswith("bundled")
