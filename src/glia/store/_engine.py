"""Where the database is, how to connect, and how its schema is kept current.

The default database is an embedded SQLite file, ``glia.db`` in the
workspace folder (``.glia`` in the current folder, or ``GLIA_WORKSPACE``),
in WAL mode so that readers do not block a writer. ``GLIA_DATABASE_URL``
(for example ``postgresql+psycopg://user@host/glia``) points Glia at
PostgreSQL instead; the same code and migrations serve both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

__all__ = [
    "DEFAULT_WORKSPACE",
    "database_url",
    "make_engine",
    "migrate",
    "schema_revision",
    "workspace_path",
]

DEFAULT_WORKSPACE = ".glia"
DATABASE_FILE = "glia.db"
MIGRATIONS = Path(__file__).parent / "migrations"


def workspace_path(workspace: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder: the argument, ``GLIA_WORKSPACE``, or ``./.glia``."""
    chosen = workspace or os.environ.get("GLIA_WORKSPACE") or DEFAULT_WORKSPACE
    return Path(chosen)


def database_url(workspace: str | os.PathLike[str] | None = None) -> str:
    """The database URL: ``GLIA_DATABASE_URL`` or the workspace's SQLite file."""
    url = os.environ.get("GLIA_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{workspace_path(workspace) / DATABASE_FILE}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit off at the driver level, so SQLAlchemy's BEGIN controls
    # transactions (pysqlite's own implicit transactions would not cover DDL).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with Glia's settings (WAL and foreign keys on SQLite)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, **kwargs)


def _config(connection: Any) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the latest by default)."""
    with engine.begin() as conn:
        command.upgrade(_config(conn), revision)


def schema_revision(engine: Engine) -> tuple[str | None, str | None]:
    """The database's current revision and the latest one this Glia knows."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(_config(conn)).get_current_head()
    return current, head
