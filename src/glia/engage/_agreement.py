"""Agreements for results: what a swarm and its client agree before the work.

An agreement names its parties (the swarm's members, the client, and the
orchestrator when they are a party), the intent and vision, each member's role,
the promises (which become commitments once everyone consents), time and
value, how satisfaction will be measured, concerns and fears, when to
renegotiate, consequences, and what happens at an impasse. The value equation
of the ledger is part of it: consenting to the agreement is consenting to its
equation. Renegotiation drafts a new version; earlier versions stay, with the
consents given to them.

A draft in YAML::

    client: eastvale-coop
    swarm: [ana, ben]
    roles: {ana: data lead, ben: sensors}
    intent: Batch traceability for every member farm.
    promises:
      - {debtor: ana, creditor: eastvale-coop, consequent: data platform live,
         due: 2025-09-30, hours_per_week: 6}
    satisfaction: the coop's quality lead scores the pilot from 0 to 10
    equation: {name: coop split, buckets: [...], formulas: {work: hours * rate}}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..ledger import ValueEquation

__all__ = ["Agreement", "Promise"]


class Promise(BaseModel):
    """A promise of the agreement: becomes C(debtor, creditor, antecedent, consequent)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    debtor: str = Field(min_length=1)
    creditor: str = Field(min_length=1)
    consequent: str = Field(min_length=1, description="what the debtor brings about")
    antecedent: str = Field(default="true", description="the condition; true: unconditional")
    due: dt.date | None = None
    hours_per_week: float = Field(default=0.0, ge=0, le=168)
    value: Decimal | None = None
    currency: str | None = Field(default=None, min_length=3, max_length=3)


class Agreement(BaseModel):
    """One version of the agreement for results of an opportunity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client: str = Field(min_length=1, description="the client participant")
    swarm: tuple[str, ...] = Field(min_length=1, description="the members of the swarm")
    orchestrator: str | None = Field(default=None, description="the orchestrator, as a party")
    intent: str | None = None
    vision: str | None = None
    roles: dict[str, str] = Field(default_factory=dict, description="member -> role in words")
    promises: tuple[Promise, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    budget: Decimal | None = None
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    satisfaction: str | None = Field(default=None, description="how satisfaction is measured")
    concerns: tuple[str, ...] = Field(default=(), description="concerns and fears")
    renegotiate_when: tuple[str, ...] = ()
    consequences: str | None = None
    impasse: str | None = Field(default=None, description="what happens at an impasse")
    equation: ValueEquation | None = None

    @property
    def parties(self) -> tuple[str, ...]:
        """Everyone who must consent: the swarm, the client, the orchestrator."""
        extra = (self.client,) + ((self.orchestrator,) if self.orchestrator else ())
        return tuple(dict.fromkeys((*self.swarm, *extra)))

    @model_validator(mode="after")
    def _check(self) -> Agreement:
        problems = []
        if len(set(self.swarm)) != len(self.swarm):
            problems.append("a member is listed twice in swarm")
        if self.client in self.swarm:
            problems.append(f"the client {self.client} is also in the swarm")
        for who in self.roles:
            if who not in self.swarm:
                problems.append(f"roles: {who} is not in the swarm")
        parties = set(self.parties)
        for i, p in enumerate(self.promises, 1):
            for side in ("debtor", "creditor"):
                who = getattr(p, side)
                if who not in parties:
                    problems.append(f"promise {i}: {side} {who} is not a party")
            if p.debtor == p.creditor:
                problems.append(f"promise {i}: {p.debtor} cannot promise to themself")
        if self.start and self.end and self.end < self.start:
            problems.append("end is before start")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def body(self) -> dict[str, Any]:
        """The JSON stored for this version (without the equation, stored on its own)."""
        return self.model_dump(mode="json", exclude={"equation"}, exclude_none=True)
