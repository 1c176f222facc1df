"""Govern: the network's principles, its aspirations, and the review that reflects on both.

The computation half (no database), one concept per module:

- principles stated in words, enforced by a registered check where one can be
  (:mod:`._principles`, the checks in :mod:`._checks`);
- aspirations with a review cadence (:mod:`._aspirations`);
- fairness of distributions: Gini coefficients, the concentration index of
  shares ranked by contributions, the distance from proportional
  (:mod:`._fairness`);
- the review pack for a reflective session (:mod:`._review`);
- principles and aspirations read from YAML, every problem named (:mod:`._files`).

Checks and the pack read a :class:`GovernView`, plain data that
:class:`glia.store.Store` builds (and a test can write by hand).

>>> import datetime as dt
>>> view = GovernView("Tiny", work=(
...     Work(1, "ana", "o1", 30.0, dt.datetime(2025, 1, 1, tzinfo=dt.UTC)),
...     Work(2, "ben", "o1", 10.0, dt.datetime(2025, 1, 2, tzinfo=dt.UTC))))
>>> fair_load = Principle("fair-load", "No one carries more than 40% of a swarm's work.",
...                       {"check": "max-work-share", "limit": 0.4})
>>> [v.message for r in check_principles([fair_load], view) for v in r.violations]
['ana carries 75% of the work of o1 (30 of 40 hours of work recorded); the limit is 40%']
"""

from . import _checks  # noqa: F401  (imported for its registrations)
from ._aspirations import CADENCES, Aspiration, cadence_days, cadence_name
from ._fairness import (
    Fairness,
    Gap,
    concentration_index,
    credited_value,
    fairness,
    gini,
    is_contribution,
)
from ._files import parse_aspirations, parse_principles, read_aspirations, read_principles
from ._principles import (
    CHECKS,
    STATUSES,
    Check,
    GovernError,
    Outcome,
    Param,
    Principle,
    PrincipleResult,
    Violation,
    check_principles,
    register,
    rule_problems,
)
from ._review import Change, PastReview, ReviewPack, changes, flatten, review_pack
from ._view import CommitmentView, GovernView, LedgerView, OpportunityView, TransitionView, Work

__all__ = [
    "CADENCES",
    "CHECKS",
    "STATUSES",
    "Aspiration",
    "Change",
    "Check",
    "CommitmentView",
    "Fairness",
    "Gap",
    "GovernError",
    "GovernView",
    "LedgerView",
    "OpportunityView",
    "Outcome",
    "Param",
    "PastReview",
    "Principle",
    "PrincipleResult",
    "ReviewPack",
    "TransitionView",
    "Violation",
    "Work",
    "cadence_days",
    "cadence_name",
    "changes",
    "check_principles",
    "concentration_index",
    "credited_value",
    "fairness",
    "flatten",
    "gini",
    "is_contribution",
    "parse_aspirations",
    "parse_principles",
    "read_aspirations",
    "read_principles",
    "register",
    "review_pack",
    "rule_problems",
]
