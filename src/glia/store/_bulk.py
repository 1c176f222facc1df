"""Bulk writes: COPY on PostgreSQL, one ``executemany`` on SQLite.

An import may carry ten million ties. Building one ORM object, or even one
parameter dictionary, per row would cost more than the database's own work,
so rows travel as plain tuples straight to the driver: psycopg's ``COPY ...
FROM STDIN`` on PostgreSQL, the driver's ``executemany`` of one prepared
``INSERT`` on SQLite. Values must already be in the column's storage form;
:func:`sqlite_value` and :func:`json_text` give it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table

__all__ = ["bulk_insert", "json_text", "money_text"]


def json_text(value: dict[str, Any] | None) -> str | None:
    """A JSON column's stored text; empty mappings are stored as NULL."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if value else None


def money_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def date_text(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def bulk_insert(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` in one call.

    On SQLite, ``Decimal`` and ``date`` values must already be text
    (:func:`money_text`, :func:`date_text`); on PostgreSQL they are sent as they are.
    """
    if not rows:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    dialect = conn.dialect.name
    if dialect == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(row)
    elif dialect == "sqlite":
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', list(rows))
    else:  # pragma: no cover - other databases go through SQLAlchemy's executemany
        conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
