"""The diagnosis rule registry: `register_rule`, `list_rules`, `get_rule`, and `run_rules` over a history.

A rule is a pure function `(RunHistory) -> Finding | list[Finding] | None`: no files, no torch, milliseconds on a
CPU. Its docstring states symptom, likely cause and remedy (the report renders it). Its thresholds are named
module constants that cite their origin. A rule must not fire on a short run that is still improving.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import UnknownNameError
from ..schema.diagnosis import ISSUES, Finding, sort_findings
from .history import RunHistory

RuleFn = Callable[[RunHistory], "Finding | list[Finding] | None"]


@dataclass(frozen=True)
class Rule:
    name: str
    issue: str  # the vocabulary entry it raises (schema.diagnosis.ISSUES)
    fn: RuleFn
    online: bool  # safe to run on a partial history while training (the live monitors call these)

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()


_RULES: dict[str, Rule] = {}


def register_rule(*, issue: str, name: str | None = None, online: bool = True) -> Callable[[RuleFn], RuleFn]:
    """Decorator: register `fn` as the rule `name` (default: the function name) raising `issue`.

    Example:
        >>> @register_rule(issue="nan_inf")  # doctest: +SKIP
        ... def nan_in_loss(h: RunHistory) -> Finding | None: ...
    """
    if issue not in ISSUES:
        raise ValueError(f"rule issue {issue!r} is not in the vocabulary: {', '.join(ISSUES)}")

    def wrap(fn: RuleFn) -> RuleFn:
        key = name or fn.__name__
        if key in _RULES:
            raise ValueError(f"diagnosis rule {key!r} is already registered")
        _RULES[key] = Rule(name=key, issue=issue, fn=fn, online=online)
        return fn

    return wrap


def _ensure_loaded() -> None:
    from . import rules  # noqa: F401  (importing registers the built-in rules)


def list_rules(*, issue: str | None = None, online: bool | None = None) -> list[Rule]:
    _ensure_loaded()
    return [
        r for r in _RULES.values() if (issue is None or r.issue == issue) and (online is None or r.online == online)
    ]


def get_rule(name: str) -> Rule:
    _ensure_loaded()
    if name not in _RULES:
        raise UnknownNameError(f"unknown diagnosis rule {name!r}; valid: {', '.join(sorted(_RULES))}")
    return _RULES[name]


def run_rules(history: RunHistory, *, online: bool | None = None) -> list[Finding]:
    """Every registered rule (or only the online-safe ones) over `history`; findings most important first.

    Where two rules raise the same issue, the more severe / more confident finding is kept.
    """
    found: dict[str, Finding] = {}
    for rule in list_rules(online=True if online else None):
        out: Any = rule.fn(history)
        for f in [out] if isinstance(out, Finding) else (out or []):
            kept = found.get(f.issue)
            if kept is None or sort_findings([f, kept])[0] is f:
                found[f.issue] = f
    return sort_findings(list(found.values()))
