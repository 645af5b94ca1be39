"""Flattened-input baselines: `linear` (logistic regression, seed step 4's first baseline) and `mlp`."""

from __future__ import annotations

import math

from torch import Tensor, nn

from ._registry import register_model


class LinearClassifier(nn.Module):
    """Flatten + one Linear layer: multinomial logistic regression on raw inputs."""

    def __init__(self, *, n_features: int, n_classes: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(n_features, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        # x: (B, *input_shape) -> (B, D) -> (B, n_classes)
        return self.head(self.drop(self.flatten(x)))


class MLP(nn.Module):
    """Flatten + `depth` hidden blocks of Linear -> [BatchNorm] -> ReLU -> [Dropout], then a Linear head.

    A regressor (`target_mean`/`target_std` given) outputs `head * target_std + target_mean`: the head learns the
    standardised target, so one learning rate suits house prices in dollars and rates in [0, 1] alike, while the
    outputs and an exported model are in the target's own units. The two are constants of the model record (its
    `options`), never trained, and the scaling is done in float32 whatever the weights' precision: a float16 variant's
    largest value is 65504, below many prices.
    """

    def __init__(
        self, *, n_features: int, n_classes: int, width: int, depth: int, dropout: float, batch_norm: bool,
        target_mean: float | None = None, target_std: float | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        n_in = n_features
        for _ in range(depth):
            # The bias is redundant when BatchNorm follows (it has its own shift).
            layers.append(nn.Linear(n_in, width, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(nn.ReLU(inplace=True))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            n_in = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(n_in, n_classes)
        self.scales_output = target_mean is not None
        self.target_mean, self.target_std = float(target_mean or 0.0), float(target_std or 1.0)

    def forward(self, x: Tensor) -> Tensor:
        # x: (B, *input_shape) -> features (B, width) -> logits (B, n_classes), or values in the target's units
        out = self.head(self.features(x))
        return out.float() * self.target_std + self.target_mean if self.scales_output else out


@register_model("linear", modalities=("tabular", "sequence", "image"))
def linear(
    *,
    input_shape: tuple[int, ...],
    n_classes: int,
    width: int | None = None,
    depth: int | None = None,
    dropout: float = 0.0,
) -> nn.Module:
    """Logistic regression on flattened inputs (the baseline every run trains first). Ignores width and depth.

    Example:
        >>> linear(input_shape=(1, 40), n_classes=10)  # doctest: +SKIP
    """
    del width, depth  # a linear model has neither
    return LinearClassifier(n_features=math.prod(input_shape), n_classes=n_classes, dropout=dropout)


@register_model("mlp", modalities=("tabular", "sequence", "image"))
def mlp(
    *,
    input_shape: tuple[int, ...],
    n_classes: int,
    width: int | None = None,
    depth: int | None = None,
    dropout: float = 0.0,
    batch_norm: bool = False,
    target_mean: float | None = None,
    target_std: float | None = None,
) -> nn.Module:
    """Multi-layer perceptron on flattened inputs: `depth` hidden layers of `width` ReLU units.

    Defaults (2 x 100) are the MNIST-1D MLP baseline (Greydanus 2020, arXiv 2011.14439). A regressor takes its
    training target's mean and std (`MLP`).

    Example:
        >>> mlp(input_shape=(64,), n_classes=10, width=256, batch_norm=True)  # doctest: +SKIP
    """
    return MLP(
        n_features=math.prod(input_shape),
        n_classes=n_classes,
        width=width or 100,
        depth=depth or 2,
        dropout=dropout,
        batch_norm=batch_norm,
        target_mean=target_mean,
        target_std=target_std,
    )
