"""The API's test world: the example ecosystem, a second one, and one account per role.

- ``ben`` orchestrates Northbridge (participant ``ben``; an administrator);
- ``grace`` is a member in the coop-traceability swarm;
- ``liam`` is a member in the harbour-cold-chain swarm only;
- ``olga`` observes Northbridge;
- ``otto`` orchestrates Elsewhere and holds no role in Northbridge.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi.testclient import TestClient

import glia
from glia.api import create_app
from glia.store import Store

from conftest import EXAMPLE

ECO = "Northbridge"
OTHER = "Elsewhere"
PASSWORD = "correct-horse-battery"

COOP = "coop-traceability"
HARBOUR = "harbour-cold-chain"
COOP_TEAM = {"hugo": "lead", "grace": "data", "priya": None}
HARBOUR_TEAM = {"liam": "lead", "oscar": None}


@dataclass
class World:
    store: Store
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    def as_(self, username: str) -> dict[str, str]:
        """Headers that sign a request in as ``username``."""
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def get(self, username: str, path: str, **kw: object) -> httpx.Response:
        return self.client.get(path, headers=self.as_(username), **kw)  # type: ignore[arg-type]

    def post(self, username: str, path: str, **kw: object) -> httpx.Response:
        return self.client.post(path, headers=self.as_(username), **kw)  # type: ignore[arg-type]

    def put(self, username: str, path: str, **kw: object) -> httpx.Response:
        return self.client.put(path, headers=self.as_(username), **kw)  # type: ignore[arg-type]

    def delete(self, username: str, path: str, **kw: object) -> httpx.Response:
        return self.client.delete(path, headers=self.as_(username), **kw)  # type: ignore[arg-type]


def build_world(store: Store, web: bool = False) -> World:
    store.import_file(EXAMPLE, ECO)
    store.import_ecosystem(
        glia.Ecosystem.model_validate(
            {
                "ecosystem": OTHER,
                "participants": [{"id": "otto"}, {"id": "pia"}],
                "ties": [{"from": "otto", "to": "pia", "layer": "informal"}],
            }
        )
    )
    for opp, team in ((COOP, COOP_TEAM), (HARBOUR, HARBOUR_TEAM)):
        if store.opportunity(ECO, opp).stage == "lead":
            store.advance(ECO, opp, "qualified", "ben")
        store.advance(ECO, opp, "swarming", "ben")
        store.pick_team(ECO, opp, team, "ben")
    people = {
        "ben": (ECO, "orchestrator", "ben"),
        "grace": (ECO, "member", "grace"),
        "liam": (ECO, "member", "liam"),
        "olga": (ECO, "observer", None),
        "otto": (OTHER, "orchestrator", "otto"),
    }
    world = World(store, TestClient(create_app(store, web=web)))
    for username, (eco, role, participant) in people.items():
        store.create_account(username, PASSWORD, username.title(), admin=username == "ben")
        store.grant(username, eco, role, participant)
        world.tokens[username] = store.issue_token(username, "tests")
    return world


@pytest.fixture
def world(store: Store) -> Iterator[World]:
    built = build_world(store)
    with built.client:
        yield built
