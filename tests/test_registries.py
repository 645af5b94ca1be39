"""One check suite over every registry (scikit-learn's common tests): models, datasets, diagnosis rules, monitors and
export formats all list sorted unique names, find each of them, refuse a name twice, and name the valid choices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from dlexpert._registry import Registry
from dlexpert.data import get_dataset, list_datasets, register_dataset
from dlexpert.data._registry import _DATASETS
from dlexpert.deploy import list_export_formats
from dlexpert.deploy.export import _FORMATS, get_export_format, register_export_format
from dlexpert.diagnose import get_rule, list_rules, register_rule
from dlexpert.diagnose._registry import _RULES
from dlexpert.errors import DlexpertError, RegistryError, UnknownNameError
from dlexpert.models import get_model_entry, list_models, register_model
from dlexpert.models._registry import _MODELS
from dlexpert.monitor import get_monitor, list_monitors, register_monitor
from dlexpert.monitor._registry import _MONITORS


@dataclass(frozen=True)
class Case:
    """A registry with its public verbs: `listed()` names, `get(name)`, and `register_again(name)`, which registers
    `name` once more through the public decorator or function."""

    kind: str
    registry: Registry[Any]
    listed: Callable[[], list[str]]
    get: Callable[[str], Any]
    register_again: Callable[[str], Any]


def _model_again(name: str) -> Any:
    entry = get_model_entry(name)
    return register_model(name, modalities=entry.modalities)(entry.builder)


def _dataset_again(name: str) -> Any:
    return register_dataset(name.upper())(get_dataset(name).loader)  # a loose spelling is the same name


def _rule_again(name: str) -> Any:
    rule = get_rule(name)
    return register_rule(issue=rule.issue, name=name, online=rule.online)(rule.fn)


CASES = [
    Case("model", _MODELS, lambda: list_models(), get_model_entry, _model_again),
    Case("dataset", _DATASETS, list_datasets, get_dataset, _dataset_again),
    Case("diagnosis rule", _RULES, lambda: [r.name for r in list_rules()], get_rule, _rule_again),
    Case("monitor", _MONITORS, lambda: list_monitors(), get_monitor, lambda n: register_monitor(n)(get_monitor(n).cls)),
    Case(
        "export format",
        _FORMATS,
        lambda: [f.name for f in list_export_formats()],
        get_export_format,
        lambda n: register_export_format(get_export_format(n)),
    ),
]
EVERY_NAME = [(case, name) for case in CASES for name in case.registry.names()]


def _id(value: Any) -> str:
    return value.kind.replace(" ", "_") if isinstance(value, Case) else str(value)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_names_are_unique_sorted_and_what_the_list_verb_returns(case: Case) -> None:
    names = case.registry.names()
    assert names, f"no {case.kind} is registered"
    assert names == sorted(set(names))
    listed = case.listed()
    assert len(listed) == len(set(listed)) == len(case.registry)
    assert sorted(listed) == names


@pytest.mark.parametrize(("case", "name"), EVERY_NAME, ids=_id)
def test_every_name_can_be_got(case: Case, name: str) -> None:
    item = case.get(name)
    assert getattr(item, "name", name) == name
    assert name in case.registry


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_an_unknown_name_lists_the_valid_ones(case: Case) -> None:
    with pytest.raises(UnknownNameError) as info:
        case.get("no-such-thing")
    message = str(info.value)
    assert message.startswith(f"unknown {case.kind} 'no-such-thing'; choose one of: ")
    assert all(name in message for name in case.registry.names())
    assert "\n" not in message


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_a_name_registered_again_is_refused(case: Case) -> None:
    before = case.registry.items()
    name = case.registry.names()[0]
    with pytest.raises(RegistryError, match=rf"{case.kind} '.*' is already registered \(.*by dlexpert\.[\w.]+\)"):
        case.register_again(name)
    assert case.registry.items() == before  # nothing was added or replaced


# --------------------------------------------------------------------------------- the Registry itself


def test_a_fresh_registry() -> None:
    things: Registry[Callable[[], int]] = Registry("thing")

    @things.register("one")
    def one() -> int:
        return 1

    things.register("two", lambda: 2, owner="tests.elsewhere")
    assert things.get("one") is one and len(things) == 2 and "one" in things and "three" not in things
    assert things.names() == ["one", "two"] and things.names("t*") == ["two"]
    assert [name for name, _ in things.items()] == ["one", "two"]
    with pytest.raises(RegistryError) as info:
        things.register("one", lambda: 3)
    assert str(info.value) == f"thing 'one' is already registered (by {__name__}); choose another name"
    assert isinstance(info.value, DlexpertError) and isinstance(info.value, ValueError)
    with pytest.raises(RegistryError, match=r"\(by tests\.elsewhere\)"):
        things.register("two", one)
    with pytest.raises(UnknownNameError, match=r"^unknown thing 'on'; choose one of: one, two \(did you mean one\?\)$"):
        things.get("on")
    assert things.unregister("two")() == 2 and things.names() == ["one"]


def test_a_normalised_registry_matches_loose_spellings() -> None:
    def loose(name: str) -> str:
        return name.lower().replace("-", "")

    sets: Registry[int] = Registry("dataset", normalize=loose)
    sets.register("MNIST-1D", 1, owner="tests")
    assert sets.get("mnist1d") == 1 and "Mnist-1d" in sets and sets.names() == ["MNIST-1D"]
    with pytest.raises(RegistryError, match=r"^dataset 'mnist1d' is already registered \(as 'MNIST-1D', by tests\)"):
        sets.register("mnist1d", 2)
    with pytest.raises(RegistryError, match="must not be empty"):
        sets.register("-", 3)
    empty: Registry[int] = Registry("monitor")
    with pytest.raises(UnknownNameError, match=r"choose one of: \(none registered\)"):
        empty.get("x")
