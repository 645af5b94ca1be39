"""The model registry, checked over every registered from-scratch family (a new entry is tested automatically)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from dlexpert.errors import InvalidInputError, RegistryError, UnknownNameError
from dlexpert.models import (
    MODALITIES,
    build,
    count_parameters,
    create_model,
    get_model_builder,
    get_model_entry,
    list_models,
    register_model,
)
from dlexpert.schema import ModelRecord

# One small per-sample shape for each modality.
SHAPES = {"tabular": (12,), "sequence": (3, 40), "image": (3, 16, 16)}
CASES = [(name, modality) for name in list_models(output="sample") for modality in get_model_entry(name).modalities]


def test_the_issue_families_are_registered() -> None:
    assert {"linear", "mlp", "cnn1d", "small_resnet", "gru", "lstm", "transformer_encoder"} <= set(list_models())


@pytest.mark.parametrize(("name", "modality"), CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_forward_shape_and_gradient_flow(name: str, modality: str) -> None:
    torch.manual_seed(0)
    shape = SHAPES[modality]
    model = create_model(name, input_shape=shape, n_classes=5, dropout=0.1)
    x = torch.randn(4, *shape)
    logits = model(x)
    assert logits.shape == (4, 5)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 3])).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"no gradient reached {missing}"
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())
    # The signal reaches the input layer (the first registered parameter), through the whole network.
    first_name, first = next(iter(model.named_parameters()))
    assert first.grad.abs().sum() > 0, f"all-zero gradient at the input layer {first_name}"


@pytest.mark.parametrize("name", list_models())
def test_a_record_rebuilds_the_same_model(name: str) -> None:
    """`build(record)` is how every stage makes a model again; the record survives JSON (config.yaml, last.pt)."""
    modality = get_model_entry(name).modalities[0]
    model = create_model(name, input_shape=SHAPES[modality], n_classes=3, width=2, depth=2)
    record = ModelRecord(library="dlexpert", name=name, n_classes=3, input_shape=list(SHAPES[modality]), width=2,
                         depth=2)  # fmt: skip
    rebuilt = build(ModelRecord.model_validate_json(record.model_dump_json()))
    assert type(rebuilt) is type(model) and count_parameters(rebuilt) == count_parameters(model)
    assert rebuilt.state_dict().keys() == model.state_dict().keys()


def test_unsupported_modality_names_the_models_that_fit() -> None:
    with pytest.raises(InvalidInputError, match=r"small_resnet.*image.*models for sequence: .*cnn1d"):
        create_model("small_resnet", input_shape=(1, 40), n_classes=10)


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        create_model("resnet9000", input_shape=(3, 32, 32), n_classes=10)
    message = str(info.value)
    assert message.startswith("unknown model 'resnet9000'; choose one of: ")
    assert all(name in message for name in list_models())
    assert "\n" not in message


def test_duplicate_registration_is_an_error() -> None:
    with pytest.raises(RegistryError, match=r"^model 'mlp' is already registered \(by dlexpert.models.mlp\); choose"):
        register_model("mlp", modalities=("tabular",))(get_model_builder("mlp"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"input_shape": (1, 40), "n_classes": 0}, "n_classes"),
        ({"input_shape": (0, 40), "n_classes": 2}, "input_shape"),
        ({"input_shape": (1, 2, 3, 4), "n_classes": 2}, "input_shape"),
        ({"input_shape": (1, 40), "n_classes": 2, "dropout": 1.5}, "dropout"),
        ({"input_shape": (1, 40), "n_classes": 2, "width": -3}, "width"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInputError, match=f"`{field}`"):
        create_model("mlp", **kwargs)


def test_list_models_filters() -> None:
    assert list_models("*s*m") == ["lstm"]
    assert list_models(modality="image", output="sample") == ["linear", "mlp", "small_resnet"]
    assert list_models(modality="image") == ["fcos", "linear", "mlp", "small_resnet", "unet"]
    assert list_models(output="boxes") == ["fcos"]
    assert set(MODALITIES) == {"tabular", "sequence", "image"}


def test_importing_dlexpert_does_not_import_torch() -> None:
    code = "import sys, dlexpert; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_unknown_family_option_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidInputError, match="model 'mlp' has no option 'kernel_size'; its options: batch_norm"):
        create_model("mlp", input_shape=(4,), n_classes=2, kernel_size=3)
    assert create_model("cnn1d", input_shape=(1, 40), n_classes=2, kernel_size=3).features[0][0].kernel_size == (3,)


def test_unet_gives_per_pixel_logits_for_any_size_and_learns_a_mask() -> None:
    torch.manual_seed(0)
    assert list_models(output="pixel") == ["unet"] and "unet" not in list_models(modality="image", output="sample")
    net = create_model("unet", input_shape=(3, 30, 22), n_classes=3)  # sizes not divisible by 8; too small for depth 4
    assert net(torch.randn(2, 3, 30, 22)).shape == (2, 3, 30, 22)
    net = create_model("unet", input_shape=(3, 16, 16), n_classes=2, stem_stride=1)  # labels change pixel by pixel
    x = torch.rand(8, 3, 16, 16)
    y = (x[:, 0] > 0.5).long()  # the class is the red channel's level, pixel by pixel
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(60):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.2
