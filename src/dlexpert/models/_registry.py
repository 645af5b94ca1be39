"""The model registry: string names -> builder functions (timm's `register_model` / `create_model` shape).

Every from-scratch family registers a builder with one signature, so a plan can name a model and size it
without knowing which module defines it:

    builder(*, input_shape, n_classes, width=None, depth=None, dropout=0.0, **family_kwargs) -> nn.Module

`input_shape` is per sample: (D,) tabular, (C, L) sequence, (C, H, W) image.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from torch import nn

from dlexpert._registry import Registry
from dlexpert.errors import InvalidInputError

Modality = Literal["tabular", "sequence", "image"]
MODALITIES: tuple[Modality, ...] = ("tabular", "sequence", "image")
# Rank of the per-sample input shape for each modality.
_RANK_TO_MODALITY: dict[int, Modality] = {1: "tabular", 2: "sequence", 3: "image"}

ModelBuilder = Callable[..., nn.Module]
Output = Literal["sample", "pixel", "boxes"]
# The arguments every builder takes; anything else is a family option.
_COMMON_ARGS = ("input_shape", "n_classes", "width", "depth", "dropout")


@dataclass(frozen=True)
class ModelEntry:
    """One registered family: its builder, the modalities it accepts, and a one-line description."""

    name: str
    builder: ModelBuilder
    modalities: tuple[Modality, ...]
    description: str
    output: Output = "sample"  # "sample": (B, K) logits per input; "pixel": (B, K, H, W) per pixel; "boxes": detections


_MODELS: Registry[ModelEntry] = Registry("model")


def register_model(
    name: str, *, modalities: tuple[Modality, ...], description: str = "", output: Output = "sample"
) -> Callable[[ModelBuilder], ModelBuilder]:
    """Register a model builder under `name`. A duplicate name raises `RegistryError`.

    Example:
        >>> @register_model("tiny", modalities=("tabular",))  # doctest: +SKIP
        ... def tiny(*, input_shape, n_classes, width=None, depth=None, dropout=0.0): ...
    """
    bad = [m for m in modalities if m not in MODALITIES]
    if bad or not modalities:
        raise ValueError(f"modalities must be a non-empty subset of {MODALITIES}; got {modalities!r}")

    def decorator(builder: ModelBuilder) -> ModelBuilder:
        doc_lines = (builder.__doc__ or "").strip().splitlines()
        doc = description or (doc_lines[0] if doc_lines else "")
        entry = ModelEntry(name=name, builder=builder, modalities=tuple(modalities), description=doc, output=output)
        _MODELS.register(name, entry, owner=builder.__module__)
        return builder

    return decorator


def list_models(
    pattern: str | None = None, *, modality: Modality | None = None, output: Output | None = None
) -> list[str]:
    """Sorted names of the registered from-scratch models, filtered by a glob, a modality and what they output
    ("sample": logits per input, the classifiers; "pixel": per-pixel logits, segmentation networks).

    Example:
        >>> list_models(modality="image")  # doctest: +SKIP
        ['linear', 'mlp', 'small_resnet']
    """
    names = _MODELS.names(pattern)
    if modality is not None:
        names = [n for n in names if modality in _MODELS.get(n).modalities]
    if output is not None:
        names = [n for n in names if _MODELS.get(n).output == output]
    return names


def get_model_entry(name: str) -> ModelEntry:
    """The registry entry for `name`; an unknown name raises `UnknownNameError` listing the valid ones."""
    return _MODELS.get(name)


def get_model_builder(name: str) -> ModelBuilder:
    """The builder function registered under `name`."""
    return get_model_entry(name).builder


def modality_of(input_shape: tuple[int, ...]) -> Modality:
    """Which modality a per-sample shape means: (D,) tabular, (C, L) sequence, (C, H, W) image."""
    _check_shape(input_shape)
    return _RANK_TO_MODALITY[len(input_shape)]


def create_model(
    name: str,
    *,
    input_shape: tuple[int, ...],
    n_classes: int,
    width: int | None = None,
    depth: int | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> nn.Module:
    """Build a from-scratch model by registry name, sized for one sample shape and a number of classes.

    Args:
        name: A name from `list_models()`, e.g. "cnn1d".
        input_shape: Per-sample shape: (D,) tabular, (C, L) sequence, (C, H, W) image.
        n_classes: Number of output logits.
        width: Family-specific width (hidden units, base channels, d_model); None takes the family default.
        depth: Family-specific depth (hidden layers, conv blocks, blocks per stage, layers); None for the default.
        dropout: Dropout probability before the head (and between layers where the family has them).
        **kwargs: Extra family options (e.g. `batch_norm=True` for "mlp").

    Returns:
        The model; its final classifier is `model.head`. A run records how to build it again as a `ModelRecord`
        (`dlexpert.models.build`).

    Example:
        >>> model = create_model("cnn1d", input_shape=(1, 40), n_classes=10)  # doctest: +SKIP
        >>> model(torch.randn(8, 1, 40)).shape  # doctest: +SKIP
        torch.Size([8, 10])
    """
    entry = get_model_entry(name)
    input_shape = _check_shape(input_shape)
    modality = _RANK_TO_MODALITY[len(input_shape)]
    if modality not in entry.modalities:
        raise InvalidInputError(
            f"model {name!r} takes {' or '.join(entry.modalities)} inputs; got input_shape {input_shape} ({modality}); "
            f"models for {modality}: {', '.join(list_models(modality=modality))}"
        )
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
        raise InvalidInputError(f"`n_classes` must be a positive integer; got {n_classes!r}")
    for field, value in (("width", width), ("depth", depth)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise InvalidInputError(f"`{field}` must be a positive integer or None; got {value!r}")
    if not isinstance(dropout, (int, float)) or not 0.0 <= float(dropout) < 1.0:
        raise InvalidInputError(f"`dropout` must be a number in [0, 1); got {dropout!r}")
    options = model_options(name)
    unknown = sorted(set(kwargs) - set(options))
    if unknown:
        raise InvalidInputError(
            f"model {name!r} has no option {', '.join(map(repr, unknown))}; its options: {', '.join(options) or 'none'}"
        )
    model = entry.builder(
        input_shape=input_shape, n_classes=n_classes, width=width, depth=depth, dropout=float(dropout), **kwargs
    )
    return model


def model_options(name: str) -> list[str]:
    """The family's own keyword options beyond the common ones (e.g. ["kernel_size", ...] for "cnn1d")."""
    builder = get_model_entry(name).builder
    return [
        n
        for n, p in inspect.signature(builder).parameters.items()
        if p.kind is p.KEYWORD_ONLY and n not in _COMMON_ARGS
    ]


def _check_shape(input_shape: Any) -> tuple[int, ...]:
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = ()
    if not 1 <= len(shape) <= 3 or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape):
        raise InvalidInputError(
            f"`input_shape` must be 1-3 positive integers per sample ((D,), (C, L) or (C, H, W)); got {input_shape!r}"
        )
    return shape
