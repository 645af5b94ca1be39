"""Models by name: from-scratch families, pretrained loaders (timm, torchvision, transformers), the MiniLM
text classifier, and adaptation (full, linear probe, partial freezing, LoRA).

This package imports torch; `import dlexpert` does not import it. timm, torchvision, transformers and peft
are imported only when a function needs them.

    >>> from dlexpert.models import create_model, apply_adaptation  # doctest: +SKIP
    >>> model = create_model("cnn1d", input_shape=(1, 40), n_classes=10)  # doctest: +SKIP
    >>> model, report = apply_adaptation(model, method="full")  # doctest: +SKIP
"""

from __future__ import annotations

# Importing the family modules registers their builders.
from . import cnn1d, fcos, forecast, mlp, rnn, small_resnet, transformer, unet
from ._build import build
from ._info import count_parameters, describe, find_head
from ._registry import (
    MODALITIES,
    ModelEntry,
    create_model,
    get_model_builder,
    get_model_entry,
    list_models,
    modality_of,
    model_options,
    register_model,
)
from .adapt import ADAPTATION_METHODS, AdaptationReport, apply_adaptation
from .pretrained import (
    PRETRAINED_LIBRARIES,
    WeightsUnavailableError,
    create_pretrained,
    create_pretrained_architecture,
    is_offline,
)
from .text import MINILM_HUB_ID, TextClassifier, create_text_classifier, tokenize

del cnn1d, fcos, forecast, mlp, rnn, small_resnet, transformer, unet

__all__ = [
    "ADAPTATION_METHODS",
    "MINILM_HUB_ID",
    "MODALITIES",
    "PRETRAINED_LIBRARIES",
    "AdaptationReport",
    "ModelEntry",
    "TextClassifier",
    "WeightsUnavailableError",
    "apply_adaptation",
    "build",
    "count_parameters",
    "create_model",
    "create_pretrained",
    "create_pretrained_architecture",
    "create_text_classifier",
    "describe",
    "find_head",
    "get_model_builder",
    "get_model_entry",
    "is_offline",
    "list_models",
    "modality_of",
    "model_options",
    "register_model",
    "tokenize",
]
