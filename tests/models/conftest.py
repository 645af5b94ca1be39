"""Model tests run on one CPU thread with no network (HF_HUB_OFFLINE is set by tests/conftest.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def isolated_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty torch-hub and Hugging Face caches under tmp_path, and any network connection fails the test."""
    import huggingface_hub.constants

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "torch_hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf_hub"))

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    return tmp_path
