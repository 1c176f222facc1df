"""Account and distribute: value equations, exact distribution of income, Shapley values.

The computation half of ``glia.ledger`` (no database): formulas in a safe
expression language (:mod:`glia.ledger._expr`), value equations with ordered
buckets and a formula per kind of contribution, a distribution that sums
exactly to the income, and Shapley values for small swarms. The append-only,
hash-chained ledger of events in the store builds on these.
"""

from ._allocate import OPPORTUNITY, Allocation, Levels, Pending, allocate, pending
from ._chain import ACTIONS, GENESIS, Break, Event, canonical, chain, verify
from ._distribute import (
    Bucket,
    Contribution,
    Distribution,
    DistributionError,
    NotAgreed,
    Share,
    ValueEquation,
    distribute,
    largest_remainder,
    preview,
)
from ._expr import Formula, FormulaError, compile_formula
from ._funds import POLICIES, payouts
from ._shapley import Shapley, ShapleyError, shapley

__all__ = [
    "ACTIONS",
    "GENESIS",
    "OPPORTUNITY",
    "POLICIES",
    "Allocation",
    "Break",
    "Bucket",
    "Contribution",
    "Distribution",
    "DistributionError",
    "Event",
    "Formula",
    "FormulaError",
    "Levels",
    "NotAgreed",
    "Pending",
    "Shapley",
    "ShapleyError",
    "Share",
    "ValueEquation",
    "allocate",
    "canonical",
    "chain",
    "compile_formula",
    "distribute",
    "largest_remainder",
    "payouts",
    "pending",
    "preview",
    "shapley",
    "verify",
]
