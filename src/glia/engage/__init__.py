"""Engage: orchestrate an opportunity from first contact to a satisfied client.

The computation half (no database): the opportunity's pipeline
(:mod:`._pipeline`), agreements for results (:mod:`._agreement`), commitments
after Singh (:mod:`._commitments`), protocol templates for common exchanges
(:mod:`._protocol`), and what closing the loop teaches the map
(:mod:`._loop`). The store keeps their state and every operation as an event.
"""

from ._agreement import Agreement, Promise
from ._commitments import (
    ACTIVE,
    COMMITMENT_STATES,
    OPERATIONS,
    Commitment,
    CommitmentMachine,
    apply,
    create,
)
from ._loop import RATE, Flow, kept_pairs, perceived_value, planned_against_actual, strengthen
from ._pipeline import (
    FINAL,
    STAGES,
    Facts,
    Pipeline,
    Refused,
    advance,
    next_stages,
    refusal,
    stage_of,
)
from ._protocol import TEMPLATES, Step, Template, next_messages, step

__all__ = [
    "ACTIVE",
    "COMMITMENT_STATES",
    "FINAL",
    "OPERATIONS",
    "RATE",
    "STAGES",
    "TEMPLATES",
    "Agreement",
    "Commitment",
    "CommitmentMachine",
    "Facts",
    "Flow",
    "Pipeline",
    "Promise",
    "Refused",
    "Step",
    "Template",
    "advance",
    "apply",
    "create",
    "kept_pairs",
    "next_messages",
    "next_stages",
    "perceived_value",
    "planned_against_actual",
    "refusal",
    "stage_of",
    "step",
    "strengthen",
]
