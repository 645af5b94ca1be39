"""`build(record)`: the one place a model is made, for training, resuming, evaluating, compressing and exporting.

A `ModelRecord` (schema/decisions.py) names the library and the model; the run's config.yaml and every checkpoint carry
it, so any stage rebuilds the architecture from the run alone (nanoGPT's `model_args`), then loads the trained weights.

Example:
    >>> from dlexpert.schema import ModelRecord
    >>> record = ModelRecord(library="dlexpert", name="cnn1d", n_classes=10, input_shape=[1, 40])
    >>> model = build(record)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from torch import nn

from dlexpert.errors import InvalidInputError
from dlexpert.schema.decisions import BUILDABLE, ModelRecord

from ._registry import create_model
from .adapt import apply_adaptation
from .pretrained import create_pretrained, create_pretrained_architecture
from .text import create_text_classifier

__all__ = ["build"]

# The adaptation methods `apply_adaptation` knows, by the plan's name for them.
_METHOD = {"scratch": "full", "full": "full", "partial": "partial", "linear-probe": "linear-probe", "lora": "lora",
           "qlora": "lora"}  # fmt: skip


def build(record: ModelRecord, *, pretrained: bool = True) -> nn.Module:
    """The model `record` describes, adapted as it says (frozen layers, LoRA adapters), on the CPU.

    Args:
        record: what to build (from `Decisions.model`, config.yaml's `model_record`, or a checkpoint).
        pretrained: load the pretrained weights; False builds the bare architecture, for trained weights that are
            loaded next (a run's `best.safetensors`). A frozen text encoder is not saved with the run, so "text"
            always loads its encoder.

    Raises:
        WeightsUnavailableError: the pretrained weights are not cached and cannot be downloaded.
        InvalidInputError: the record cannot be built (unknown family, missing input shape or class count).
    """
    if record.library not in BUILDABLE:
        raise InvalidInputError(
            f"model {record.name!r}: dlexpert does not train {record.library} models (it builds "
            f"{', '.join(BUILDABLE)}); the plan's text says how to train it with that library"
        )
    if record.n_classes is None:
        raise InvalidInputError(f"model {record.name!r}: the number of outputs is unknown; the data sets it")
    method = _METHOD[record.adaptation]
    if record.library == "dlexpert":
        if not record.input_shape:
            raise InvalidInputError(f"model {record.name!r}: needs the input shape of one sample; the data sets it")
        return create_model(
            record.name, input_shape=tuple(record.input_shape), n_classes=record.n_classes, width=record.width,
            depth=record.depth, dropout=record.dropout, **record.options,
        )  # fmt: skip
    if record.library == "text":
        kwargs: dict[str, Any] = {"max_length": record.max_length} if record.max_length else {}
        text = create_text_classifier(
            n_classes=record.n_classes, freeze=method == "linear-probe", hub_id=record.name, **kwargs
        )
        return apply_adaptation(text, method=method)[0] if method in {"partial", "lora"} else text
    make = create_pretrained if pretrained else create_pretrained_architecture
    model = make(library=record.library, hub_id=record.name, n_classes=record.n_classes, in_chans=record.in_chans,
                 input_shape=record.input_shape)  # fmt: skip
    return apply_adaptation(model, method=method)[0]
