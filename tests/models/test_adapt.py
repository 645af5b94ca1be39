"""Adaptation methods: which parameters train after full / linear-probe / partial / LoRA."""

from __future__ import annotations

import pytest
import torch

from dlexpert.errors import InvalidInputError, UnknownNameError
from dlexpert.models import apply_adaptation, count_parameters, create_model, find_head


def _trainable(model: torch.nn.Module) -> list[str]:
    return [n for n, p in model.named_parameters() if p.requires_grad]


@pytest.mark.parametrize(
    ("name", "shape"), [("cnn1d", (1, 40)), ("small_resnet", (3, 16, 16)), ("transformer_encoder", (1, 40))]
)
def test_linear_probe_trains_only_the_head(name: str, shape: tuple[int, ...]) -> None:
    model = create_model(name, input_shape=shape, n_classes=7)
    model, report = apply_adaptation(model, method="linear-probe")
    assert _trainable(model) == ["head.weight", "head.bias"]
    assert report.n_trainable == count_parameters(model.head) == 7 * model.head.in_features + 7
    assert report.n_total == count_parameters(model) and report.head == "head"


@pytest.mark.parametrize(
    ("name", "shape"), [("cnn1d", (1, 40)), ("small_resnet", (3, 16, 16)), ("transformer_encoder", (1, 40))]
)
def test_partial_freezes_the_early_half(name: str, shape: tuple[int, ...]) -> None:
    model = create_model(name, input_shape=shape, n_classes=7)
    model, report = apply_adaptation(model, method="partial")
    flags = [p.requires_grad for p in model.parameters()]
    assert 0 < report.n_trainable < report.n_total
    assert flags[0] is False and model.head.weight.requires_grad
    # Frozen parameters come first, then trainable ones: no trainable layer below a frozen one.
    assert flags == sorted(flags)
    assert report.frozen and all(not p.requires_grad for p in model.get_submodule(report.frozen[0]).parameters())


def test_partial_on_a_single_block_body_still_trains_the_later_layers() -> None:
    # The transformer's body is one `encoder` wrapper; partial must split it, not freeze it whole.
    model = create_model("transformer_encoder", input_shape=(1, 40), n_classes=3, depth=4)
    model, report = apply_adaptation(model, method="partial")
    assert report.frozen == ["embed", "encoder.layers.0", "encoder.layers.1"]
    assert not model.pos.requires_grad  # direct parameters go with the first block
    assert all(p.requires_grad for p in model.encoder.layers[3].parameters())


def test_full_unfreezes_everything() -> None:
    model, _ = apply_adaptation(create_model("mlp", input_shape=(10,), n_classes=2), method="linear-probe")
    model, report = apply_adaptation(model, method="full")
    assert report.n_trainable == report.n_total == count_parameters(model)


def test_lora_on_the_transformer_keeps_outputs_and_trains_few_parameters() -> None:
    torch.manual_seed(0)
    base = create_model("transformer_encoder", input_shape=(1, 40), n_classes=10).eval()
    x = torch.randn(4, 1, 40)
    before = base(x).detach()
    n_base = count_parameters(base)
    model, report = apply_adaptation(base, method="lora")
    assert report.n_trainable < 0.2 * report.n_total
    assert "embed" in report.lora_targets and not any("self_attn" in t for t in report.lora_targets)
    # LoRA's B matrices start at zero, so the adapted model computes exactly the base function.
    assert torch.allclose(model(x), before, atol=1e-6)
    assert report.n_total > n_base  # adapters were added
    trainable = _trainable(model)
    assert trainable and all("lora_" in n or n.endswith(("head.weight", "head.bias")) for n in trainable)
    # One step changes only adapters and head.
    model.train()
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    torch.nn.functional.cross_entropy(model(x), torch.tensor([1, 2, 3, 4])).backward()
    optimizer.step()
    assert all(torch.equal(p, frozen[n]) for n, p in model.named_parameters() if n in frozen)


def test_lora_on_a_cnn_wraps_its_convs() -> None:
    model, report = apply_adaptation(create_model("small_resnet", input_shape=(3, 16, 16), n_classes=4), method="lora")
    assert report.lora_targets and report.n_trainable < 0.2 * report.n_total
    assert model(torch.randn(2, 3, 16, 16)).shape == (2, 4)


def test_lora_without_any_target_layer_says_what_to_use() -> None:
    with pytest.raises(InvalidInputError, match="use method='full' or 'linear-probe'"):
        apply_adaptation(create_model("gru", input_shape=(1, 40), n_classes=3), method="lora")


def test_unknown_and_unsupported_methods() -> None:
    model = create_model("mlp", input_shape=(10,), n_classes=2)
    with pytest.raises(UnknownNameError, match="linear-probe, partial, lora"):
        apply_adaptation(model, method="freeze-some")
    with pytest.raises(InvalidInputError, match="qlora"):
        apply_adaptation(model, method="qlora")


def test_find_head_narrows_a_sequential_classifier_to_its_last_linear() -> None:
    model = torch.nn.Module()
    model.features = torch.nn.Linear(8, 8)
    model.classifier = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    name, head = find_head(model)
    assert name == "classifier.2" and head is model.classifier[2]
