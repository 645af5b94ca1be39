"""`gru` and `lstm`: recurrent classifiers over the sequence dimension.

A sample (C, L) is read as L time steps of C features; the last layer's final hidden state goes to a
linear head. The MNIST-1D GRU baseline (Greydanus 2020, arXiv 2011.14439) reaches 91% with 6 units; the
default here (64 units, 1 layer) is stronger and still cheap on a CPU.
"""

from __future__ import annotations

from torch import Tensor, nn

from ._registry import register_model


class RNNClassifier(nn.Module):
    """nn.GRU or nn.LSTM (batch-first) over time, last hidden state -> dropout -> linear head."""

    def __init__(self, *, cell: str, n_features: int, n_classes: int, width: int, depth: int, dropout: float) -> None:
        super().__init__()
        rnn_cls = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        # PyTorch applies the inter-layer dropout only between stacked layers; it warns when depth == 1.
        self.rnn = rnn_cls(n_features, width, num_layers=depth, batch_first=True, dropout=dropout if depth > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:  # tabular (B, D) read as a univariate series (B, 1, D)
            x = x.unsqueeze(1)
        # x: (B, C, L) -> time-major features (B, L, C) -> h_n (depth, B, width) -> logits (B, n_classes)
        _, h = self.rnn(x.transpose(1, 2))
        h_n = h[0] if isinstance(h, tuple) else h  # LSTM returns (h_n, c_n)
        return self.head(self.drop(h_n[-1]))


def _build(
    cell: str, input_shape: tuple[int, ...], n_classes: int, width: int | None, depth: int | None, dropout: float
) -> nn.Module:
    n_features = 1 if len(input_shape) == 1 else input_shape[0]
    return RNNClassifier(
        cell=cell, n_features=n_features, n_classes=n_classes, width=width or 64, depth=depth or 1, dropout=dropout
    )


@register_model("gru", modalities=("sequence", "tabular"))
def gru(
    *,
    input_shape: tuple[int, ...],
    n_classes: int,
    width: int | None = None,
    depth: int | None = None,
    dropout: float = 0.0,
) -> nn.Module:
    """GRU classifier; `width` is the hidden size (64), `depth` the number of stacked layers (1).

    Example:
        >>> gru(input_shape=(1, 40), n_classes=10)  # doctest: +SKIP
    """
    return _build("gru", input_shape, n_classes, width, depth, dropout)


@register_model("lstm", modalities=("sequence", "tabular"))
def lstm(
    *,
    input_shape: tuple[int, ...],
    n_classes: int,
    width: int | None = None,
    depth: int | None = None,
    dropout: float = 0.0,
) -> nn.Module:
    """LSTM classifier; `width` is the hidden size (64), `depth` the number of stacked layers (1).

    Example:
        >>> lstm(input_shape=(3, 100), n_classes=5, depth=2, dropout=0.1)  # doctest: +SKIP
    """
    return _build("lstm", input_shape, n_classes, width, depth, dropout)
