"""Schemathesis fuzzes every operation of the OpenAPI description: no request,
however malformed, may make the server answer 5xx.

The calls are signed in as the orchestrator of the example (the role that reaches
every route), and the generated ``ecosystem`` is most often the example's, so
that the requests get past the ecosystem check into the routes' own parsing.
Signing out (which would revoke the token) and deleting the example are left
out; the rest runs against a real store on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from glia.store import Store

from .conftest import ECO, World, build_world

KNOWN = {
    "opportunity": ["coop-traceability", "harbour-cold-chain", "verdant-scale-up"],
    "participant": ["grace", "ben", "hugo"],
    "username": ["grace", "olga"],
}


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "glia.db"
    store = Store.open(f"sqlite:///{path}")
    world = build_world(store)
    with world.client:
        yield world
    store.close()


SKIPPED = {("DELETE", "/api/v1/auth/session"), ("DELETE", "/api/v1/ecosystems/{ecosystem}")}


def _aim(case: schemathesis.Case) -> None:
    """Point most generated path parameters at things that exist in the example."""
    params = case.path_parameters or {}
    for name, known in KNOWN.items():
        if name in params and isinstance(params[name], str) and len(params[name]) % 2 == 0:
            params[name] = known[len(params[name]) % len(known)]
    if "ecosystem" in params and not str(params["ecosystem"]).startswith("x"):
        params["ecosystem"] = ECO


def test_no_server_error(fuzz_world: World) -> None:
    """Schemathesis's positive and negative cases for every operation: no 5xx."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_world.client.app)
    headers = fuzz_world.as_("ben")
    errors: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: schemathesis.Case) -> None:
                _aim(case)
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    errors.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code}: "
                        f"{response.text[:300]}"
                    )

            try:
                check()
            except Unsatisfiable:
                # Nothing to make invalid (an operation without parameters or body).
                assert mode is GenerationMode.NEGATIVE
    assert operations > 10
    assert not errors, "\n".join(errors[:20])
