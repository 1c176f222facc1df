"""Principles: stated in words, and enforced by a check where one can be.

A :class:`Principle` has a key, its text in the network's own words and,
optionally, a rule: ``{check: NAME, ...parameters}``. The checks live in a
registry (:data:`CHECKS`, filled by :mod:`glia.govern._checks`); each reads a
:class:`~glia.govern.GovernView` and returns the :class:`Violation` it finds,
each naming its subject (an opportunity, a participant, the ledger) with the
numbers that break the rule. A principle without a rule is reported as
``not checked``: it still stands, people judge it at the review.

Written here because the rules are the network's own; Cedar (the policy
engine the design names for access) answers "may this principal do this
action on this resource", not "is this share of the work above 40%".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from ..model import NO_VALUE
from ._view import GovernView

__all__ = [
    "CHECKS",
    "STATUSES",
    "Check",
    "GovernError",
    "Outcome",
    "Param",
    "Principle",
    "PrincipleResult",
    "Violation",
    "check_principles",
    "register",
    "rule_problems",
]

#: How a principle stands after its check, in the order reports list them.
STATUSES = ("violated", "kept", "nothing to check", "not checked")


class GovernError(ValueError):
    """A governance request refused (who is missing, a review dated before the last);
    nothing was changed."""


#: Longest key (the store's column holds 200 characters).
KEY_LIMIT = 200


@dataclass(frozen=True)
class Violation:
    """One breach of a principle: its subject, a message with the numbers, the numbers."""

    principle: str
    subject: str
    message: str
    figures: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "principle": self.principle,
            "subject": self.subject,
            "message": self.message,
            "figures": dict(self.figures),
        }


@dataclass(frozen=True)
class Outcome:
    """What a check found: how many subjects it looked at, and the violations."""

    checked: int
    violations: tuple[Violation, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Param:
    """A parameter of a check: ``parse`` turns a written value into the value used,
    or raises :class:`ValueError`; ``expected`` says in words what is accepted."""

    name: str
    expected: str
    parse: Callable[[Any], Any]
    required: bool = False
    default: Any = None


@dataclass(frozen=True)
class Check:
    """A registered check: its name, parameters, and the function that runs it.

    The function's docstring states the rule; ``glia principles checks`` and
    the documentation show it.
    """

    name: str
    run: Callable[..., Outcome]
    params: tuple[Param, ...] = ()

    @property
    def rule(self) -> str:
        """The rule, in words: the first paragraph of the function's docstring."""
        doc = (self.run.__doc__ or "").replace("``", "").strip()
        return " ".join(doc.split("\n\n")[0].split())

    def arguments(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters of ``rule`` parsed, defaults filled (the rule must be valid)."""
        return {
            p.name: p.parse(rule[p.name]) if rule.get(p.name) is not None else p.default
            for p in self.params
        }


#: Every check by name.
CHECKS: dict[str, Check] = {}


def register(
    name: str, *params: Param
) -> Callable[[Callable[..., Outcome]], Callable[..., Outcome]]:
    """Register the decorated function as the check ``name``."""

    def decorate(run: Callable[..., Outcome]) -> Callable[..., Outcome]:
        CHECKS[name] = Check(name, run, tuple(params))
        return run

    return decorate


def rule_problems(rule: Any) -> list[tuple[str, Any, str]]:
    """Everything wrong with a rule, as (field, value found, what was expected).

    >>> rule_problems({"check": "max-work-share", "limit": 1.5})
    [('rule.limit', 1.5, 'a share between 0 and 1 (0.4, or 40%)')]
    >>> rule_problems({"check": "nope"})[0][2]  # doctest: +ELLIPSIS
    'one of the checks: ...'
    """
    if rule is None:
        return []
    if not isinstance(rule, Mapping):
        return [("rule", rule, "a mapping such as {check: max-work-share, limit: 0.4}")]
    name = rule.get("check")
    if name is None:
        return [("rule.check", NO_VALUE, f"the name of a check: one of {', '.join(CHECKS)}")]
    if not isinstance(name, str) or name not in CHECKS:
        return [("rule.check", name, f"one of the checks: {', '.join(CHECKS)}")]
    found = CHECKS[name]
    problems: list[tuple[str, Any, str]] = []
    known = {p.name for p in found.params}
    for p in found.params:
        value = rule.get(p.name)
        if value is None:
            if p.required:
                problems.append((f"rule.{p.name}", NO_VALUE, p.expected))
            continue
        try:
            p.parse(value)
        except (ValueError, TypeError):
            problems.append((f"rule.{p.name}", value, p.expected))
    for extra in sorted(str(k) for k in rule if k != "check" and k not in known):
        accepted = ", ".join(sorted(known)) or "none"
        problems.append(
            (f"rule.{extra}", rule[extra], f"a parameter of {name} (its parameters: {accepted})")
        )
    return problems


@dataclass(frozen=True)
class Principle:
    """A principle: a key, its text in words, and optionally the rule that checks it.

    >>> Principle("fair-load", "No one carries more than 40% of a swarm's work.",
    ...           {"check": "max-work-share", "limit": 0.4}).check
    'max-work-share'
    >>> Principle("honour", "Every contribution is honoured.").check is None
    True
    """

    key: str
    text: str
    rule: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key.strip() or len(self.key) > KEY_LIMIT:
            raise ValueError(
                f"a principle's key must be 1-{KEY_LIMIT} characters, not {self.key!r}"
            )
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError(f"principle {self.key}: its text, in words, is required")
        problems = rule_problems(self.rule)
        if problems:
            where, value, expected = problems[0]
            raise ValueError(f"principle {self.key}, {where}: got {value!r}, expected {expected}")

    @property
    def check(self) -> str | None:
        return None if self.rule is None else str(self.rule["check"])

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "rule": None if self.rule is None else dict(self.rule),
        }


@dataclass(frozen=True)
class PrincipleResult:
    """How a principle stands: ``violated``, ``kept``, ``nothing to check`` (a rule,
    but nothing yet it applies to) or ``not checked`` (stated in words only)."""

    principle: Principle
    status: str
    checked: int = 0
    violations: tuple[Violation, ...] = ()
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.principle.to_json(),
            "status": self.status,
            "checked": self.checked,
            "note": self.note,
            "violations": [v.to_json() for v in self.violations],
        }


def check_principles(principles: Sequence[Principle], view: GovernView) -> list[PrincipleResult]:
    """Run each principle's check on ``view``; principles in words are ``not checked``.

    Results keep the principles' order.
    """
    results = []
    for principle in principles:
        if principle.rule is None:
            results.append(
                PrincipleResult(principle, "not checked", note="stated in words; no check")
            )
            continue
        found = CHECKS[str(principle.rule["check"])]
        outcome = found.run(view, **found.arguments(principle.rule))
        violations = tuple(replace(v, principle=principle.key) for v in outcome.violations)
        if violations:
            status = "violated"
        elif outcome.checked == 0:
            status = "nothing to check"
        else:
            status = "kept"
        results.append(
            PrincipleResult(principle, status, outcome.checked, violations, outcome.note)
        )
    return results


# -- parameter parsers ------------------------------------------------------------------
def share(value: Any) -> float:
    """A share between 0 and 1, written 0.4 or ``40%``."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, str):
        text = value.strip()
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    elif isinstance(value, int | float | Decimal):
        number = float(value)
    else:
        raise ValueError(value)
    if not math.isfinite(number) or not 0 <= number <= 1:
        raise ValueError(value)
    return number


def names(value: Any) -> tuple[str, ...]:
    """A list of names (or one name)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ValueError(value)
    if not all(isinstance(i, str) and i.strip() for i in items):
        raise ValueError(value)
    return tuple(i.strip() for i in items)


def choice(*options: str) -> Callable[[Any], str]:
    """One of ``options``."""

    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError(value)
        return str(value)

    return parse
