"""The alert manager's durable state: alerts, silences and the notification log.

The repository takes and gives domain objects (alerting_rows maps them to columns).
Writes are batched upserts, so a POST of 256 alerts is one statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Boolean, Table, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantwatch import jsonio
from tenantwatch.adapters.db.repos.alerting_rows import (
    log_from_row,
    log_to_row,
    record_from_row,
    record_to_row,
    silence_from_row,
    silence_to_row,
)
from tenantwatch.adapters.db.tables import am_alerts, notification_log, silences
from tenantwatch.alertmanager.flush_plan import LogEntry
from tenantwatch.alertmanager.records import AlertRecord
from tenantwatch.alertmanager.silences import Silence

Row = dict[str, Any]


def _encode(value: Any) -> str:
    return jsonio.dumps_stored(value)


def _upsert(engine: AsyncEngine, table: Table, key: str) -> Any:
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table)
    columns = {c.name: stmt.excluded[c.name] for c in table.columns if c.name != key}
    return stmt.on_conflict_do_update(index_elements=[key], set_=columns)


class _Table:
    table: Table
    key: str

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._upsert_stmt = _upsert(engine, self.table, self.key)
        self._columns = [c.name for c in self.table.columns]
        self._json = {c.name for c in self.table.columns if isinstance(c.type, JSON)}
        self._bool = {c.name for c in self.table.columns if isinstance(c.type, Boolean)}
        names = ", ".join(self._columns)
        updates = ", ".join(f"{c} = excluded.{c}" for c in self._columns if c != self.key)
        # built from the table definition only (column names), never from input
        self._sqlite_sql = (
            f"INSERT INTO {self.table.name} ({names}) VALUES "  # noqa: S608
            f"({', '.join('?' for _ in self._columns)}) "
            f"ON CONFLICT ({self.key}) DO UPDATE SET {updates}"
        )

    def _sqlite_params(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for c in self._columns:
            v = row.get(c)
            if c in self._json and v is not None:
                v = _encode(v)
            elif c in self._bool and v is not None:
                v = int(bool(v))
            out.append(v)
        return tuple(out)

    async def upsert_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        async with self.engine.begin() as conn:
            if self.engine.dialect.name == "sqlite":
                # straight to the driver: SQLAlchemy's per-value JSON processing costs more
                # than the write itself on the POST /api/v2/alerts path
                await conn.exec_driver_sql(self._sqlite_sql, [self._sqlite_params(r) for r in rows])
            else:
                await conn.execute(self._upsert_stmt, [dict(r) for r in rows])

    async def load_all(self) -> list[Row]:
        async with self.engine.connect() as conn:
            result = await conn.execute(select(self.table))
            return [dict(r._mapping) for r in result]

    async def delete_many(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        column = self.table.c[self.key]
        async with self.engine.begin() as conn:
            for start in range(0, len(keys), 500):
                await conn.execute(delete(self.table).where(column.in_(keys[start : start + 500])))


class _Alerts(_Table):
    table = am_alerts
    key = "fingerprint"


class _Silences(_Table):
    table = silences
    key = "id"


class _Log(_Table):
    table = notification_log
    key = "key"


class SqlAlertRepo:
    """services.ports.AlertRepo on the am_alerts, silences and notification_log tables."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._alerts = _Alerts(engine)
        self._silences = _Silences(engine)
        self._log = _Log(engine)

    async def load_alerts(self) -> list[AlertRecord]:
        return [record_from_row(row) for row in await self._alerts.load_all()]

    async def save_alerts(self, records: Sequence[AlertRecord]) -> None:
        await self._alerts.upsert_many([record_to_row(r) for r in records])

    async def delete_alerts(self, fingerprints: Sequence[str]) -> None:
        await self._alerts.delete_many(fingerprints)

    async def load_silences(self) -> list[Silence]:
        return [silence_from_row(row) for row in await self._silences.load_all()]

    async def save_silences(self, silences: Sequence[Silence]) -> None:
        await self._silences.upsert_many([silence_to_row(s) for s in silences])

    async def load_log(self) -> list[LogEntry]:
        return [log_from_row(row) for row in await self._log.load_all()]

    async def save_log(self, entries: Sequence[LogEntry]) -> None:
        await self._log.upsert_many([log_to_row(e) for e in entries])

    async def delete_log(self, keys: Sequence[str]) -> None:
        await self._log.delete_many(keys)
