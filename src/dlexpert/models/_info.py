"""Model inspection: parameter counts, the classifier head, and a JSON-friendly description."""

from __future__ import annotations

from typing import Any

from torch import nn

# Attribute names that hold the classifier in timm (`fc`, `head`, `classifier`), torchvision (`fc`,
# `classifier`, `heads`, `head`), transformers (`classifier`, `score`) and dlexpert's own models (`head`).
HEAD_ATTRIBUTES = ("head", "heads", "fc", "classifier", "score")


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters (shared ones once); with `trainable_only`, only those with requires_grad.

    Example:
        >>> count_parameters(nn.Linear(40, 10))
        410
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _has_params(module: nn.Module) -> bool:
    return any(True for _ in module.parameters())


def find_head(model: nn.Module) -> tuple[str, nn.Module]:
    """The classifier head as (qualified name, module).

    Looks, in order, at timm's `get_classifier()`, then the attributes in `HEAD_ATTRIBUTES` (narrowed to the
    last Linear when the attribute is a Sequential), then the last nn.Linear in the model. Raises ValueError
    when the model has no Linear layer at all.

    Example:
        >>> find_head(create_model("mlp", input_shape=(4,), n_classes=3))[0]  # doctest: +SKIP
        'head'
    """
    names = {id(m): n for n, m in model.named_modules()}
    get_classifier = getattr(model, "get_classifier", None)
    if callable(get_classifier):
        head = get_classifier()
        if isinstance(head, nn.Module) and _has_params(head) and id(head) in names:
            return names[id(head)], head
    for attr in HEAD_ATTRIBUTES:
        head = getattr(model, attr, None)
        if isinstance(head, nn.Module) and _has_params(head):
            if isinstance(head, nn.Sequential):
                # torchvision's `classifier = Sequential(Linear, act, Dropout, Linear)` (VGG, MobileNetV3):
                # only the last Linear is task-specific; the layers before it carry pretrained weights.
                linears = [(n, m) for n, m in head.named_modules() if isinstance(m, nn.Linear)]
                if linears:
                    return f"{attr}.{linears[-1][0]}", linears[-1][1]
            return attr, head
    linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"cannot find a classifier head in {type(model).__name__}: no {HEAD_ATTRIBUTES} and no Linear")
    return linears[-1]


def describe(model: nn.Module) -> dict[str, Any]:
    """A JSON-friendly summary: class, parameter counts, fp32 size, head, and each top-level child.

    Example:
        >>> describe(create_model("cnn1d", input_shape=(1, 40), n_classes=10))["n_params"]  # doctest: +SKIP
        91042
    """
    try:
        head_name: str | None = find_head(model)[0]
    except ValueError:
        head_name = None
    n_bytes = sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers()))
    return {
        "class": type(model).__name__,
        "n_params": count_parameters(model),
        "n_trainable": count_parameters(model, trainable_only=True),
        "size_mb": round(n_bytes / 2**20, 3),
        "head": head_name,
        "children": [
            {"name": name, "class": type(child).__name__, "n_params": count_parameters(child)}
            for name, child in model.named_children()
        ],
    }
