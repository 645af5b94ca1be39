"""The knowledge base: data files with sources, validated on load, behind `list_*` / `get_*` verbs.

Files in `knowledge/data/`:
    timm_models.json        built by tools/build_timm_catalog.py from timm's published results (cite "timm results/...")
    torchvision_models.json built by tools/build_torchvision_catalog.py from torchvision's weight metadata
    models_curated.yaml     NLP, LLM, audio, multimodal, detection, segmentation, time-series, diffusion and RL models
    architectures.yaml      architecture families: inductive bias, data needs, complexity
    hardware.yaml           devices: peak throughput per precision, memory, bandwidth
    recipes.yaml            training recipes per architecture class and regime
    problems.yaml           problem -> diagnosis -> solutions, most effective first
    regimes.yaml            the advisor's policy numbers (data-size bands, parameter caps, utilisation), with reasons

Example:
    >>> [m.name for m in list_models(task="detection", max_params_m=5)][:2]  # doctest: +SKIP
    ['torchvision/ssdlite320_mobilenet_v3_large.COCO_V1', 'ultralytics/yolo11n']
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Collection
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import DlexpertError, UnknownNameError
from ._records import (
    ArchitectureFamily,
    DatasetInfo,
    FirstModel,
    HardwareProfile,
    Metric,
    ModelEntry,
    Problem,
    Recipe,
    ReferenceResult,
    TaskFamily,
)

__all__ = [
    "ArchitectureFamily",
    "DatasetInfo",
    "FirstModel",
    "HardwareProfile",
    "Metric",
    "ModelEntry",
    "Problem",
    "Recipe",
    "ReferenceResult",
    "TaskFamily",
    "find_dataset",
    "find_hardware",
    "find_problem",
    "find_task_family",
    "generic_task_family",
    "get_family",
    "get_hardware",
    "get_model",
    "get_problem",
    "get_regimes",
    "get_task_family",
    "list_datasets",
    "list_families",
    "list_hardware",
    "list_models",
    "list_problems",
    "list_recipes",
    "list_task_families",
    "task_families_named",
]

_R = TypeVar("_R", bound=BaseModel)
_DATA = Path(__file__).resolve().parent / "data"


def _read(name: str) -> Any:
    # The data ship inside the package (pyproject package-data), next to this file.
    text = (_DATA / name).read_text(encoding="utf-8")
    if name.endswith(".json"):
        return json.loads(text)
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _load(name: str, record: type[_R], key: str) -> dict[str, _R]:
    out: dict[str, _R] = {}
    for i, raw in enumerate(_read(name) or []):
        try:
            item = record.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise DlexpertError(
                f"knowledge/data/{name}: record {i} ({raw.get(key, '?')}): {where}: {err['msg']}"
            ) from None
        k = getattr(item, key)
        if k in out:
            raise DlexpertError(f"knowledge/data/{name}: duplicate {key} {k!r}")
        out[k] = item
    return out


def _find_by_alias(text: str | None, items: dict[str, _R], aliases: Callable[[_R], list[str]]) -> _R | None:
    """The item whose alias appears in `text` as a whole word; the longest matching alias wins ("a100 80gb" over
    "a100")."""
    if not text:
        return None
    low = " ".join(text.lower().replace("_", " ").split())
    best: tuple[int, _R] | None = None
    for item in items.values():
        for alias in aliases(item):
            a = alias.lower()
            if (best is None or len(a) > best[0]) and re.search(r"(?<![a-z0-9])" + re.escape(a) + r"(?![a-z0-9])", low):
                best = (len(a), item)
    return best[1] if best else None


def _unknown(kind: str, name: str, valid: list[str]) -> UnknownNameError:
    import difflib

    close = difflib.get_close_matches(name, valid, n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    shown = ", ".join(valid[:40]) + (" ..." if len(valid) > 40 else "")
    return UnknownNameError(f"unknown {kind} {name!r}{hint} (valid: {shown})")


# --------------------------------------------------------------------------------------------- models

# Catalog files and the domains their entries may cover. The two generated vision files are large (1,700 entries),
# so a plan for another domain never reads them.
_MODEL_FILES = {
    "timm_models.json": {"CV"},
    "torchvision_models.json": {"CV"},
    "models_curated.yaml": None,  # any domain
    "models_scratch.yaml": None,
}


@cache
def _model_file(name: str) -> dict[str, ModelEntry]:
    entries = _load(name, ModelEntry, "name")
    allowed = _MODEL_FILES[name]
    for e in entries.values():
        if allowed is not None and not set(e.domains) <= allowed:
            raise DlexpertError(f"knowledge/data/{name}: {e.name} lists domains {e.domains}; this file holds {allowed}")
    return entries


@cache
def _models_in(domain: str | None) -> dict[str, ModelEntry]:
    out: dict[str, ModelEntry] = {}
    for f, domains in _MODEL_FILES.items():
        if domain is not None and domains is not None and domain not in domains:
            continue
        for k, v in _model_file(f).items():
            if k in out:
                raise DlexpertError(f"knowledge/data/{f}: model {k!r} is already defined in another catalog file")
            out[k] = v
    return out


def _models() -> dict[str, ModelEntry]:
    return _models_in(None)


def get_model(name: str) -> ModelEntry:
    """Look up a catalog entry by its full name ("timm/resnet50.a1_in1k") or, if unique, its hub id."""
    models = _models()
    if name in models:
        return models[name]
    by_hub = [m for m in models.values() if m.hub_id == name or m.name.split("/", 1)[-1] == name]
    if len(by_hub) == 1:
        return by_hub[0]
    raise _unknown("model", name, sorted(models))


def list_models(
    pattern: str | None = None,
    *,
    task: str | None = None,
    domain: str | None = None,
    family: str | None = None,
    library: str | None = None,
    max_params_m: float | None = None,
) -> list[ModelEntry]:
    """Catalog entries matching every given filter. `pattern` is a shell-style glob or a substring of the name."""
    out = list(_models_in(domain).values())
    if pattern:
        if any(c in pattern for c in "*?["):
            rx = re.compile(fnmatch.translate(pattern), re.I)  # an unclosed "[" is a literal, as in a shell
            out = [m for m in out if rx.fullmatch(m.name) or rx.fullmatch(m.hub_id)]
        else:
            out = [m for m in out if pattern.lower() in m.name.lower()]
    if task:
        out = [m for m in out if task in m.tasks]
    if domain:
        out = [m for m in out if domain in m.domains]
    if family:
        out = [m for m in out if m.family == family]
    if library:
        out = [m for m in out if m.library == library]
    if max_params_m is not None:
        out = [m for m in out if m.params_m <= max_params_m]
    return out


# --------------------------------------------------------------------------------------------- families


@cache
def _families() -> dict[str, ArchitectureFamily]:
    return _load("architectures.yaml", ArchitectureFamily, "name")


def list_families(*, domain: str | None = None, task: str | None = None) -> list[ArchitectureFamily]:
    return [f for f in _families().values() if (not domain or domain in f.domains) and (not task or task in f.tasks)]


def get_family(name: str) -> ArchitectureFamily:
    fams = _families()
    if name not in fams:
        raise _unknown("architecture family", name, sorted(fams))
    return fams[name]


# --------------------------------------------------------------------------------------------- hardware


@cache
def _hardware() -> dict[str, HardwareProfile]:
    return _load("hardware.yaml", HardwareProfile, "name")


def list_hardware(*, kind: str | None = None) -> list[HardwareProfile]:
    return [h for h in _hardware().values() if not kind or h.kind == kind]


def get_hardware(name: str) -> HardwareProfile:
    """Look up a hardware profile by name or alias ("a100-80gb", "rtx 4090", "jetson orin")."""
    hw = _hardware()
    if name in hw:
        return hw[name]
    found = find_hardware(name)
    if found is None:
        raise _unknown("hardware profile", name, sorted(hw))
    return found


def find_hardware(text: str | None) -> HardwareProfile | None:
    """The profile named in free text, longest alias first ("8x A100 80GB" -> a100-80gb), or None."""
    return _find_by_alias(text, _hardware(), lambda h: [h.name, h.name.replace("-", " "), *h.aliases])


# --------------------------------------------------------------------------------------------- recipes, problems


@cache
def _recipes() -> dict[str, Recipe]:
    return _load("recipes.yaml", Recipe, "name")


def list_recipes(
    *, architecture: str | None = None, regime: str | None = None, domain: str | None = None
) -> list[Recipe]:
    out = list(_recipes().values())
    if architecture:
        out = [r for r in out if architecture in r.architecture]
    if regime:
        out = [r for r in out if r.regime == regime]
    if domain:
        out = [r for r in out if domain in r.domains]
    return out


@cache
def _problems() -> dict[str, Problem]:
    return _load("problems.yaml", Problem, "issue")


def list_problems() -> list[Problem]:
    return list(_problems().values())


def get_problem(issue: str) -> Problem:
    probs = _problems()
    if issue not in probs:
        raise _unknown("problem", issue, sorted(probs))
    return probs[issue]


def find_problem(text: str) -> Problem | None:
    """The problem a free-text training issue names ("loss becomes NaN after epoch 3" -> nan_inf), or None."""
    return _find_by_alias(text, _problems(), lambda p: [p.issue.replace("_", " "), p.title, *p.aliases])


# --------------------------------------------------------------------------------------------- datasets


@cache
def _datasets() -> dict[str, DatasetInfo]:
    return _load("datasets.yaml", DatasetInfo, "name")


def list_datasets() -> list[DatasetInfo]:
    return list(_datasets().values())


def find_dataset(text: str | None) -> DatasetInfo | None:
    """The public dataset named in free text ("image classification on CIFAR-10" -> CIFAR-10), or None."""
    return _find_by_alias(text, _datasets(), lambda d: [d.name, *d.aliases])


# --------------------------------------------------------------------------------------------- regimes (policy)


@cache
def get_regimes() -> dict[str, Any]:
    """The advisor's policy numbers (regimes.yaml): data bands, parameter caps, utilisation, each with its reason."""
    data = _read("regimes.yaml")
    if not isinstance(data, dict):
        raise DlexpertError("knowledge/data/regimes.yaml: expected a mapping")
    return data


