"""The diagnosis rule registry: `register_rule`, `list_rules`, `get_rule`, and `run_rules` over a history.

A rule is a pure function `(RunHistory) -> Finding | list[Finding] | None`: no files, no torch, milliseconds on a
CPU. Its docstring states symptom, likely cause and remedy (the report renders it). Its thresholds are named
module constants that cite their origin. A rule must not fire on a short run that is still improving.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._registry import Registry
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


# The built-in rules (diagnose/rules/) register when `dlexpert.diagnose` is imported, which any import of this
# module does first: the package's __init__ imports them.
_RULES: Registry[Rule] = Registry("diagnosis rule")


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
        _RULES.register(key, Rule(name=key, issue=issue, fn=fn, online=online), owner=fn.__module__)
        return fn

    return wrap


def list_rules(*, issue: str | None = None, online: bool | None = None) -> list[Rule]:
    """The registered rules in registration order, optionally only those raising `issue` or (not) online-safe."""
    return [
        r for _, r in _RULES.items() if (issue is None or r.issue == issue) and (online is None or r.online == online)
    ]


def get_rule(name: str) -> Rule:
    """The rule registered as `name`; an unknown name raises `UnknownNameError` listing the valid ones."""
    return _RULES.get(name)


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
