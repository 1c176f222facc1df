"""The throwaway PostgreSQL server of ``tests/_postgres.py``."""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, make_url, text

from _postgres import (
    _LIVE,
    PgBinaries,
    PostgresServer,
    PostgresStartError,
    _base_directory,
    _unprivileged_account,
    drop_database,
    find_postgres,
    fresh_database,
    postgres_server,
)


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _fake_bindir(directory: Path, version: str, *, with_postgres: bool = True) -> Path:
    """A bin directory whose programs only answer ``--version``."""
    directory.mkdir(parents=True)
    names = ["initdb", "postgres"] if with_postgres else ["initdb"]
    for name in names:
        program = directory / name
        program.write_text(f"#!/bin/sh\necho 'postgres (PostgreSQL) {version}'\n")
        program.chmod(program.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return directory


@pytest.fixture(scope="module")
def binaries() -> PgBinaries:
    lookup = find_postgres()
    if lookup.binaries is None:
        pytest.skip(lookup.reason)
    return lookup.binaries


@pytest.fixture(scope="module")
def server(binaries: PgBinaries) -> Iterator[PostgresServer]:
    with PostgresServer(binaries) as running:
        yield running


# -- finding the binaries (no PostgreSQL needed)


def test_missing_binaries_are_reported_with_where_they_were_looked_for(tmp_path: Path) -> None:
    empty_bin = tmp_path / "pg-bin"
    empty_path = tmp_path / "path"
    empty_bin.mkdir()
    empty_path.mkdir()
    lookup = find_postgres(
        environ={"GLIA_PG_BIN": str(empty_bin), "PATH": str(empty_path)},
        fallback_globs=[str(tmp_path / "postgresql" / "*" / "bin")],
    )
    assert lookup.binaries is None
    assert not lookup
    assert "not found" in lookup.reason
    assert f"{empty_bin} has no initdb or postgres" in lookup.reason
    assert "no initdb on PATH" in lookup.reason
    assert "apt-get install postgresql" in lookup.reason


def test_an_initdb_without_postgres_beside_it_is_not_enough(tmp_path: Path) -> None:
    half = _fake_bindir(tmp_path / "half", "15.0", with_postgres=False)
    lookup = find_postgres(environ={"PATH": str(half)}, fallback_globs=[])
    assert lookup.binaries is None
    assert f"{half} has no postgres" in lookup.reason


def test_the_newest_versioned_directory_wins(tmp_path: Path) -> None:
    for version in ("9.6", "15", "10"):
        _fake_bindir(tmp_path / version / "bin", version)
    lookup = find_postgres(environ={"PATH": ""}, fallback_globs=[str(tmp_path / "*" / "bin")])
    assert lookup.binaries is not None
    assert lookup.binaries.bindir == tmp_path / "15" / "bin"
    assert lookup.binaries.version == "postgres (PostgreSQL) 15"


def test_glia_pg_bin_comes_first(tmp_path: Path) -> None:
    chosen = _fake_bindir(tmp_path / "chosen", "99.1")
    other = _fake_bindir(tmp_path / "other", "98.1")
    lookup = find_postgres(environ={"GLIA_PG_BIN": str(chosen), "PATH": str(other)})
    assert lookup.binaries is not None
    assert lookup.binaries.bindir == chosen
    assert "GLIA_PG_BIN" in lookup.reason


def test_glia_pg_bin_none_switches_postgresql_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLIA_PG_BIN", "none")
    lookup = find_postgres()
    assert lookup.binaries is None
    assert "switched off" in lookup.reason
    with postgres_server() as url:
        assert url is None


@pytest.mark.skipif(
    getattr(os, "geteuid", lambda: -1)() != 0,
    reason="only root has to hand the server to another user",
)
def test_as_root_the_cluster_goes_where_the_server_user_can_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = _unprivileged_account()
    assert account is not None and account.uid != 0
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    assert _base_directory(account) == "/tmp"


# -- a real server (skipped, with the reason, when PostgreSQL is absent)


def test_select_version_through_sqlalchemy_and_psycopg(server: PostgresServer) -> None:
    assert server.url is not None
    assert server.url.startswith("postgresql+psycopg://glia@127.0.0.1:")
    engine = create_engine(server.url)
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version()")).scalar_one()
            encoding = connection.execute(text("SHOW server_encoding")).scalar_one()
            fsync = connection.execute(text("SHOW fsync")).scalar_one()
    finally:
        engine.dispose()
    assert version.startswith("PostgreSQL ")
    assert encoding == "UTF8"
    assert fsync == "off"


def test_fresh_databases_are_empty_and_isolated(server: PostgresServer) -> None:
    assert server.url is not None
    first, second = fresh_database(server.url), fresh_database(server.url)
    assert make_url(first).database != make_url(second).database
    one, two = create_engine(first), create_engine(second)
    try:
        with one.begin() as connection:
            connection.execute(text("CREATE TABLE party (id integer PRIMARY KEY)"))
            connection.execute(text("INSERT INTO party VALUES (1)"))
        assert inspect(one).get_table_names() == ["party"]
        assert inspect(two).get_table_names() == []
        with one.connect() as still_open:  # dropping ends connections left open
            drop_database(first)
            drop_database(second)
            drop_database(second)  # again: nothing happens
            del still_open
    finally:
        one.dispose()
        two.dispose()
    engine = create_engine(server.url)
    try:
        with engine.connect() as connection:
            names = connection.execute(text("SELECT datname FROM pg_database")).scalars().all()
    finally:
        engine.dispose()
    assert make_url(first).database not in names
    assert make_url(second).database not in names


def test_after_the_block_the_server_is_gone(binaries: PgBinaries) -> None:
    with postgres_server(binaries) as url:
        assert url is not None
        port = make_url(url).port
        assert port is not None and _accepts(port)
        (live,) = [server for server in _LIVE if server.url == url]
        directory = live.directory
        assert directory is not None and directory.is_dir()
    assert not _accepts(port)
    assert not directory.exists()
    assert live not in _LIVE


def test_a_failed_start_says_why_and_leaves_nothing_behind(binaries: PgBinaries) -> None:
    before = set(_LIVE)
    server = PostgresServer(binaries, settings={"shared_buffers": "plenty"})
    with pytest.raises(PostgresStartError) as failure:
        server.start()
    message = str(failure.value)
    assert "the server did not start" in message
    assert 'invalid value for parameter "shared_buffers"' in message  # from the log
    assert server.directory is None
    assert set(_LIVE) == before