# --------------------------------------------------------------------------------------------- task families


@cache
def _task_families() -> dict[str, TaskFamily]:
    return _load("tasks.yaml", TaskFamily, "name")


def list_task_families() -> list[TaskFamily]:
    """The task taxonomy (knowledge/data/tasks.yaml), in file order."""
    return list(_task_families().values())


def get_task_family(name: str) -> TaskFamily:
    families = _task_families()
    if name not in families:
        raise UnknownNameError(f"unknown task family {name!r}; choose one of: {', '.join(families)}")
    return families[name]


def generic_task_family(task_type: str | None, domain: str | None) -> TaskFamily | None:
    """The family a spec of this seed type and domain belongs to when its words name no narrower one."""
    pair = f"{task_type}/{domain}"
    return next((f for f in list_task_families() if pair in f.generic_for), None)


def _phrase_keys(phrase: str | None) -> list[str]:
    """The phrase as written, then without its parenthesis, then each alternative: "language modeling (continued
    pretraining)" -> that, "language modeling", "continued pretraining"; "OCR / sequence recognition" -> "ocr", ..."""
    if not phrase:
        return []
    low = " ".join(phrase.strip().lower().replace("_", " ").split())
    keys = [low, re.sub(r"\s*\([^)]*\)", "", low).strip()]
    keys += [p.strip() for p in re.split(r"[/(),;]| or ", low) if p.strip()]
    keys += [_HOW.sub("", k).strip() for k in keys]  # "text-to-image fine-tuning" names text-to-image
    return list(dict.fromkeys(k for k in keys if k))


