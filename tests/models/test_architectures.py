"""Family-specific behaviour: sizes from the papers, odd shapes, and a CNN that can actually learn."""

from __future__ import annotations

import pytest
import torch

from dlexpert.models import count_parameters, create_model, describe


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32), (3, 20, 27)])
def test_small_resnet_takes_small_and_odd_images(shape: tuple[int, int, int]) -> None:
    model = create_model("small_resnet", input_shape=shape, n_classes=10).eval()
    assert model(torch.randn(2, *shape)).shape == (2, 10)


def test_small_resnet_default_is_resnet20_sized() -> None:
    # He et al. 2016, Table 6: ResNet-20 has 0.27M parameters on CIFAR-10.
    model = create_model("small_resnet", input_shape=(3, 32, 32), n_classes=10)
    assert 0.26e6 < count_parameters(model) < 0.28e6
    assert count_parameters(create_model("small_resnet", input_shape=(3, 32, 32), n_classes=10, width=2)) > 1e6


@pytest.mark.parametrize(("shape", "width", "depth"), [((1, 8, 8), 2, 2), ((3, 16, 16), 2, 2), ((3, 17, 32), 1, 3)])
def test_small_resnet_default_is_wide_and_shallow_on_tiny_images(
    shape: tuple[int, int, int], width: int, depth: int
) -> None:
    # At <= 16 px the default is width 2, 2 blocks per stage; an explicit width/depth still wins.
    model = create_model("small_resnet", input_shape=shape, n_classes=10)
    assert model.layer3[0].conv1.out_channels == 64 * width and len(model.layer1) == depth
    explicit = create_model("small_resnet", input_shape=shape, n_classes=10, width=1, depth=3)
    assert explicit.layer3[0].conv1.out_channels == 64 and len(explicit.layer1) == 3


def test_cnn1d_default_size_for_mnist1d() -> None:
    model = create_model("cnn1d", input_shape=(1, 40), n_classes=10)
    assert 50_000 <= count_parameters(model) <= 150_000


def test_cnn1d_overfits_a_tiny_batch() -> None:
    torch.manual_seed(0)
    model = create_model("cnn1d", input_shape=(1, 40), n_classes=10)
    x, y = torch.randn(32, 1, 40), torch.arange(32) % 10
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(100):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0], f"loss {losses[0]:.3f} -> {losses[-1]:.3f}"


def test_rnn_reads_length_as_time_and_channels_as_features() -> None:
    model = create_model("gru", input_shape=(3, 50), n_classes=4, width=8)
    assert model.rnn.input_size == 3 and model.rnn.hidden_size == 8
    # A recurrent model is order-sensitive: reversing time changes the output.
    x = torch.randn(2, 3, 50)
    assert not torch.allclose(model(x), model(x.flip(-1)))


def test_transformer_pads_a_length_that_is_not_a_whole_number_of_patches() -> None:
    model = create_model("transformer_encoder", input_shape=(2, 130), n_classes=3).eval()
    assert model.patch_size == 3 and model.n_tokens == 44  # ceil(130 / 64) = 3 steps per token
    assert model(torch.randn(2, 2, 130)).shape == (2, 3)


def test_mlp_depth_width_and_batch_norm() -> None:
    model = create_model("mlp", input_shape=(8, 8), n_classes=10, width=32, depth=3, batch_norm=True)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [32, 32, 32, 10]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules()) == 3


def test_count_parameters_and_describe() -> None:
    assert count_parameters(torch.nn.Linear(40, 10)) == 410
    model = create_model("linear", input_shape=(1, 40), n_classes=10)
    model.head.weight.requires_grad_(False)
    info = describe(model)
    assert (info["class"], info["n_params"], info["n_trainable"], info["head"]) == ("LinearClassifier", 410, 10, "head")
    assert info["children"][-1] == {"name": "head", "class": "Linear", "n_params": 410}


def test_cnn1d_per_sample_norm_sees_shape_and_scale_apart() -> None:
    # The same shape at 1e-3 and 1e3 gives the same z-normalised channels; only the scale channel tells them apart.
    from dlexpert.models.cnn1d import ScaleAwareNorm

    wave = torch.sin(torch.linspace(0, 6.28, 64)).view(1, 1, 64)
    small, large = ScaleAwareNorm()(wave * 1e-3), ScaleAwareNorm()(wave * 1e3)
    assert small.shape == (1, 3, 64)
    assert torch.allclose(small[:, 0], large[:, 0], atol=1e-4)
    assert (large[:, 2] - small[:, 2]).mean().item() == pytest.approx(6 * 2.302585, rel=1e-3)  # log(1e6)
    model = create_model("cnn1d", input_shape=(2, 64), n_classes=3, per_sample_norm=True).eval()
    assert model.features[0][0].in_channels == 6 and model(torch.randn(4, 2, 64)).shape == (4, 3)
    plain = create_model("cnn1d", input_shape=(2, 64), n_classes=3)
    assert count_parameters(model) > count_parameters(plain) and not dict(model.input_norm.named_parameters())
