"""`transformer_encoder`: a small Transformer encoder over patches of a sequence (C, L).

Patches of `patch_size` steps (all channels) are embedded by one Linear layer, as in PatchTST (Nie et al.
2023, arXiv 2211.14730, Sec. 3.1); a learned positional embedding is added, pre-norm encoder layers
(Xiong et al. 2020, arXiv 2002.04745: stabler without warmup) mix the tokens, and the mean token feeds
the head. Defaults (d_model 64, 2 layers, 4 heads) keep it fast on a CPU.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._registry import register_model


class TransformerEncoderClassifier(nn.Module):
    """Patch embedding + learned positions -> nn.TransformerEncoder -> LayerNorm -> mean pool -> head."""

    def __init__(
        self,
        *,
        in_channels: int,
        length: int,
        n_classes: int,
        d_model: int,
        n_layers: int,
        n_heads: int,
        patch_size: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.n_tokens = math.ceil(length / patch_size)
        self.embed = nn.Linear(in_channels * patch_size, d_model)
        self.pos = nn.Parameter(torch.zeros(1, self.n_tokens, d_model))
        nn.init.trunc_normal_(self.pos, std=0.02)  # ViT's init for learned positions
        layer = nn.TransformerEncoderLayer(
            d_model,
            n_heads,
            dim_feedforward=2 * d_model,
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        # The nested-tensor fast path does not apply to pre-norm layers; disabling it silences a warning.
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(d_model, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:  # tabular (B, D) read as a one-channel sequence (B, 1, D)
            x = x.unsqueeze(1)
        b, c, length = x.shape
        # Right-pad L to a whole number of patches: (B, C, L) -> (B, C, T * P)
        pad = self.n_tokens * self.patch_size - length
        if pad:
            x = F.pad(x, (0, pad))
        # (B, C, T, P) -> (B, T, C, P) -> (B, T, C * P) -> tokens (B, T, d_model)
        tokens = x.reshape(b, c, self.n_tokens, self.patch_size).transpose(1, 2).reshape(b, self.n_tokens, -1)
        z = self.encoder(self.embed(tokens) + self.pos)
        # mean over tokens: (B, T, d_model) -> (B, d_model) -> logits (B, n_classes)
        return self.head(self.drop(self.norm(z).mean(dim=1)))


def _n_heads(d_model: int) -> int:
    # Heads of >= 16 dims each, at most 8 (d_model 64 -> 4 heads, 128 -> 8); 1 if nothing divides.
    return next((h for h in (8, 4, 2) if d_model % h == 0 and d_model // h >= 16), 1)


@register_model("transformer_encoder", modalities=("sequence", "tabular"))
def transformer_encoder(
    *,
    input_shape: tuple[int, ...],
    n_classes: int,
    width: int | None = None,
    depth: int | None = None,
    dropout: float = 0.0,
    patch_size: int | None = None,
) -> nn.Module:
    """Transformer encoder; `width` is d_model (64), `depth` the number of layers (2).

    `patch_size` defaults to the smallest that keeps at most 64 tokens (1 step per token for L <= 64).

    Example:
        >>> transformer_encoder(input_shape=(1, 40), n_classes=10, width=128, depth=3)  # doctest: +SKIP
    """
    in_channels, length = (1, input_shape[0]) if len(input_shape) == 1 else input_shape
    d_model = width or 64
    return TransformerEncoderClassifier(
        in_channels=in_channels,
        length=length,
        n_classes=n_classes,
        d_model=d_model,
        n_layers=depth or 2,
        n_heads=_n_heads(d_model),
        patch_size=patch_size or math.ceil(length / 64),
        dropout=dropout,
    )
