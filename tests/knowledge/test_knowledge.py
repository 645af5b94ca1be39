"""Common tests over every record of the knowledge base (scikit-learn "common tests" style).

Each check is parametrized over the registered records, so a new catalog entry, family, device, recipe, problem,
dataset or policy entry is tested as soon as it is added to `knowledge/data/`.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any

import pytest

import dlexpert.knowledge as kb
from dlexpert.errors import DlexpertError
from dlexpert.knowledge import (
    ArchitectureFamily,
    DatasetInfo,
    HardwareProfile,
    ModelEntry,
    Problem,
    Recipe,
    find_dataset,
    find_hardware,
    find_problem,
    get_family,
    get_hardware,
    get_model,
    get_problem,
    get_regimes,
    list_datasets,
    list_families,
    list_hardware,
    list_models,
    list_problems,
    list_recipes,
)

TIMM_RESULTS = Path(__file__).parents[3] / "shared" / "data" / "timm-results"

MODELS = list_models()
FAMILIES = {f.name: f for f in list_families()}
HARDWARE = {h.name: h for h in list_hardware()}
RECIPES = list_recipes()
PROBLEMS = list_problems()
DATASETS = list_datasets()
REGIMES = get_regimes()

# RL algorithm families (ppo, dqn, ...) name a training algorithm, not a network: the family's `architecture` is the
# default policy network (MLP for vector observations) and its inductive_bias says pixel observations use a CNN.
# A catalog entry's `architecture` is the network it actually ships (stable-baselines3 'CnnPolicy' is a CNN).
RL_POLICY_NETWORKS = {"MLP", "CNN"}


def _ids(records: list[Any], key: str = "name") -> list[str]:
    return [getattr(r, key) for r in records]


# --------------------------------------------------------------------------------------------- models


def test_model_names_are_unique() -> None:
    names = [m.name for m in MODELS]
    assert len(names) == len(set(names))
    assert len(MODELS) > 1000  # timm + torchvision + curated + scratch


@pytest.mark.parametrize("model", MODELS, ids=_ids(MODELS))
def test_model_entry(model: ModelEntry) -> None:
    assert get_model(model.name) is model
    assert model.source.strip(), "source must cite where the numbers come from"
    assert model.params_m > 0

    fam = FAMILIES.get(model.family)
    assert fam is not None, f"family {model.family!r} is not in architectures.yaml"
    if fam.tasks == ["RL"]:
        assert model.architecture in RL_POLICY_NETWORKS, (model.architecture, fam.architecture)
    else:
        assert model.architecture == fam.architecture, f"{model.architecture} vs family {fam.name}: {fam.architecture}"

    for hw, ms in model.latency_ms.items():
        assert hw in HARDWARE, f"latency_ms key {hw!r} is not a hardware profile"
        assert math.isfinite(ms) and ms > 0, (hw, ms)
    for key, sps in model.throughput.items():
        hw = key.removesuffix("/train")
        assert hw in HARDWARE, f"throughput key {key!r} is not a hardware profile (optionally + '/train')"
        assert math.isfinite(sps) and sps > 0, (key, sps)

    for m in model.metrics:
        assert math.isfinite(m.value), m
        assert m.name.strip() and m.dataset.strip(), m
        if m.unit == "%":
            assert 0 <= m.value <= 100, m

    if model.library == "timm":
        assert "timm results" in model.source
        assert model.name.startswith("timm/")
        # "timm/<model>@<size>" is the same weights evaluated at a larger test size
        assert model.name.split("@")[0] == f"timm/{model.hub_id}"
        if "@" in model.name:
            assert model.name.endswith(f"@{model.input_size}")
    if model.library == "torchvision":
        assert "torchvision" in model.source


def _timm_sample(n: int = 50) -> list[ModelEntry]:
    plain = sorted((m for m in MODELS if m.library == "timm" and "@" not in m.name), key=lambda m: m.name)
    step = max(1, len(plain) // n)
    return plain[::step][:n]


TIMM_SAMPLE = _timm_sample()


@pytest.fixture(scope="module")
def timm_results() -> dict[tuple[str, int], dict[str, str]]:
    path = TIMM_RESULTS / "results-imagenet.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    with path.open(newline="", encoding="utf-8") as f:
        return {(r["model"], int(r["img_size"])): r for r in csv.DictReader(f)}


def test_timm_sample_is_large_enough() -> None:
    assert len(TIMM_SAMPLE) == 50


@pytest.mark.parametrize("model", TIMM_SAMPLE, ids=_ids(TIMM_SAMPLE))
def test_timm_entry_matches_published_results(model: ModelEntry, timm_results: dict[tuple[str, int], Any]) -> None:
    assert model.input_size is not None
    row = timm_results.get((model.hub_id, model.input_size))
    assert row is not None, f"{model.hub_id} at {model.input_size}px is not in results-imagenet.csv"
    top1 = [m.value for m in model.metrics if m.name == "top1" and m.dataset == "ImageNet-1k val"]
    assert top1 == [pytest.approx(float(row["top1"]), abs=1e-6)]
    assert model.params_m == pytest.approx(float(row["param_count"].replace(",", "")), abs=1e-6)


# --------------------------------------------------------------------------------------------- families


@pytest.mark.parametrize("family", list(FAMILIES.values()), ids=list(FAMILIES))
def test_family(family: ArchitectureFamily) -> None:
    assert get_family(family.name) is family
    assert family.inductive_bias.strip()
    assert family.data_needs.strip()
    assert family.source.strip()
    assert family.min_samples_scratch > 0
    assert family.domains and family.tasks


# --------------------------------------------------------------------------------------------- hardware


@pytest.mark.parametrize("hw", list(HARDWARE.values()), ids=list(HARDWARE))
def test_hardware_profile(hw: HardwareProfile) -> None:
    assert get_hardware(hw.name) is hw
    assert hw.memory_gb > 0
    assert hw.bandwidth_gbs > 0
    assert "fp32" in hw.peak_tflops
    assert all(math.isfinite(v) and v > 0 for v in hw.peak_tflops.values()), hw.peak_tflops
    assert hw.source.strip()
    for alias in hw.aliases:
        assert alias == alias.lower(), f"alias {alias!r} must be lower-case"
        assert find_hardware(alias) is hw, f"alias {alias!r} resolves to another profile"


def test_hardware_aliases_are_not_shared() -> None:
    owner: dict[str, str] = {}
    for hw in HARDWARE.values():
        for alias in {hw.name, hw.name.replace("-", " "), *hw.aliases}:
            assert owner.setdefault(alias, hw.name) == hw.name, f"{alias!r} names {owner[alias]} and {hw.name}"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("8x A100 80GB", "a100-80gb"),
        ("a100", "a100-40gb"),
        ("RTX 4090", "rtx4090"),
        ("Jetson Orin", "jetson-orin"),
        ("tesla t4", "t4"),
        ("h100 sxm", "h100"),
    ],
)
def test_find_hardware(text: str, name: str) -> None:
    found = find_hardware(text)
    assert found is not None and found.name == name
    assert get_hardware(text) is found


def test_find_hardware_none() -> None:
    assert find_hardware("") is None
    assert find_hardware(None) is None


# --------------------------------------------------------------------------------------------- recipes


def test_recipe_names_are_unique() -> None:
    assert len({r.name for r in RECIPES}) == len(RECIPES)


@pytest.mark.parametrize("recipe", RECIPES, ids=_ids(RECIPES))
def test_recipe(recipe: Recipe) -> None:
    lo, hi = recipe.lr_range
    assert 0 < lo < hi
    assert lo <= recipe.lr <= hi, f"lr {recipe.lr} outside its own range {recipe.lr_range}"
    if recipe.optimizer in ("Adam", "AdamW"):
        assert recipe.lr <= 1e-2, "adaptive optimizers rarely train above lr 1e-2"
    if recipe.optimizer == "SGD":
        assert recipe.lr >= 1e-3, "SGD below lr 1e-3 barely moves"
    assert recipe.source.strip()
    assert recipe.rationale.strip()
    assert recipe.architecture
    assert recipe.reference_batch_size > 0
    assert recipe.epochs > 0
    assert recipe.weight_decay >= 0
    if recipe.regime == "lora":
        # LoRA adapts attention projections: LLMs (Transformer) and Stable Diffusion's attention blocks (Diffusion)
        assert set(recipe.architecture) <= {"Transformer", "Diffusion"}, recipe.architecture


def test_lora_recipes_cover_transformers() -> None:
    assert any("Transformer" in r.architecture for r in list_recipes(regime="lora"))


# --------------------------------------------------------------------------------------------- problems

DESIGN_VOCABULARY = [
    "nan_inf",
    "exploding_gradients",
    "vanishing_gradients",
    "dead_relu",
    "overfitting",
    "underfitting",
    "slow_convergence",
    "loss_oscillation",
    "lr_not_decaying",
    "data_bottleneck",
]
EXTRA_ISSUES = ["loss_spike", "poor_initialization", "constant_prediction", "train_val_gap"]

# The seed's Step 5 solutions, in the seed's order, one distinctive keyword (regex) per solution.
SPEC_SOLUTIONS = {
    "overfitting": [r"augmentation", r"dropout|weight decay", r"early stopping", r"capacity", r"more training data"],
    "underfitting": [r"capacity", r"regulari[sz]ation", r"data quality", r"epochs|learning rate"],
    "nan_inf": [r"learning rate|10x", r"clip", r"input", r"epsilon"],
    "slow_convergence": [r"increase learning rate", r"schedule|onecycle", r"mixed precision", r"data loading"],
}


@pytest.mark.parametrize("issue", DESIGN_VOCABULARY + EXTRA_ISSUES)
def test_problem_vocabulary_exists(issue: str) -> None:
    assert get_problem(issue).issue == issue


@pytest.mark.parametrize("problem", PROBLEMS, ids=_ids(PROBLEMS, "issue"))
def test_problem(problem: Problem) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]*", problem.issue)
    assert len(problem.solutions) >= 2
    assert all(s.strip() for s in problem.solutions)
    assert problem.symptoms
    assert problem.diagnosis.strip()
    assert problem.source.strip()
    for alias in problem.aliases:
        assert alias == alias.lower(), f"alias {alias!r} must be lower-case"


@pytest.mark.parametrize("issue", list(SPEC_SOLUTIONS))
def test_problem_solutions_start_with_the_spec(issue: str) -> None:
    keywords = SPEC_SOLUTIONS[issue]
    solutions = get_problem(issue).solutions
    assert len(solutions) >= len(keywords)
    for i, (kw, sol) in enumerate(zip(keywords, solutions[: len(keywords)], strict=True)):
        assert re.search(kw, sol, re.I), f"solution {i} of {issue} should be the spec's ({kw!r}), got {sol!r}"


def test_problem_aliases_are_unique() -> None:
    owner: dict[str, str] = {}
    for p in PROBLEMS:
        for alias in p.aliases:
            assert owner.setdefault(alias, p.issue) == p.issue, f"{alias!r} names {owner[alias]} and {p.issue}"


@pytest.mark.parametrize(
    ("text", "issues"),
    [
        ("loss becomes NaN after epoch 3", {"nan_inf"}),
        ("val loss goes up while train loss goes down", {"overfitting", "train_val_gap"}),
        ("CUDA out of memory at batch 4", {"out_of_memory"}),
    ],
)
def test_find_problem(text: str, issues: set[str]) -> None:
    found = find_problem(text)
    assert found is not None and found.issue in issues, found


# --------------------------------------------------------------------------------------------- datasets


def test_find_dataset() -> None:
    found = find_dataset("image classification on CIFAR-10")
    assert found is not None and found.name == "CIFAR-10"
    assert find_dataset(None) is None


@pytest.mark.parametrize("dataset", DATASETS, ids=_ids(DATASETS))
def test_dataset(dataset: DatasetInfo) -> None:
    assert dataset.source.strip()
    assert dataset.n_train > 0
    for alias in dataset.aliases:
        assert alias == alias.lower(), f"alias {alias!r} must be lower-case (find_dataset lower-cases the text)"
    found = find_dataset(dataset.name)
    assert found is not None and found.name == dataset.name
    for r in dataset.results:
        assert r.family in FAMILIES, f"result family {r.family!r} is not in architectures.yaml"
        assert r.source.strip()
        assert math.isfinite(r.value)


# --------------------------------------------------------------------------------------------- regimes


def test_data_bands_follow_the_spec() -> None:
    bands = REGIMES["data_bands"]
    assert [b["max_samples"] for b in bands] == [10_000, 100_000, None]
    assert all(b.get("source") for b in bands)


PREFERENCES = REGIMES["family_preference"]


@pytest.mark.parametrize("pref", PREFERENCES, ids=[f"{p['key']}#{i}" for i, p in enumerate(PREFERENCES)])
def test_family_preference(pref: dict[str, Any]) -> None:
    order = pref["order"]
    assert order, pref["key"]
    unknown = [f for f in order if f not in FAMILIES]
    assert not unknown, f"{pref['key']}: unknown families {unknown}"
    assert len(order) == len(set(order))
    assert pref.get("reason")
    if "when" in pref:
        re.compile(pref["when"])


def test_llm_families_exist() -> None:
    assert [f for f in REGIMES.get("llm_families", []) if f not in FAMILIES] == []


def test_export_formats_cover_hardware_kinds() -> None:
    formats = REGIMES["export_formats"]
    assert {"cpu", "gpu", "edge", "npu"} <= set(formats)
    assert {h.kind for h in HARDWARE.values()} <= set(formats)
    for kind, entry in formats.items():
        assert entry["formats"] and entry.get("source"), kind


# --------------------------------------------------------------------------------------------- loading errors


def test_broken_record_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = {"name": "bad-gpu", "display_name": "Bad", "kind": "gpu", "peak_tflops": {"fp32": 1.0}, "source": "x"}
    monkeypatch.setattr(kb, "_read", lambda name: [bad])  # memory_gb, bandwidth_gbs missing
    with pytest.raises(DlexpertError, match=r"hardware\.yaml.*bad-gpu"):
        kb._load("hardware.yaml", HardwareProfile, "name")


def test_unknown_field_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = get_family("resnet").model_dump() | {"colour": "blue"}
    monkeypatch.setattr(kb, "_read", lambda name: [raw])
    with pytest.raises(DlexpertError, match=r"architectures\.yaml.*colour"):
        kb._load("architectures.yaml", ArchitectureFamily, "name")


def test_duplicate_record_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = get_family("resnet").model_dump()
    monkeypatch.setattr(kb, "_read", lambda name: [raw, raw])
    with pytest.raises(DlexpertError, match=r"architectures\.yaml.*duplicate"):
        kb._load("architectures.yaml", ArchitectureFamily, "name")


def test_the_gpu_utilisation_of_mobile_networks_is_what_timms_training_benchmark_gives() -> None:
    """regimes.yaml utilisation.gpu_mobile holds MobileNet/EfficientNet-class networks' train samples/s x 6 x GMACs
    over the RTX 3090's fp16 peak; dense networks of the same table fall in the plain GPU range's neighbourhood."""
    train, infer = (TIMM_RESULTS / f"benchmark-{k}.csv" for k in ("train-amp-nchw-pt112-cu113-rtx3090",
                                                                   "infer-amp-nchw-pt291-cu128-4090"))  # fmt: skip
    if not train.exists() or not infer.exists():
        pytest.skip(f"{train} not found")
    with train.open(newline="") as f:
        speed = {r["model"]: r for r in csv.DictReader(f)}
    with infer.open(newline="") as f:
        gmacs = {(r["model"], int(r["infer_img_size"])): float(r["infer_gmacs"]) for r in csv.DictReader(f)}
    peak = HARDWARE["rtx3090"].peak_tflops["fp16"] * 1e12

    def mfu(model: str) -> float:
        r = speed[model]
        size = int(r["train_img_size"])
        return float(r["train_samples_per_sec"]) * 6 * gmacs[(model, size)] * 1e9 / peak

    lo, hi = REGIMES["utilisation"]["gpu_mobile"]
    for model in ("mobilenetv3_large_100", "mobilenetv2_100", "efficientnet_b0", "mnasnet_100", "rexnet_100"):
        assert lo <= mfu(model) <= hi, model
    assert all(mfu(m) > 3 * hi for m in ("resnet50", "convnext_tiny", "resnet18"))


def test_a_detector_or_segmenter_whose_paper_gives_its_compute_carries_it_as_gmacs() -> None:
    """Without `gmacs` the estimate falls back to parameters x 1: a 42M-parameter RT-DETR read as 0.04 GMACs, about
    3,000x too cheap to train (issue 14)."""
    import re

    for m in list_models():
        if {"detection", "segmentation"} & set(m.tasks) and re.search(r"Paper: [\d.]+ GFLOPs", m.notes or ""):
            assert m.gmacs is not None and m.gmacs > 1, m.name
    from dlexpert.estimate import estimate_gmacs

    assert "lower bound" in estimate_gmacs(get_model("reference-impl/unet"))[1]  # no MAC count: said, not hidden


def test_the_single_core_pi_zero_is_not_the_quad_core_zero_2() -> None:
    """A Pi Zero (W) is one ARM11 core at 1 GHz; the Zero 2 W is four Cortex-A53s: their peaks differ 30x."""
    assert find_hardware("inference on a Raspberry Pi Zero W").name == "raspberry-pi-zero"
    assert find_hardware("inference on the Pi Zero 2W itself (quad A53)").name == "arm-a53-soc"