# How a task is trained, written after what it is: not part of the task's name.
_HOW = re.compile(r"\s+(?:fine-?tun(?:e|ed|ing)|training|pre-?training from scratch|from scratch|model|task)$")


def task_families_named(phrase: str | None) -> list[TaskFamily]:
    """The families whose phrases hold the first key of `phrase` (`_phrase_keys`) that any family's phrases hold."""
    families = list_task_families()
    for key in _phrase_keys(phrase):
        named = [f for f in families if key in f.phrases]
        if named:
            return named
    return []


def find_task_family(
    *, phrase: str | None = None, text: str | None = None, domain: str | None = None, task_type: str | None = None,
    near: Collection[str] = (),
) -> TaskFamily | None:  # fmt: skip
    """The family a task.type `phrase` names ("pose estimation"), else the one whose trigger words appear in `text`
    (specificTask). Where several match, the one of `domain` wins (for a phrase, then one of the domains `near` it),
    then the one of `task_type` (a segmentation of "whole-slide" images is medical segmentation, not medical
    classification), then the longest match, then file order."""
    families = list_task_families()
    named = task_families_named(phrase)
    if named:
        return next((f for f in named if f.domain == domain), next((f for f in named if f.domain in near), named[0]))
    if not text:
        return None
    low = " ".join(text.lower().split())
    best: tuple[bool, bool, int, TaskFamily] | None = None
    for f in families:
        for t in f.triggers:
            if re.search(r"(?<![a-z0-9])" + re.escape(t.strip()) + r"(?![a-z0-9])", low):
                rank = (f.domain == domain, f.type == task_type, len(t))
                if best is None or rank > best[:3]:
                    best = (*rank, f)
    return best[3] if best else None
