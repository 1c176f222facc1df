"""Who may do what: roles per ecosystem, resources, and the Cedar decision.

The rules are Cedar policies (``policies.cedar`` beside this module), read
once. Each question builds the few entities it needs (the principal, the
resource and the resource's ecosystem) and asks Cedar, which denies unless a
policy permits and lets a ``forbid`` override every ``permit``.

Examples
--------
>>> ana = Principal(1, "ana", roles={"north": Role("member", "ana")})
>>> ledger_of = lambda team: Resource("north", "ledger", team=frozenset(team))
>>> authorizer = Authorizer()
>>> authorizer.allowed(ana, "read", ledger_of({"ana", "ben"}), access="controlled-access")
True
>>> authorizer.allowed(ana, "read", ledger_of({"cleo"}), access="controlled-access")
False
>>> authorizer.allowed(ana, "read", ledger_of({"cleo"}), access="shared-access")
True
>>> authorizer.allowed(ana, "manage", Resource("north", "principles"), access="shared-access")
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, get_args

import cedarpy

__all__ = [
    "ACCESS_MODES",
    "ACTIONS",
    "ROLES",
    "AccessMode",
    "Action",
    "Authorizer",
    "Principal",
    "Resource",
    "Role",
    "RoleName",
]

RoleName = Literal["orchestrator", "member", "observer"]
Action = Literal["read", "act", "manage"]
AccessMode = Literal["shared-access", "controlled-access"]

ROLES: tuple[str, ...] = get_args(RoleName)
ACTIONS: tuple[str, ...] = get_args(Action)
ACCESS_MODES: tuple[str, ...] = get_args(AccessMode)

POLICIES = Path(__file__).with_name("policies.cedar")


@dataclass(frozen=True)
class Role:
    """An account's role in one ecosystem, and which participant of its map it is."""

    role: RoleName
    participant: str | None = None


@dataclass(frozen=True)
class Principal:
    """A signed-in account and its roles, by ecosystem name."""

    id: int
    username: str
    display_name: str | None = None
    roles: Mapping[str, Role] = field(default_factory=dict)
    admin: bool = False
    disabled: bool = False

    def role_in(self, ecosystem: str) -> Role | None:
        return self.roles.get(ecosystem)

    def participant_in(self, ecosystem: str) -> str | None:
        role = self.roles.get(ecosystem)
        return role.participant if role else None


@dataclass(frozen=True)
class Resource:
    """What is asked about: a kind of thing in one ecosystem.

    ``team`` is the set of participants whose swarm the thing belongs to (an
    opportunity's team and client, the people of a statement); ``None`` marks
    the ecosystem's common picture (map, analysis, principles).
    """

    ecosystem: str
    kind: str
    id: str = ""
    team: frozenset[str] | None = None

    @property
    def scoped(self) -> bool:
        return self.team is not None


def _key(ecosystem: str, participant: str) -> str:
    return f"{ecosystem}\x1f{participant}"


def _eco(name: str) -> dict[str, Any]:
    return {"__entity": {"type": "Glia::Ecosystem", "id": name}}


class Authorizer:
    """Answers "may this principal do this to that?" with Cedar."""

    def __init__(self, policies: str | None = None) -> None:
        self.text = policies if policies is not None else POLICIES.read_text(encoding="utf-8")

    @cached_property
    def _policies(self) -> cedarpy.PolicySet:
        return cedarpy.PolicySet.from_str(self.text)

    def allowed(
        self, principal: Principal, action: Action, resource: Resource, access: AccessMode
    ) -> bool:
        """Whether ``principal`` may ``action`` ``resource`` in an ecosystem of ``access``."""
        return self.decide(principal, action, resource, access)[0]

    def decide(
        self, principal: Principal, action: Action, resource: Resource, access: AccessMode
    ) -> tuple[bool, list[str]]:
        """The decision and the ids of the policies that made it."""
        by_role: dict[str, list[dict[str, Any]]] = {r: [] for r in ROLES}
        participants = []
        for name, role in principal.roles.items():
            by_role[role.role].append(_eco(name))
            if role.participant:
                participants.append(_key(name, role.participant))
        entities = [
            {
                "uid": {"type": "Glia::User", "id": str(principal.id)},
                "attrs": {
                    "orchestrates": by_role["orchestrator"],
                    "member_of": by_role["member"],
                    "observes": by_role["observer"],
                    "participants": participants,
                    "disabled": principal.disabled,
                },
                "parents": [],
            },
            {
                "uid": {"type": "Glia::Ecosystem", "id": resource.ecosystem},
                "attrs": {"access": access},
                "parents": [],
            },
            {
                "uid": {"type": "Glia::Resource", "id": f"{resource.kind}:{resource.id}"},
                "attrs": {
                    "ecosystem": _eco(resource.ecosystem),
                    "kind": resource.kind,
                    "scoped": resource.scoped,
                    "team": [_key(resource.ecosystem, p) for p in sorted(resource.team or ())],
                },
                "parents": [],
            },
        ]
        request = {
            "principal": {"type": "Glia::User", "id": str(principal.id)},
            "action": {"type": "Glia::Action", "id": action},
            "resource": {"type": "Glia::Resource", "id": f"{resource.kind}:{resource.id}"},
            "context": {},
        }
        result = cedarpy.is_authorized(request, self._policies, entities)
        reasons = list(result.diagnostics.reasons) if result.diagnostics else []
        return result.allowed, reasons
