"""Adapting a model to a new task: full fine-tuning, linear probe, partial freezing, and LoRA (via `peft`).

The method names are the plan's `adaptation` values (see dlexpert.advisor). Every method leaves the
classifier head trainable, since it is new for the task.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from torch import nn

from dlexpert.errors import InvalidInputError, UnknownNameError

from ._info import count_parameters, find_head

ADAPTATION_METHODS = ("full", "linear-probe", "partial", "lora")
# Conv layers LoRA wraps besides Linear (peft's LoRA supports both), so CNN backbones get adapters too.
_LORA_CONV_TYPES = (nn.Conv1d, nn.Conv2d)


@dataclass
class AdaptationReport:
    """What `apply_adaptation` did: counts of trainable and total parameters and which modules it touched."""

    method: str
    n_trainable: int
    n_total: int
    head: str
    frozen: list[str] = field(default_factory=list)
    lora_targets: list[str] = field(default_factory=list)

    @property
    def trainable_fraction(self) -> float:
        return self.n_trainable / self.n_total if self.n_total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "trainable_fraction": round(self.trainable_fraction, 6)}

    def __str__(self) -> str:
        return (
            f"{self.method}: {self.n_trainable:,} of {self.n_total:,} parameters trainable "
            f"({100 * self.trainable_fraction:.2f}%), head {self.head!r}"
        )


def apply_adaptation(
    model: nn.Module,
    *,
    method: str,
    lora_r: int = 8,
    lora_alpha: int = 16,
    lora_dropout: float = 0.0,
    target_modules: list[str] | None = None,
) -> tuple[nn.Module, AdaptationReport]:
    """Set which parameters train, following the plan's adaptation method.

    - "full": every parameter trains.
    - "linear-probe": only the classifier head trains (frozen backbone).
    - "partial": the first half of the backbone's blocks is frozen; later blocks and the head train.
    - "lora": LoRA adapters (`peft`, r=`lora_r`, alpha=`lora_alpha`) on every Linear layer (and ungrouped
      Conv1d/Conv2d, so CNNs get adapters too) outside the head; nn.MultiheadAttention's internal projections
      are excluded, as its forward bypasses them. Base weights freeze, the head trains in full. Returns the
      peft model.

    Args:
        model: A model from `create_model`, `create_pretrained` or `create_text_classifier`. Modified in place
            (except for "lora", which wraps it).
        method: One of `ADAPTATION_METHODS`.
        lora_r: LoRA rank.
        lora_alpha: LoRA scaling numerator (the update is scaled by alpha / r).
        lora_dropout: Dropout on the LoRA branch input.
        target_modules: Module names for LoRA; None picks them as described above.

    Returns:
        (model, report): the model to train and an `AdaptationReport` with trainable / total counts.

    Example:
        >>> model, report = apply_adaptation(create_model("mlp", input_shape=(64,), n_classes=10),
        ...                                  method="linear-probe")  # doctest: +SKIP
        >>> print(report)  # doctest: +SKIP
        linear-probe: 1,010 of 17,610 parameters trainable (5.74%), head 'head'
    """
    if method == "qlora":
        raise InvalidInputError(
            "adaptation 'qlora' needs bitsandbytes and a CUDA GPU, which this build does not use; use method='lora'"
        )
    if method not in ADAPTATION_METHODS:
        raise UnknownNameError(f"unknown adaptation method {method!r}; choose one of: {', '.join(ADAPTATION_METHODS)}")
    head_name, head = find_head(model)
    head_params = {id(p) for p in head.parameters()}
    frozen: list[str] = []
    targets: list[str] = []

    model.requires_grad_(True)
    if method == "linear-probe":
        _freeze_all_but(model, head_params)
        frozen = [n for n, c in model.named_children() if any(not p.requires_grad for p in c.parameters())]
    elif method == "partial":
        units = _backbone_units(model, head)
        frozen = [name for name, _ in units[: len(units) // 2]]
        for _, params in units[: len(units) // 2]:
            for p in params:
                if id(p) not in head_params:
                    p.requires_grad_(False)
    elif method == "lora":
        model, targets = _lora(
            model, head, r=lora_r, alpha=lora_alpha, dropout=lora_dropout, target_modules=target_modules
        )
        frozen = ["(base weights)"]

    report = AdaptationReport(
        method=method,
        n_trainable=count_parameters(model, trainable_only=True),
        n_total=count_parameters(model),
        head=head_name,
        frozen=frozen,
        lora_targets=targets,
    )
    return model, report


def _has_params(module: nn.Module) -> bool:
    return any(True for _ in module.parameters())


def _freeze_all_but(model: nn.Module, keep: set[int]) -> None:
    for p in model.parameters():
        p.requires_grad_(id(p) in keep)


def _contains(module: nn.Module, target: nn.Module) -> bool:
    return any(m is target for m in module.modules())


def _backbone_units(model: nn.Module, head: nn.Module, *, min_units: int = 4) -> list[tuple[str, list[nn.Parameter]]]:
    """The backbone as an ordered list of (name, parameters) blocks, the head excluded.

    Starts from the top-level children and splits: any block holding the head; any pure wrapper (one
    parameter-bearing child, like BERT's `encoder`); and, while there are fewer than `min_units` blocks, the
    largest one, preferring repeated-block containers (ModuleList / Sequential). So a body that is one
    `features` Sequential or one `bert` module still freezes its early layers, not all of them. Parameters
    held directly by a split module (a ViT's `pos_embed`) go with its first block.
    """
    head_ids = {id(p) for p in head.parameters()}

    def children(name: str, module: nn.Module) -> list[tuple[str, nn.Module]]:
        prefix = f"{name}." if name else ""
        return [(prefix + n, c) for n, c in module.named_children() if c is not head and _has_params(c)]

    def own_params(module: nn.Module) -> list[nn.Parameter]:
        return [p for p in module.parameters(recurse=False) if id(p) not in head_ids]

    def split(i: int) -> None:
        name, block, extra = units[i]
        parts: list[tuple[str, nn.Module, list[nn.Parameter]]] = [(n, c, []) for n, c in children(name, block)]
        carried = extra + own_params(block)
        if parts:
            parts[0][2].extend(carried)
        elif carried:
            parts = [(name, nn.Module(), carried)]
        units[i : i + 1] = parts

    units: list[tuple[str, nn.Module, list[nn.Parameter]]] = [(n, c, []) for n, c in children("", model)]
    if units:
        units[0][2].extend(own_params(model))
    while True:
        splittable = [i for i, (n, m, _) in enumerate(units) if children(n, m)]
        holding_head = [i for i in splittable if _contains(units[i][1], head)]
        wrappers = [i for i in splittable if len(children(*units[i][:2])) == 1]
        containers = [i for i in splittable if isinstance(units[i][1], (nn.ModuleList, nn.Sequential))]
        if holding_head or wrappers:
            split((holding_head or wrappers)[0])
        elif len(units) < min_units and splittable:
            split(max(containers or splittable, key=lambda j: count_parameters(units[j][1])))
        else:
            return [(n, [*m.parameters(), *extra]) for n, m, extra in units]


def _lora(
    model: nn.Module,
    head: nn.Module,
    *,
    r: int,
    alpha: int,
    dropout: float,
    target_modules: list[str] | None,
) -> tuple[nn.Module, list[str]]:
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as err:
        raise InvalidInputError("LoRA needs the `peft` package; install it with: pip install 'dlexpert[nlp]'") from err
    if target_modules is None:
        target_modules = _lora_targets(model, head)
    if not target_modules:
        raise InvalidInputError(
            f"LoRA found no Linear or conv layer outside the head of {type(model).__name__}; "
            "use method='full' or 'linear-probe'"
        )
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=target_modules)
    peft_model = get_peft_model(model, config)
    # The head is new for the task, so it trains in full. (peft's `modules_to_save` matches names by suffix,
    # which would also catch e.g. DistilBERT's `pre_classifier`; unfreezing the head module itself is exact.)
    head.requires_grad_(True)
    return peft_model, target_modules


def _lora_targets(model: nn.Module, head: nn.Module) -> list[str]:
    """Names of the layers LoRA should wrap: every Linear and ungrouped Conv1d/Conv2d outside the head."""
    skip = {id(m) for m in head.modules()}
    # nn.MultiheadAttention reads its projection weights directly in F.multi_head_attention_forward, so a
    # wrapper around `out_proj` would never run; skip the Linear layers it owns.
    skip |= {id(c) for m in model.modules() if isinstance(m, nn.MultiheadAttention) for c in m.modules()}
    return [n for n, m in model.named_modules() if id(m) not in skip and _lora_supported(m)]


def _lora_supported(module: nn.Module) -> bool:
    if isinstance(module, nn.Linear):
        return True
    # GPT-2 style models use transformers' own `Conv1D` (a transposed Linear), which peft also wraps.
    if type(module).__name__ == "Conv1D" and type(module).__module__.startswith("transformers"):
        return True
    # Grouped / depthwise convs are left out: peft needs the rank divisible by `groups` and cannot merge them.
    return isinstance(module, _LORA_CONV_TYPES) and module.groups == 1
