"""Shared fixtures: databases (SQLite always, PostgreSQL when its binaries exist)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from glia.store import Store

from _postgres import drop_database, find_postgres, fresh_database, postgres_server

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "northbridge.yaml"


@pytest.fixture(autouse=True)
def _no_ambient_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their database; a developer's environment must not leak in."""
    monkeypatch.delenv("GLIA_DATABASE_URL", raising=False)
    monkeypatch.delenv("GLIA_WORKSPACE", raising=False)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """One throwaway PostgreSQL server for the whole session (skips when absent)."""
    lookup = find_postgres()
    if lookup.binaries is None:
        pytest.skip(f"PostgreSQL tests skipped: {lookup.reason}")
    with postgres_server(lookup.binaries) as url:
        assert url is not None
        yield url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """An empty PostgreSQL database of its own for each test."""
    url = fresh_database(postgres_server_url)
    yield url
    drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL, on each back end."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'glia.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store.open(db_url) as opened:
        yield opened


def pytest_report_header() -> str:
    lookup = find_postgres()
    if lookup.binaries is None:
        return f"PostgreSQL: not found ({lookup.reason}); store tests run on SQLite alone"
    return f"PostgreSQL: {lookup.binaries}; store tests run on SQLite and PostgreSQL"


# The suite draws the same examples on every run (derandomize), so that what
# passes here passes in CI: a random draw once turned up, in CI only, a
# test's own mistake that 20,000 examples then showed every time.
# GLIA_HYPOTHESIS=explore draws new examples, more of them, to look for such cases.
settings.register_profile("glia", deadline=None, max_examples=60, print_blob=True, derandomize=True)
settings.register_profile(
    "explore", parent=settings.get_profile("glia"), derandomize=False, max_examples=500
)
settings.load_profile(os.environ.get("GLIA_HYPOTHESIS", "glia"))
