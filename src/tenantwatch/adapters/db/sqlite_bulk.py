"""Bulk writes on SQLite straight to the driver, with SQL compiled from the table definitions.

The scheduler writes every run's result, state and rollups; SQLAlchemy's per-row statement
processing costs more than those writes, so they go to the driver's executemany, each value
encoded as SQLAlchemy would store it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from tenantwatch import jsonio


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """SQL with positional parameters, and the names of the values they take, in order."""

    sql: str
    names: tuple[str, ...]


def for_sqlite(stmt: ClauseElement) -> DriverStatement:
    """Compile a statement whose values are named bindparams for SQLite's driver."""
    compiled = stmt.compile(dialect=sqlite.dialect())
    assert isinstance(compiled, SQLCompiler)
    return DriverStatement(str(compiled), tuple(compiled.positiontup or ()))


def driver_value(value: Any) -> Any:
    """A value as SQLAlchemy stores it in SQLite (UtcDateTime, JSON, Boolean)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return jsonio.dumps(value)
    return value


async def execute_many(
    conn: AsyncConnection, stmt: DriverStatement, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Run the statement once per row, each row's values encoded as SQLAlchemy would."""
    params = [tuple(driver_value(row[name]) for name in stmt.names) for row in rows]
    await conn.exec_driver_sql(stmt.sql, params)
